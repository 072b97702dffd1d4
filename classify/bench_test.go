package classify

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	cfac "github.com/cloudflare/ahocorasick"
)

// benchCorpus is a mix of listing texts, about 1 MB: ordinary marketplace
// copy with the labelled trick cases mixed in (about 1 in 3 texts).
func benchCorpus(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "tricks.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	ex, err := ParseCorpus(data)
	if err != nil {
		tb.Fatal(err)
	}
	filler := []string{
		"Mountain bike, 27.5 inch. Works perfectly, selling because we upgraded. First come, first served. Can deliver within 10 miles for a small fee.",
		"1/8 oz Blue Dream, indoor grown, lab tested 22% THC. Stealth vacuum sealed shipping from the USA, escrow accepted, FE for trusted buyers only.",
		"Xanax 2mg (Alprazolam) G 372 2 White Bars x 10. Pharma grade, ships from the Netherlands in 3-5 days. Message me on Wickr for bulk pricing.",
		"Rolex Submariner Blue [Replica] - AAA+ quality, sapphire glass, automatic movement. Free tracked shipping worldwide, returns within 14 days.",
		"Apartment for rent: two bedrooms, bright flat with balcony near schools and the train station. Available next month, deposit required.",
	}
	var texts []string
	size := 0
	for size < 1<<20 {
		for _, e := range ex {
			texts = append(texts, e.Input())
			size += len(e.Input())
		}
		for _, f := range filler {
			for k := 0; k < 40; k++ { // NSO offers are rare among listings
				texts = append(texts, f)
				size += len(f)
			}
		}
	}
	return texts
}

func corpusBytes(texts []string) int64 {
	var n int64
	for _, t := range texts {
		n += int64(len(t))
	}
	return n
}

// BenchmarkClassify runs the full default rule set over the corpus.
func BenchmarkClassify(b *testing.B) {
	c := defaultClassifier(b)
	texts := benchCorpus(b)
	b.SetBytes(corpusBytes(texts))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			c.Classify(t)
		}
	}
}

// literalTerms returns every literal term of the default rules.
func literalTerms(c *Classifier) []string {
	var terms []string
	for _, s := range c.subs {
		for _, t := range s.Terms {
			terms = append(terms, t.Text)
		}
	}
	for _, x := range c.ctxs {
		for _, t := range x.Terms {
			terms = append(terms, t.Text)
		}
	}
	return terms
}

// BenchmarkRegexpBaseline is one case-insensitive Go regexp alternation of
// the same literal terms over the same corpus (no normalisation, no
// scoring): the naive alternative to Classify.
func BenchmarkRegexpBaseline(b *testing.B) {
	c := defaultClassifier(b)
	terms := literalTerms(c)
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = regexp.QuoteMeta(t)
	}
	re := regexp.MustCompile(`(?i)(?:` + strings.Join(quoted, "|") + `)`)
	texts := benchCorpus(b)
	b.SetBytes(corpusBytes(texts))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			re.FindAllStringIndex(t, -1)
		}
	}
}

// BenchmarkMatcher compares multi-pattern search choices on the normalised
// corpus with the rule set's patterns: this package's dense-DFA
// Aho-Corasick (positions of every overlapping match), cloudflare's
// Aho-Corasick (which reports only which patterns occur, no positions) and
// a Go regexp alternation.
func BenchmarkMatcher(b *testing.B) {
	c := defaultClassifier(b)
	texts := benchCorpus(b)
	norm := make([][]byte, len(texts))
	for i, t := range texts {
		norm[i] = []byte(Normalize(t))
	}
	keys := make([]string, len(c.pats))
	for i, p := range c.pats {
		keys[i] = p.key
	}
	size := corpusBytes(texts)
	b.Run("own-dfa", func(b *testing.B) {
		m := newACMatcher(keys)
		var hits []acHit
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			for _, t := range norm {
				hits = m.find(t, hits[:0])
			}
		}
	})
	b.Run("cloudflare", func(b *testing.B) {
		m := cfac.NewStringMatcher(keys)
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			for _, t := range norm {
				m.Match(t)
			}
		}
	})
	b.Run("regexp", func(b *testing.B) {
		quoted := make([]string, len(keys))
		for i, k := range keys {
			quoted[i] = regexp.QuoteMeta(k)
		}
		re := regexp.MustCompile(strings.Join(quoted, "|"))
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			for _, t := range norm {
				re.FindAllIndex(t, -1)
			}
		}
	})
	b.Run("normalize", func(b *testing.B) {
		var n normText
		var scratch []foldRune
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			for _, t := range texts {
				normalize(t, &n, &scratch)
			}
		}
	})
}
