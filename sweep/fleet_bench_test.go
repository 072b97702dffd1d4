package sweep

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"snoop/config"
	"snoop/internal/fleet"
	"snoop/store"
)

// The fleet benchmarks sweep many small marketplaces at once, each on its
// own loopback port, served by a child process (internal/fleet): every
// marketplace has 6 pages (a home page and 5 listings), 1 request/s and
// concurrency 2.
//
//	go test -c -o /tmp/sweep.test ./sweep
//	/tmp/sweep.test -test.run '^$' -test.bench 'ManyMarkets/fast' -test.benchtime 1x
//	/tmp/sweep.test -test.run '^$' -test.bench 'ManyMarkets/slow' -test.benchtime 1x
//
// SNOOP_BENCH_MARKETS sets the number of marketplaces (default 2000).
// Reported: wall seconds, peak RSS of this process, peak live heap.

// serveFleet runs a fleet for a benchmark ("markets:mode:delay"), prints its
// URLs, one a line, then a blank line, and serves until stdin closes.
func serveFleet(spec string) {
	parts := strings.Split(spec, ":")
	n, _ := strconv.Atoi(parts[0])
	delay, _ := time.ParseDuration(parts[2])
	f, err := fleet.Start(fleet.Options{Markets: n, Mode: fleet.Mode(parts[1]), Delay: delay})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, u := range f.URLs() {
		fmt.Fprintln(w, u)
	}
	fmt.Fprintln(w)
	w.Flush()
	io.Copy(io.Discard, os.Stdin)
	f.Close()
	os.Exit(0)
}

// startFleet starts a fleet in a child process and returns its URLs.
func startFleet(b *testing.B, markets int, mode fleet.Mode, delay time.Duration) []string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("SNOOP_BENCH_FLEET=%d:%s:%s", markets, mode, delay))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var urls []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "" {
		urls = append(urls, sc.Text())
	}
	if len(urls) != markets {
		b.Fatalf("fleet: %d URLs, want %d (%v)", len(urls), markets, sc.Err())
	}
	return urls
}

// fleetMarkets is the config of a fleet: one marketplace per URL.
func fleetMarkets(b *testing.B, urls []string) []config.Market {
	b.Helper()
	var y strings.Builder
	y.WriteString(`defaults:
  requests_per_second: 1
  burst: 1
  concurrency: 2
  robots: ignore
  timeout: 60s
marketplaces:
`)
	for i, u := range urls {
		fmt.Fprintf(&y, `  - name: m%d
    start_urls: [%q]
    listing:
      url_pattern: '/p/\d+$'
      fields: {title: "h1", description: ".d", price: ".price"}
`, i, u)
	}
	cfg, err := config.Parse("fleet.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	return cfg.Marketplaces
}

// lockCounter counts log records that say the database was locked.
type lockCounter struct {
	slog.Handler
	locked, errors *atomic.Int64
}

func (h lockCounter) Handle(ctx context.Context, r slog.Record) error {
	text := r.Message
	r.Attrs(func(a slog.Attr) bool { text += " " + a.Value.String(); return true })
	if strings.Contains(text, "database is locked") {
		h.locked.Add(1)
	}
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return nil
}

func (h lockCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h lockCounter) WithGroup(string) slog.Handler      { return h }
func (h lockCounter) Enabled(context.Context, slog.Level) bool {
	return true
}

func BenchmarkManyMarkets(b *testing.B) {
	markets := 2000
	if n, err := strconv.Atoi(os.Getenv("SNOOP_BENCH_MARKETS")); err == nil && n > 0 {
		markets = n
	}
	for _, mode := range []fleet.Mode{fleet.Fast, fleet.Slow} {
		b.Run(string(mode), func(b *testing.B) {
			urls := startFleet(b, markets, mode, 200*time.Millisecond)
			ms := fleetMarkets(b, urls)
			var locked, errs atomic.Int64
			var elapsed time.Duration
			var peak uint64
			for b.Loop() {
				r, db := testRunner(b)
				r.Logger = slog.New(lockCounter{Handler: slog.DiscardHandler, locked: &locked, errors: &errs})
				runtime.GC()
				stop := heapPeak()
				start := time.Now()
				res, err := r.Run(context.Background(), ms)
				elapsed += time.Since(start)
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				failed, listings := 0, 0
				kinds := map[string]int{}
				for _, m := range res.Markets {
					if m.Err != "" {
						failed++
						kinds[strings.TrimPrefix(m.Err, "sweep "+m.Market+": ")]++
					}
					listings += m.NewListings
				}
				n, err := countListings(db)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(failed), "failed-markets")
				b.ReportMetric(float64(n), "listings-stored")
				if failed > 0 || n != markets*5 || res.Status != store.SweepCompleted {
					b.Errorf("status %s: %d of %d marketplaces failed (%v), %d of %d listings stored", res.Status, failed, markets, kinds, n, markets*5)
				}
				db.Close()
			}
			b.ReportMetric(elapsed.Seconds()/float64(b.N), "wall-s")
			b.ReportMetric(peakRSSMB(), "peak-RSS-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(locked.Load()), "locked-logs")
			b.ReportMetric(0, "ns/op")
			if locked.Load() > 0 {
				b.Errorf("%d log records say the database was locked", locked.Load())
			}
		})
	}
}

// countListings counts the listings stored.
func countListings(db *store.DB) (int, error) {
	n := 0
	err := db.ListingsEach(context.Background(), func(store.StoredListing) error { n++; return nil })
	return n, err
}
