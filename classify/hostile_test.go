package classify

import (
	"strings"
	"testing"
)

// hostileInputs are large texts built to make the classifier do work
// that grows faster than the text: one long word, separators only, and
// short matches repeated a million times, each of which used to be
// compared with every other.
// The first two are 10 MB times scale, the others 1 MB times scale.
func hostileInputs(scale float64) []struct{ name, text string } {
	rep := func(unit string) string { return strings.Repeat(unit, int(scale*(1<<20))/len(unit)) }
	big := func(unit string) string { return strings.Repeat(unit, int(scale*(10<<20))/len(unit)) }
	return []struct{ name, text string }{
		{"one letter", big("a")},
		{"separators", big("-")},
		{"spelt-out letters", rep("a ")},
		{"stem in one word", rep("nitazene")},
		{"term in one word", rep("fentanyl")},
		{"counted term in one word", rep("5xfentanyl")},
		{"negation words", rep("no ")},
		{"negated names", rep("no fentanyl ")},
		{"offers", rep("fentanyl 5g ")},
		{"offers and news words", rep("fentanyl 5g police customs ")},
		{"prices", rep("$5 ")},
		{"family names", rep("xyznitazene ")},
		{"misspelt names", rep("isotonitazine abcdefghij ")},
		{"markup", rep("<b>police</b> fentanyl ")},
		{"digits", rep("1")},
		{"zero-width", rep("\u200b")},
	}
}

// TestHostileInputFinishes classifies 10 MB texts of one repeated letter
// and of separators, and 1 MB texts of repeated matches. It asserts no
// time, only that Classify returns with spans inside the text; the work is
// linear in the text (see BenchmarkHostile), so the test takes seconds,
// not hours (0.75 MB of "no " once took six minutes).
func TestHostileInputFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MB inputs")
	}
	c := defaultClassifier(t)
	for _, in := range hostileInputs(1) {
		t.Run(in.name, func(t *testing.T) {
			r := c.Classify(in.text)
			for _, m := range r.Matches {
				if m.Start < 0 || m.End > len(in.text) || m.Start > m.End {
					t.Fatalf("match %s %d-%d outside the text", m.Rule, m.Start, m.End)
				}
			}
		})
	}
}

// BenchmarkHostile classifies a tenth of each hostile input; compare
// throughput with BenchmarkClassify, and across sizes, to see that none is
// pathological.
func BenchmarkHostile(b *testing.B) {
	c := defaultClassifier(b)
	for _, in := range hostileInputs(0.1) {
		b.Run(strings.ReplaceAll(in.name, " ", "-"), func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for i := 0; i < b.N; i++ {
				c.Classify(in.text)
			}
		})
	}
}
