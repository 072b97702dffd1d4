package classify

import (
	"math/rand/v2"
	"testing"
)

// TestFuzzyBestAgreesWithDeletions checks that best, which measures only
// the entries whose length and letter set allow them to be close, picks
// what the symmetric-deletion search picks, on misspellings of every entry
// (one and two edits) and on unrelated words.
func TestFuzzyBestAgreesWithDeletions(t *testing.T) {
	c := defaultClassifier(t)
	fx := c.fuzzy
	r := rand.New(rand.NewPCG(3, 5))
	edit := func(w []byte) []byte {
		i := r.IntN(len(w))
		switch r.IntN(4) {
		case 0: // substitute
			w[i] = byte('a' + r.IntN(26))
		case 1: // delete
			w = append(w[:i], w[i+1:]...)
		case 2: // insert
			w = append(w[:i], append([]byte{byte('a' + r.IntN(26))}, w[i:]...)...)
		default: // transpose
			if i+1 < len(w) {
				w[i], w[i+1] = w[i+1], w[i]
			}
		}
		return w
	}
	checked, found := 0, 0
	check := func(w string) {
		for _, class := range []string{"", "nitazene", "fentanyl-analogue"} {
			d := min(maxEdits(len(w)), 2)
			want := -1
			if d > 0 && len(w) <= 64 && sharesGram(fx, w) {
				want = fx.bestByDeletions(w, class, d)
			}
			if got := fx.best(w, class, 2); got != want {
				t.Fatalf("best(%q, %q) = %d, symmetric deletion finds %d", w, class, got, want)
			}
			checked++
			if want >= 0 {
				found++
			}
		}
	}
	for _, e := range fx.entries {
		for k := 0; k < 40; k++ {
			w := []byte(e.key)
			for n := 1 + r.IntN(3); n > 0 && len(w) > 2; n-- {
				w = edit(w)
			}
			check(string(w))
		}
	}
	for k := 0; k < 5000; k++ {
		w := make([]byte, 7+r.IntN(10))
		for i := range w {
			w[i] = byte('a' + r.IntN(26))
		}
		check(string(w))
	}
	if found < len(fx.entries) {
		t.Fatalf("only %d of %d lookups found an entry: the test words are too far from the names", found, checked)
	}
}
