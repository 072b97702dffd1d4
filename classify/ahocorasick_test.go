package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestMatchersAgree checks that the dense and the compact automaton report
// the same occurrences in the same order, and that these are exactly the
// occurrences a naive search finds, on the rule set's own patterns over
// rule-like text and on small random alphabets that make patterns overlap.
func TestMatchersAgree(t *testing.T) {
	c := defaultClassifier(t)
	keys := make([]string, len(c.pats))
	for i, p := range c.pats {
		keys[i] = p.key
	}
	r := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for i := 0; i < 300; i++ {
		var sb strings.Builder
		for k := r.IntN(30); k >= 0; k-- {
			if r.IntN(2) == 0 {
				sb.WriteString(keys[r.IntN(len(keys))])
			} else {
				sb.WriteString(keys[r.IntN(len(keys))][:1])
			}
			sb.WriteByte(" -x"[r.IntN(3)])
		}
		texts = append(texts, sb.String())
	}
	checkMatchers(t, keys, texts)
	for round := 0; round < 200; round++ {
		randWord := func(n int) string {
			b := make([]byte, 1+r.IntN(n))
			for i := range b {
				b[i] = "abc"[r.IntN(3)]
			}
			return string(b)
		}
		var pats []string
		for k := 1 + r.IntN(12); k > 0; k-- {
			pats = append(pats, randWord(5))
		}
		pats = dedupe(pats)
		checkMatchers(t, pats, []string{randWord(60), randWord(60), randWord(200), "", "a"})
	}
}

func dedupe(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}

func checkMatchers(t *testing.T, pats, texts []string) {
	t.Helper()
	dense, sparse := newACMatcher(pats), newSparseMatcher(pats)
	for _, text := range texts {
		d := dense.find([]byte(text), nil)
		s := sparse.find([]byte(text), nil)
		if !slices.Equal(d, s) {
			t.Fatalf("patterns %q on %q: dense %v, sparse %v", pats, text, d, s)
		}
		// Naive: every occurrence, by end, longest first.
		var naive []acHit
		for end := 1; end <= len(text); end++ {
			var at []acHit
			for id, p := range pats {
				if end >= len(p) && text[end-len(p):end] == p {
					at = append(at, acHit{pat: int32(id), end: int32(end)})
				}
			}
			slices.SortFunc(at, func(a, b acHit) int { return len(pats[b.pat]) - len(pats[a.pat]) })
			naive = append(naive, at...)
		}
		if !slices.Equal(d, naive) {
			t.Fatalf("patterns %q on %q: automaton %v, naive search %v", pats, text, d, naive)
		}
		// The halves search finds the same occurrences in another order.
		h := dense.findHalves([]byte(text), nil)
		byEnd := func(a, b acHit) int {
			if a.end != b.end {
				return int(a.end - b.end)
			}
			return len(pats[b.pat]) - len(pats[a.pat])
		}
		slices.SortFunc(h, byEnd)
		if !slices.Equal(h, naive) {
			t.Fatalf("patterns %q on %q: halves search %v, naive search %v", pats, text, h, naive)
		}
	}
}
