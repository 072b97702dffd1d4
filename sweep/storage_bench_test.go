package sweep

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"snoop/classify"
	"snoop/config"
	"snoop/internal/benchmarket"
	"snoop/rules"
	"snoop/store"
)

// BenchmarkStorage sweeps a generated shop of 32 KB product pages into a new
// database, storing evidence raw (the baseline, as before compression) and
// compressed in alternating runs, and reports the database size per fetched
// page, the sweep speed of each and their ratio (compressed / raw):
//
//	go test ./sweep -run '^$' -bench Storage -benchtime 3x
//	SNOOP_BENCH_PAGES=20000 go test ./sweep -run '^$' -bench Storage -benchtime 1x
//
// "fields" takes the listing from four fields; "page-text" takes the whole
// visible page text as the listing text (a listing: with no fields), the
// case where listing text is largest.
func BenchmarkStorage(b *testing.B) {
	n := min(benchPages(), 5000)
	if v := os.Getenv("SNOOP_BENCH_PAGES"); v != "" {
		n = benchPages()
	}
	srv := httptest.NewServer(benchmarket.SizedHandler(n, 32<<10))
	b.Cleanup(srv.Close)
	rs, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		b.Fatal(err)
	}
	for _, listing := range []struct{ name, yaml string }{
		{"fields", `{url_pattern: '/product/\d+$', fields: {title: "h1", description: ".description", price: ".price", vendor: ".vendor"}}`},
		{"page-text", `{url_pattern: '/product/\d+$'}`},
	} {
		cfg, err := config.Parse("bench.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000000
  burst: 1000
  concurrency: %d
  max_pages: 1000000
  max_depth: 100000
  robots: ignore
marketplaces:
  - name: bench
    start_urls: ["%s/"]
    deny: ['/cart']
    listing: %s
`, benchConcurrency, srv.URL, listing.yaml)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(listing.name, func(b *testing.B) {
			// Raw (the baseline) and compressed sweeps alternate, in turns
			// that swap which goes first, so both see the same machine load.
			var pages, size [2]int64
			var elapsed [2]time.Duration
			for i := 0; i < b.N; i++ {
				for k := range 2 {
					mode := (i + k) % 2 // 0: raw, 1: zstd
					ctx := context.Background()
					path := filepath.Join(b.TempDir(), "bench.db")
					db, err := store.Open(ctx, path)
					if err != nil {
						b.Fatal(err)
					}
					db.RawEvidence = mode == 0
					r := &Runner{DB: db, Classifier: c, RuleVersion: rs.Version()}
					start := time.Now()
					res, err := r.Run(ctx, cfg.Marketplaces)
					elapsed[mode] += time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
					checkPages(b, "snoop", res.Pages(), benchmarket.Pages(n))
					pages[mode] += int64(res.Pages())
					if err := db.Close(); err != nil { // checkpoints the WAL into the file
						b.Fatal(err)
					}
					size[mode] += fileSize(b, path) + fileSize(b, path+"-wal")
				}
			}
			rate := func(m int) float64 { return float64(pages[m]) / elapsed[m].Seconds() }
			kb := func(m int) float64 { return float64(size[m]) / 1024 / float64(pages[m]) }
			b.ReportMetric(kb(0), "raw-db-KB/page")
			b.ReportMetric(kb(1), "zstd-db-KB/page")
			b.ReportMetric(rate(0), "raw-pages/s")
			b.ReportMetric(rate(1), "zstd-pages/s")
			b.ReportMetric(rate(1)/rate(0), "speed-ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func fileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
