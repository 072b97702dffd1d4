package classify

import (
	"math/bits"
	"slices"
	"sort"
)

// fuzzyIndex finds long single-word names within a bounded edit distance
// (one edit from 7 letters, two from 11) with a symmetric-deletion index:
// a word and a name are that close only if some deletion variants of both
// coincide; candidates are then verified with the optimal string alignment
// (Damerau-Levenshtein) distance.
type fuzzyIndex struct {
	dels    map[string][]int32
	entries []fuzzyEntry
	// letterGrams holds every 4-gram of every entry (the entries are
	// made of the letters a-z), one bit each (see letterGram): a cheap
	// exact pre-filter. gramHashes holds a bit for the hash of each (see
	// gramHash), small enough to stay in the fastest cache, tried first.
	letterGrams []uint64
	gramHashes  *[gramHashBits / 64]uint64
	// byLen lists the entries by key length, setsByLen their letter sets
	// (see letterSet) in the same order.
	byLen     [][]int32
	setsByLen [][]uint32
}

type fuzzyEntry struct {
	key   string
	set   uint32 // letterSet(key)
	sub   int
	class string
	term  string
}

const fuzzyMinLen = 8

// maxEdits is the edit budget for a word of n bytes.
func maxEdits(n int) int {
	switch {
	case n >= 11:
		return 2
	case n >= fuzzyMinLen-1:
		return 1
	}
	return 0
}

func newFuzzyIndex(c *Classifier) *fuzzyIndex {
	fx := &fuzzyIndex{dels: map[string][]int32{}, letterGrams: make([]uint64, (26*26*26*26+63)/64),
		gramHashes: new([gramHashBits / 64]uint64)}
	seen := map[string]bool{}
	for si, s := range c.subs {
		for _, t := range s.Terms {
			if t.Weak() {
				continue
			}
			key := Normalize(t.Text)
			if len(key) < fuzzyMinLen || !allLetters([]byte(key)) || seen[key] {
				continue
			}
			seen[key] = true
			id := int32(len(fx.entries))
			set, _ := letterSet(key)
			fx.entries = append(fx.entries, fuzzyEntry{key: key, set: set, sub: si, class: s.Class, term: t.Text})
			for len(fx.byLen) <= len(key) {
				fx.byLen = append(fx.byLen, nil)
				fx.setsByLen = append(fx.setsByLen, nil)
			}
			fx.byLen[len(key)] = append(fx.byLen[len(key)], id)
			fx.setsByLen[len(key)] = append(fx.setsByLen[len(key)], set)
			for i := 0; i+4 <= len(key); i++ {
				g, _ := letterGram(key, i)
				fx.letterGrams[g/64] |= 1 << (g % 64)
				h := gramHash(key, i)
				fx.gramHashes[h/64] |= 1 << (h % 64)
			}
			for _, v := range deletions(key, maxEdits(len(key))) {
				fx.dels[v] = append(fx.dels[v], id)
			}
		}
	}
	return fx
}

// deletions returns w and every string made by deleting up to d bytes.
func deletions(w string, d int) []string {
	out := []string{w}
	level := []string{w}
	seen := map[string]bool{w: true}
	for ; d > 0; d-- {
		var next []string
		for _, s := range level {
			for i := 0; i < len(s); i++ {
				v := s[:i] + s[i+1:]
				if !seen[v] {
					seen[v] = true
					next = append(next, v)
				}
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// best returns the closest entry to w within budget, or -1; of entries
// equally close, the one bestByDeletions finds first.
//
// Only entries whose length and letter set allow them to be that close
// (see near) are measured; when two or more share the least distance,
// bestByDeletions settles the tie.
func (fx *fuzzyIndex) best(w string, class string, budget int) int {
	d := min(maxEdits(len(w)), budget)
	if d == 0 || len(w) > 64 || !sharesGram(fx, w) {
		return -1
	}
	set, ok := letterSet(w)
	if !ok {
		return fx.bestByDeletions(w, class, d)
	}
	bestID, bestDist, tie := -1, d+1, false
	for n := max(len(w)-d, 0); n <= len(w)+d && n < len(fx.byLen); n++ {
		for _, id := range fx.byLen[n] {
			e := &fx.entries[id]
			limit := min(d, maxEdits(len(e.key)))
			if bits.OnesCount32(set^e.set) > 2*limit || class != "" && e.class != class {
				continue
			}
			dist := osaDistance(w, e.key, limit)
			switch {
			case dist > limit:
			case dist < bestDist:
				bestID, bestDist, tie = int(id), dist, false
			case dist == bestDist:
				tie = true
			}
		}
	}
	if tie {
		return fx.bestByDeletions(w, class, d)
	}
	return bestID
}

// bestByDeletions is best by the symmetric-deletion index: w's deletion
// variants, in order, each looked up for entries within the budget d. The
// variants are built in a stack buffer and looked up without allocating
// (the map index converts the bytes in place).
func (fx *fuzzyIndex) bestByDeletions(w string, class string, d int) int {
	bestID, bestDist := -1, d+1
	try := func(v []byte) {
		for _, id := range fx.dels[string(v)] {
			if int(id) == bestID {
				continue
			}
			e := fx.entries[id]
			if class != "" && e.class != class {
				continue
			}
			limit := min(d, maxEdits(len(e.key)))
			if dist := osaDistance(w, e.key, limit); dist <= limit && dist < bestDist {
				bestID, bestDist = int(id), dist
			}
		}
	}
	var buf [64]byte
	try([]byte(w))
	n := len(w)
	for i := 0; i < n; i++ {
		if i > 0 && w[i] == w[i-1] {
			continue // same variant as deleting w[i-1]
		}
		v := append(append(buf[:0], w[:i]...), w[i+1:]...)
		try(v)
		if d < 2 {
			continue
		}
		for j := i; j < n-1; j++ {
			if j > i && v[j] == v[j-1] {
				continue
			}
			var buf2 [64]byte
			try(append(append(buf2[:0], v[:j]...), v[j+1:]...))
		}
	}
	return bestID
}

// letterSet returns the set of the letters a-z in w, one bit each, and
// whether w has only such letters.
func letterSet(w string) (uint32, bool) {
	var set uint32
	for i := 0; i < len(w); i++ {
		c := w[i] - 'a'
		if c >= 26 {
			return 0, false
		}
		set |= 1 << c
	}
	return set, true
}

// near reports whether some entry could be within d edits of w: one of a
// length within d whose letter set differs from w's in at most 2d letters
// (an insertion or deletion changes the set by at most one letter, a
// substitution by two, a transposition not at all).
func (fx *fuzzyIndex) near(w []byte, d int) bool {
	var set uint32
	for _, c := range w {
		if c-'a' >= 26 {
			return true
		}
		set |= 1 << (c - 'a')
	}
	for n := max(len(w)-d, 0); n <= len(w)+d && n < len(fx.setsByLen); n++ {
		for _, m := range fx.setsByLen[n] {
			if bits.OnesCount32(set^m) <= 2*d {
				return true
			}
		}
	}
	return false
}

// lookupKey finds the substance whose long name is within the edit budget
// of key, restricted to class.
func (fx *fuzzyIndex) lookupKey(key, class string) (int, bool) {
	if !allLetters([]byte(key)) {
		return 0, false
	}
	id := fx.best(key, class, 1) // spelling variants only: a new analogue is not a typo
	if id < 0 {
		return 0, false
	}
	return fx.entries[id].sub, true
}

// fuzzyScan looks for misspelt long names among the words of n that no
// exact match covers.
func (c *Classifier) fuzzyScan(sc *scratch, n *normText) {
	b := n.b
	ncands := len(sc.cands)
	found, reach := sc.found[:0], sc.reach[:0] // substance and family matches so far, by start; furthest end among found[:i+1]
	indexed := false
	for i, t := range sc.tokens {
		if t.e-t.s < fuzzyMinLen-1 {
			continue
		}
		// The words of the leet view are those of n with other bytes.
		if n == &sc.n && sc.ws.flags[i] != wordLetter || n != &sc.n && !allLetters(b[t.s:t.e]) {
			continue
		}
		if !indexed {
			for _, cd := range sc.cands[:ncands] {
				if cd.sub >= 0 || cd.fam >= 0 {
					found = append(found, token{cd.ns, cd.ne})
				}
			}
			slices.SortFunc(found, func(x, y token) int { return x.s - y.s })
			for i, f := range found {
				reach = append(reach, f.e)
				if i > 0 {
					reach[i] = max(reach[i], reach[i-1])
				}
			}
			sc.found, sc.reach = found, reach
			indexed = true
		}
		// Covered by an exact match: one starts before the word ends and
		// ends after it starts.
		if k := sort.Search(len(found), func(i int) bool { return found[i].s >= t.e }); k > 0 && reach[k-1] > t.s {
			continue
		}
		if cd, ok := c.fuzzyWord(n, t); ok {
			c.add(sc, cd)
		}
	}
}

// fuzzyWord returns the candidate a word of letters t of n names within
// the edit budget, if any.
func (c *Classifier) fuzzyWord(n *normText, t token) (cand, bool) {
	w := n.b[t.s:t.e]
	if !sharesGram(c.fuzzy, w) || !c.fuzzy.near(w, maxEdits(len(w))) {
		return cand{}, false
	}
	id := c.fuzzy.best(string(w), "", 2)
	if id < 0 {
		return cand{}, false
	}
	e := c.fuzzy.entries[id]
	sub := c.subs[e.sub]
	s, en := n.span(t.s, t.e)
	return cand{start: s, end: en, ns: t.s, ne: t.e, sub: e.sub, ctx: -1, fam: -1,
		name: sub.Name, class: sub.Class, kind: "fuzzy", term: e.term, weight: min(c.sc.Weights.Fuzzy, sub.Weight)}, true
}

// osaDistance is the optimal string alignment distance between a and b,
// giving up (returning limit+1) once it must exceed limit.
func osaDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	var rows [3][65]int
	var prev2, prev, cur []int
	if len(b) < 65 {
		prev2, prev, cur = rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	} else {
		prev2, prev, cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// sharesGram reports whether w has a 4-gram of some entry. Within the edit
// budget (one edit from 7 bytes, two from 11) a word nearly always keeps a
// 4-gram of the name it is close to; a word that keeps none is too
// scrambled to report anyway.
func sharesGram[T string | []byte](fx *fuzzyIndex, w T) bool {
	for i := 0; i+4 <= len(w); i++ {
		if h := gramHash(w, i); fx.gramHashes[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		if g, ok := letterGram(w, i); ok && fx.letterGrams[g/64]&(1<<(g%64)) != 0 {
			return true
		}
	}
	return false
}

// gramHashBits is the size of the 4-gram hash filter.
const gramHashBits = 1 << 16

// gramHash hashes the 4-gram s[i:i+4] to gramHashBits.
func gramHash[T string | []byte](s T, i int) uint32 {
	g := uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
	return (g * 0x9E3779B1) >> 16
}

// letterGram numbers the 4-gram s[i:i+4] when it is made of the letters
// a-z.
func letterGram[T string | []byte](s T, i int) (uint32, bool) {
	a, b, c, d := s[i]-'a', s[i+1]-'a', s[i+2]-'a', s[i+3]-'a'
	if a >= 26 || b >= 26 || c >= 26 || d >= 26 {
		return 0, false
	}
	return ((uint32(a)*26+uint32(b))*26+uint32(c))*26 + uint32(d), true
}
