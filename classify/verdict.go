package classify

// The verdict path: Classify first asks whether any search that can yield
// a substance would yield one, running only those searches, and runs the
// full analysis only when the answer is yes.

// substanceMatchers are the automata of the verdict path: the patterns of
// the main and separator-free automata that name a substance or are a
// family's stem, without the context terms most text is full of.
type substanceMatchers struct {
	main    *acMatcher
	mainPat []int32 // pattern id -> pats index
	squeeze *acMatcher
	sqPat   []int32 // pattern id -> pats index
}

// newSubstanceMatchers compiles the substance patterns of c.
func newSubstanceMatchers(c *Classifier) *substanceMatchers {
	sm := &substanceMatchers{}
	var keys, sqKeys []string
	for i := range c.pats {
		if c.names(i) || len(c.pats[i].stems) > 0 {
			keys = append(keys, c.pats[i].key)
			sm.mainPat = append(sm.mainPat, int32(i))
		}
	}
	for k, pi := range c.sqPats {
		if c.names(int(pi)) {
			sqKeys = append(sqKeys, c.sqKeys[k])
			sm.sqPat = append(sm.sqPat, pi)
		}
	}
	sm.main = newACMatcher(keys)
	sm.squeeze = newACMatcher(sqKeys)
	return sm
}

// names reports whether pattern pi is a term of some substance.
func (c *Classifier) names(pi int) bool {
	for _, r := range c.pats[pi].refs {
		if r.sub >= 0 {
			return true
		}
	}
	return false
}

// mentionsSubstance reports whether the full analysis of sc.n would find a
// substance, family, CAS number or misspelt name: the same searches with
// the same boundary rules, limited to what can name a substance.
func (c *Classifier) mentionsSubstance(sc *scratch) bool {
	sc.cands = sc.cands[:0]
	if c.substanceIn(sc, &sc.n) {
		return true
	}
	hasLeet := leet(&sc.n, &sc.l)
	if hasLeet && c.substanceIn(sc, &sc.l) {
		return true
	}
	sc.tokens = tokens(sc.n.b, sc.tokens[:0])
	if c.casIn(sc, &sc.n) {
		return true
	}
	// The fuzzy scan skips words an exact match covers; there is none.
	c.fuzzyScan(sc, &sc.n)
	if len(sc.cands) > 0 {
		return true
	}
	if hasLeet {
		c.fuzzyScan(sc, &sc.l)
	}
	return len(sc.cands) > 0
}

// substanceIn runs the substance automata over one view.
func (c *Classifier) substanceIn(sc *scratch, n *normText) bool {
	sm := c.subst
	b := n.b
	sc.fam.n = nil
	sc.hits = sm.main.find(b, sc.hits[:0])
	for _, h := range sc.hits {
		p := &c.pats[sm.mainPat[h.pat]]
		end := int(h.end)
		start := end - len(p.key)
		for _, fi := range p.stems {
			c.family(sc, n, fi, start, end)
		}
		if len(sc.cands) > 0 {
			return true
		}
		if !c.bounded(b, p, start, end) {
			continue
		}
		return true
	}
	if !hasSeparator(b) {
		return false
	}
	sc.sq, sc.sqMap = squeezed(b, sc.sq[:0], sc.sqMap[:0])
	sc.hits = sm.squeeze.find(sc.sq, sc.hits[:0])
	for _, h := range sc.hits {
		p := &c.pats[sm.sqPat[h.pat]]
		if _, _, ok := c.squeezeBounds(b, sc.sqMap, p, int(sm.squeeze.lens[h.pat]), int(h.end)); ok {
			return true
		}
	}
	return false
}
