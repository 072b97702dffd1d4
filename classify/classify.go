// Package classify decides whether a listing's text offers fentanyl, a
// fentanyl analogue, a nitazene, another novel synthetic opioid or a
// controlled fentanyl precursor, using a rules.RuleSet.
//
// Classification is pure: Classify reads only its argument and the rule set,
// does no I/O and keeps no state between calls, so one Classifier serves
// any number of goroutines.
//
// The text is normalised first (see Normalize): Unicode NFKC/NFKD folding,
// case folding, accent stripping, Cyrillic and Greek look-alikes folded to
// Latin inside Latin words, zero-width characters dropped, separators
// collapsed and spelt-out letters joined. A second view folds leetspeak
// (0→o, 3→e, 4→a, 1→i/l, 5→s, 7→t, $→s, @→a) in words that mix letters and
// such characters, and a third view ignores separators altogether so that
// "fen ta nyl" and "4anpp" match. All views are searched with Aho-Corasick
// automata, long names also match with one or two edits, and every match
// maps back to the exact byte span of the original text.
//
// Most listings name no opioid. Classify therefore first runs only the
// searches that can find a substance (a small automaton of substance terms
// and family stems, a trie walked from word starts for the separator-free
// view, CAS numbers, misspelt names) over a normalised copy without the
// offset map, and runs the full analysis, with every context term, only
// when one of them finds something. Analyze always runs the full analysis.
package classify

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"snoop/rules"
)

// Result is the verdict on one text.
type Result struct {
	Hit         bool        // a substance matched and Score reached the threshold
	Score       float64     // 0..1
	Substances  []Substance // deduplicated by Name, in order of first appearance
	Matches     []Match     // every matched term, context terms included, by position
	Parts       Parts       // how Score was made (zero when no substance matched)
	RuleVersion string      // the rule set's version
	// Omitted lists the rules with more than MaxMatchesPerRule matches in
	// the text and how many of their matches were not kept (see
	// MaxMatchesPerRule); empty for any ordinary listing.
	Omitted []Omission
}

// MaxMatchesPerRule bounds the matches of one rule (a substance, a family
// or a context) kept for one text, counted over every view of the text, so
// that the memory an analysis takes stays flat whatever a hostile page
// holds (10 MiB of one repeated name). Matches beyond it, in text order,
// are dropped and counted in Result.Omitted; the verdict is made from the
// matches kept. No real listing comes near it.
const MaxMatchesPerRule = 2000

// Omission says how many matches of one rule a Result does not hold.
type Omission struct {
	Rule    string // "substance NAME", "family NAME" or "context NAME"
	Dropped int    // matches found beyond MaxMatchesPerRule and not kept
}

// Parts is the breakdown of a score, for explain:
// Score = Base + Sales − Exclude + Prior, clamped to [0, 1], with
// Exclude = min(Strong + max(0, Weak − Shield) + Far, exclude_cap), for
// the best-scoring substance mention.
type Parts struct {
	Base       float64 // weight of the strongest substance match
	Sales      float64 // capped sum of the distinct sales contexts
	SalesKinds int     // distinct sales contexts matched
	Strong     float64 // sum of the distinct strong exclude contexts
	Weak       float64 // sum over the distinct terms of weak exclude contexts
	Shield     float64 // weak exclusion cancelled by sales diversity
	Far        float64 // exclusion outside the mention's window, capped at far_cap
	Exclude    float64 // what was subtracted
	Prior      float64 // the site kind's prior, added (scoring.kinds)
}

// Substance is one substance found in the text.
type Substance struct {
	Name    string // canonical name, or for a family match the name as written, lower case
	Class   string
	Matched string // Text[Start:End]
	Start   int    // byte offsets in the original text
	End     int
}

// Match is one matched term.
type Match struct {
	Rule    string  // "substance NAME", "family NAME", "context NAME" or "cas"
	Term    string  // the rule's term (or detector, or pattern) that matched
	Kind    string  // name, synonym, lang:xx, street, cas, family, fuzzy, sales, exclude, support, unsupported
	Weight  float64 // contribution: substance weight, or context weight (negative for exclusions)
	Start   int     // byte offsets in the original text
	End     int
	Matched string // original text[Start:End]
}

// Classifier classifies texts with one rule set. The zero value is not
// usable; call New.
type Classifier struct {
	rs      *rules.RuleSet
	sc      rules.Scoring
	pats    []pattern
	main    *sparseMatcher // normalised and leet views, every term
	squeeze *sparseMatcher // separator-free view, every term
	sqPats  []int32        // squeeze pattern -> pats index
	sqLen   []int32        // squeeze pattern -> length
	sqKeys  []string       // squeeze pattern -> key
	subst   *substanceMatchers
	subs    []*rules.Substance
	ctxs    []*rules.Context
	fams    []*rules.Family
	cas     map[string]int   // canonical CAS -> substance index
	lookup  map[string]int   // squeezed term key -> substance index (strong terms)
	fuzzy   *fuzzyIndex      // long single-word names
	byKind  map[string][]int // context kind -> context indexes
	detect  map[string][]int // detector -> context indexes
	ctxRule []string         // "context NAME"
	subRule []string         // "substance NAME"
	famRule []string         // "family NAME"
	// ctxPats are the context patterns; those with a literal prefix run
	// only where the main automaton found it (pattern id len(pats)+k for
	// ctxPats[k]).
	ctxPats []ctxPattern
	pool    sync.Pool
}

// ctxPattern is one context regexp.
type ctxPattern struct {
	ctx int
	re  *regexp.Regexp
	lit bool // has a literal prefix, searched as a pattern of the main automaton
}

// pattern is one literal in the automaton: terms that normalise alike share
// it.
type pattern struct {
	key   string
	refs  []ref
	stems []int // families whose stem this is
	cjkL  bool  // no boundary needed on the left (Chinese/Japanese)
	cjkR  bool
	cyrR  bool // Cyrillic ending: up to three inflection letters allowed
}

type ref struct {
	sub  int // substance index, or -1
	ctx  int // context index, or -1
	term *rules.Term
}

// New compiles rs into a classifier.
func New(rs *rules.RuleSet) (*Classifier, error) {
	if rs == nil {
		return nil, fmt.Errorf("classify: nil rule set")
	}
	c := &Classifier{
		rs: rs, sc: rs.Scoring,
		cas:    map[string]int{},
		lookup: map[string]int{},
		byKind: map[string][]int{},
		detect: map[string][]int{},
	}
	index := map[string]int{}
	add := func(text string, r ref, stem int) {
		key := Normalize(text)
		if key == "" {
			return
		}
		i, ok := index[key]
		if !ok {
			i = len(c.pats)
			index[key] = i
			c.pats = append(c.pats, newPattern(key))
		}
		if stem >= 0 {
			c.pats[i].stems = append(c.pats[i].stems, stem)
		} else {
			c.pats[i].refs = append(c.pats[i].refs, r)
		}
	}
	for i := range rs.Substances {
		s := &rs.Substances[i]
		c.subs = append(c.subs, s)
		c.subRule = append(c.subRule, "substance "+s.Name)
		for j := range s.Terms {
			t := &s.Terms[j]
			add(t.Text, ref{sub: i, ctx: -1, term: t}, -1)
			if !t.Weak() {
				c.lookup[strings.ReplaceAll(Normalize(t.Text), " ", "")] = i
			}
		}
		for _, n := range s.CAS {
			c.cas[n.Number] = i
		}
	}
	for i := range rs.Contexts {
		x := &rs.Contexts[i]
		c.ctxs = append(c.ctxs, x)
		c.ctxRule = append(c.ctxRule, "context "+x.Name)
		c.byKind[x.Kind] = append(c.byKind[x.Kind], i)
		for _, d := range x.Detect {
			c.detect[d] = append(c.detect[d], i)
		}
		for j := range x.Terms {
			add(x.Terms[j].Text, ref{sub: -1, ctx: i, term: &x.Terms[j]}, -1)
		}
	}
	for i := range rs.Families {
		f := &rs.Families[i]
		if f.Pattern == nil {
			return nil, fmt.Errorf("classify: family %s has no pattern", f.Name)
		}
		c.fams = append(c.fams, f)
		c.famRule = append(c.famRule, "family "+f.Name)
		stem := strings.TrimRight(Normalize(f.Stem), " ")
		if f.Stem != "" && strings.HasSuffix(f.Stem, " ") {
			stem += " "
		}
		if stem == "" {
			return nil, fmt.Errorf("classify: family %s: empty stem", f.Name)
		}
		i2, ok := index[stem]
		if !ok {
			i2 = len(c.pats)
			index[stem] = i2
			c.pats = append(c.pats, newPattern(stem))
		}
		c.pats[i2].stems = append(c.pats[i2].stems, i)
	}
	keys := make([]string, len(c.pats))
	var sq []string
	sqIndex := map[string]int{}
	for i, p := range c.pats {
		keys[i] = p.key
		if len(p.refs) == 0 || p.cjkL || p.cjkR {
			continue
		}
		k := strings.ReplaceAll(p.key, " ", "")
		if !squeezable(k) {
			continue
		}
		if _, dup := sqIndex[k]; dup {
			continue
		}
		sqIndex[k] = len(sq)
		sq = append(sq, k)
		c.sqPats = append(c.sqPats, int32(i))
		c.sqLen = append(c.sqLen, int32(len(k)))
	}
	// The literal prefixes of context patterns ride along in the main
	// automaton, which reports them without affecting the other patterns.
	for i := range c.ctxs {
		for _, re := range c.ctxs[i].Patterns {
			lit, _ := re.LiteralPrefix()
			if lit != "" {
				keys = append(keys, lit)
			}
			c.ctxPats = append(c.ctxPats, ctxPattern{ctx: i, re: re, lit: lit != ""})
		}
	}
	c.main = newSparseMatcher(keys)
	c.squeeze = newSparseMatcher(sq)
	c.sqKeys = sq
	c.subst = newSubstanceMatchers(c)
	c.fuzzy = newFuzzyIndex(c)
	c.pool.New = func() any { return new(scratch) }
	return c, nil
}

// squeezable reports whether a separator-free key is specific enough to be
// matched across separators: five bytes, or three with a digit.
func squeezable(k string) bool {
	if len(k) >= 5 {
		return true
	}
	return len(k) >= 3 && strings.ContainsAny(k, "0123456789")
}

func newPattern(key string) pattern {
	p := pattern{key: key}
	first, last := firstRune(key), lastRune(key)
	// Chinese, Japanese and Thai have no spaces; Arabic, Persian and
	// Hebrew glue articles and prepositions to nouns ("الفنتانيل",
	// "הפנטניל"), Korean glues particles ("펜타닐을"): terms in these
	// scripts match inside words.
	p.cjkL = isCJK(first) || isArabic(first) || isGlued(first)
	p.cjkR = isCJK(last) || isArabic(last) || isGlued(last)
	// Cyrillic and Greek terms take case endings ("фентанила",
	// "φαιντανύλης").
	p.cyrR = last >= 0x0400 && last <= 0x04FF || last >= 0x0370 && last <= 0x03FF
	return p
}

// RuleSet returns the rule set the classifier was built from.
func (c *Classifier) RuleSet() *rules.RuleSet { return c.rs }

// scratch holds per-call buffers, pooled.
type scratch struct {
	n, l  normText
	runes []foldRune
	ws    words   // the words of n
	scan  acScan  // the verdict search's automaton over n
	subst []acHit // its occurrences
	hits  []acHit
	lits  []bool // the literal prefix of ctxPats (those with one) occurs in n
	sq    []byte
	sqMap []int32
	cands []cand
	// perRule counts the candidates of each rule (substances, then
	// contexts, then families: see ruleSlot), to keep at most
	// MaxMatchesPerRule of each; dropped counts those beyond it.
	perRule, dropped []int32
	tokens           []token // ws.toks
	prior            float64 // the site kind's prior (see ClassifyAs)
	gatedSeen        bool    // the verdict search met a gated term (see substanceMatchers.gated)
	leetDone         bool    // the verdict search wrote the leet view l
	seen             map[seenKey]struct{}
	fam              famCache
	found            []token // fuzzyScan: exact matches, by start
	reach            []int   // fuzzyScan: furthest end of found[:i+1]
	// resolve's buffers.
	ctxHit           []bool
	kindHit          map[string]bool
	subs, negs       []cand
	chosen           []cand
	counted          []hitCtx
	negCtx           []nsRange
	negReach         []int
	negAfter, negBef map[int]int
	cx               contextIndex
	weakIDs          map[string]int
}

// seenKey identifies a context match, to count each one once although the
// views and detectors may find it more than once.
type seenKey struct{ start, end, ctx int }

// cand is a candidate match in normalised coordinates of view v.
type cand struct {
	start, end int // original byte offsets
	ns, ne     int // normalised offsets (in n; l shares them)
	sub        int // substance index or -1
	ctx        int // context index or -1
	fam        int // family index or -1
	name       string
	class      string
	kind       string
	term       string
	weight     float64
	weak       *rules.Term
}

// Classify returns the verdict on text. Hit, Score, Substances and Parts
// are always those of Analyze. Matches are Analyze's too (every matched
// term, context terms included) when the text holds a substance term, a
// family's stem, a CAS number or a misspelt name; for a text with none of
// these, or only with street terms that need a support context none of
// whose terms occurs ("oxycodone" without a counterfeit word), the verdict
// is "no substance" and Matches is empty (Analyze lists the context terms
// of such a text too).
//
// Most listings name no opioid at all: for them Classify runs only the
// substance search of every view and returns early.
func (c *Classifier) Classify(text string) Result {
	return c.ClassifyAs(text, "")
}

// ClassifyAs is Classify for a listing found on a site of the given kind
// (one of rules.SiteKinds; "" is rules.DefaultSiteKind): the kind's prior
// (scoring.kinds in the rules) is added to every substance mention's
// score, so that on a market, where every listing is an offer, a bare
// substance name is a hit, and on a forum it needs more.
func (c *Classifier) ClassifyAs(text, kind string) Result {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	sc.prior = c.prior(kind)
	sc.scan.reset(c.subst.main)
	fast := normalizeFast(text, &sc.n, &sc.ws, &sc.scan)
	if !fast {
		normalizeRunes(text, &sc.n, &sc.runes, &sc.ws)
	}
	sc.tokens = sc.ws.toks
	if !c.mentionsSubstance(sc, fast) {
		return Result{RuleVersion: c.rs.Version()}
	}
	if sc.n.unmapped {
		sc.prepare(text)
	}
	return c.analyze(text, sc)
}

// Analyze returns the verdict on text with every matched term, context
// terms included, whether or not a substance occurs: for explaining a
// verdict and tuning rules.
func (c *Classifier) Analyze(text string) Result {
	return c.AnalyzeAs(text, "")
}

// AnalyzeAs is Analyze for a listing found on a site of the given kind
// (see ClassifyAs).
func (c *Classifier) AnalyzeAs(text, kind string) Result {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	sc.prior = c.prior(kind)
	sc.prepare(text)
	return c.analyze(text, sc)
}

// NearMiss reports whether r is a near miss under the rules: not a hit,
// but a substance was found and the score is within scoring.near_miss
// below the threshold, so that a rule gap costs an analyst a look, not a
// missed listing.
func (c *Classifier) NearMiss(r Result) bool {
	return !r.Hit && len(r.Substances) > 0 && c.sc.NearMiss > 0 && r.Score >= c.sc.Threshold-c.sc.NearMiss-1e-9
}

// prior is the score prior of a site kind; "" is rules.DefaultSiteKind.
func (c *Classifier) prior(kind string) float64 {
	if kind == "" {
		kind = rules.DefaultSiteKind
	}
	return c.sc.Kinds[kind]
}

// prepare normalises text into sc.n and its words into sc.ws and
// sc.tokens.
func (sc *scratch) prepare(text string) {
	normalizeRunes(text, &sc.n, &sc.runes, &sc.ws)
	sc.tokens = sc.ws.toks
}

// analyze runs every search over sc.n, the normalised text (see prepare),
// and resolves the result.
func (c *Classifier) analyze(text string, sc *scratch) Result {
	sc.cands = sc.cands[:0]
	slots := len(c.subs) + len(c.ctxs) + len(c.fams)
	sc.perRule, sc.dropped = resize(sc.perRule, slots), resize(sc.dropped, slots)
	sc.lits = resize(sc.lits, len(c.main.lens)-len(c.pats))
	c.scan(sc, &sc.n)
	// The leet view changes bytes, not separators: its words are those of
	// the normalised view.
	hasLeet := leet(&sc.n, &sc.l, &sc.ws)
	if hasLeet {
		c.scan(sc, &sc.l)
	}
	c.detectors(sc, &sc.n)
	c.fuzzyScan(sc, &sc.n)
	if hasLeet {
		c.fuzzyScan(sc, &sc.l)
	}
	lit := 0
	for _, cp := range c.ctxPats {
		// A pattern that starts with a literal cannot match where the
		// literal does not occur: skip the regexp scan.
		if cp.lit {
			lit++
			if !sc.lits[lit-1] {
				continue
			}
		}
		for _, loc := range cp.re.FindAllIndex(sc.n.b, -1) {
			if loc[1] > loc[0] {
				c.addCtx(sc, &sc.n, cp.ctx, loc[0], loc[1], cp.re.String())
			}
		}
	}
	return c.resolve(text, sc)
}

// scan runs the main and squeeze automata over one view. Occurrences are
// taken in batches (findBatch), so that a text holding millions of terms
// does not hold all their occurrences at once.
func (c *Classifier) scan(sc *scratch, n *normText) {
	b := n.b
	sc.fam.n = nil // the view's bytes are new
	for i, s := 0, int32(0); i < len(b); {
		sc.hits, i, s = c.main.findSome(b, i, s, sc.hits[:0], findBatch)
		c.mainHits(sc, n)
	}
	if !hasSeparator(b) {
		return // no separators: the main view saw everything
	}
	sc.sq, sc.sqMap = squeezed(b, sc.sq[:0], sc.sqMap[:0])
	for i, s := 0, int32(0); i < len(sc.sq); {
		sc.hits, i, s = c.squeeze.findSome(sc.sq, i, s, sc.hits[:0], findBatch)
		for _, h := range sc.hits {
			p := &c.pats[c.sqPats[h.pat]]
			start, e, ok := c.squeezeBounds(b, sc.sqMap, p, int(c.sqLen[h.pat]), int(h.end))
			if !ok {
				continue
			}
			for _, r := range p.refs {
				c.addRef(sc, n, r, start, e)
			}
		}
	}
}

// mainHits turns the main automaton's occurrences in sc.hits into
// candidates.
func (c *Classifier) mainHits(sc *scratch, n *normText) {
	b := n.b
	for _, h := range sc.hits {
		if int(h.pat) >= len(c.pats) {
			// A context pattern's literal prefix.
			if n == &sc.n {
				sc.lits[int(h.pat)-len(c.pats)] = true
			}
			continue
		}
		p := &c.pats[h.pat]
		end := int(h.end)
		start := end - len(p.key)
		for _, fi := range p.stems {
			c.family(sc, n, fi, start, end)
		}
		if len(p.refs) == 0 {
			continue
		}
		if !p.cjkL && start > 0 && isWordByte(b[start-1]) && !countPrefix(b, start, len(p.key)) {
			continue
		}
		e, ok := rightBoundary(b, end, p)
		if !ok {
			continue
		}
		for _, r := range p.refs {
			c.addRef(sc, n, r, start, e)
		}
	}
}

// bounded reports whether pattern p found at b[start:end] of the main
// automaton stands on word boundaries: a term of p's refs matches there.
func (c *Classifier) bounded(b []byte, p *pattern, start, end int) bool {
	if len(p.refs) == 0 {
		return false
	}
	if !p.cjkL && start > 0 && isWordByte(b[start-1]) && !countPrefix(b, start, len(p.key)) {
		return false
	}
	_, ok := rightBoundary(b, end, p)
	return ok
}

// hasSeparator reports whether b has a space, the only separator of
// normalised text.
func hasSeparator(b []byte) bool {
	return bytes.IndexByte(b, ' ') >= 0
}

// squeezed appends b without its spaces to sq and, for every byte kept,
// its offset in b to sqMap.
func squeezed(b, sq []byte, sqMap []int32) ([]byte, []int32) {
	// One allocation of the largest size, not a doubling series: a
	// 10 MiB page would otherwise leave as much again in garbage.
	sq, sqMap = slices.Grow(sq, len(b)), slices.Grow(sqMap, len(b))
	for i, x := range b {
		if x != ' ' {
			sq = append(sq, x)
			sqMap = append(sqMap, int32(i))
		}
	}
	return sq, sqMap
}

// squeezeBounds maps a match of k bytes of the separator-free automaton
// ending at se to b and checks that it starts and ends on word boundaries,
// returning its span in b.
func (c *Classifier) squeezeBounds(b []byte, sqMap []int32, p *pattern, k, se int) (int, int, bool) {
	ss := se - k
	start, last := int(sqMap[ss]), int(sqMap[se-1])
	end := last + 1
	if start > 0 && b[start-1] != ' ' {
		return 0, 0, false
	}
	e, ok := rightBoundary(b, end, p)
	if !ok || (e < len(b) && b[e] != ' ') {
		return 0, 0, false
	}
	return start, e, true
}

// rightBoundary checks the right word boundary at end and returns where the
// match ends, allowing a plural "s"/"es" after Latin terms and up to three
// inflection letters after Cyrillic ones.
func rightBoundary(b []byte, end int, p *pattern) (int, bool) {
	if p.cjkR || end >= len(b) || !isWordByte(b[end]) {
		return end, true
	}
	if p.cyrR {
		e := end
		for k := 0; k < 3 && e+1 < len(b) && b[e] >= 0xCE && b[e] <= 0xD1; k++ {
			e += 2
		}
		if e >= len(b) || !isWordByte(b[e]) {
			return e, true
		}
		return 0, false
	}
	last := p.key[len(p.key)-1]
	if last >= 'a' && last <= 'z' || last >= '0' && last <= '9' {
		if b[end] == 's' && (end+1 >= len(b) || !isWordByte(b[end+1])) {
			return end + 1, true
		}
		if last != 's' && b[end] == 'e' && end+1 < len(b) && b[end+1] == 's' && (end+2 >= len(b) || !isWordByte(b[end+2])) && last >= 'a' {
			return end + 2, true
		}
	}
	// Inflection: a long Latin term may take a short case or gender ending
	// ("fentanylu", "fentanyle", "fentanili", "carfentanila").
	if len(p.key) >= minInflected && last >= 'a' && last <= 'z' {
		we := end
		for we < len(b) && we-end <= maxEnding && b[we] >= 'a' && b[we] <= 'z' {
			we++
		}
		if we-end <= maxEnding && (we >= len(b) || !isWordByte(b[we])) && endings[string(b[end:we])] {
			return we, true
		}
	}
	return 0, false
}

// minInflected is the shortest Latin term that may take an ending.
const minInflected = 6

// maxEnding is the longest ending.
const maxEnding = 3

// endings are the case, number and gender endings a long Latin term may
// take in the languages of the rules (French -e, Spanish and Italian -a/-o/-i,
// Polish and Czech -u/-em/-ie/-ów, Turkish -i/-in/-ini, Dutch and German -en,
// Danish and Swedish -en/-et).
var endings = map[string]bool{
	"a": true, "e": true, "i": true, "o": true, "u": true, "y": true,
	"em": true, "om": true, "um": true, "ie": true, "ow": true, "en": true, "et": true, "in": true,
	"ach": true, "ami": true, "ini": true, "iem": true, "ego": true, "emu": true, "ova": true, "ovi": true,
}

func (c *Classifier) addRef(sc *scratch, n *normText, r ref, ns, ne int) {
	s, e := n.span(ns, ne)
	if r.ctx >= 0 {
		x := c.ctxs[r.ctx]
		c.add(sc, cand{start: s, end: e, ns: ns, ne: ne, sub: -1, ctx: r.ctx, fam: -1,
			kind: x.Kind, term: r.term.Text, weight: x.Weight})
		return
	}
	sub := c.subs[r.sub]
	kind := r.term.Kind
	if kind == rules.TermLang {
		kind = "lang:" + r.term.Lang
	}
	class := sub.Class
	if r.term.Class != "" {
		class = r.term.Class // a counterfeit pill: reported as fentanyl, in its own class
	}
	cd := cand{start: s, end: e, ns: ns, ne: ne, sub: r.sub, ctx: -1, fam: -1, name: sub.Name, class: class,
		kind: kind, term: r.term.Text, weight: r.term.Weight}
	if r.term.Weak() {
		cd.weak = r.term
	}
	c.add(sc, cd)
}

// ruleSlot is the index of cd's rule in scratch.perRule.
func (c *Classifier) ruleSlot(cd *cand) int {
	switch {
	case cd.ctx >= 0:
		return len(c.subs) + cd.ctx
	case cd.sub >= 0:
		return cd.sub
	}
	return len(c.subs) + len(c.ctxs) + cd.fam
}

// add keeps cd as a candidate unless its rule already has
// MaxMatchesPerRule of them; then it only counts it as dropped.
func (c *Classifier) add(sc *scratch, cd cand) {
	i := c.ruleSlot(&cd)
	if sc.perRule[i] >= MaxMatchesPerRule {
		sc.dropped[i]++
		return
	}
	sc.perRule[i]++
	sc.cands = append(sc.cands, cd)
}

// omissions lists the rules with dropped candidates, for Result.Omitted.
func (c *Classifier) omissions(sc *scratch) []Omission {
	var out []Omission
	for i, d := range sc.dropped {
		if d == 0 {
			continue
		}
		var rule string
		switch {
		case i < len(c.subs):
			rule = c.subRule[i]
		case i < len(c.subs)+len(c.ctxs):
			rule = c.ctxRule[i-len(c.subs)]
		default:
			rule = c.famRule[i-len(c.subs)-len(c.ctxs)]
		}
		out = append(out, Omission{Rule: rule, Dropped: int(d)})
	}
	return out
}

func (c *Classifier) addCtx(sc *scratch, n *normText, ci, ns, ne int, term string) {
	s, e := n.span(ns, ne)
	x := c.ctxs[ci]
	c.add(sc, cand{start: s, end: e, ns: ns, ne: ne, sub: -1, ctx: ci, fam: -1,
		kind: x.Kind, term: term, weight: x.Weight})
}

// substanceRule is the Rule of a substance match: "substance NAME".
func (c *Classifier) substanceRule(cd cand) string {
	if cd.sub >= 0 && c.subs[cd.sub].Name == cd.name {
		return c.subRule[cd.sub]
	}
	return "substance " + cd.name
}

// isWordByte reports whether b is part of a word in normalised text: an
// ASCII letter or digit, or any byte of a non-ASCII character (separators
// were already turned into spaces).
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

// resolve turns candidates into the result.
func (c *Classifier) resolve(text string, sc *scratch) Result {
	res := Result{RuleVersion: c.rs.Version(), Omitted: c.omissions(sc)}
	if len(sc.cands) > 0 {
		// Every candidate adds at most one match: one allocation.
		res.Matches = make([]Match, 0, len(sc.cands))
	}
	ctxHit := slices.Grow(sc.ctxHit[:0], len(c.ctxs))[:len(c.ctxs)]
	clear(ctxHit)
	sc.ctxHit = ctxHit
	if sc.kindHit == nil {
		sc.kindHit = map[string]bool{}
	}
	kindHit := sc.kindHit
	clear(kindHit)
	subs, negs := sc.subs[:0], sc.negs[:0]
	if sc.seen == nil {
		sc.seen = map[seenKey]struct{}{}
	}
	clear(sc.seen)
	counted := sc.counted[:0]
	defer func() {
		sc.subs, sc.negs, sc.counted = subs[:0], negs[:0], counted[:0]
	}()
	markup := markupSpans(text)
	// Negations first: they cancel the substance right after them and
	// the exclusion or support term right after them too ("no
	// prescription required" is not medical text, "not pressed" not a
	// counterfeit).
	for _, cd := range sc.cands {
		if cd.ctx >= 0 && cd.kind == rules.KindNegate {
			negs = append(negs, cd)
		}
	}
	// A negation word that ends a longer context term ("no" in "CAS No.")
	// is part of that term: the longest match wins. One that starts it
	// ("test" in "test strips") still negates.
	var ni negIndex
	if len(negs) > 0 {
		negs = dropInnerNegs(sc, negs)
		ni = c.newNegIndex(sc, negs, sc.tokens)
	}
	for _, cd := range sc.cands {
		if cd.ctx >= 0 {
			key := seenKey{cd.start, cd.end, cd.ctx}
			if _, ok := sc.seen[key]; ok {
				continue
			}
			sc.seen[key] = struct{}{}
			if (cd.kind == rules.KindSales || cd.kind == rules.KindExclude) && inSpans(markup, cd.start, cd.end) {
				// Words inside HTML or script remnants ("onerror=alert(1)")
				// were not written for readers: shown, not counted.
				res.Matches = append(res.Matches, Match{Rule: c.ctxRule[cd.ctx], Term: cd.term + " (in markup, ignored)",
					Kind: cd.kind, Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
				continue
			}
			if cd.kind == rules.KindExclude || cd.kind == rules.KindSupport {
				if neg, ok := ni.negatedBefore(cd); ok {
					res.Matches = append(res.Matches, Match{Rule: c.ctxRule[cd.ctx], Term: cd.term + " (negated by " + neg.term + ")",
						Kind: "negated", Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
					continue
				}
			}
			if cd.kind == rules.KindExclude && c.ctxs[cd.ctx].Weak {
				kindHit[cd.kind] = true
				counted = append(counted, hitCtx{ctx: cd.ctx, term: cd.term, weak: true, ns: cd.ns, ne: cd.ne})
				res.Matches = append(res.Matches, Match{Rule: c.ctxRule[cd.ctx], Term: cd.term + " (weak)",
					Kind: cd.kind, Weight: -cd.weight, Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
				ctxHit[cd.ctx] = true
				continue
			}
			if cd.kind == rules.KindNegate {
				res.Matches = append(res.Matches, Match{Rule: c.ctxRule[cd.ctx], Term: cd.term,
					Kind: cd.kind, Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
				continue
			}
			ctxHit[cd.ctx] = true
			kindHit[cd.kind] = true
			if cd.kind == rules.KindSales || cd.kind == rules.KindExclude {
				counted = append(counted, hitCtx{ctx: cd.ctx, term: cd.term, ns: cd.ns, ne: cd.ne,
					single: cd.kind == rules.KindExclude && c.ctxs[cd.ctx].Bound && c.sc.Bind > 0 && oneWord(sc.n.b[cd.ns:cd.ne])})
			}
			w := cd.weight
			if cd.kind == rules.KindExclude {
				w = -w
			}
			res.Matches = append(res.Matches, Match{Rule: c.ctxRule[cd.ctx], Term: cd.term,
				Kind: cd.kind, Weight: w, Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
			continue
		}
		subs = append(subs, cd)
	}
	satisfied := func(names []string) (string, bool) {
		for _, n := range names {
			if !c.ctxOrKind(n, ctxHit, kindHit) {
				return n, false
			}
		}
		return "", true
	}
	// Weak terms without their context do not count.
	kept := subs[:0]
	for _, cd := range subs {
		if cd.weak != nil {
			missing, ok := satisfied(cd.weak.Requires)
			blocked := ""
			for _, u := range cd.weak.Unless {
				if c.ctxOrKind(u, ctxHit, kindHit) {
					blocked = u
					break
				}
			}
			if !ok || blocked != "" {
				why := "needs " + missing
				if blocked != "" {
					why = "not with " + blocked
				}
				res.Matches = append(res.Matches, Match{Rule: c.substanceRule(cd), Term: cd.term + " (" + why + ")",
					Kind: "unsupported", Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
				continue
			}
		}
		if neg, ok := ni.negated(cd); ok {
			res.Matches = append(res.Matches, Match{Rule: c.substanceRule(cd), Term: cd.term + " (negated by " + neg.term + ")",
				Kind: "negated", Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
			continue
		}
		kept = append(kept, cd)
	}
	// Overlaps: the longest match wins, then the strongest.
	slices.SortStableFunc(kept, func(a, b cand) int {
		if a.start != b.start {
			return cmp.Compare(a.start, b.start)
		}
		if a.end != b.end {
			return cmp.Compare(b.end, a.end)
		}
		if a.weight != b.weight {
			return cmp.Compare(b.weight, a.weight)
		}
		// A listed substance beats a family's name-as-written.
		return cmp.Compare(b2i(a.sub < 0), b2i(b.sub < 0))
	})
	lastEnd := -1
	chosen := sc.chosen[:0]
	defer func() { sc.chosen = chosen[:0] }()
	for _, cd := range kept {
		if cd.start < lastEnd {
			continue
		}
		lastEnd = cd.end
		chosen = append(chosen, cd)
	}
	// A class word ("nitazenes") is not reported next to a specific
	// substance of its class; its weight still counts.
	var specific map[string]bool
	for _, cd := range chosen {
		if c.generic(cd) {
			specific = map[string]bool{}
			for _, x := range chosen {
				if !c.generic(x) {
					specific[x.class] = true
				}
			}
			break
		}
	}
	// Each mention is scored with the contexts around it (see "Score" in
	// package rules); the text scores as its best mention.
	var toks []token
	if c.sc.Window > 0 {
		toks = sc.tokens
	}
	best := -1.0
	var bestParts Parts
	var cx *contextIndex
	var offered, named map[string]bool // a mention reaches the threshold; reported
	if len(chosen) > 0 {
		cx = c.newContextIndex(sc, counted, toks)
		offered, named = map[string]bool{}, map[string]bool{}
	}
	for _, cd := range chosen {
		p, s := cx.mentionScore(cd)
		if s >= c.sc.Threshold {
			offered[cd.name] = true
		}
		if s > best {
			best, bestParts = s, p
		}
	}
	hit := len(chosen) > 0 && best >= c.sc.Threshold
	for _, cd := range chosen {
		rule := c.substanceRule(cd)
		if cd.fam >= 0 {
			rule = c.famRule[cd.fam]
		} else if cd.kind == "cas" {
			rule = "cas"
		}
		res.Matches = append(res.Matches, Match{Rule: rule, Term: cd.term, Kind: cd.kind, Weight: cd.weight,
			Start: cd.start, End: cd.end, Matched: text[cd.start:cd.end]})
		if named[cd.name] || c.generic(cd) && specific[cd.class] {
			continue
		}
		// A hit names what is offered: a substance none of whose
		// mentions reaches the threshold (a "related products" or news
		// sidebar entry) is left out; it is reported when nothing is.
		if hit && !offered[cd.name] {
			continue
		}
		named[cd.name] = true
		res.Substances = append(res.Substances, Substance{Name: cd.name, Class: cd.class,
			Matched: text[cd.start:cd.end], Start: cd.start, End: cd.end})
	}
	slices.SortStableFunc(res.Matches, func(a, b Match) int { return cmp.Compare(a.Start, b.Start) })
	if len(res.Substances) == 0 {
		return res
	}
	res.Parts = bestParts
	res.Score = best
	res.Hit = res.Score >= c.sc.Threshold
	return res
}

// hitCtx is a counted sales or exclude context match.
type hitCtx struct {
	ctx    int
	term   string
	weak   bool
	single bool // a strong exclusion written as one word: bound to the mentions near it
	ns, ne int  // normalised offsets
}

// oneWord reports whether normalised text b is one word of a script that
// separates words (an exclusion so written binds only to the mentions
// near it; Chinese, Japanese, Thai and Korean terms are phrases).
func oneWord(b []byte) bool {
	for _, x := range b {
		if x == ' ' || x >= 0xE0 {
			return false
		}
	}
	return true
}

// tokenAt returns the index of the word of toks at or after normalised
// offset ns.
func tokenAt(toks []token, ns int) int {
	return sort.Search(len(toks), func(i int) bool { return toks[i].e > ns })
}

// longSpan is the number of words beyond which a context match is kept
// apart from the others when looking up a window (see contextIndex).
const longSpan = 64

// contextIndex holds the counted context matches of one text, indexed by
// word, so that each substance mention is scored in time proportional to
// the matches in its window rather than to all matches of the text.
type contextIndex struct {
	c       *Classifier
	prior   float64 // the site kind's prior
	counted []hitCtx
	toks    []token // nil: window 0, every context is in the window
	first   []int   // counted[i] starts in word first[i] ...
	last    []int   // ... and ends in word last[i]
	byFirst []int   // indexes into counted of the matches spanning at most longSpan words, by first word
	long    []int   // indexes into counted of the others
	span    int     // the most words any match in byFirst spans
	weakID  []int   // counted index -> index into weakTerms (weak matches only)
	// weakTerms are the distinct terms of weak exclude matches in order of
	// first appearance, each with the weight of the context that first
	// matched it.
	weakTerms []weakTerm
	strongAt  []bool // a non-weak context has a counted match
	// Per-mention buffers.
	near, unbound         []int
	ctxNear, ctxFar       []bool
	weakNear              []bool
	weakOrder             []int
	whole                 *Parts // window 0: the context parts, the same for every mention
	wholeSales, wholeExcl float64
}

type weakTerm struct {
	term   string
	weight float64
	strong bool // a one-word strong exclusion, weak only when unbound
}

// newContextIndex builds the index in sc's buffers.
func (c *Classifier) newContextIndex(sc *scratch, counted []hitCtx, toks []token) *contextIndex {
	cx := &sc.cx
	*cx = contextIndex{c: c, prior: sc.prior, counted: counted, toks: toks,
		weakID:    resize(cx.weakID, len(counted)),
		strongAt:  resize(cx.strongAt, len(c.ctxs)),
		ctxNear:   resize(cx.ctxNear, len(c.ctxs)),
		ctxFar:    resize(cx.ctxFar, len(c.ctxs)),
		weakTerms: cx.weakTerms[:0],
		near:      cx.near[:0],
		unbound:   cx.unbound[:0],
		weakNear:  cx.weakNear,
		first:     cx.first,
		last:      cx.last,
		byFirst:   cx.byFirst[:0],
		long:      cx.long[:0],
	}
	if sc.weakIDs == nil {
		sc.weakIDs = map[string]int{}
	}
	ids := sc.weakIDs
	clear(ids)
	for i, h := range counted {
		if !h.weak {
			cx.strongAt[h.ctx] = true
			if !h.single {
				continue
			}
		}
		id, ok := ids[h.term]
		if !ok {
			id = len(cx.weakTerms)
			ids[h.term] = id
			w := c.ctxs[h.ctx].Weight
			if h.single {
				w = min(w, c.sc.BindWeight)
			}
			cx.weakTerms = append(cx.weakTerms, weakTerm{h.term, w, h.single})
		}
		cx.weakID[i] = id
	}
	cx.weakNear = resize(cx.weakNear, len(cx.weakTerms))
	if toks == nil {
		return cx
	}
	cx.first, cx.last = resize(cx.first, len(counted)), resize(cx.last, len(counted))
	for i, h := range counted {
		cx.first[i], cx.last[i] = tokenAt(toks, h.ns), tokenAt(toks, max(h.ns, h.ne-1))
		if w := cx.last[i] - cx.first[i]; w > longSpan {
			cx.long = append(cx.long, i)
		} else {
			cx.byFirst = append(cx.byFirst, i)
			cx.span = max(cx.span, w)
		}
	}
	slices.SortStableFunc(cx.byFirst, func(a, b int) int { return cmp.Compare(cx.first[a], cx.first[b]) })
	return cx
}

// resize returns s with length n and every element zero, reusing its
// array when it is large enough.
func resize[T any](s []T, n int) []T {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mentionScore scores one substance mention: its weight, plus the sales
// contexts within the window around it, minus the exclusion contexts within
// the window and, up to far_cap, those outside it. With window 0 every
// context is within the window.
func (cx *contextIndex) mentionScore(m cand) (Parts, float64) {
	var p Parts
	var sales, excl float64
	if cx.toks == nil {
		if cx.whole == nil {
			all := make([]int, len(cx.counted))
			for i := range all {
				all[i] = i
			}
			wp, s, e := cx.windowParts(all, -1, -1)
			cx.whole, cx.wholeSales, cx.wholeExcl = &wp, s, e
		}
		p, sales, excl = *cx.whole, cx.wholeSales, cx.wholeExcl
	} else {
		w := cx.c.sc.Window
		mf, ml := tokenAt(cx.toks, m.ns), tokenAt(cx.toks, max(m.ns, m.ne-1))
		p, sales, excl = cx.windowParts(cx.inWindow(mf-w, ml+w), mf, ml)
	}
	p.Base, p.Prior = m.weight, cx.prior
	score := max(0, min(1, m.weight+sales-excl+cx.prior))
	return p, float64(int(score*1000+0.5)) / 1000
}

// inWindow returns, in counted order, the counted matches that reach into
// the words lo..hi.
func (cx *contextIndex) inWindow(lo, hi int) []int {
	near := cx.near[:0]
	k := sort.Search(len(cx.byFirst), func(i int) bool { return cx.first[cx.byFirst[i]] >= lo-cx.span })
	for ; k < len(cx.byFirst) && cx.first[cx.byFirst[k]] <= hi; k++ {
		if i := cx.byFirst[k]; cx.last[i] >= lo {
			near = append(near, i)
		}
	}
	for _, i := range cx.long {
		if cx.last[i] >= lo && cx.first[i] <= hi {
			near = append(near, i)
		}
	}
	slices.Sort(near)
	cx.near = near
	return near
}

// windowParts adds up the contexts of the counted matches near (indexes in
// counted order) and the exclusions outside them (see "Score" in package
// rules) for the mention in words mf..ml (-1: the whole text, every match
// bound to it). Base is left for the caller.
//
// A strong exclusion written as one word ("navy", "naloxone") is bound to
// the mentions within scoring.bind words of it: for them it counts in
// full; for a mention further away in the window it counts as a weak word
// of at most scoring.bind_weight, so that one common word in a listing's
// text never outweighs a named substance with sales evidence.
func (cx *contextIndex) windowParts(near []int, mf, ml int) (p Parts, sales, excl float64) {
	c := cx.c
	var strong, weak, farStrong, farWeak float64
	kinds := 0
	clear(cx.ctxNear)
	clear(cx.ctxFar)
	clear(cx.weakNear)
	unbound := cx.unbound[:0]
	for _, i := range near {
		h := cx.counted[i]
		if h.weak {
			if id := cx.weakID[i]; !cx.weakNear[id] {
				cx.weakNear[id] = true
				weak += c.ctxs[h.ctx].Weight
			}
			continue
		}
		if h.single && mf >= 0 && max(cx.first[i]-ml, mf-cx.last[i]) > c.sc.Bind {
			unbound = append(unbound, i)
			continue
		}
		cx.ctxNear[h.ctx] = true
	}
	// Unbound one-word exclusions whose context is not bound otherwise
	// weigh as weak words.
	for _, i := range unbound {
		h := cx.counted[i]
		if cx.ctxNear[h.ctx] {
			continue
		}
		if id := cx.weakID[i]; !cx.weakNear[id] {
			cx.weakNear[id] = true
			weak += cx.weakTerms[id].weight
		}
	}
	cx.unbound = unbound
	// A weak term with no match in the window has all its matches outside
	// it; so has a context with no match in the window (strong one-word
	// terms are counted there).
	for id, t := range cx.weakTerms {
		if !cx.weakNear[id] && !t.strong {
			farWeak += t.weight
		}
	}
	for i := range cx.ctxFar {
		cx.ctxFar[i] = cx.strongAt[i] && !cx.ctxNear[i]
	}
	// A context whose matches in the window are all unbound is near, not
	// far: its words counted as weak above.
	for _, i := range unbound {
		cx.ctxFar[cx.counted[i].ctx] = false
	}
	for i, x := range c.ctxs {
		switch {
		case cx.ctxNear[i] && x.Kind == rules.KindSales:
			sales += x.Weight
			kinds++
		case cx.ctxNear[i] && x.Kind == rules.KindExclude:
			strong += x.Weight
		case cx.ctxFar[i] && x.Kind == rules.KindExclude:
			farStrong += x.Weight
		}
	}
	sales = min(sales, c.sc.SalesCap)
	shield := c.sc.WeakShield * float64(max(0, kinds-c.sc.ShieldFrom))
	far := min(farStrong+farWeak, c.sc.FarCap)
	excl = min(strong+max(0, weak-shield)+far, c.sc.ExcludeCap)
	p = Parts{Sales: sales, SalesKinds: kinds, Strong: strong, Weak: weak,
		Shield: min(shield, weak), Far: far, Exclude: excl}
	return p, sales, excl
}

// generic reports whether cd is a class word found by a generic family.
func (c *Classifier) generic(cd cand) bool {
	return cd.fam >= 0 && cd.sub < 0 && c.fams[cd.fam].Generic
}

// dropInnerNegs removes the negation matches that end a longer context
// match ("no" in "CAS No."): a context match of another kind that starts
// before the negation and reaches at least to its end.
func dropInnerNegs(sc *scratch, negs []cand) []cand {
	ctx := sc.negCtx[:0]
	for _, cd := range sc.cands {
		if cd.ctx >= 0 && cd.kind != rules.KindNegate {
			ctx = append(ctx, nsRange{cd.ns, cd.ne})
		}
	}
	sc.negCtx = ctx
	slices.SortFunc(ctx, func(a, b nsRange) int { return a.ns - b.ns })
	reach := resize(sc.negReach, len(ctx)) // reach[i]: the furthest end among ctx[:i+1]
	sc.negReach = reach
	for i, r := range ctx {
		reach[i] = r.ne
		if i > 0 {
			reach[i] = max(reach[i], reach[i-1])
		}
	}
	kept := negs[:0]
	for _, ng := range negs {
		k := sort.Search(len(ctx), func(i int) bool { return ctx[i].ns >= ng.ns })
		if k > 0 && reach[k-1] >= ng.ne {
			continue
		}
		kept = append(kept, ng)
	}
	return kept
}

// nsRange is a range of normalised text.
type nsRange struct{ ns, ne int }

// negIndex finds the negation that cancels a substance match.
type negIndex struct {
	negs   []cand
	after  map[int]int // normalised start -> first "after" negation there
	before map[int]int // normalised end -> first "before" negation there
	toks   []token     // the words of the normalised text
	text   []byte      // the normalised text
}

// negScope is how many words a "before" negation reaches over to a
// substance that ends a list: "no press or fent", "no cut, fillers or
// fentanyl".
const negScope = 4

// conjunctions join the items of a list a negation reaches over: "or"
// words only, since "no prescription and fentanyl patches" negates the
// prescription, not the patches.
var conjunctions = map[string]bool{
	"or": true, "nor": true, "ni": true, "o": true, "ou": true, "oder": true, "noch": true,
	"of": true, "lub": true, "albo": true, "veya": true, "ne": true, "или": true, "ни": true, "або": true,
}

func (c *Classifier) newNegIndex(sc *scratch, negs []cand, toks []token) negIndex {
	if sc.negAfter == nil {
		sc.negAfter, sc.negBef = map[int]int{}, map[int]int{}
	}
	clear(sc.negAfter)
	clear(sc.negBef)
	ni := negIndex{negs: negs, after: sc.negAfter, before: sc.negBef, toks: toks, text: sc.n.b}
	for i, ng := range negs {
		if c.ctxs[ng.ctx].Side == rules.SideAfter {
			if _, ok := ni.after[ng.ns]; !ok {
				ni.after[ng.ns] = i
			}
		} else if _, ok := ni.before[ng.ne]; !ok {
			ni.before[ng.ne] = i
		}
	}
	return ni
}

// negated returns the first negate match that cancels cd: a "before" term
// whose last word directly precedes cd's first word, or an "after" term
// whose first word directly follows cd's last word (normalised text has
// exactly one space between words; Chinese has none).
func (ni negIndex) negated(cd cand) (cand, bool) {
	best := -1
	try := func(m map[int]int, at int) {
		if i, ok := m[at]; ok && (best < 0 || i < best) {
			best = i
		}
	}
	try(ni.after, cd.ne)
	try(ni.after, cd.ne+1)
	if n, ok := ni.negatedBefore(cd); ok {
		if best < 0 {
			return n, true
		}
	}
	if best < 0 {
		return cand{}, false
	}
	return ni.negs[best], true
}

// negatedBefore returns the "before" negation that cancels cd: one whose
// last word directly precedes cd's first word, or, when cd ends a list
// ("no press or fent"), one within negScope words before the conjunction
// that joins cd to the list.
func (ni negIndex) negatedBefore(cd cand) (cand, bool) {
	if ni.before == nil {
		return cand{}, false
	}
	for _, at := range []int{cd.ns, cd.ns - 1} {
		if i, ok := ni.before[at]; ok {
			return ni.negs[i], true
		}
	}
	k := tokenAt(ni.toks, cd.ns)
	if k < 2 || k > len(ni.toks) {
		return cand{}, false
	}
	if t := ni.toks[k-1]; !conjunctions[string(ni.text[t.s:t.e])] {
		return cand{}, false
	}
	for j := k - 2; j >= 0 && j >= k-1-negScope; j-- {
		if i, ok := ni.before[ni.toks[j].e]; ok {
			return ni.negs[i], true
		}
	}
	return cand{}, false
}

// ctxOrKind reports whether the context or context kind named n matched.
func (c *Classifier) ctxOrKind(n string, ctxHit []bool, kindHit map[string]bool) bool {
	if kindHit[n] {
		return true
	}
	for i, x := range c.ctxs {
		if x.Name == n && ctxHit[i] {
			return true
		}
	}
	return false
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	var l rune
	for _, r := range s {
		l = r
	}
	return l
}

func isArabic(r rune) bool {
	return r >= 0x0600 && r <= 0x06FF || r >= 0x0750 && r <= 0x077F || r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

// isGlued reports whether r is Hangul, Thai or Hebrew: scripts whose words
// carry attached particles or are written without spaces.
func isGlued(r rune) bool {
	return r >= 0xAC00 && r <= 0xD7AF || r >= 0x1100 && r <= 0x11FF || r >= 0x0E00 && r <= 0x0E7F || r >= 0x0590 && r <= 0x05FF
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0x3040 && r <= 0x30FF || r >= 0x20000 && r <= 0x2FFFF
}

// countPrefix reports whether the word holding b[start] begins with a count
// glued to the term ("5xfentanyl", "10fentanyl"), for terms of five bytes
// or more: everything from the word's start to the term is digits, perhaps
// followed by an "x". It reads back only over that prefix.
func countPrefix(b []byte, start, termLen int) bool {
	if termLen < 5 {
		return false
	}
	k := start
	if k > 0 && b[k-1] == 'x' {
		k--
	}
	digits := k
	for digits > 0 && b[digits-1] >= '0' && b[digits-1] <= '9' {
		digits--
	}
	return digits < k && (digits == 0 || b[digits-1] == ' ')
}
