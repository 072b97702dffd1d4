package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"snoop/config"
)

// collector is a Sink that keeps every page.
type collector struct {
	mu    sync.Mutex
	pages []*Page
	fn    func(p *Page) error
}

func (c *collector) HandlePage(ctx context.Context, p *Page) error {
	c.mu.Lock()
	c.pages = append(c.pages, p)
	c.mu.Unlock()
	if c.fn != nil {
		return c.fn(p)
	}
	return nil
}

func (c *collector) byURL() map[string]*Page {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]*Page{}
	for _, p := range c.pages {
		m[p.URL] = p
	}
	return m
}

func (c *collector) listings() []Listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Listing
	for _, p := range c.pages {
		out = append(out, p.Listings...)
	}
	slices.SortFunc(out, func(a, b Listing) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// requestLog records the requests a test server received.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

func (l *requestLog) paths() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		if r.URL.Path != "/robots.txt" {
			out = append(out, r.URL.RequestURI())
		}
	}
	return out
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// shopHandler serves testdata/shop: /, /category?page=N, /product/N, robots.txt.
func shopHandler(tb testing.TB, log *requestLog, robots string) http.Handler {
	tb.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		var file string
		switch {
		case r.URL.Path == "/robots.txt":
			if robots == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, robots)
			return
		case r.URL.Path == "/":
			file = "index.html"
		case r.URL.Path == "/category":
			file = "category-" + r.URL.Query().Get("page") + ".html"
		case strings.HasPrefix(r.URL.Path, "/product/"):
			file = "product-" + strings.TrimPrefix(r.URL.Path, "/product/") + ".html"
		default:
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "shop", file))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
}

// market returns a page-mode market for the shop at base.
func market(tb testing.TB, base string, extra string) config.Market {
	tb.Helper()
	src := fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
  concurrency: 3
  timeout: 5s
marketplaces:
  - name: shop
    start_urls: [%q]
    deny: ['/cart', '/login']
    listing:
      url_pattern: '/product/\d+$'
      fields:
        title: h1
        description: .description
        price: .price
        vendor: .vendor
        url: a.permalink@href
%s`, base+"/", extra)
	cfg, err := config.Parse("test.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	return cfg.Marketplaces[0]
}

func fastOpts() Options {
	return Options{Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}
}

func TestSweepPageMode(t *testing.T) {
	var log requestLog
	srv := httptest.NewServer(shopHandler(t, &log, ""))
	defer srv.Close()
	m := market(t, srv.URL, `    headers: {X-Case: "42"}
    user_agent: snoop-test/1.0
`)
	var sink collector
	var progress []Progress
	opts := fastOpts()
	opts.Progress = func(p Progress) { progress = append(progress, p) }
	opts.Now = steppingClock(time.Second) // every page passes the throttle
	st, err := Sweep(context.Background(), m, &sink, opts)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	// / + 3 category pages + products 1-5; product 99 is a text/plain 404
	if got, want := st.PagesFetched, 9; got != want {
		t.Errorf("PagesFetched = %d, want %d; paths %v", got, want, log.paths())
	}
	if st.Listings != 5 || st.ListingPages != 5 {
		t.Errorf("Listings = %d, ListingPages = %d, want 5, 5", st.Listings, st.ListingPages)
	}
	if got := st.ErrorsByKind[ErrKindHTTP4xx]; got != 1 || st.SkippedByReason[SkipNonHTML] != 1 {
		t.Errorf("ErrorsByKind[http_4xx] = %d, want 1 (%v)", got, st.ErrorsByKind)
	}
	if st.SkippedByReason[SkipDeny] != 2 || st.SkippedByReason[SkipOffsite] != 1 {
		t.Errorf("SkippedByReason = %v, want deny 2 and offsite 1", st.SkippedByReason)
	}
	for _, p := range log.paths() {
		if p == "/cart" || p == "/login" || strings.Contains(p, "utm_") {
			t.Errorf("fetched %q", p)
		}
	}
	if n := len(log.paths()); n != 10 {
		t.Errorf("server saw %d requests, want 10 (no duplicates): %v", n, log.paths())
	}
	ls := sink.listings()
	if len(ls) != 5 {
		t.Fatalf("got %d listings, want 5", len(ls))
	}
	want := Listing{
		URL: srv.URL + "/product/1",
		Fields: map[string]string{"title": "Product number 1", "description": "A fine item, number 1.",
			"price": "$1.00", "vendor": "vendor-1", "url": srv.URL + "/product/1"},
		Text: "Product number 1\nA fine item, number 1.\n$1.00\nvendor-1",
	}
	if got := ls[0]; got.URL != want.URL || got.Text != want.Text || fmt.Sprint(got.Fields) != fmt.Sprint(want.Fields) {
		t.Errorf("listing = %+v,\nwant %+v", got, want)
	}
	pages := sink.byURL()
	p := pages[srv.URL+"/product/1"]
	if p == nil || p.Exchange == nil || p.Depth != 2 || p.Status != 200 {
		t.Fatalf("product page = %+v", p)
	}
	req := string(p.Exchange.RequestBytes)
	for _, w := range []string{"GET /product/1 HTTP/1.1\r\n", "User-Agent: snoop-test/1.0\r\n", "X-Case: 42\r\n", "Accept-Encoding: gzip, br\r\n"} {
		if !strings.Contains(req, w) {
			t.Errorf("RequestBytes lack %q:\n%s", w, req)
		}
	}
	if strings.Contains(req, fetchIDHeader) {
		t.Errorf("RequestBytes carry the internal header:\n%s", req)
	}
	if !bytes.HasPrefix(p.Exchange.ResponseBytes, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(p.Exchange.ResponseBytes, p.Body) {
		t.Errorf("ResponseBytes = %q", p.Exchange.ResponseBytes)
	}
	if p.Exchange.RemoteAddr != srv.Listener.Addr().String() {
		t.Errorf("RemoteAddr = %q, want %q", p.Exchange.RemoteAddr, srv.Listener.Addr())
	}
	for _, r := range log.reqs { // robots.txt included
		if r.Header.Get("X-Case") != "42" || r.Header.Get("User-Agent") != "snoop-test/1.0" {
			t.Errorf("request %s headers = %v", r.URL, r.Header)
		}
	}
	if len(progress) != 11 || progress[len(progress)-1].Pages != 9 || !progress[10].Final || progress[9].Final {
		t.Errorf("progress = %+v", progress)
	}
	if home := pages[srv.URL+"/"]; home == nil || len(home.Listings) != 0 || home.Depth != 0 {
		t.Errorf("home page = %+v", home)
	}
}

func TestSweepItemMode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Write(readFixture(t, "board/index.html"))
	}))
	defer srv.Close()
	cfg, err := config.Parse("t.yaml", []byte(fmt.Sprintf(`marketplaces:
  - name: board
    start_urls: [%q]
    follow: []
    requests_per_second: 1000
    listing:
      item: div.post
      fields:
        title: h2
        description: p.body
        price: .price
        url: a.permalink@href
`, srv.URL+"/")))
	if err != nil {
		t.Fatal(err)
	}
	var sink collector
	st, err := Sweep(context.Background(), cfg.Marketplaces[0], &sink, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if st.PagesFetched != 1 || st.Listings != 3 || st.ListingPages != 1 {
		t.Errorf("stats = %+v", st)
	}
	got := sink.pages[0].Listings
	want := []Listing{
		{URL: srv.URL + "/post/1?a=1&b=2", Text: "First post\nSelling widgets, DM me.\n10 EUR"},
		{URL: srv.URL + "/post/2", Text: "Second post\nLooking for gadgets."},
		{URL: srv.URL + "/", Text: "No link here\nThird, without a permalink."},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d listings, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].URL != want[i].URL || got[i].Text != want[i].Text {
			t.Errorf("listing %d = %q %q, want %q %q", i, got[i].URL, got[i].Text, want[i].URL, want[i].Text)
		}
	}
}

func TestSweepVisibleTextWithoutFields(t *testing.T) {
	srv := httptest.NewServer(shopHandler(t, nil, ""))
	defer srv.Close()
	cfg, err := config.Parse("t.yaml", []byte(fmt.Sprintf(`marketplaces:
  - name: shop
    start_urls: [%q]
    requests_per_second: 1000
    listing: {url_pattern: '/product/3$'}
`, srv.URL+"/product/3")))
	if err != nil {
		t.Fatal(err)
	}
	var sink collector
	if _, err := Sweep(context.Background(), cfg.Marketplaces[0], &sink, Options{}); err != nil {
		t.Fatal(err)
	}
	p := sink.byURL()[srv.URL+"/product/3"]
	if p == nil || len(p.Listings) != 1 {
		t.Fatalf("page = %+v", p)
	}
	text := p.Listings[0].Text
	if !strings.HasPrefix(text, "Product 3 | Test Shop\nHome Back Product number 3 A fine item, number 3. $3.00 vendor-3") {
		t.Errorf("text = %q", text)
	}
	if strings.Contains(text, "tracking") || strings.Contains(text, ".x{}") {
		t.Errorf("text has script or style: %q", text)
	}
}

func TestSweepLimits(t *testing.T) {
	tests := []struct {
		name      string
		extra     string
		wantPages int
		wantSkip  map[string]int
	}{
		{"depth 0", "    max_depth: 0\n", 1, map[string]int{SkipDepth: 1}},
		{"depth 1", "    max_depth: 1\n", 2, map[string]int{SkipDepth: 4}}, // products 1-2, page 2, and / again
		{"max pages 4", "    max_pages: 4\n    concurrency: 1\n", 4, nil},
		{"deny product", "deny", 4, map[string]int{SkipDeny: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log requestLog
			srv := httptest.NewServer(shopHandler(t, &log, ""))
			defer srv.Close()
			var sink collector
			extra := tt.extra
			if extra == "deny" {
				extra = ""
			}
			m := market(t, srv.URL, extra)
			if tt.extra == "deny" {
				m.Deny = append(m.Deny, regexp.MustCompile(`/product/`))
			}
			st, err := Sweep(context.Background(), m, &sink, fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			if st.PagesFetched != tt.wantPages || len(log.paths()) != tt.wantPages {
				t.Errorf("PagesFetched = %d, server saw %v; want %d", st.PagesFetched, log.paths(), tt.wantPages)
			}
			for k, v := range tt.wantSkip {
				if st.SkippedByReason[k] != v {
					t.Errorf("SkippedByReason[%s] = %d, want %d (%v)", k, st.SkippedByReason[k], v, st.SkippedByReason)
				}
			}
			if tt.name == "max pages 4" && st.SkippedByReason[SkipMaxPages] == 0 {
				t.Errorf("SkippedByReason = %v, want max_pages > 0", st.SkippedByReason)
			}
		})
	}
}

func TestSweepRobots(t *testing.T) {
	const robots = "User-agent: *\nDisallow: /product/\n"
	tests := []struct {
		robots    string
		wantPages int
		wantSkip  int
	}{
		{"respect", 4, 6},
		{"ignore", 9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.robots, func(t *testing.T) {
			var log requestLog
			srv := httptest.NewServer(shopHandler(t, &log, robots))
			defer srv.Close()
			var sink collector
			st, err := Sweep(context.Background(), market(t, srv.URL, "    robots: "+tt.robots+"\n"), &sink, fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			if st.PagesFetched != tt.wantPages || st.SkippedByReason[SkipRobots] != tt.wantSkip {
				t.Errorf("PagesFetched = %d, skipped robots = %d; want %d, %d", st.PagesFetched, st.SkippedByReason[SkipRobots], tt.wantPages, tt.wantSkip)
			}
			for _, p := range log.paths() {
				if tt.robots == "respect" && strings.HasPrefix(p, "/product/") {
					t.Errorf("fetched %s despite robots.txt", p)
				}
			}
		})
	}
}

// gateLimiter is a HostLimiter that lets a request through only when the test
// hands it a token, so the test can check that no request bypasses the limiter.
type gateLimiter struct {
	tokens  chan struct{}
	granted atomic.Int64
	hosts   sync.Map
}

func (g *gateLimiter) Wait(ctx context.Context, host string, rps float64, burst int) error {
	g.hosts.Store(host, true)
	select {
	case <-g.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestSweepRateLimiterGatesEveryRequest(t *testing.T) {
	lim := &gateLimiter{tokens: make(chan struct{})}
	var hits, violations atomic.Int64
	inner := shopHandler(t, nil, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) > lim.granted.Load() {
			violations.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			lim.granted.Add(1)
			select {
			case lim.tokens <- struct{}{}:
			case <-stop:
				return
			}
		}
	}()
	opts := fastOpts()
	opts.Limiter = lim
	st, err := Sweep(context.Background(), market(t, srv.URL, ""), &collector{}, opts)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	// 9 pages, the text/plain 404 and robots.txt: every one waited for a token.
	if st.PagesFetched != 9 || violations.Load() != 0 || hits.Load() != 11 {
		t.Errorf("pages %d, hits %d, violations %d; want 9, 11, 0", st.PagesFetched, hits.Load(), violations.Load())
	}
	if _, ok := lim.hosts.Load(srv.Listener.Addr().String()); !ok {
		t.Errorf("limiter not keyed by host %s", srv.Listener.Addr())
	}
}

func TestLimitersShareAndTighten(t *testing.T) {
	var l Limiters
	a := l.limiter("h:1", 10, 5)
	b := l.limiter("h:1", 2, 1) // a second marketplace on the same host, stricter
	if a != b {
		t.Fatal("limiters for one host differ")
	}
	if a.Limit() != 2 || a.Burst() != 1 {
		t.Errorf("limit %v burst %d, want 2, 1", a.Limit(), a.Burst())
	}
	l.limiter("h:1", 100, 50) // looser: no change
	if a.Limit() != 2 || a.Burst() != 1 {
		t.Errorf("loosened to %v, %d", a.Limit(), a.Burst())
	}
	if l.limiter("h:2", 1, 1) == a {
		t.Error("different hosts share a limiter")
	}
	// Token bucket at explicit instants: 1 token at once, the next after 1/rate.
	c := l.limiter("h:3", 4, 1)
	t0 := time.Unix(1000, 0)
	got := []bool{c.AllowN(t0, 1), c.AllowN(t0, 1), c.AllowN(t0.Add(250*time.Millisecond), 1)}
	if !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("allow sequence = %v", got)
	}
}

func TestSweepConcurrencyBound(t *testing.T) {
	var inflight, peak atomic.Int64
	inner := shopHandler(t, nil, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	st, err := Sweep(context.Background(), market(t, srv.URL, "    concurrency: 2\n"), &collector{}, fastOpts())
	if err != nil || st.PagesFetched != 9 {
		t.Fatalf("Sweep: %v, %+v", err, st)
	}
	if peak.Load() > 2 {
		t.Errorf("peak in-flight requests = %d, want <= 2", peak.Load())
	}
}

func TestSweepGzipCapture(t *testing.T) {
	page := readFixture(t, "shop/product-1.html")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(page)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("Accept-Encoding = %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	}))
	defer srv.Close()
	var sink collector
	st, err := Sweep(context.Background(), market(t, srv.URL, "    follow: []\n"), &sink, fastOpts())
	if err != nil || st.PagesFetched != 1 {
		t.Fatalf("Sweep: %v %+v", err, st)
	}
	p := sink.pages[0]
	if !bytes.Equal(p.Body, page) {
		t.Errorf("Body is not the decoded page: %q", p.Body)
	}
	head, body, ok := bytes.Cut(p.Exchange.ResponseBytes, []byte("\r\n\r\n"))
	if !ok || !bytes.Contains(head, []byte("\r\nContent-Encoding: gzip")) {
		t.Fatalf("ResponseBytes head = %q", head)
	}
	if !bytes.Equal(body, gz.Bytes()) {
		t.Errorf("captured body is not the gzip bytes as received (%d vs %d bytes)", len(body), gz.Len())
	}
	if p.Header.Get("Content-Encoding") != "" {
		t.Errorf("Page.Header still has Content-Encoding")
	}
}

func TestSweepCancel(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/" {
			fmt.Fprint(w, `<html><body>`)
			for i := range 50 {
				fmt.Fprintf(w, `<a href="/slow/%d">x</a>`, i)
			}
			fmt.Fprint(w, `</body></html>`)
			return
		}
		served.Add(1)
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sink := &collector{fn: func(p *Page) error {
		go func() {
			for served.Load() < 2 { // both workers are stuck in a fetch
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		return nil
	}}
	front := &MemFrontier{}
	opts := fastOpts()
	opts.Frontier = front
	done := make(chan struct{})
	var st Stats
	var err error
	go func() {
		st, err = Sweep(ctx, market(t, srv.URL, "    concurrency: 2\n    timeout: 60s\n"), sink, opts)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Sweep did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if st.PagesFetched != 1 || st.Market != "shop" || st.Finished.IsZero() {
		t.Errorf("stats = %+v", st)
	}
	c := front.Counts()
	if c.Claimed != 2 || c.Done != 1 || c.Queued != 48 {
		t.Errorf("frontier = %+v, want 2 claimed, 1 done, 48 queued", c)
	}
	// Resume: the claimed URLs go back to the queue.
	if c, _ := front.Resume(context.Background()); c.Claimed != 0 || c.Queued != 50 {
		t.Errorf("after Resume = %+v", c)
	}
}

func TestSweepSinkStop(t *testing.T) {
	srv := httptest.NewServer(shopHandler(t, nil, ""))
	defer srv.Close()
	boom := fmt.Errorf("disk full: %w", ErrStop)
	sink := &collector{fn: func(p *Page) error { return boom }}
	st, err := Sweep(context.Background(), market(t, srv.URL, "    concurrency: 1\n"), sink, fastOpts())
	if !errors.Is(err, ErrStop) || st.PagesFetched != 1 {
		t.Errorf("err = %v, pages = %d; want ErrStop after 1 page", err, st.PagesFetched)
	}
}

func TestSweepCookiesFile(t *testing.T) {
	var log requestLog
	srv := httptest.NewServer(shopHandler(t, &log, ""))
	defer srv.Close()
	dir := t.TempDir()
	cookies := "# Netscape HTTP Cookie File\n" +
		"127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc123\n" +
		"#HttpOnly_127.0.0.1\tFALSE\t/product\tFALSE\t4102444800\tauth\tsecret\n" +
		"127.0.0.1\tFALSE\t/\tFALSE\t1\texpired\tx\n" +
		"other.invalid\tTRUE\t/\tFALSE\t0\tforeign\tx\n"
	if err := os.WriteFile(filepath.Join(dir, "cookies.txt"), []byte(cookies), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("marketplaces:\n  - name: c\n    start_urls: [%q]\n    requests_per_second: 1000\n    cookies_file: cookies.txt\n    listing: {url_pattern: /product/}\n", srv.URL+"/")
	cfg, err := config.Parse(filepath.Join(dir, "m.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sweep(context.Background(), cfg.Marketplaces[0], &collector{}, fastOpts()); err != nil {
		t.Fatal(err)
	}
	for _, r := range log.reqs {
		want := "session=abc123"
		if strings.HasPrefix(r.URL.Path, "/product/") {
			want = "auth=secret; session=abc123"
		}
		if got := r.Header.Get("Cookie"); got != want {
			t.Errorf("%s: Cookie = %q, want %q", r.URL, got, want)
		}
	}
	if len(log.reqs) != 13 { // no deny here: /cart and /login too
		t.Errorf("requests = %d, want 13", len(log.reqs))
	}
}

func TestParseCookiesErrors(t *testing.T) {
	for _, in := range []string{"a\tb\n", "h\tFALSE\t/\tFALSE\tsoon\tn\tv\n", "\tFALSE\t/\tFALSE\t0\tn\tv\n"} {
		if _, err := parseCookies("c.txt", strings.NewReader(in), time.Now()); err == nil || !strings.HasPrefix(err.Error(), "c.txt:1: ") {
			t.Errorf("parseCookies(%q) err = %v, want c.txt:1: ...", in, err)
		}
	}
}

func TestSweepMissingCookiesFile(t *testing.T) {
	m := market(t, "http://127.0.0.1:1", "")
	m.CookiesFile = filepath.Join(t.TempDir(), "nope.txt")
	if _, err := Sweep(context.Background(), m, &collector{}, Options{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Shop.Example:80/a/./b/../c?utm_source=x&b=2&a=1#frag", "http://shop.example/a/c?a=1&b=2"},
		{"https://shop.example:443", "https://shop.example/"},
		{"https://shop.example:8443/p;jsessionid=ABC?fbclid=1&gclid=2", "https://shop.example:8443/p"},
		{"http://user:pw@h/x?b=1&a=2&b=0", "http://h/x?a=2&b=1&b=0"},
		{"http://h/x?", "http://h/x"},
		{"http://h/%7Efoo/bar%2Fbaz", "http://h/%7Efoo/bar%2Fbaz"},
		{"http://[::1]:80/", "http://[::1]/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Canonicalize(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Canonicalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"mailto:a@b", "ftp://h/", "/relative", "javascript:x()"} {
		if _, err := Canonicalize(bad); err == nil {
			t.Errorf("Canonicalize(%q) succeeded", bad)
		}
	}
}

func TestTrapGuard(t *testing.T) {
	g := newTrapGuard(TrapLimits{MaxQueryVariants: 2, MaxPathSegments: 4, MaxSegmentRepeats: 2})
	tests := []struct{ in, want string }{
		{"http://h/cal?m=1", ""},
		{"http://h/cal?m=2", ""},
		{"http://h/cal?m=1", ""}, // seen before
		{"http://h/cal?m=3", SkipTrapQuery},
		{"http://h/other?m=3", ""},
		{"http://h/a/b/c/d", ""},
		{"http://h/a/b/c/d/e", SkipTrapDepth},
		{"http://h/x/y/x/x", SkipTrapRepeat},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.in)
		if got := g.check(u); got != tt.want {
			t.Errorf("check(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestToUTF8(t *testing.T) {
	latin := readFixture(t, "latin1.html")
	tests := []struct {
		name, ct string
		in       []byte
		want     string
	}{
		{"meta charset", "text/html", latin, "Café crème €5"},
		{"sniffed utf-8", "text/html", []byte("<p>Café</p>"), "Café"},
		{"header wins", "text/html; charset=iso-8859-1", []byte("<p>Caf\xe9</p>"), "Café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(toUTF8(tt.in, tt.ct)); !strings.Contains(got, tt.want) {
				t.Errorf("toUTF8 = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestMemFrontier(t *testing.T) {
	ctx := context.Background()
	var f MemFrontier
	added, dropped, _ := f.Add(ctx, []FrontierEntry{{"a", 0}, {"b", 1}, {"a", 0}, {"c", 1}, {"d", 1}, {"c", 1}}, 2)
	if added != 2 || dropped != 2 {
		t.Errorf("Add = %d, %d; want 2 added, 2 dropped", added, dropped)
	}
	e, ok, _ := f.Claim(ctx)
	if !ok || e.URL != "a" {
		t.Errorf("Claim = %v, %v", e, ok)
	}
	f.Done(ctx, "b") // b done while queued (a redirect target)
	if _, ok, _ := f.Claim(ctx); ok {
		t.Error("claimed a done URL")
	}
	if added, _, _ := f.Add(ctx, []FrontierEntry{{"a", 0}, {"b", 0}}, -1); added != 0 {
		t.Errorf("re-added %d known URLs", added)
	}
	c, _ := f.Resume(ctx)
	if c != (FrontierCounts{Queued: 1, Done: 1}) {
		t.Errorf("Resume = %+v", c)
	}
	if e, ok, _ := f.Claim(ctx); !ok || e.URL != "a" || e.Depth != 0 {
		t.Errorf("Claim after resume = %v, %v", e, ok)
	}
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		tb.Fatal(err)
	}
	return tm
}

func TestSweepConditional(t *testing.T) {
	var log requestLog
	inner := shopHandler(t, &log, "")
	lastMod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/product/") {
			// ServeContent-like validators: ETag per path, one Last-Modified for all.
			w.Header().Set("ETag", `"v1`+r.URL.Path+`"`)
			w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
			if r.Header.Get("If-None-Match") == `"v1`+r.URL.Path+`"` {
				w.WriteHeader(http.StatusNotModified)
				log.add(r)
				return
			}
			if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !lastMod.After(ims) && r.Header.Get("If-None-Match") == "" {
				w.WriteHeader(http.StatusNotModified)
				log.add(r)
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var asked sync.Map
	opts := fastOpts()
	opts.Validators = func(u string) (string, string) {
		asked.Store(u, true)
		switch strings.TrimPrefix(u, srv.URL) {
		case "/product/1":
			return `"v1/product/1"`, ""
		case "/product/2":
			return "", lastMod.Format(http.TimeFormat)
		case "/product/3":
			return `"stale"`, ""
		}
		return "", ""
	}
	var sink collector
	st, err := Sweep(context.Background(), market(t, srv.URL, ""), &sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.NotModified != 2 || st.PagesFetched != 9 || st.Listings != 3 {
		t.Errorf("NotModified = %d, PagesFetched = %d, Listings = %d; want 2, 9, 3", st.NotModified, st.PagesFetched, st.Listings)
	}
	if _, ok := asked.Load(srv.URL + "/product/1"); !ok {
		t.Error("Validators not asked with the canonical URL")
	}
	pages := sink.byURL()
	for _, path := range []string{"/product/1", "/product/2"} {
		p := pages[srv.URL+path]
		if p == nil || !p.NotModified || p.Status != 304 || len(p.Listings) != 0 || len(p.Body) != 0 || p.Gate != "" {
			t.Fatalf("%s = %+v, want a NotModified page", path, p)
		}
		if p.Exchange == nil || !bytes.HasPrefix(p.Exchange.ResponseBytes, []byte("HTTP/1.1 304 Not Modified\r\n")) {
			t.Errorf("%s exchange = %+v", path, p.Exchange)
		}
	}
	if p := pages[srv.URL+"/product/3"]; p == nil || p.NotModified || len(p.Listings) != 1 {
		t.Errorf("/product/3 (stale ETag) = %+v, want a full page", p)
	}
	reqs := map[string]*http.Request{}
	for _, r := range log.reqs {
		reqs[r.URL.Path] = r
	}
	if r := reqs["/product/1"]; r == nil || r.Header.Get("If-None-Match") != `"v1/product/1"` || r.Header.Get("If-Modified-Since") != "" {
		t.Errorf("/product/1 request headers = %v", r.Header)
	}
	if r := reqs["/product/2"]; r == nil || r.Header.Get("If-Modified-Since") != lastMod.Format(http.TimeFormat) {
		t.Errorf("/product/2 request headers = %v", r.Header)
	}
	if r := reqs["/"]; r == nil || r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		t.Errorf("/ sent validators: %v", r.Header)
	}
}

func TestSweepConfigGatesAndRetries(t *testing.T) {
	var fails atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><a href="/queue">q</a> <a href="/form">f</a> <a href="/flaky">x</a></html>`)
		case "/queue":
			fmt.Fprint(w, `<html><title>Wait</title><p>You are in the QUEUE, position 7</p></html>`)
		case "/form":
			fmt.Fprint(w, `<html><form class="gatekeeper"><input name="a"></form></html>`)
		case "/flaky":
			fails.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "<h1>oops</h1>")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tests := []struct {
		retries   string
		wantFails int64
	}{{"0", 1}, {"2", 3}}
	for _, tt := range tests {
		t.Run("retries "+tt.retries, func(t *testing.T) {
			fails.Store(0)
			m := market(t, srv.URL, "    retries: "+tt.retries+`
    gates:
      - {name: queue, text: 'you are in the queue'}
      - {name: keeper, selector: form.gatekeeper}
`)
			var sink collector
			st, err := Sweep(context.Background(), m, &sink, fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			pages := sink.byURL()
			if p := pages[srv.URL+"/queue"]; p == nil || p.Gate != "queue" {
				t.Errorf("/queue = %+v, want gate queue", p)
			}
			if p := pages[srv.URL+"/form"]; p == nil || p.Gate != "keeper" {
				t.Errorf("/form = %+v, want gate keeper", p)
			}
			if fails.Load() != tt.wantFails || st.Retries != int(tt.wantFails-1) {
				t.Errorf("/flaky fetched %d times, Retries %d; want %d", fails.Load(), st.Retries, tt.wantFails)
			}
		})
	}
}

// steppingClock returns a clock that advances by step at every call.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

func TestSweepProgressThrottle(t *testing.T) {
	srv := httptest.NewServer(shopHandler(t, nil, ""))
	defer srv.Close()
	frozen := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		now       func() time.Time
		wantCalls int
		wantRate  bool
	}{
		{"frozen clock: first and final", func() time.Time { return frozen }, 2, false},
		{"slow clock: every URL and final", steppingClock(time.Second), 11, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []Progress
			opts := fastOpts()
			opts.Now = tt.now
			opts.Progress = func(p Progress) { calls = append(calls, p) }
			if _, err := Sweep(context.Background(), market(t, srv.URL, ""), &collector{}, opts); err != nil {
				t.Fatal(err)
			}
			if len(calls) != tt.wantCalls {
				t.Fatalf("%d Progress calls, want %d: %+v", len(calls), tt.wantCalls, calls)
			}
			last := calls[len(calls)-1]
			if !last.Final || last.Pages != 9 || last.Listings != 5 || last.Queued != 0 {
				t.Errorf("final progress = %+v", last)
			}
			if (last.Rate > 0) != tt.wantRate {
				t.Errorf("Rate = %v, want > 0: %v", last.Rate, tt.wantRate)
			}
		})
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		"HTTP://Shop.Example:80/a/./b/../c?utm_source=x&b=2&a=1#frag",
		"https://shop.example:8443/p;jsessionid=ABC?fbclid=1&gclid=2",
		"http://user:pw@h/x?b=1&a=2&b=0", "http://h/%7Efoo/bar%2Fbaz", "http://[::1]:80/",
		"http://h/a/%2e%2e/b", "http://h/./?&&a=%zz", "https://h/%41/..;jsessionid=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Canonicalize(raw)
		if err != nil {
			return
		}
		c2, err := Canonicalize(c)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, which does not canonicalize: %v", raw, c, err)
		}
		if c2 != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, c, c2)
		}
	})
}

// A URL the rate limit cannot serve before ctx's deadline is not fetched; it
// must be counted as an error, or the sweep looks complete (and listings it
// did not see would be marked gone).
func TestSweepRateLimitPastDeadlineCounted(t *testing.T) {
	srv := httptest.NewServer(shopHandler(t, nil, ""))
	defer srv.Close()
	m := market(t, srv.URL, "    requests_per_second: 0.01\n    burst: 1\n    robots: ignore\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var c collector
	st, err := Sweep(ctx, m, &c, fastOpts())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if st.PagesFetched != 1 {
		t.Errorf("PagesFetched = %d, want 1 (the start page; the next slot is after the deadline)", st.PagesFetched)
	}
	if got := st.ErrorsByKind[ErrKindTimeout]; got == 0 || st.Errors == 0 {
		t.Errorf("ErrorsByKind[timeout] = %d, Errors = %d; want the URLs not fetched counted", got, st.Errors)
	}
}
