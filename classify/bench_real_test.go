package classify

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// agoraPaths are where the real Agora corpus may be, next to the
// repository or next to a worktree of it (see
// shared/corpus/agora/README.md); it is not part of the repository.
var agoraPaths = []string{
	filepath.Join("..", "..", "shared", "corpus", "agora", "listings.jsonl"),
	filepath.Join("..", "..", "..", "shared", "corpus", "agora", "listings.jsonl"),
}

// benchAgora returns the 10,776 real Agora listing titles, skipping the
// benchmark when the corpus is not present.
func benchAgora(tb testing.TB) []string {
	tb.Helper()
	var data []byte
	var err error
	path := ""
	for _, path = range agoraPaths {
		if data, err = os.ReadFile(path); err == nil {
			break
		}
	}
	if err != nil {
		tb.Skipf("Agora corpus not present: %v", err)
	}
	ex, err := ParseCorpus(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	texts := make([]string, len(ex))
	for i, e := range ex {
		texts[i] = e.Input()
	}
	return texts
}

// benchPages returns about 2 MB of whole listing pages, as a crawl with no
// fields (and the automatic extraction) classifies them: each page is a
// shop's chrome (navigation, categories, account and cookie notices,
// footer), one listing, its reviews and a "related products" block of
// other listings' titles and prices, 6 to 14 KB of text. One page in 33
// holds a labelled case of testdata/pages.jsonl as its listing (offers
// inside chrome and their near misses), as on a real market where opioid
// listings are a small share. Built deterministically.
func benchPages(tb testing.TB) []string {
	tb.Helper()
	cases := loadExamples(tb, "pages.jsonl")
	r := rand.New(rand.NewPCG(7, 11))
	nav := "Home | Shop | Categories | New arrivals | Best sellers | Vendors | Forum | Support | FAQ | Log in | Register | Cart (0)\n" +
		"Categories: Electronics, Home & garden, Clothing, Books, Cannabis, Stimulants, Psychedelics, Prescription, Services, Guides, Digital goods, Jewellery\n"
	footer := "\nAbout us | Terms of service | Privacy policy | Shipping information | Refunds and reships | PGP key | Contact | Careers\n" +
		"We use cookies to improve your experience. By continuing to browse you accept our cookie policy. © 2014-2026 All rights reserved.\n"
	reviews := []string{
		"5/5 Fast shipping, well packed, would order again. A+++",
		"4/5 Took 9 days but arrived safely. Good communication with the vendor.",
		"5/5 Exactly as described, stealth was perfect.",
		"3/5 Product fine, shipping slow, vendor answered my messages.",
		"5/5 Third order, always reliable. Thanks!",
	}
	var pages []string
	size := 0
	for n := 0; size < 2<<20; n++ {
		var b strings.Builder
		b.WriteString(nav)
		if n%33 == 32 {
			b.WriteString(cases[(n/33)%len(cases)].Input())
		} else {
			b.WriteString(ordinaryListing(r))
		}
		b.WriteString("\nReviews\n")
		for k := 3 + r.IntN(8); k > 0; k-- {
			b.WriteString(reviews[r.IntN(len(reviews))])
			b.WriteByte('\n')
		}
		b.WriteString("Related products\n")
		for b.Len() < 6<<10+r.IntN(8<<10) {
			l := ordinaryListing(r)
			if i := strings.IndexByte(l, '\n'); i > 0 {
				l = l[:i]
			}
			b.WriteString(l)
			b.WriteString(" — view\n")
		}
		b.WriteString(footer)
		pages = append(pages, b.String())
		size += b.Len()
	}
	return pages
}

// BenchmarkClassifyAgora runs the default rules over the 10,776 real
// Agora titles (0.5 MB), once per iteration.
func BenchmarkClassifyAgora(b *testing.B) { benchClassify(b, benchAgora(b)) }

// BenchmarkClassifyPages runs the default rules over whole listing pages
// (see benchPages).
func BenchmarkClassifyPages(b *testing.B) { benchClassify(b, benchPages(b)) }
