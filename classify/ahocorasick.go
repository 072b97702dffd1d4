package classify

// acMatcher is an Aho-Corasick automaton compiled to a dense DFA over byte
// classes: one table lookup per input byte, every occurrence of every
// pattern (overlaps included) reported in one pass.
//
// States are numbered breadth first, so that the shallow states most text
// stays in share cache lines, with the states that report a pattern last:
// one comparison tells whether a state has outputs. The table holds each
// next state premultiplied by the number of classes, the offset of its row.
type acMatcher struct {
	class    [256]uint16 // byte -> class; 0 is "no pattern uses this byte"
	nclass   int
	delta    []int32 // state*nclass + class -> next state*nclass
	firstOut int32   // states from firstOut on (premultiplied) have outputs
	outStart []int32 // outputs of state s: outs[outStart[s]:outStart[s+1]]
	outs     []int32 // pattern ids
	lens     []int32 // pattern id -> length
}

// acHit is one occurrence: pattern id and end offset (exclusive).
type acHit struct {
	pat int32
	end int32
}

// newACMatcher compiles the patterns (non-empty byte strings).
func newACMatcher(patterns []string) *acMatcher {
	m := &acMatcher{lens: make([]int32, len(patterns))}
	// Byte classes.
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	m.nclass = 1
	for b := 0; b < 256; b++ {
		if used[b] {
			m.class[b] = uint16(m.nclass)
			m.nclass++
		}
	}
	nc := m.nclass
	// Trie.
	type node struct {
		next []int32
		fail int32
		out  []int32
	}
	newNode := func() node {
		n := node{next: make([]int32, nc)}
		for i := range n.next {
			n.next[i] = -1
		}
		return n
	}
	nodes := []node{newNode()}
	for id, p := range patterns {
		m.lens[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].next[c]
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	// Breadth-first: failure links and full transitions.
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < nc; c++ {
		if t := nodes[0].next[c]; t >= 0 {
			nodes[t].fail = 0
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < nc; c++ {
			t := nodes[s].next[c]
			if t >= 0 {
				nodes[t].fail = nodes[f].next[c]
				queue = append(queue, t)
			} else {
				nodes[s].next[c] = nodes[f].next[c]
			}
		}
	}
	// Number the states: the root, then breadth first those without
	// outputs, then breadth first those with outputs.
	order := make([]int32, 0, len(nodes))
	order = append(order, 0)
	for _, s := range queue {
		if len(nodes[s].out) == 0 {
			order = append(order, s)
		}
	}
	firstOut := len(order)
	for _, s := range queue {
		if len(nodes[s].out) > 0 {
			order = append(order, s)
		}
	}
	id := make([]int32, len(nodes))
	for k, s := range order {
		id[s] = int32(k)
	}
	m.firstOut = int32(firstOut * nc)
	m.delta = make([]int32, len(nodes)*nc)
	m.outStart = make([]int32, len(nodes)+1)
	for k, s := range order {
		row := m.delta[k*nc : (k+1)*nc]
		for c, t := range nodes[s].next {
			row[c] = id[t] * int32(nc)
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
	nc := int32(m.nclass)
	delta, class, firstOut := m.delta, &m.class, m.firstOut
	for i, b := range text {
		s = delta[s+int32(class[b])]
		if s >= firstOut {
			k := s / nc
			for _, p := range m.outs[m.outStart[k]:m.outStart[k+1]] {
				hits = append(hits, acHit{pat: p, end: int32(i + 1)})
			}
		}
	}
	return hits
}
