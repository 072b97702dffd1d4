package classify

import "slices"

// Aho-Corasick automata: every occurrence of every pattern (overlaps
// included) in one pass, reported at each end position in the same order
// by both forms below (the pattern of the state first, then those of its
// failure chain, longest first).
//
// acMatcher is the dense form: a DFA over byte classes, one table lookup
// per input byte. It is the fastest while its rows stay in cache, which
// holds for the small automaton every text is searched with.
//
// sparseMatcher is the compact form: the trie's edges and failure links,
// a few bytes per state. It is for the large automaton of every context
// term, run on the few texts that name a substance: a dense table of it
// would be megabytes, out of cache by the time such a text comes.

// acTrie is the trie of the patterns with failure links and outputs, from
// which both forms are built.
type acTrie struct {
	class  [256]uint16 // byte -> class; 0 is "no pattern uses this byte"
	nclass int
	nodes  []acNode
	order  []int32 // the nodes breadth first, the root first
	lens   []int32 // pattern id -> length
	depth  []int32 // node -> length of the string it stands for
}

type acNode struct {
	next []int32 // by class: child (trie edge) or -1; after link, the DFA transition
	edge []bool  // by class: next is a trie edge
	fail int32
	out  []int32 // pattern ids: the node's own, then its failure chain's
}

// newACTrie builds the trie of patterns (non-empty byte strings).
func newACTrie(patterns []string) *acTrie {
	t := &acTrie{lens: make([]int32, len(patterns))}
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	t.nclass = 1
	for b := 0; b < 256; b++ {
		if used[b] {
			t.class[b] = uint16(t.nclass)
			t.nclass++
		}
	}
	nc := t.nclass
	newNode := func() acNode {
		n := acNode{next: make([]int32, nc), edge: make([]bool, nc)}
		for i := range n.next {
			n.next[i] = -1
		}
		return n
	}
	t.nodes = []acNode{newNode()}
	t.depth = []int32{0}
	for id, p := range patterns {
		t.lens[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := t.class[p[i]]
			if t.nodes[s].next[c] < 0 {
				t.nodes = append(t.nodes, newNode())
				t.depth = append(t.depth, int32(i+1))
				t.nodes[s].next[c] = int32(len(t.nodes) - 1)
				t.nodes[s].edge[c] = true
			}
			s = t.nodes[s].next[c]
		}
		t.nodes[s].out = append(t.nodes[s].out, int32(id))
	}
	// Breadth first: failure links, outputs and full transitions.
	nodes := t.nodes
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < nc; c++ {
		if s := nodes[0].next[c]; s >= 0 {
			nodes[s].fail = 0
			queue = append(queue, s)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < nc; c++ {
			if u := nodes[s].next[c]; u >= 0 {
				nodes[u].fail = nodes[f].next[c]
				queue = append(queue, u)
			} else {
				nodes[s].next[c] = nodes[f].next[c]
			}
		}
	}
	t.order = append([]int32{0}, queue...)
	return t
}

// acMatcher is the dense form. States are numbered breadth first, so that
// the shallow states most text stays in share cache lines, with the states
// that report a pattern last: one comparison tells whether a state has
// outputs. The table holds each next state premultiplied by the number of
// classes, the offset of its row.
type acMatcher struct {
	class    [256]uint16
	nclass   int
	delta    []uint32 // state*nclass + class -> next state*nclass
	firstOut int32    // states from firstOut on (premultiplied) have outputs
	outStart []int32  // outputs of state s: outs[outStart[s]:outStart[s+1]]
	outs     []int32  // pattern ids
	lens     []int32  // pattern id -> length
	depth    []int32  // state -> length of the string it stands for
}

// acHit is one occurrence: pattern id and end offset (exclusive).
type acHit struct {
	pat int32
	end int32
}

// newACMatcher compiles the patterns (non-empty byte strings) to the dense
// form.
func newACMatcher(patterns []string) *acMatcher {
	t := newACTrie(patterns)
	m := &acMatcher{class: t.class, nclass: t.nclass, lens: t.lens}
	nodes, nc := t.nodes, t.nclass
	// The root, then breadth first those without outputs, then those
	// with.
	order := make([]int32, 0, len(nodes))
	order = append(order, 0)
	for _, s := range t.order[1:] {
		if len(nodes[s].out) == 0 {
			order = append(order, s)
		}
	}
	firstOut := len(order)
	for _, s := range t.order[1:] {
		if len(nodes[s].out) > 0 {
			order = append(order, s)
		}
	}
	id := make([]int32, len(nodes))
	for k, s := range order {
		id[s] = int32(k)
	}
	m.firstOut = int32(firstOut * nc)
	m.delta = make([]uint32, len(nodes)*nc)
	m.outStart = make([]int32, len(nodes)+1)
	m.depth = make([]int32, len(nodes))
	for k, s := range order {
		m.depth[k] = t.depth[s]
		row := m.delta[k*nc : (k+1)*nc]
		for c, u := range nodes[s].next {
			row[c] = uint32(id[u] * int32(nc))
		}
		m.outStart[k] = int32(len(m.outs))
		m.outs = append(m.outs, nodes[s].out...)
	}
	m.outStart[len(nodes)] = int32(len(m.outs))
	return m
}

// find appends every occurrence of every pattern in text to hits.
func (m *acMatcher) find(text []byte, hits []acHit) []acHit {
	s := int32(0)
	delta, class, firstOut := m.delta, &m.class, m.firstOut
	for i, b := range text {
		s = int32(delta[s+int32(class[b])])
		if s >= firstOut {
			hits = m.report(hits, s, i+1, 0)
		}
	}
	return hits
}

// findSome is find from offset i in state s, stopping once it has
// appended at least limit occurrences; it returns the offset and state to
// resume from (see sparseMatcher.findSome).
func (m *acMatcher) findSome(text []byte, i int, s int32, hits []acHit, limit int) ([]acHit, int, int32) {
	n0 := len(hits)
	delta, class, firstOut := m.delta, &m.class, m.firstOut
	for ; i < len(text); i++ {
		if len(hits)-n0 >= limit {
			return hits, i, s
		}
		s = int32(delta[s+int32(class[text[i]])])
		if s >= firstOut {
			hits = m.report(hits, s, i+1, 0)
		}
	}
	return hits, i, s
}

// findHalves appends every occurrence of every pattern in text to hits
// as find does, in another order: each half of the text in order, the
// halves interleaved. The automaton runs over both halves at once, so that
// the table loads of one overlap those of the other, the second half from
// the start state; the first then runs on past the middle only until it
// is in the state the second is in (its string starts in the second half),
// reporting the occurrences that start in the first.
func (m *acMatcher) findHalves(text []byte, hits []acHit) []acHit {
	if len(text) < minHalves {
		return m.find(text, hits)
	}
	mid := len(text) / 2
	nc := int32(m.nclass)
	delta, class, firstOut := m.delta, &m.class, m.firstOut
	first, second := text[:mid], text[mid:2*mid]
	var s1, s2 int32
	for i, x := range first {
		s1 = int32(delta[s1+int32(class[x])])
		s2 = int32(delta[s2+int32(class[second[i]])])
		if s1 >= firstOut {
			hits = m.report(hits, s1, i+1, 0)
		}
		if s2 >= firstOut {
			hits = m.report(hits, s2, mid+i+1, 0)
		}
	}
	for i := 2 * mid; i < len(text); i++ {
		s2 = int32(delta[s2+int32(class[text[i]])])
		if s2 >= firstOut {
			hits = m.report(hits, s2, i+1, 0)
		}
	}
	for i := mid; i < len(text); i++ {
		s1 = int32(delta[s1+int32(class[text[i]])])
		if m.depth[s1/nc] <= int32(i+1-mid) {
			break
		}
		if s1 >= firstOut {
			hits = m.report(hits, s1, i+1, i+1-mid)
		}
	}
	return hits
}

// minHalves is the shortest text findHalves splits.
const minHalves = 32

// report appends the occurrences state s (premultiplied) reports at end,
// those longer than minLen.
func (m *acMatcher) report(hits []acHit, s int32, end, minLen int) []acHit {
	k := s / int32(m.nclass)
	for _, p := range m.outs[m.outStart[k]:m.outStart[k+1]] {
		if int(m.lens[p]) > minLen {
			hits = append(hits, acHit{pat: p, end: int32(end)})
		}
	}
	return hits
}

// acScan runs a dense automaton over bytes handed to it one at a time, as
// a normaliser writes them. It records the reporting states it meets and
// where; hits lists their occurrences.
type acScan struct {
	m *acMatcher
	s int32
	// found[:nf] are the reporting states met: pat holds the state
	// (premultiplied), end the offset after the byte that led to it.
	found []acHit
	nf    int
}

// reset starts a new text with automaton m.
func (a *acScan) reset(m *acMatcher) {
	a.m, a.s, a.nf = m, 0, 0
}

// start makes room for a text of at most size bytes.
func (a *acScan) start(size int) {
	a.found = slices.Grow(a.found[:0], size)[:size]
}

// step feeds byte x, the text's byte end-1.
func (a *acScan) step(x byte, end int) {
	a.s = int32(a.m.delta[a.s+int32(a.m.class[x])])
	if a.s >= a.m.firstOut {
		a.record(int(a.s), end)
	}
}

// record notes reporting state s (premultiplied), reached at end.
func (a *acScan) record(s, end int) {
	a.found[a.nf] = acHit{pat: int32(s), end: int32(end)}
	a.nf++
}

// hits appends the occurrences of the patterns fed so far to hits, in
// the order find reports them.
func (a *acScan) hits(hits []acHit) []acHit {
	hits, _ = a.hitsSome(hits, 0, a.nf)
	return hits
}

// hitsSome appends the occurrences of the reporting states found[k:],
// stopping after limit states, and returns the index to resume from.
func (a *acScan) hitsSome(hits []acHit, k, limit int) ([]acHit, int) {
	end := min(a.nf, k+limit)
	for _, f := range a.found[k:end] {
		hits = a.m.report(hits, f.pat, int(f.end), 0)
	}
	return hits, end
}

// sparseMatcher is the compact form: dense rows of full transitions for
// the root and the states one byte deep, where most text keeps the
// automaton, and for every deeper state its trie edges sorted by class and
// its failure link. States are numbered breadth first, so the dense ones
// are 0..lastDense.
type sparseMatcher struct {
	class     [256]uint16
	nclass    int32
	lastDense int32
	dense     []int32  // state*nclass + class -> next state, for states up to lastDense
	edgeStart []int32  // edges of state s: edgeStart[s]:edgeStart[s+1]
	edgeClass []uint16 // by edge, ascending within a state
	edgeNext  []int32
	fail      []int32
	outStart  []int32 // outputs of state s: outs[outStart[s]:outStart[s+1]]
	outs      []int32
	lens      []int32 // pattern id -> length
}

// newSparseMatcher compiles the patterns (non-empty byte strings) to the
// compact form.
func newSparseMatcher(patterns []string) *sparseMatcher {
	t := newACTrie(patterns)
	m := &sparseMatcher{class: t.class, lens: t.lens}
	nodes := t.nodes
	id := make([]int32, len(nodes))
	for k, s := range t.order {
		id[s] = int32(k)
	}
	n := len(nodes)
	nc := t.nclass
	m.nclass = int32(nc)
	for _, u := range nodes[0].next {
		if u != 0 {
			m.lastDense = max(m.lastDense, id[u])
		}
	}
	m.dense = make([]int32, (int(m.lastDense)+1)*nc)
	for k := 0; k <= int(m.lastDense); k++ {
		for c, u := range nodes[t.order[k]].next {
			m.dense[k*nc+c] = id[u]
		}
	}
	m.edgeStart = make([]int32, n+1)
	m.fail = make([]int32, n)
	m.outStart = make([]int32, n+1)
	for k, s := range t.order {
		m.edgeStart[k] = int32(len(m.edgeNext))
		if k > 0 {
			for c, u := range nodes[s].next {
				if nodes[s].edge[c] {
					m.edgeClass = append(m.edgeClass, uint16(c))
					m.edgeNext = append(m.edgeNext, id[u])
				}
			}
		}
		m.fail[k] = id[nodes[s].fail]
		m.outStart[k] = int32(len(m.outs))
		m.outs = append(m.outs, nodes[s].out...)
	}
	m.edgeStart[n] = int32(len(m.edgeNext))
	m.outStart[n] = int32(len(m.outs))
	return m
}

// find appends every occurrence of every pattern in text to hits, as
// acMatcher.find does.
func (m *sparseMatcher) find(text []byte, hits []acHit) []acHit {
	hits, _, _ = m.findSome(text, 0, 0, hits, -1)
	return hits
}

// findBatch is the most occurrences findSome gathers at a time for the
// full analysis, so that the occurrences held at once stay bounded
// whatever the text.
const findBatch = 1 << 14

// batchFrom is the text length beyond which the verdict search takes the
// occurrences in batches rather than all at once with findHalves.
const batchFrom = 1 << 20

// findSome searches text from offset i in state s, appending occurrences
// to hits until it has appended at least limit of them (limit < 0: no
// limit), and returns hits and the offset and state to resume from; the
// search is done when the offset returned is len(text).
func (m *sparseMatcher) findSome(text []byte, i int, s int32, hits []acHit, limit int) ([]acHit, int, int32) {
	n0 := len(hits)
	for ; i < len(text); i++ {
		if limit >= 0 && len(hits)-n0 >= limit {
			return hits, i, s
		}
		b := text[i]
		c := m.class[b]
		next := int32(-1)
		for s > m.lastDense && next < 0 {
			for e := m.edgeStart[s]; e < m.edgeStart[s+1]; e++ {
				if ec := m.edgeClass[e]; ec >= c {
					if ec == c {
						next = m.edgeNext[e]
					}
					break
				}
			}
			if next < 0 {
				s = m.fail[s]
			}
		}
		if next >= 0 {
			s = next
		} else {
			s = m.dense[s*m.nclass+int32(c)]
		}
		if m.outStart[s] != m.outStart[s+1] {
			for _, p := range m.outs[m.outStart[s]:m.outStart[s+1]] {
				hits = append(hits, acHit{pat: p, end: int32(i + 1)})
			}
		}
	}
	return hits, i, s
}
