package sweep

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"snoop/classify"
	"snoop/config"
	"snoop/internal/benchmarket"
	"snoop/rules"
	"snoop/store"
)

// The crawl benchmarks compare, on one generated marketplace served by a
// separate process, a bare Colly crawl that only extracts the listing fields
// with a snoop sweep that also classifies, keeps evidence and stores
// everything in SQLite. Both use the same parallelism.
//
//	go test ./sweep -run '^$' -bench Crawl -benchtime 1x
//	SNOOP_BENCH_PAGES=100000 go test ./sweep -run '^$' -bench Crawl/snoop -benchtime 1x
//
// Reported: pages/s, CPU milliseconds per page of this process (the fixture
// server runs in another process), and the peak RSS of this process.

const benchConcurrency = 4

func benchPages() int {
	if n, err := strconv.Atoi(os.Getenv("SNOOP_BENCH_PAGES")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// TestMain runs the fixture marketplace server when asked to by a
// benchmark (SNOOP_BENCH_SERVE=N): it prints its address and serves until
// stdin closes.
func TestMain(m *testing.M) {
	if v := os.Getenv("SNOOP_BENCH_FLEET"); v != "" {
		serveFleet(v)
	}
	if v := os.Getenv("SNOOP_BENCH_SERVE"); v != "" {
		n, _ := strconv.Atoi(v)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().String())
		go http.Serve(ln, benchmarket.Handler(n))
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startFixture starts the fixture server in a child process and returns its base URL.
func startFixture(b *testing.B, pages int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SNOOP_BENCH_SERVE="+strconv.Itoa(pages))
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
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("fixture server: %v", err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// cpuTime returns this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB returns this process's peak resident set size in MiB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

func report(b *testing.B, pages int64, elapsed, cpu time.Duration) {
	b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(pages), "cpu-ms/page")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MiB")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkCrawl(b *testing.B) {
	n := benchPages()
	base := startFixture(b, n)
	b.Run("bare-colly", func(b *testing.B) { benchBareColly(b, base, benchmarket.Pages(n)) })
	b.Run("snoop", func(b *testing.B) { benchSnoop(b, base, benchmarket.Pages(n)) })
}

// checkPages fails the benchmark unless a crawl fetched every page of the
// fixture: a crawl that stopped early would not be comparable.
func checkPages(b *testing.B, name string, got, want int) {
	b.Helper()
	if got != want {
		b.Fatalf("%s fetched %d pages, want all %d", name, got, want)
	}
}

// benchBareColly crawls the fixture with Colly alone: follow links, extract
// the listing fields of product pages, nothing else.
func benchBareColly(b *testing.B, base string, want int) {
	product := regexp.MustCompile(`/product/\d+$`)
	var fetched atomic.Int64
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		c := colly.NewCollector(colly.Async(true), colly.MaxDepth(0))
		c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: benchConcurrency})
		// Keep a connection per request in flight, as snoop does: Go's
		// default transport keeps two, and would open hundreds of new ones.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = benchConcurrency
		c.WithTransport(tr)
		c.DisallowedURLFilters = []*regexp.Regexp{regexp.MustCompile(`/cart`)}
		fetched.Store(0)
		c.OnResponse(func(*colly.Response) { fetched.Add(1) })
		c.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
		c.OnHTML("body", func(e *colly.HTMLElement) {
			if !product.MatchString(e.Request.URL.Path) {
				return
			}
			fields := map[string]string{
				"title":       e.ChildText("h1"),
				"description": e.ChildText(".description"),
				"price":       e.ChildText(".price"),
				"vendor":      e.ChildText(".vendor"),
			}
			_ = fields
		})
		start, cpu0 := time.Now(), cpuTime()
		if err := c.Visit(base + "/"); err != nil {
			b.Fatal(err)
		}
		c.Wait()
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		checkPages(b, "bare colly", int(fetched.Load()), want)
	}
	report(b, fetched.Load()*int64(b.N), elapsed, cpu)
}

// benchSnoop runs a full snoop sweep of the fixture into a new database.
func benchSnoop(b *testing.B, base string, want int) {
	rs, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		b.Fatal(err)
	}
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
    listing:
      url_pattern: '/product/\d+$'
      fields: {title: "h1", description: ".description", price: ".price", vendor: ".vendor"}
`, benchConcurrency, base)))
	if err != nil {
		b.Fatal(err)
	}
	var pages int64
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		r := &Runner{DB: db, Classifier: c, RuleVersion: rs.Version()}
		start, cpu0 := time.Now(), cpuTime()
		res, err := r.Run(ctx, cfg.Marketplaces)
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		checkPages(b, "snoop", res.Pages(), want)
		pages += int64(res.Pages())
		db.Close()
	}
	report(b, pages, elapsed, cpu)
}
