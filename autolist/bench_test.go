package autolist_test

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"snoop/autolist"
)

// benchPages renders one page of each kind from the generated sites.
func benchPages(b *testing.B) map[string][]byte {
	b.Helper()
	out := map[string][]byte{}
	for _, bl := range builders {
		var want string
		switch bl.name {
		case "woocommerce":
			want = "product"
		case "phpbb":
			want = "thread"
		case "classifieds":
			want = "list"
		default:
			continue
		}
		s := bl.build(b, "http://bench.example")
		for uri, p := range s.pages {
			if p.tmpl != want {
				continue
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", uri, nil))
			out[bl.name+"-"+want] = rec.Body.Bytes()
			break
		}
	}
	return out
}

// BenchmarkExtract measures automatic extraction on a parsed page; the
// "parse" sub-benchmarks are the HTML parsing the crawler does anyway, the
// baseline to compare against.
func BenchmarkExtract(b *testing.B) {
	u, _ := url.Parse("http://bench.example/page")
	for name, body := range benchPages(b) {
		b.Run(name+"/parse", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := goquery.NewDocumentFromReader(bytes.NewReader(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/extract", func(b *testing.B) {
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if res := autolist.Extract(doc, u, autolist.Options{}); len(res.Listings) == 0 {
					b.Fatal("no listing")
				}
			}
		})
	}
}
