package classify

import (
	"strings"
	"unicode/utf8"
)

// The verdict path: Classify first asks whether any search that can yield
// a substance would yield one, running only those searches, and runs the
// full analysis only when the answer is yes.

// substanceMatchers are the automata of the verdict path: the patterns of
// the main and separator-free automata that name a substance or are a
// family's stem, without the context terms most text is full of.
type substanceMatchers struct {
	main    *acMatcher
	mainPat []int32 // pattern id -> pats index, or -1 for a trigger only
	// trigger marks the patterns of main that start a possible match of
	// the separator-free view (see newSubstanceMatchers): where one
	// occurs at a word start, the trie is walked from there.
	trigger []bool
	squeeze *wordTrie
	sqPat   []int32 // pattern id -> pats index
	// gated marks the patterns (pats index) whose substance terms are all
	// weak terms that require a gate context: a support context of terms
	// only ("counterfeit" for "m30", "oxycodone"). gate finds those
	// contexts' terms, spaces removed, in a text with spaces removed: a
	// text where none occurs cannot have the term count, so it needs no
	// full analysis for it.
	gated []bool
	gate  *acMatcher
}

// newSubstanceMatchers compiles the substance patterns of c.
func newSubstanceMatchers(c *Classifier) *substanceMatchers {
	sm := &substanceMatchers{}
	var keys, sqKeys []string
	index := map[string]int{}
	for i := range c.pats {
		if c.names(i) || len(c.pats[i].stems) > 0 {
			index[c.pats[i].key] = len(keys)
			keys = append(keys, c.pats[i].key)
			sm.mainPat = append(sm.mainPat, int32(i))
		}
	}
	sm.trigger = make([]bool, len(keys))
	addTrigger := func(t string) {
		if id, ok := index[t]; ok {
			sm.trigger[id] = true
			return
		}
		index[t] = len(keys)
		keys = append(keys, t)
		sm.mainPat = append(sm.mainPat, -1)
		sm.trigger = append(sm.trigger, true)
	}
	for k, pi := range c.sqPats {
		if !c.names(int(pi)) {
			continue
		}
		key := c.sqKeys[k]
		sqKeys = append(sqKeys, key)
		sm.sqPat = append(sm.sqPat, pi)
		// A match that runs across words starts with a whole word that
		// begins the key, a space and the key's next byte; one within a
		// word of a key written with spaces is the key itself. (One
		// within a word of a key without spaces is the main automaton's.)
		// After a one-letter word, which ordinary text is full of ("a",
		// "s"), the trigger holds the key's next two bytes, or its next
		// byte as a word of its own.
		for j := 1; j < len(key); j++ {
			switch {
			case !utf8.RuneStart(key[j]):
			case j > 1 || j+1 == len(key):
				addTrigger(key[:j] + " " + key[j:j+1])
			default:
				addTrigger(key[:j] + " " + key[j:j+2])
				if key[j] < utf8.RuneSelf {
					addTrigger(key[:j] + " " + key[j:j+1] + " ")
				}
			}
		}
		if strings.Contains(c.pats[pi].key, " ") {
			addTrigger(key)
		}
	}
	sm.main = newACMatcher(keys)
	sm.squeeze = newWordTrie(sqKeys)
	sm.gated, sm.gate = c.gates()
	return sm
}

// gates returns substanceMatchers.gated and .gate for c.
func (c *Classifier) gates() ([]bool, *acMatcher) {
	isGate := make([]bool, len(c.ctxs))
	byName := map[string]int{}
	for i, x := range c.ctxs {
		byName[x.Name] = i
		isGate[i] = x.Kind == "support" && len(x.Detect) == 0 && len(x.Patterns) == 0 && len(x.Terms) > 0
	}
	gated := make([]bool, len(c.pats))
	used := make([]bool, len(c.ctxs))
	for pi := range c.pats {
		p := &c.pats[pi]
		if len(p.stems) > 0 || !c.names(pi) {
			continue
		}
		all := true
		var needs []int
		for _, r := range p.refs {
			if r.sub < 0 {
				continue
			}
			g := -1
			if r.term.Weak() {
				for _, n := range r.term.Requires {
					if i, ok := byName[n]; ok && isGate[i] {
						g = i
						break
					}
				}
			}
			if g < 0 {
				all = false
				break
			}
			needs = append(needs, g)
		}
		if all {
			gated[pi] = true
			for _, g := range needs {
				used[g] = true
			}
		}
	}
	seen := map[string]bool{}
	var keys []string
	for pi := range c.pats {
		for _, r := range c.pats[pi].refs {
			if r.ctx >= 0 && used[r.ctx] {
				if k := strings.ReplaceAll(c.pats[pi].key, " ", ""); k != "" && !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	if len(keys) == 0 {
		return gated, nil
	}
	return gated, newACMatcher(keys)
}

// gateOccurs reports whether a term of a gate context occurs anywhere in
// view n, spaces ignored (see substanceMatchers.gated).
func (c *Classifier) gateOccurs(sc *scratch, n *normText) bool {
	if c.subst.gate == nil {
		return true
	}
	sq := sc.sq[:0]
	for _, x := range n.b {
		if x != ' ' {
			sq = append(sq, x)
		}
	}
	sc.sq = sq
	hits, _, _ := c.subst.gate.findSome(sq, 0, 0, sc.hits[:0], 1)
	sc.hits = hits
	return len(hits) > 0
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
//
// The occurrences of the substance automaton over sc.n are those sc.scan
// recorded when fast (the one-pass normaliser fed it), else found here.
// Either way they are taken in batches, so that a text of millions of
// names does not hold all their occurrences at once.
func (c *Classifier) mentionsSubstance(sc *scratch, fast bool) bool {
	sc.gatedSeen = false
	if c.mentions(sc, fast) {
		return true
	}
	// Only gated terms were found: they count only where a term of their
	// gate context occurs.
	if !sc.gatedSeen {
		return false
	}
	return c.gateOccurs(sc, &sc.n) || sc.leetDone && c.gateOccurs(sc, &sc.l)
}

// mentions is mentionsSubstance before the gate test: it notes gated
// terms in sc.gatedSeen rather than reporting them.
func (c *Classifier) mentions(sc *scratch, fast bool) bool {
	sc.cands = sc.cands[:0]
	sc.leetDone = false
	n := &sc.n
	switch {
	case fast:
		for k := 0; k < sc.scan.nf; {
			sc.subst, k = sc.scan.hitsSome(sc.subst[:0], k, findBatch)
			if c.substanceHits(sc, n, sc.subst) {
				return true
			}
		}
	case len(n.b) <= batchFrom:
		sc.subst = c.subst.main.findHalves(n.b, sc.subst[:0])
		if c.substanceHits(sc, n, sc.subst) {
			return true
		}
	default:
		for i, s := 0, int32(0); i < len(n.b); {
			sc.subst, i, s = c.subst.main.findSome(n.b, i, s, sc.subst[:0], findBatch)
			if c.substanceHits(sc, n, sc.subst) {
				return true
			}
		}
	}
	// One pass over the words: CAS numbers, misspelt names, and whether
	// the leet view has a word of its own. (The fuzzy search skips words
	// an exact match covers; there is none.)
	b, toks, flags := n.b, sc.ws.toks, sc.ws.flags
	hasLeet := false
	for k, t := range toks {
		f := flags[k]
		if f&wordLeet != 0 && f&wordLetter != 0 && !hasLeet && leetWord(b[t.s:t.e]) {
			hasLeet = true
		}
		if f&^wordLeet == wordDigit && c.cas3(sc, n, k) {
			return true
		}
		if t.e-t.s >= fuzzyMinLen-1 && f == wordLetter {
			if _, ok := c.fuzzyWord(n, t); ok {
				return true
			}
		}
	}
	if !hasLeet {
		return false
	}
	// The leet view: its words are those of n with other bytes.
	leet(n, &sc.l, &sc.ws)
	sc.leetDone = true
	l := &sc.l
	if len(l.b) <= batchFrom {
		sc.hits = c.subst.main.findHalves(l.b, sc.hits[:0])
		if c.substanceHits(sc, l, sc.hits) {
			return true
		}
	} else {
		for i, s := 0, int32(0); i < len(l.b); {
			sc.hits, i, s = c.subst.main.findSome(l.b, i, s, sc.hits[:0], findBatch)
			if c.substanceHits(sc, l, sc.hits) {
				return true
			}
		}
	}
	// Misspelt names: the words leetspeak changed (the others were
	// looked at in n).
	for k, t := range toks {
		if flags[k]&wordLeet != 0 && t.e-t.s >= fuzzyMinLen-1 && allLetters(l.b[t.s:t.e]) {
			if _, ok := c.fuzzyWord(l, t); ok {
				return true
			}
		}
	}
	return false
}

// substanceHits checks the hits of the main substance automaton in view n:
// family stems, terms on word boundaries, and the separator-free view
// where a trigger occurs at a word start.
func (c *Classifier) substanceHits(sc *scratch, n *normText, hits []acHit) bool {
	sm := c.subst
	b := n.b
	sc.fam.n = nil
	for _, h := range hits {
		end := int(h.end)
		if sm.trigger[h.pat] {
			start := end - int(sm.main.lens[h.pat])
			if (start == 0 || b[start-1] == ' ') && sm.squeeze.walk(b, start, c.squeezeFound(sc, b)) {
				return true
			}
		}
		pi := sm.mainPat[h.pat]
		if pi < 0 {
			continue
		}
		p := &c.pats[pi]
		// A family's stem sends the text on: the family's pattern is
		// tried there, once.
		if len(p.stems) > 0 {
			return true
		}
		if c.bounded(b, p, end-len(p.key), end) {
			if sm.gated[pi] {
				sc.gatedSeen = true // decided at the end, if nothing else is found
				continue
			}
			return true
		}
	}
	return false
}

// squeezeFound returns the test a key of the separator-free view found in
// b must pass: a term of it ends on a word boundary there.
func (c *Classifier) squeezeFound(sc *scratch, b []byte) func(id int32, start, end int) bool {
	sm := c.subst
	return func(id int32, start, end int) bool {
		p := &c.pats[sm.sqPat[id]]
		e, ok := rightBoundary(b, end, p)
		ok = ok && (e == len(b) || b[e] == ' ')
		if ok && sm.gated[sm.sqPat[id]] {
			sc.gatedSeen = true
			return false
		}
		return ok
	}
}

// wordTrie finds the keys of the separator-free view that start at a
// given word start of normalised text and may run across the spaces
// between words.
type wordTrie struct {
	class  [256]uint8
	nclass int32
	// next holds a row of nclass entries per node, at node*nclass: entry
	// c > 0 is the child for byte class c (its row's offset) or -1; entry
	// 0, the class of bytes no key has, holds the id of the key ending at
	// the node or -1.
	next []int32
}

// newWordTrie builds the trie of keys (non-empty, without spaces, at most
// 255 byte classes).
func newWordTrie(keys []string) *wordTrie {
	t := &wordTrie{nclass: 1}
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			if t.class[k[i]] == 0 {
				t.class[k[i]] = uint8(t.nclass)
				t.nclass++
			}
		}
	}
	nc := t.nclass
	newNode := func() int32 {
		at := int32(len(t.next))
		for range nc {
			t.next = append(t.next, -1)
		}
		return at
	}
	newNode()
	for id, k := range keys {
		n := int32(0)
		for i := 0; i < len(k); i++ {
			c := int32(t.class[k[i]])
			if t.next[n+c] < 0 {
				child := newNode()
				t.next[n+c] = child
			}
			n = t.next[n+c]
		}
		t.next[n] = int32(id)
	}
	return t
}

// walk walks the trie from b[start], skipping spaces, and reports whether
// found accepts one of the keys met, given its id and its span [start,
// end) in b.
func (t *wordTrie) walk(b []byte, start int, found func(id int32, start, end int) bool) bool {
	n := int32(0)
	for j := start; j < len(b); j++ {
		c := b[j]
		if c == ' ' {
			continue
		}
		cl := int32(t.class[c])
		if cl == 0 {
			return false
		}
		n = t.next[n+cl]
		if n < 0 {
			return false
		}
		if id := t.next[n]; id >= 0 && found(id, start, j+1) {
			return true
		}
	}
	return false
}
