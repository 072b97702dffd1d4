package sweep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/store"
)

// hostileBodies are listing pages that hold as much as a page may
// (max_body_bytes) in the shapes that cost most: one huge description full
// of matches, the same without fields (the page's visible text is the
// listing), and a flood of small elements (a large document tree).
func hostileBody(kind string, size int) []byte {
	var b strings.Builder
	b.Grow(size + 256)
	b.WriteString(`<html><head><title>Fentanyl powder</title></head><body><h1>Fentanyl powder 10 g</h1><div class="d">`)
	unit := "fentanyl "
	if kind == "elements" {
		unit = "<p>fentanyl</p>"
	}
	for b.Len() < size-32 {
		b.WriteString(unit)
	}
	b.WriteString(`</div></body></html>`)
	return []byte(b.String())
}

// hostileMarket serves pages listing pages /p/1 .. /p/pages of kind, each
// of about size bytes.
func hostileMarket(t testing.TB, kind string, size, pages int) (config.Market, *httptest.Server) {
	t.Helper()
	body := hostileBody(kind, size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			for i := 1; i <= pages; i++ {
				fmt.Fprintf(w, `<a href="/p/%d">%d</a> `, i, i)
			}
			return
		}
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	}))
	fields := `fields: {title: "h1", description: ".d"}`
	if kind == "nofields" {
		fields = ""
	}
	cfg, err := config.Parse("hostile.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
  concurrency: 4
  max_body_bytes: %d
marketplaces:
  - name: hostile
    start_urls: ["%s/"]
    listing:
      url_pattern: '/p/\d+$'
      %s
`, size+1024, srv.URL, fields)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Marketplaces[0], srv
}

// heapPeak samples the live heap until stop is called and returns its
// largest value in bytes.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// BenchmarkHostilePages sweeps four listing pages of 10 MiB each (the
// default max_body_bytes) per operation, four at a time, and reports the
// bytes allocated per page and the peak live heap.
//
//	go test ./sweep -run '^$' -bench HostilePages -benchmem -benchtime 3x
func BenchmarkHostilePages(b *testing.B) {
	const size, pages = 10 << 20, 4
	for _, kind := range []string{"description", "nofields", "elements"} {
		b.Run(kind, func(b *testing.B) {
			m, srv := hostileMarket(b, kind, size, pages)
			defer srv.Close()
			b.SetBytes(size * pages)
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				r, db := testRunner(b)
				runtime.GC()
				stop := heapPeak()
				res, err := r.Run(context.Background(), []config.Market{m})
				peak = max(peak, stop())
				if err != nil || res.Markets[0].Crawl.ListingPages != pages {
					b.Fatalf("sweep: %v, %d listing pages, want %d", err, res.Markets[0].Crawl.ListingPages, pages)
				}
				db.Close()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// A listing page holding max_body_bytes of matches costs memory in
// proportion to the page, not to what the classifier would make of it: the
// text classified and stored per listing is bounded, the cut is said, and
// the evidence keeps the whole page.
func TestHostilePageMemoryBounded(t *testing.T) {
	const size, pages = 1 << 20, 2
	m, srv := hostileMarket(t, "description", size, pages)
	defer srv.Close()
	r, db := testRunner(t)
	ctx := context.Background()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	res, err := r.Run(ctx, []config.Market{m})
	runtime.ReadMemStats(&m1)
	if err != nil || res.Markets[0].Crawl.ListingPages != pages {
		t.Fatalf("sweep: %v, %+v", err, res.Markets[0].Crawl)
	}
	// Fetching, parsing and storing a page copies it a few times; the
	// classifier's work on a whole page of matches is hundreds of times
	// its size.
	if alloc, limit := m1.TotalAlloc-m0.TotalAlloc, uint64(64*size*pages); alloc > limit {
		t.Errorf("the sweep allocated %d MiB for %d pages of %d MiB, want at most %d MiB", alloc>>20, pages, size>>20, limit>>20)
	}
	if res.Markets[0].Crawl.ListingsCut != pages {
		t.Errorf("ListingsCut = %d, want %d", res.Markets[0].Crawl.ListingsCut, pages)
	}
	var ls []store.StoredListing
	if err := db.ListingsEach(ctx, func(l store.StoredListing) error { ls = append(ls, l); return nil }); err != nil || len(ls) != pages {
		t.Fatalf("listings = %d (%v), want %d", len(ls), err, pages)
	}
	for _, l := range ls {
		if len(l.Text) > 2*crawler.MaxTextBytes || !strings.Contains(l.Text, "the full page is in the evidence]") {
			t.Errorf("listing %s: text of %d bytes, want at most %d with a note saying it was cut", l.URL, len(l.Text), crawler.MaxTextBytes)
		}
	}
	hits, err := db.Hits(ctx, store.HitFilter{})
	if err != nil || len(hits) != pages {
		t.Fatalf("hits = %d (%v), want %d: a cut listing is still classified", len(hits), err, pages)
	}
	ev, err := db.HitEvidence(ctx, hits[0].ID)
	if err != nil || len(ev) == 0 || len(ev[0].ResponseBytes) < size {
		t.Errorf("evidence of hit %d: %d records (%v), want the whole page kept", hits[0].ID, len(ev), err)
	}
}
