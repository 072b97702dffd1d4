package sweep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

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
