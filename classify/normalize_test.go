package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FENTANYL", "fentanyl"},
		{"féntánýl", "fentanyl"},
		{"fe\u0301ntanyl", "fentanyl"}, // combining accent
		{"fеntаnуl", "fentanyl"},       // Cyrillic е, а, у
		{"Ιsοtοnitazene", "isotonitazene"},
		{"Ｆｅｎｔａｎｙｌ", "fentanyl"},
		{"𝐟𝐞𝐧𝐭", "fent"},
		{"f\u200be\u200cn\u200dt\ufeffanyl", "fentanyl"},
		{"f e n t a n y l", "fentanyl"},
		{"i.s.o nitazene", "iso nitazene"},
		{"f-e-n-t", "fent"},
		{"F🍬E🍬N🍬T 10g", "fent 10g"}, // symbols between spelt-out letters
		{"f ★ e ★ n", "fen"},
		{"a 🔥 b", "a 🔥 b"},
		{"4-ANPP, CAS 21409-26-7", "4 anpp cas 21409 26 7"},
		{"U-47700 | 98.8% | 23,12mg", "u 47700 98.8% 23,12mg"},
		{"  many   spaces!!! ", "many spaces"},
		{"Straße", "strasse"},
		{"Фентанил", "фентанил"},
		{"芬太尼，出售", "芬太尼 出售"},
		{"a b", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeSpans checks that a normalised range maps back to the exact
// original bytes.
func TestNormalizeSpans(t *testing.T) {
	tests := []struct {
		in, find, want string
	}{
		{"WTS fеntаnуl now", "fentanyl", "fеntаnуl"},
		{"x f\u200be\u200bn\u200bt y", "fent", "f\u200be\u200bn\u200bt"},
		{"Ｆｅｎｔ!", "fent", "Ｆｅｎｔ"},
		{"buy féntánýl", "fentanyl", "féntánýl"},
		{"p r o t o nitazene", "proto", "p r o t o"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var n normText
			var scratch []foldRune
			normalize(tt.in, &n, &scratch)
			i := strings.Index(string(n.b), tt.find)
			if i < 0 {
				t.Fatalf("normalised %q has no %q", n.b, tt.find)
			}
			s, e := n.span(i, i+len(tt.find))
			if got := tt.in[s:e]; got != tt.want {
				t.Errorf("span of %q = %q, want %q", tt.find, got, tt.want)
			}
		})
	}
}

func TestLeet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"f3ntanyl", "fentanyl"},
		{"c4rf3nt4nil", "carfentanil"},
		{"is0t0nitazene", "isotonitazene"},
		{"fentany1", "fentanyl"},
		{"1sotonitazene", "isotonitazene"},
		{"fent@nyl", "fentanyl"},
		{"m30 100mg u47700 4 anpp ah7921", ""}, // unchanged
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var n, l normText
			var scratch []foldRune
			normalize(tt.in, &n, &scratch)
			var ws words
			wordsOf(n.b, &ws)
			changed := leet(&n, &l, &ws)
			if tt.want == "" {
				if changed {
					t.Errorf("leet(%q) changed it to %q", tt.in, l.b)
				}
				return
			}
			if !changed || string(l.b) != tt.want {
				t.Errorf("leet(%q) = %q (changed %v), want %q", tt.in, l.b, changed, tt.want)
			}
		})
	}
}

// FuzzClassify checks that normalisation and matching never panic, that
// Classify gives Analyze's verdict, and that every span lies inside the
// original text on rune boundaries.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"fentanyl", "f e n t", "is0t0nitazene 5g", "CAS 14188-81-9", "Фентанил", "芬太尼",
		"f\u200be", "Ｆｅｎｔ", "5xFentanyl", "N-pyrrolidino etonitazene", "\xff\xfe", "a.b.c.d"} {
		f.Add(s)
	}
	c := defaultClassifier(f)
	f.Fuzz(func(t *testing.T, s string) {
		var n normText
		var scratch []foldRune
		normalize(s, &n, &scratch)
		if len(n.from) != len(n.b) || len(n.to) != len(n.b) {
			t.Fatalf("offset map length %d/%d for %d bytes", len(n.from), len(n.to), len(n.b))
		}
		for i := range n.b {
			if n.from[i] < 0 || n.to[i] > int32(len(s)) || n.from[i] > n.to[i] {
				t.Fatalf("byte %d maps to %d-%d outside %d", i, n.from[i], n.to[i], len(s))
			}
		}
		r := c.Analyze(s)
		if v := c.Classify(s); v.Hit != r.Hit || v.Score != r.Score || !slices.Equal(v.Substances, r.Substances) || v.Parts != r.Parts {
			t.Fatalf("Classify(%q) = %+v, Analyze gives %+v", s, v, r)
		}
		for _, m := range r.Matches {
			if m.Start < 0 || m.End > len(s) || m.Start > m.End {
				t.Fatalf("match %+v outside the text", m)
			}
			if !boundary(s, m.Start) || !boundary(s, m.End) {
				t.Fatalf("match %+v not on rune boundaries", m)
			}
		}
		for _, sub := range r.Substances {
			if s[sub.Start:sub.End] != sub.Matched {
				t.Fatalf("substance %+v span mismatch", sub)
			}
		}
	})
}

// boundary reports whether i is where a rune starts as Go decodes s (an
// invalid byte counts as a rune of its own).
func boundary(s string, i int) bool {
	if i == len(s) {
		return true
	}
	for j := range s {
		if j == i {
			return true
		}
		if j > i {
			return false
		}
	}
	return false
}

// TestNormalizeFastPath checks that the fast normaliser writes the bytes
// and words the general normaliser writes, and finds what the automaton
// finds in them afterwards, on random text of ASCII and of the characters
// beyond it the fast path handles or leaves to the general one.
func TestNormalizeFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := "aeinost fntlyIXZ019 .,-_/$@%&;#|\t\n'!:"
	pieces := []string{"f e n t", "i.s.o", "a  b  c", "FentanyI", "fentanyI.", "12.5", "1,000", "x.5", "&amp;", "&#102;", "&x", "R&B", " I ", "p r o t o nitazene",
		"é", "à", "Ñ", "ß", "ﬁ", "\u00a0", "\u2013", "—", "’", "…", "«", "\u200b", "€", "£", "¥", "°", "²", "Ｆ", "ｅ", "µ", "ª",
		"ф", "в", "с", "о", "і", "є", "Ё", "фентанил", "фентаніл", "продаю", "сеть", "α", "ο", "ς", "🔥", "芬太尼", "\xff", "\x01",
		"a é b", "в с к", "f £ n", "с a b", "é £ x", "c£a", "1€5", "©", "®", "★", "💊", "✅", "™", "f ★ e ★ n", "© 2024"}
	took := 0
	for i := 0; i < 40000; i++ {
		var sb strings.Builder
		for k := r.IntN(40); k >= 0; k-- {
			if r.IntN(4) == 0 {
				sb.WriteString(pieces[r.IntN(len(pieces))])
				continue
			}
			sb.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		if checkFastPath(t, sb.String()) {
			took++
		}
	}
	t.Logf("took %d", took)
	if took < 5000 {
		t.Errorf("the fast path took %d of 40000 texts", took)
	}
	// Symbols, which the fast path writes as words of their own when
	// they stand alone between separators.
	for _, x := range []string{"©", "®", "★", "💊", "🔥", "✅", "📦", "🔌", "⚠", "™", "°", "♥"} {
		for _, s := range []string{x, "a" + x + "b", "ab " + x, x + " ab", "a " + x + " b", "1 " + x + " 5", "f " + x + " e " + x + " n",
			"ab " + x + " c d e", x + " " + x + " " + x, "ab " + x + "\nc", "ab " + x + ".", "é " + x + " б"} {
			checkFastPath(t, s)
		}
	}
	// Every rune it has a table entry for, alone and between letters,
	// digits and separators.
	for k, fr := range foldRanges {
		for c := fr.lo; c <= fr.hi; c++ {
			if fastFolds[k][c-fr.lo].kind == fastBail {
				continue
			}
			x := string(c)
			for _, s := range []string{x, "a" + x + "b", "ab" + x, x + "ab", "a " + x + " b", "1" + x + ".5", "f" + x + "nt", "ф" + x + "н", x + x + x, "a " + x + " b " + x} {
				checkFastPath(t, s)
			}
		}
	}
}

// TestNormalizeFastPathTaken checks that the fast path takes the ordinary
// text of listings in the languages of the rules.
func TestNormalizeFastPathTaken(t *testing.T) {
	for _, s := range []string{
		"Mountain bike, 27.5 inch. Works perfectly!",
		"Vends canapé en très bon état, à débattre. Prix £120.50",
		"Verkaufe Waschmaschine, wie neu – Preis 300 € VB, nur Abholung.",
		"Envío a toda España en 3 días, pago por Bizum o PayPal.",
		"Продаю телефон, состояние отличное. Доставка по всей России, сделка через гарант.",
		"Frete grátis para todo o Brasil, entrega em 5 dias úteis.",
		"В наличии «гашиш» — в Москве и с доставкой",
	} {
		var n normText
		var ws words
		var scan acScan
		scan.reset(fastPathMatcher)
		if !normalizeFast(s, &n, &ws, &scan) {
			t.Errorf("the fast path left %q to the general normaliser", s)
		}
		checkFastPath(t, s)
	}
}

// FuzzNormalizeFast checks the fast normaliser against the general one.
func FuzzNormalizeFast(f *testing.F) {
	for _, s := range []string{"f e n t", "i.s.o nitazene", "FentanyI", "1.5 g, $20", "&amp; x", "é £ x", "в с к", "сеть fent", "фентаніл"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastPath(t, s) })
}

// fastPathMatcher is searched while the fast path writes: patterns over
// the alphabet of the fast path tests, spaces, spelt-out and Cyrillic
// words included.
var fastPathMatcher = newACMatcher([]string{"fent", "fentanyl", "iso", "a b", "b c", " ", "n t", "1.5", "x", "tl", "ffff", "фентанил", "фен", "cab", "ceть", "e", "sett"})

// checkFastPath compares the fast normaliser with the general one on s
// and reports whether the fast one took it.
func checkFastPath(t *testing.T, s string) bool {
	t.Helper()
	var fast, slow normText
	var fastWords, slowWords words
	var scratch []foldRune
	var scan acScan
	scan.reset(fastPathMatcher)
	if !normalizeFast(s, &fast, &fastWords, &scan) {
		return false
	}
	normalizeRunes(s, &slow, &scratch, &slowWords)
	if string(fast.b) != string(slow.b) {
		t.Fatalf("normalise %q: fast %q, slow %q", s, fast.b, slow.b)
	}
	if !slices.Equal(fastWords.toks, slowWords.toks) || !slices.Equal(fastWords.flags, slowWords.flags) {
		t.Fatalf("words of %q: fast %v %v, slow %v %v", s, fastWords.toks, fastWords.flags, slowWords.toks, slowWords.flags)
	}
	if got, want := scan.hits(nil), fastPathMatcher.find(fast.b, nil); !slices.Equal(got, want) {
		t.Fatalf("normalise %q: search while writing found %v, afterwards %v", s, got, want)
	}
	return true
}

// TestNormalizeRunesWords checks that the words the general normaliser
// records as it writes are the words of what it wrote.
func TestNormalizeRunesWords(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 23))
	pieces := []string{"é", "ñ", "ß", "\u00a0", "\u2013", "’", "…", "\u200b", "€", "£", "°", "²", "Ｆ", "ф", "фентанил", "α", "🔥", "芬太尼",
		"f e n t", "ф е н т", "1.5", "$5", "a", "IX", " ", "  ", "-", "x9"}
	for i := 0; i < 20000; i++ {
		var sb strings.Builder
		for k := r.IntN(25); k >= 0; k-- {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := sb.String()
		var n normText
		var got, want words
		var scratch []foldRune
		normalizeRunes(s, &n, &scratch, &got)
		wordsOf(n.b, &want)
		if !slices.Equal(got.toks, want.toks) || !slices.Equal(got.flags, want.flags) {
			t.Fatalf("words of %q (%q): recorded %v %v, found %v %v", s, n.b, got.toks, got.flags, want.toks, want.flags)
		}
	}
}

// wordsOf fills ws with the words of normalised text b, found afresh: the
// oracle for the words the normalisers record as they write.
func wordsOf(b []byte, ws *words) {
	ws.toks = tokens(b, ws.toks[:0])
	ws.flags = slices.Grow(ws.flags[:0], len(ws.toks))[:len(ws.toks)]
	for i, t := range ws.toks {
		f := uint8(0)
		for _, c := range b[t.s:t.e] {
			f |= wordByteClass[c]
		}
		ws.flags[i] = f
	}
}

// tokens appends the words of normalised text b to out.
func tokens(b []byte, out []token) []token {
	for i := 0; i < len(b); {
		if b[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] != ' ' {
			j++
		}
		out = append(out, token{i, j})
		i = j
	}
	return out
}
