package discover

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"snoop/classify"
	"snoop/config"
	"snoop/rules"
	"snoop/store"
	"snoop/sweep"
)

func TestSites(t *testing.T) {
	page, _ := url.Parse("https://shop.example/p/1")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(`<html><body>
<a href="/p/2">own</a> <a href="https://www.shop.example/x">own www</a>
<a href="https://mirror-shop.co.uk/catalog?x=1">mirror</a> <a href="http://sub.mirror-shop.co.uk/">mirror again</a>
<a href="https://t.me/IsoKing_Shop">telegram</a> <a href="https://t.me/s/IsoKing_Shop/12">telegram post</a> <a href="https://t.me/+AbCdEf">invite</a>
<a href="http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion/market">onion</a>
<a href="https://www.google.com/search?q=x">google</a> <a href="https://known-market.example/">known</a> <a href="mailto:x@y.example">mail</a>
</body></html>`))
	got := Sites(doc, page, func(k string) bool { return k == "known-market.example" })
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Key+" "+s.StartURL)
	}
	want := []string{
		"mirror-shop.co.uk https://mirror-shop.co.uk/",
		"t.me/isoking_shop https://t.me/s/IsoKing_Shop",
		"abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion/",
	}
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}

// TestCollectorRecordsSitesLinkedFromHits sweeps a shop whose offer page
// links to the vendor's other shop and channel; an ordinary page's links
// are not recorded.
func TestCollectorRecordsSitesLinkedFromHits(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="/p/1">1</a> <a href="/p/2">2</a>`)
		case "/p/1":
			fmt.Fprint(w, `<html><body><main><h1>Isotonitazene powder 5g for sale</h1><p class="price">$250.00</p>
<p class="description">Isotonitazene, 99% pure, stealth shipping worldwide, bulk discounts. Order on our other shop
<a href="https://iso-king-shop.example/">iso-king-shop</a> or on <a href="https://t.me/isoking">Telegram</a>.</p></main></body></html>`)
		case "/p/2":
			fmt.Fprint(w, `<html><body><main><h1>Oak dining table</h1><p class="price">$650.00</p>
<p class="description">Solid oak. See <a href="https://furniture-blog.example/">our blog</a>.</p></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg, err := config.Parse("c.yaml", []byte(fmt.Sprintf(`defaults: {requests_per_second: 1000, burst: 100, robots: ignore}
marketplaces:
  - name: shop
    start_urls: ["%s/"]
    listing: auto
  - name: known
    start_urls: ["https://t.me/s/isoking"]
    listing: auto
`, srv.URL)))
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
	col := &Collector{DB: db, Config: cfg}
	runner := &sweep.Runner{DB: db, Classifier: c, RuleVersion: rs.Version(), AfterSweep: col.AfterSweep}
	for range 2 {
		if _, err := runner.Run(context.Background(), cfg.Marketplaces[:1]); err != nil {
			t.Fatal(err)
		}
		runner.Fresh = true
	}
	ds, err := db.DiscoveredSites(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Site != "iso-king-shop.example" || ds[0].Market != "shop" || ds[0].SourceURL != srv.URL+"/p/1" ||
		ds[0].Sightings != 2 || ds[0].Status != store.DiscoveredNew || ds[0].StartURL != "https://iso-king-shop.example/" {
		t.Errorf("discovered %+v", ds)
	}
	if !ds[0].LastSeen.After(time.Time{}) {
		t.Error("no last_seen")
	}
}
