package sweep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"snoop/config"
	"snoop/screenshot"
	"snoop/store"
)

// countingServer records every request it gets.
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+r.URL.RequestURI())
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// realShooter starts headless Chromium for a test, or skips the test when
// it is missing (fails instead when SNOOP_REQUIRE_CHROMIUM=1).
func realShooter(t *testing.T) NewShooterFunc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := screenshot.New(ctx, screenshot.Options{})
	if err != nil {
		if os.Getenv("SNOOP_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("chromium required (SNOOP_REQUIRE_CHROMIUM=1): %v", err)
		}
		t.Skipf("chromium not usable: %v", err)
	}
	probe.Close()
	return func(ctx context.Context, m config.Market) (Shooter, error) {
		return screenshot.New(ctx, screenshot.Options{Proxy: m.Proxy, Timeout: 20 * time.Second})
	}
}

// An item whose permalink points off the marketplace (here another server on
// loopback, standing for 169.254.169.254 or an internal service) never
// becomes a listing or a hit, and nothing fetches it: not the crawler, not the
// screenshot browser. The refusal is counted in the sweep's results.
func TestOffScopePermalinkNeverFetched(t *testing.T) {
	off := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h2>Carfentanil 10 g</h2></body></html>`)
	})
	board := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `<html><body>
<div class="post"><h2>Isotonitazene powder 5 g, stealth shipping</h2><a class="p" href="/post/1">#</a></div>
<div class="post"><h2>Carfentanil 10 g in stock, escrow accepted</h2><a class="p" href="%s/latest/meta-data/">#</a></div>
<div class="post"><h2>Metonitazene 1 g wickr only</h2><a class="p" href="javascript:fetch('%s/js')">#</a></div>
</body></html>`, off.URL, off.URL)
		case "/post/1":
			fmt.Fprint(w, `<html><body><h2>Isotonitazene powder 5 g</h2></body></html>`)
		default:
			http.NotFound(w, r)
		}
	})
	cfg, err := config.Parse("board.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
marketplaces:
  - name: board
    start_urls: ["%s/"]
    follow: []
    screenshots: true
    listing:
      item: div.post
      fields: {title: h2, url: "a.p@href"}
`, board.URL)))
	if err != nil {
		t.Fatal(err)
	}
	r, db := testRunner(t)
	r.Screenshots = realShooter(t)
	res, err := r.Run(context.Background(), cfg.Marketplaces)
	if err != nil {
		t.Fatal(err)
	}
	if got := off.seen(); len(got) != 0 {
		t.Errorf("the off-scope server got %d requests, want none: %q", len(got), got)
	}
	rejected := res.Markets[0].Crawl.ListingURLsRejected
	if rejected["offsite"] != 1 || rejected["scheme"] != 1 {
		t.Errorf("ListingURLsRejected = %v, want offsite=1 scheme=1", rejected)
	}
	hits, err := db.Hits(context.Background(), store.HitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].URL != board.URL+"/post/1" {
		t.Fatalf("hits = %+v, want only the in-scope listing %s/post/1", hits, board.URL)
	}
	shot, err := db.LatestScreenshot(context.Background(), hits[0].ID)
	if err != nil {
		t.Fatalf("screenshot of the in-scope hit: %v", err)
	}
	if shot.URL != board.URL+"/post/1" {
		t.Errorf("screenshot URL = %s, want %s/post/1", shot.URL, board.URL)
	}
}
