package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"snoop/alert"
	"snoop/classify"
	"snoop/config"
	"snoop/rules"
	"snoop/store"
	"snoop/sweep"
)

func full(listings int) Sample {
	return Sample{Pages: listings + 3, Listings: listings, Stored: listings,
		Fill: map[string]float64{"title": 1, "price": 1, "vendor": 0.9, "description": 1}}
}

func TestAssess(t *testing.T) {
	history := []Sample{full(40), full(42), full(38)}
	tests := []struct {
		name   string
		cur    Sample
		hist   []Sample
		status string
		kinds  string
	}{
		{"steady", full(41), history, "ok", ""},
		{"first sweep", Sample{Pages: 3}, nil, "ok", ""},
		{"zero listings", Sample{Pages: 12}, history, "bad", "no_listings"},
		{"dropped", full(6), history, "warn", "listings_dropped"},
		{"price empty", func() Sample {
			s := full(40)
			s.Fill["price"] = 0.05
			return s
		}(), history, "bad", "field_empty"},
		{"login gate", Sample{Pages: 4, Gates: map[string]int{"login": 4}}, history, "bad", "gate,no_listings"},
		{"some captchas", func() Sample { s := full(40); s.Gates = map[string]int{"captcha": 2}; return s }(), history, "warn", "gate"},
		{"failed", Sample{Failed: "dial tcp: connection refused", Errors: 1}, history, "bad", "failed,errors"},
		{"many errors", func() Sample { s := full(40); s.Errors = 30; return s }(), history, "warn", "errors"},
		{"failed history is no baseline", Sample{Pages: 2}, []Sample{{Failed: "x"}}, "ok", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Assess(tt.cur, tt.hist)
			var kinds []string
			for _, p := range r.Problems {
				kinds = append(kinds, p.Kind)
			}
			if r.Status != tt.status || strings.Join(kinds, ",") != tt.kinds {
				t.Errorf("got %s %v, want %s %s (%+v)", r.Status, kinds, tt.status, tt.kinds, r.Problems)
			}
		})
	}
}

// fixture is a small shop whose product markup can change between sweeps.
type fixture struct {
	redesigned atomic.Bool
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		fmt.Fprint(w, `<html><body><h1>Shop</h1>`)
		for i := 1; i <= 8; i++ {
			fmt.Fprintf(w, `<a href="/product/%d">Product %d</a> `, i, i)
		}
		fmt.Fprint(w, `</body></html>`)
		return
	}
	var id int
	if _, err := fmt.Sscanf(r.URL.Path, "/product/%d", &id); err != nil || id < 1 || id > 8 {
		http.NotFound(w, r)
		return
	}
	if f.redesigned.Load() {
		// The new theme shows the price as an image and moved the seller into a script.
		fmt.Fprintf(w, `<html><body><div class="pdp"><div class="pdp-name">Lab glass set %d</div><img alt="" src="/price/%d.png"></div></body></html>`, id, id)
		return
	}
	fmt.Fprintf(w, `<html><body><main><h1>Lab glass set %d</h1><p class="price">$%d.50</p><p class="description">Borosilicate glassware, set number %d.</p>
<p>Seller: <span class="seller-name">GlassCo</span></p></main></body></html>`, id, 10+id, id)
}

func TestHealthAlertFiresWhenMarkupChanges(t *testing.T) {
	site := &fixture{}
	srv := httptest.NewServer(site)
	defer srv.Close()

	var mu sync.Mutex
	var posts []alert.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev alert.Event
		json.Unmarshal(b, &ev)
		mu.Lock()
		posts = append(posts, ev)
		mu.Unlock()
	}))
	defer hook.Close()

	cfg, err := config.Parse("shop.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
  robots: ignore
alerts:
  on: [health]
  retries: 1
  webhooks:
    - url: %s/hook
marketplaces:
  - name: glass
    start_urls: ["%s/"]
    listing: auto
    kind: shop
`, hook.URL, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	mon := &Monitor{DB: db, Notifier: &alert.Notifier{Config: cfg.Alerts, Record: db, Backoff: time.Millisecond}}
	runner := &sweep.Runner{DB: db, Classifier: c, RuleVersion: rs.Version(), AfterSweep: mon.AfterSweep, Fresh: true,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }}

	for i := range 2 {
		if _, err := runner.Run(context.Background(), cfg.Marketplaces); err != nil {
			t.Fatalf("sweep %d: %v", i+1, err)
		}
	}
	latest, err := db.LatestHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h := latest["glass"]; h.Status != store.HealthOK {
		t.Fatalf("before the redesign: health %s %s", h.Status, h.Report)
	}
	mu.Lock()
	if len(posts) != 0 {
		t.Errorf("alerts before the redesign: %+v", posts)
	}
	mu.Unlock()

	site.redesigned.Store(true)
	if _, err := runner.Run(context.Background(), cfg.Marketplaces); err != nil {
		t.Fatalf("sweep 3: %v", err)
	}
	latest, _ = db.LatestHealth(context.Background())
	h := latest["glass"]
	if h.Status != store.HealthBad || !strings.Contains(string(h.Report), "no_listings") {
		t.Errorf("after the redesign: health %s %s", h.Status, h.Report)
	}
	mu.Lock()
	if len(posts) != 1 || posts[0].Kind != config.EventHealth || posts[0].Market != "glass" || !strings.Contains(posts[0].Text, "no listings") {
		t.Errorf("alerts after the redesign: %+v", posts)
	}
	mu.Unlock()

	// A fourth sweep that is still bad for the same reason does not alert again.
	if _, err := runner.Run(context.Background(), cfg.Marketplaces); err != nil {
		t.Fatalf("sweep 4: %v", err)
	}
	mu.Lock()
	if len(posts) != 1 {
		t.Errorf("%d alerts after a repeat, want 1", len(posts))
	}
	mu.Unlock()
	sent, _ := db.AlertsSince(context.Background(), time.Time{}, 10)
	if len(sent) != 1 || sent[0].Status != store.AlertSent {
		t.Errorf("recorded alerts %+v", sent)
	}
}

func TestFieldEmptyAlertAfterPartialRedesign(t *testing.T) {
	history := []Sample{full(8), full(8)}
	cur := full(8)
	cur.Fill["price"] = 0
	cur.Fill["vendor"] = 0.125
	r := Assess(cur, history)
	var msgs []string
	for _, p := range r.Problems {
		msgs = append(msgs, p.Message)
	}
	if r.Status != store.HealthBad || len(r.Problems) != 2 || !strings.HasPrefix(msgs[0], "price is empty on 100% of 8 listings") || !strings.HasPrefix(msgs[1], "vendor is empty on 88%") {
		t.Errorf("got %s %q", r.Status, msgs)
	}
}

// TestFieldEmptyAlertWhenSelectorBreaks: with hand-written selectors, a
// redesign that renames the price element leaves the listings in place but
// their price empty, and the health alert says which field broke.
func TestFieldEmptyAlertWhenSelectorBreaks(t *testing.T) {
	var renamed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			for i := 1; i <= 6; i++ {
				fmt.Fprintf(w, `<a href="/p/%d">%d</a> `, i, i)
			}
			return
		}
		class := "price"
		if renamed.Load() {
			class = "pdp-amount"
		}
		fmt.Fprintf(w, `<html><body><h1>Item %s</h1><span class="%s">$%s.00</span><span class="vendor">GlassCo</span></body></html>`,
			r.URL.Path[3:], class, r.URL.Path[3:])
	}))
	defer srv.Close()
	var got []string
	var mu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		json.NewDecoder(r.Body).Decode(&msg)
		mu.Lock()
		got = append(got, msg.Text)
		mu.Unlock()
	}))
	defer hook.Close()
	cfg, err := config.Parse("shop.yaml", []byte(fmt.Sprintf(`defaults: {requests_per_second: 1000, burst: 100, robots: ignore}
alerts:
  webhooks: [{url: "%s/hook", format: slack}]
marketplaces:
  - name: glass
    start_urls: ["%s/"]
    listing:
      url_pattern: '/p/\d+$'
      fields: {title: h1, price: .price, vendor: .vendor}
`, hook.URL, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := rules.Default()
	c, _ := classify.New(rs)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mon := &Monitor{DB: db, Notifier: &alert.Notifier{Config: cfg.Alerts, Record: db, Backoff: time.Millisecond}}
	runner := &sweep.Runner{DB: db, Classifier: c, RuleVersion: rs.Version(), AfterSweep: mon.AfterSweep, Fresh: true}
	for i := range 3 {
		if i == 2 {
			renamed.Store(true)
		}
		if _, err := runner.Run(context.Background(), cfg.Marketplaces); err != nil {
			t.Fatalf("sweep %d: %v", i+1, err)
		}
	}
	latest, _ := db.LatestHealth(context.Background())
	if h := latest["glass"]; h.Status != store.HealthBad || !strings.Contains(string(h.Report), `"field_empty"`) {
		t.Fatalf("health %s %s", h.Status, h.Report)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0], "*marketplace glass needs attention*") || !strings.Contains(got[0], "price is empty on 100% of 6 listings") {
		t.Fatalf("alerts %q, want one about the price", got)
	}
	sent, _ := db.AlertsSince(context.Background(), time.Time{}, 10)
	if len(sent) != 1 || sent[0].Status != store.AlertSent || sent[0].Market != "glass" {
		t.Errorf("recorded %+v", sent)
	}
}
