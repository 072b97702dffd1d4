package classify

import (
	"testing"

	"snoop/rules"
)

// TestIssueClasses runs one case per class of miss found on real
// markets: negation scope and negated exclusions, counterfeit pills and
// their class, street names, truncated and respelt names, substances
// reported 2019-2025, one-word exclusions bound to their mention, and
// word clashes. Each text is written for its class, not taken from a
// labelled set.
func TestIssueClasses(t *testing.T) {
	c := defaultClassifier(t)
	for _, tc := range []struct {
		class, text string
		hit         bool
		name, cls   string // the first substance reported, and its class
	}{
		// 1. Negation scope.
		{"negation", "NON FENTANYL oxycodone pressed pills 30mg, 50 count", false, "", ""},
		{"negation", "Percocet 10/325, fent free, 20 pills", false, "", ""},
		{"negation", "Roxicodone 15mg - no press or fent, 60 count", false, "", ""},
		{"negation", "Percocet 10/325 tested free from fent, 20 pills", false, "", ""},
		{"negation", "Heroin #4 1g, no cut, fillers or fentanyl", false, "", ""},
		{"negated exclusion", "Buy Fentanyl Patches Online No Prescription Required", true, "fentanyl", "fentanyl-analogue"},
		// 2. Counterfeit pills: fentanyl, in their own class.
		{"counterfeit", "Pressed M30 blues x100, 900 USD", true, "fentanyl", rules.ClassCounterfeitPill},
		{"counterfeit", "Replica M30 (A215) blues, 50 pills", true, "fentanyl", rules.ClassCounterfeitPill},
		{"counterfeit", "Fake oxycodone 30mg, 100 pills, ships USPS", true, "fentanyl", rules.ClassCounterfeitPill},
		{"counterfeit", "Oxycodone 30mg - real pharma, not pressed. 30 pills, 600 USD", false, "", ""},
		// Street names.
		{"street", "Synthetic China White 3.5g, 300 USD", true, "fentanyl", "fentanyl-analogue"},
		{"street", "China White F4 3.5g 250 USD", true, "fentanyl", "fentanyl-analogue"},
		{"street", "China White #4 heroin 10g 500 USD", false, "", ""},
		// 3. Truncated and respelt names.
		{"respelt", "EtaZen 1g, 80 USD", true, "etodesnitazene", "nitazene"},
		{"respelt", "Изотонитазепин 1 г, 100$", true, "isotonitazepyne", "nitazene"},
		{"respelt", "Этонитазепипн 2 грамма, опт", true, "etonitazepipne", "nitazene"},
		{"respelt", "Бутонитазепипн 2 грамма, опт", true, "бутонитазепипн", "nitazene"},
		{"respelt", "fen💊tanyl powder 3 grams", true, "fentanyl", "fentanyl-analogue"},
		{"respelt", "🔥fentanyl🔥 5g", true, "fentanyl", "fentanyl-analogue"},
		// 4. Substances the lists lacked.
		{"missing", "SR-17018 1g 90 USD", true, "sr-17018", "other-nso"},
		{"missing", "Methiodone 2g 120 USD", true, "methiodone", "other-nso"},
		{"missing", "Bromadol (BDPC) 250mg, 150 USD", true, "bromadol", "other-nso"},
		// 6. One-word exclusions bound to their mention.
		{"bound", "Our metonitazene is the strongest on the market. Navy blue bag, 5g for 300 USD", true, "metonitazene", "nitazene"},
		{"bound", "Etonitazepyne 5g for 300 USD, worldwide shipping. Every order ships with a free naloxone kit", true, "etonitazepyne", "nitazene"},
		{"bound", "Narcan naloxone nasal spray, 2 pack, 45 USD: reverses fentanyl overdose", false, "", ""},
		// 7. Word clashes.
		{"clash", "100 BLUES counterfeit 100 USD bills, 10 notes for 250 USD", false, "", ""},
		{"clash", "Chicago Blues Festival 3 day pass 149 USD, fake tickets are void", false, "", ""},
		{"clash", "ISO 9001 certification kit 199 USD", false, "", ""},
		{"clash", "NPP 100mg/ml 10ml vial 45 USD, nandrolone", false, "", ""},
	} {
		r := c.Classify(tc.text)
		if r.Hit != tc.hit {
			t.Errorf("%s: %q: hit=%v score=%.3f %+v, want hit=%v", tc.class, tc.text, r.Hit, r.Score, r.Parts, tc.hit)
			continue
		}
		if !tc.hit {
			continue
		}
		if len(r.Substances) == 0 || r.Substances[0].Name != tc.name || r.Substances[0].Class != tc.cls {
			t.Errorf("%s: %q: substances %+v, want %s (%s) first", tc.class, tc.text, r.Substances, tc.name, tc.cls)
		}
	}
}
