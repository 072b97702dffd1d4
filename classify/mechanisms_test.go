package classify

import (
	"slices"
	"testing"
)

// TestMechanisms checks the matching mechanisms added for held-out
// generalisation, one case each: verdict, reported substances and spans.
func TestMechanisms(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		name string
		text string
		hit  bool
		subs []string
	}{
		{"name alone is not an offer", "Carfentanil: what first responders should know", false, nil},
		{"name with one sales signal", "Carfentanil 1g", true, []string{"carfentanil"}},
		{"negation before", "MDMA 84%, lab tested, no fentanyl, ships EU", false, nil},
		{"negation tested for", "Cocaine 90%, tested for fentanyl, escrow", false, nil},
		{"negation after", "Edibles 500mg, fentanyl-free, same day delivery", false, nil},
		{"negation German", "Kokain 90%, ohne Fentanyl, Versand", false, nil},
		{"negation Chinese", "不含芬太尼 现货 出售", false, nil},
		{"negation only next to the name", "No questions asked: fentanyl 5g, stealth", true, []string{"fentanyl"}},
		{"generic nitazene", "nitazene powder 5g, best price", true, []string{"nitazene"}},
		{"generic nitazene Russian", "Нитазены оптом, доставка", true, []string{"nitazene"}},
		{"generic gives way to specific", "Iso 5g nitazene", true, []string{"isotonitazene"}},
		{"generic needs sales", "What are nitazenes?", false, nil},
		{"html numeric entity", "f&#101;ntanyl 5g stealth", true, []string{"fentanyl"}},
		{"html named entity", "Fent&shy;anyl 10g in stock", true, []string{"fentanyl"}},
		{"currency sign as letter", "f€ntanyl 5g, btc", true, []string{"fentanyl"}},
		{"price sign stays a price", "fentanyl 5g 50€", true, []string{"fentanyl"}},
		{"capital I for l", "FentanyI powder, 5g", true, []string{"fentanyl"}},
		{"emoji glued to a word", "🔥fentanyl🔥 5g, dm", true, []string{"fentanyl"}},
		{"plug emoji is a sales signal", "💊 blues pressed 🔌 tele", true, []string{"fentanyl"}},
		{"Ukrainian spelling", "Протонітазен 5 г, доставка", true, []string{"protonitazene"}},
		{"Arabic with article", "الفنتانيل للبيع", true, []string{"fentanyl"}},
		{"Polish ending", "Oferta: fentanylu 10 g, wysyłka", true, []string{"fentanyl"}},
		{"French ending", "Fentanyle en poudre à vendre", true, []string{"fentanyl"}},
		{"Turkish ending", "Protonitazen satılık, kargo", true, []string{"protonitazene"}},
		{"position word kept", "Para-chlorofentanyl 5g", true, []string{"para-chlorofentanyl"}},
		{"substituted nitazene", "Ethoxy-etodesnitazene 5 grams available", true, []string{"ethoxy-etodesnitazene"}},
		{"two-edit typo in 11 letters", "Carfentinal 1g stealth", true, []string{"carfentanil"}},
		{"fenty beauty", "Fenty Beauty foundation for sale, 32ml", false, nil},
		{"m30 bolts", "M30 bolts, pressed steel, 100 pcs, free shipping", false, nil},
		{"street news", "Police seize 5 kg of fentanyl powder in Marseille", false, nil},
		{"book for sale", "'Fentanyl, Inc.' paperback, like new, $8", false, nil},
		{"script remnant is noise", "Etonitazene 5g <img src=x onerror=alert(1)>", true, []string{"etonitazene"}},
		{"script block is noise", "<script>alert('police')</script>Carfentanil 1g", true, []string{"carfentanil"}},
		{"a less-than sign is not markup", "Carfentanil 1g < 2g, police alert", false, nil},
		{"one weak word does not veto", "Carfentanil 1g, raid-proof packaging, escrow", true, []string{"carfentanil"}},
		{"weak words add up", "Police seize fentanyl powder, 5 kg", false, nil},
		{"sales diversity shields weak words", "Fentanyl 10g, police seized your pack? we reship free. stealth, BTC", true, []string{"fentanyl"}},
		{"agency seizes an amount", "Police seized 5 kg of fentanyl shipped from Mexico, BTC", false, nil},
		{"strong exclusion still vetoes", "Fentanyl test strips in stock, 10 for $15, free shipping, BTC", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Classify(tt.text)
			if r.Hit != tt.hit {
				t.Fatalf("Classify(%q).Hit = %v (score %.3f), want %v; matches %+v", tt.text, r.Hit, r.Score, tt.hit, r.Matches)
			}
			checkSpans(t, tt.text, r)
			if !tt.hit {
				return
			}
			var got []string
			for _, s := range r.Substances {
				got = append(got, s.Name)
			}
			if !slices.Equal(got, tt.subs) {
				t.Errorf("Classify(%q) substances = %v, want %v", tt.text, got, tt.subs)
			}
		})
	}
}

func TestNormalizeAdditions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"🔥fentanyl🔥", "🔥 fentanyl 🔥"},
		{"f&#101;ntanyl", "fentanyl"},
		{"f&#x65;ntanyl", "fentanyl"},
		{"a&amp;b", "a&b"},
		{"AT&T rocks; &bogus; &", "at&t rocks &bogus &"},
		{"f€ntanyl 5€", "fentanyl 5€"},
		{"FentanyI Iso WiFI", "fentanyl iso wifi"},
		{"фентаніл", "фентанил"},
		{"Fentanyl™", "fentanyl tm"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
