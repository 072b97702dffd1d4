package classify

import "testing"

// TestClassifyAsKind checks the site kind's prior: a bare substance name
// is a hit on a market and not elsewhere; an offer with one sales signal
// is a hit in a shop but not in a forum post; an exclusion still sinks a
// market listing.
func TestClassifyAsKind(t *testing.T) {
	c := defaultClassifier(t)
	for _, tc := range []struct {
		text, kind string
		hit        bool
	}{
		{"Metonitazene", "market", true},
		{"Metonitazene", "shop", false},
		{"Metonitazene", "", false},
		{"Metonitazene", "forum", false},
		{"Metonitazene 5g", "shop", true},
		{"Metonitazene 5g", "forum", false},
		{"Metonitazene 5g, 300 USD, ships worldwide", "forum", true},
		{"Fentanyl test strips", "market", false},
		{"Nitazene test strips, detects metonitazene", "market", false},
	} {
		r := c.ClassifyAs(tc.text, tc.kind)
		if r.Hit != tc.hit {
			t.Errorf("ClassifyAs(%q, %q): hit=%v score=%.3f parts=%+v, want hit=%v", tc.text, tc.kind, r.Hit, r.Score, r.Parts, tc.hit)
		}
		if a := c.AnalyzeAs(tc.text, tc.kind); a.Hit != r.Hit || a.Score != r.Score {
			t.Errorf("AnalyzeAs(%q, %q) = %v %.3f, ClassifyAs = %v %.3f", tc.text, tc.kind, a.Hit, a.Score, r.Hit, r.Score)
		}
	}
}

// TestNearMiss checks the near-miss margin: a bare name (0.45, threshold
// 0.5) is a near miss, a hit is not, a name sunk by an exclusion is not,
// and a text naming no substance is not.
func TestNearMiss(t *testing.T) {
	c := defaultClassifier(t)
	for _, tc := range []struct {
		text string
		near bool
	}{
		{"Metonitazene", true},
		{"Metonitazene 5g", false},
		{"Metonitazene test strips", false},
		{"Oak dining table, 300 USD", false},
	} {
		if got := c.NearMiss(c.Classify(tc.text)); got != tc.near {
			t.Errorf("NearMiss(%q) = %v, want %v", tc.text, got, tc.near)
		}
	}
}
