package sweep

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/store"
)

// A classifieds board paginated with ?page=N, newest ads first, swept with
// a depth limit that reaches only its first pages. New ads between two
// sweeps push older, still live ads onto pages the second sweep cannot
// reach: they must not be marked gone, and the summary must say why.
func TestGoneOnlyAfterFullCoverage(t *testing.T) {
	const perPage = 10
	var mu sync.Mutex
	ads := 30 // ads 1..ads, newest (highest) first
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := ads
		mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Path != "/board" || page < 1 {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		for i := 0; i < perPage; i++ {
			id := n - (page-1)*perPage - i
			if id < 1 {
				break
			}
			fmt.Fprintf(&b, `<div class="ad"><h2>Desk lamp %d</h2><p class="text">Brass lamp, $%d.</p><a class="permalink" href="/ad/%d">ad</a></div>`, id, 20+id, id)
		}
		if page*perPage < n {
			fmt.Fprintf(&b, `<a class="next" href="/board?page=%d">next</a>`, page+1)
		}
		fmt.Fprint(w, b.String())
	}))
	defer srv.Close()

	markets := func(t *testing.T, maxDepth int) []config.Market {
		cfg, err := config.Parse("board.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
marketplaces:
  - name: board
    start_urls: ["%s/board?page=1"]
    max_depth: %d
    follow: ["a.next"]
    listing:
      item: "div.ad"
      fields: {title: "h2", description: "p.text", url: "a.permalink@href"}
`, srv.URL, maxDepth)))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Marketplaces
	}
	r, db := testRunner(t)
	ctx := context.Background()

	// Sweep 1 reaches pages 1 and 2 (depth 0 and 1): ads 30..11.
	first, err := r.Run(ctx, markets(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if m := first.Markets[0]; m.NewListings != 20 || m.GoneListings != 0 || !strings.Contains(m.GoneNotChecked, "beyond max_depth") {
		t.Fatalf("first sweep: new %d gone %d, not checked %q", m.NewListings, m.GoneListings, m.GoneNotChecked)
	}
	// Ten new ads push ads 20..11 onto page 3, beyond the depth limit.
	mu.Lock()
	ads = 40
	mu.Unlock()
	second, err := r.Run(ctx, markets(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	m := second.Markets[0]
	if m.NewListings != 10 || m.GoneListings != 0 {
		t.Errorf("second sweep: new %d gone %d; want 10 new and none gone", m.NewListings, m.GoneListings)
	}
	if want := "links beyond max_depth"; !strings.Contains(m.GoneNotChecked, want) || m.Crawl.SkippedByReason[crawler.SkipDepth] == 0 {
		t.Errorf("second sweep: gone not checked %q, want the reason %q", m.GoneNotChecked, want)
	}
	gone := 0
	db.ListingRowsEach(ctx, store.ListingFilter{GoneOnly: true}, func(store.Listing) error { gone++; return nil })
	if gone != 0 {
		t.Errorf("%d live listings marked gone", gone)
	}

	// A sweep that covers the whole board marks a removed ad gone, and only it.
	mu.Lock()
	ads = 39 // ad 40 is taken down; the rest shift up
	mu.Unlock()
	full, err := r.Run(ctx, markets(t, 100))
	if err != nil {
		t.Fatal(err)
	}
	if m := full.Markets[0]; m.GoneNotChecked != "" || m.GoneListings != 1 {
		t.Errorf("covering sweep: gone %d, not checked %q; want 1 gone", m.GoneListings, m.GoneNotChecked)
	}
}

// One page the store would refuse is rejected and counted alone: the pages
// queued with it are stored and the sweep goes on.
func TestInvalidPageRejectedAlone(t *testing.T) {
	r, db := testRunner(t)
	ctx := context.Background()
	id, err := db.BeginSweep(ctx, []string{"shop"}, "sha256:x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(id, r.Classifier, "sha256:x", slog.New(slog.DiscardHandler))
	w.journal = newJournal(db, w.committed)
	go w.journal.run(ctx)
	page := func(u string, at time.Time) *crawler.Page {
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
		return &crawler.Page{Market: "shop", URL: u, Status: 200, FetchedAt: at,
			Exchange: &crawler.Exchange{Method: "GET", URL: u, Status: 200, FetchedAt: at,
				RequestBytes: []byte("GET / HTTP/1.1\r\n\r\n"), ResponseBytes: []byte(resp)},
			Listings: []crawler.Listing{{URL: u, Fields: map[string]string{"title": "Desk lamp"}, Text: "Desk lamp"}}}
	}
	now := time.Now()
	for i, p := range []*crawler.Page{page("https://shop.test/p/1", now), page("https://shop.test/p/2", time.Time{}), page("https://shop.test/p/3", now)} {
		if err := w.HandlePage(ctx, p); err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
	}
	if err := w.journal.close(); err != nil {
		t.Fatalf("the group commit failed: %v", err)
	}
	res := MarketResult{Market: "shop"}
	w.fill(&res)
	if res.RejectedPages != 1 || res.NewListings != 2 {
		t.Errorf("rejected %d, new listings %d; want 1 and 2", res.RejectedPages, res.NewListings)
	}
	if why := uncovered(crawler.Stats{}, res.RejectedPages); !strings.Contains(why, "1 pages rejected") {
		t.Errorf("coverage = %q", why)
	}
}
