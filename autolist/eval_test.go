package autolist_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"snoop/config"
	"snoop/crawler"
)

// builders make each generated site once its server's base URL is known.
var builders = []struct {
	name  string
	build func(tb testing.TB, base string) *site
}{
	{"woocommerce", func(tb testing.TB, base string) *site {
		return shopSite(tb, 1, "Apex Research Store", shopSpec{platform: "woocommerce",
			product: func(o offer) string { return "/product/" + o.Slug + "/" },
			alt:     func(o offer) string { return "/shop/research-chemicals/" + o.Slug + "/" },
			home:    "/", category: "/product-category/research-chemicals/", search: "/?s=nitazene&post_type=product",
			cart: "/cart/", login: "/my-account/", blog: "/blog/", info: []string{"/about/", "/shipping/", "/faq/"},
			jsonld: true, vendorField: true, currencies: []string{"USD", "EUR"}}, base)
	}},
	{"woocommerce-plain", func(tb testing.TB, base string) *site {
		return shopSite(tb, 2, "Chem Direct", shopSpec{platform: "woocommerce",
			product: func(o offer) string { return "/product/" + o.Slug + "/" },
			alt:     func(o offer) string { return "/shop/opioids/" + o.Slug + "/" },
			home:    "/", category: "/product-category/research-chemicals/", search: "/?s=nitazene&post_type=product",
			cart: "/cart/", login: "/my-account/", blog: "/blog/", info: []string{"/about/", "/shipping/", "/faq/"},
			vendorField: false, currencies: []string{"GBP", "USD"}}, base)
	}},
	{"shopify", func(tb testing.TB, base string) *site {
		return shopSite(tb, 3, "Pure Lab Supply", shopSpec{platform: "shopify",
			product: func(o offer) string { return "/products/" + o.Slug },
			alt:     func(o offer) string { return "/collections/all/products/" + o.Slug },
			home:    "/", category: "/collections/all", search: "/search?q=nitazene", cart: "/cart", login: "/account/login",
			blog: "/blogs/news", info: []string{"/pages/about-us", "/pages/shipping", "/pages/faq"},
			vendorField: true, currencies: []string{"USD", "EUR"}}, base)
	}},
	{"magento", func(tb testing.TB, base string) *site {
		return shopSite(tb, 4, "Magento Chem", shopSpec{platform: "magento",
			product: func(o offer) string { return "/" + o.Slug + ".html" },
			alt:     func(o offer) string { return "/research-chemicals/" + o.Slug + ".html" },
			home:    "/", category: "/research-chemicals.html", search: "/catalogsearch/result/?q=fentanyl", cart: "/checkout/cart/",
			login: "/customer/account/login/", blog: "/blog/new-arrivals", info: []string{"/about-us", "/shipping", "/faq"},
			vendorField: true, currencies: []string{"USD", "GBP"}}, base)
	}},
	{"prestashop", func(tb testing.TB, base string) *site {
		return shopSite(tb, 5, "Chimie Shop", shopSpec{platform: "prestashop",
			product: func(o offer) string { return fmt.Sprintf("/produits-chimiques/%d-%s.html", o.ID, o.Slug) },
			home:    "/", category: "/3-produits-chimiques", search: "/recherche?controller=search&s=fentanyl", cart: "/panier?action=show",
			login: "/connexion", blog: "/blog/nouveautes", info: []string{"/content/4-a-propos", "/content/1-livraison", "/content/7-faq"},
			vendorField: true, currencies: []string{"EUR"}}, base)
	}},
	{"opencart", func(tb testing.TB, base string) *site {
		return shopSite(tb, 6, "OC Research", shopSpec{platform: "opencart",
			product: func(o offer) string { return fmt.Sprintf("/index.php?route=product/product&product_id=%d", o.ID) },
			alt: func(o offer) string {
				return fmt.Sprintf("/index.php?route=product/product&path=20&product_id=%d", o.ID)
			},
			home: "/index.php?route=common/home", category: "/index.php?route=product/category&path=20",
			search: "/index.php?route=product/search&search=fentanyl", cart: "/index.php?route=checkout/cart",
			login: "/index.php?route=account/login", blog: "/index.php?route=extension/blog/article&article_id=2",
			info:        []string{"/index.php?route=information/information&information_id=4", "/index.php?route=information/information&information_id=6", "/index.php?route=information/information&information_id=7"},
			vendorField: true, currencies: []string{"USD"}}, base)
	}},
	{"b2b-chemical", func(tb testing.TB, base string) *site {
		return shopSite(tb, 7, "ChemTrade B2B", shopSpec{platform: "b2b-chemical",
			product: func(o offer) string { return fmt.Sprintf("/product/cas-%d-%s.html", o.ID, o.Slug) },
			home:    "/products/", category: "/products/", search: "/search/?keyword=nitazene", cart: "/buyer/inquiry-basket.html",
			login: "/member/login.html", blog: "/news/industry-update.html", info: []string{"/help/about-us.html", "/help/shipping.html", "/help/faq.html"},
			vendorField: true, currencies: []string{"USD"}}, base)
	}},
	{"microdata", func(tb testing.TB, base string) *site {
		return shopSite(tb, 8, "Micro Pharma", shopSpec{platform: "microdata",
			product: func(o offer) string { return "/item/" + o.Slug },
			alt:     func(o offer) string { return "/catalog/opioids/item/" + o.Slug },
			home:    "/", category: "/catalog/opioids", search: "/find?q=fentanyl", cart: "/basket", login: "/signin",
			blog: "/news/2026-restock", info: []string{"/pages/about", "/pages/shipping", "/faq"},
			vendorField: true, currencies: []string{"EUR", "BTC"}}, base)
	}},
	{"phpbb", func(tb testing.TB, base string) *site {
		return forumSite(tb, 9, "Research Board", forumSpec{platform: "phpbb",
			index: "/index.php", forum: "/viewforum.php?f=2", login: "/ucp.php?mode=login", search: "/search.php?keywords=nitazene",
			info:      []string{"/app.php/help/faq"},
			thread:    func(t thread) string { return fmt.Sprintf("/viewtopic.php?t=%d", t.ID) },
			threadAlt: func(t thread) string { return fmt.Sprintf("/viewtopic.php?f=2&t=%d", t.ID) },
			permalink: func(t thread, p post) string { return fmt.Sprintf("/viewtopic.php?p=%d", p.ID) },
			subjects:  true}, base)
	}},
	{"xenforo", func(tb testing.TB, base string) *site {
		return forumSite(tb, 10, "Xen Market", forumSpec{platform: "xenforo",
			index: "/", forum: "/forums/marketplace.2/", login: "/login/", search: "/search/?q=nitazene", info: []string{"/help/"},
			thread:    func(t thread) string { return fmt.Sprintf("/threads/%s.%d/", t.Slug, t.ID) },
			permalink: func(t thread, p post) string { return fmt.Sprintf("/posts/%d/", p.ID) }}, base)
	}},
	{"vbulletin", func(tb testing.TB, base string) *site {
		return forumSite(tb, 11, "vB Trade", forumSpec{platform: "vbulletin",
			index: "/forum.php", forum: "/forumdisplay.php?f=3", login: "/login.php?do=login", search: "/search.php?do=getnew&contenttype=vBForum_Post",
			info:      []string{"/faq.php", "/sendmessage.php"},
			thread:    func(t thread) string { return fmt.Sprintf("/showthread.php?t=%d", t.ID) },
			permalink: func(t thread, p post) string { return fmt.Sprintf("/showthread.php?p=%d", p.ID) },
			subjects:  true}, base)
	}},
	{"discourse", func(tb testing.TB, base string) *site {
		return forumSite(tb, 12, "Disco Forum", forumSpec{platform: "discourse",
			index: "/", forum: "/c/market/5", login: "/login", search: "/search?q=nitazene", info: []string{"/guidelines", "/tos", "/privacy", "/categories"},
			thread:    func(t thread) string { return fmt.Sprintf("/t/%s/%d", t.Slug, t.ID) },
			permalink: func(t thread, p post) string { return fmt.Sprintf("/t/%s/%d/%d", t.Slug, t.ID, p.Position) }}, base)
	}},
	{"plainshop", func(tb testing.TB, base string) *site {
		return shopSite(tb, 15, "Nordic Research Supply", shopSpec{platform: "plainshop",
			product: func(o offer) string { return "/catalog/item-" + fmt.Sprint(o.ID) },
			home:    "/", category: "/catalog/", search: "/catalog/?q=nitazene", cart: "/basket", login: "/user/login",
			blog: "/news/", info: []string{"/info/about", "/info/delivery", "/info/faq"},
			vendorField: false, currencies: []string{"USD", "GBP"}}, base)
	}},
	{"market", func(tb testing.TB, base string) *site {
		s := shopSite(tb, 16, "Opium Bazaar", shopSpec{platform: "market",
			product: func(o offer) string { return fmt.Sprintf("/listing/%d", o.ID) },
			home:    "/", category: "/category/opioids", search: "/search?term=fent", cart: "/cart", login: "/login",
			blog: "/news/fees", info: []string{"/faq", "/rules", "/register"},
			vendorField: true, currencies: []string{"USD", "BTC"}}, base)
		s.kind = "market"
		return s
	}},
	{"telegram", func(tb testing.TB, base string) *site { return telegramSite(tb, 13, base) }},
	{"classifieds", func(tb testing.TB, base string) *site { return classifiedsSite(tb, 14, base) }},
	{"classifieds-no-kind", func(tb testing.TB, base string) *site {
		s := classifiedsSite(tb, 18, base)
		s.kind = "" // the ads' descriptions and sellers tell them from product cards
		return s
	}},
}

// sweepSite crawls a generated site with `listing: auto` and returns every
// listing seen, by URL (each URL's versions in the order seen).
func sweepSite(tb testing.TB, s *site, base string) (map[string][]crawler.Listing, map[string]bool) {
	tb.Helper()
	kind := ""
	if s.kind != "" {
		kind = "    kind: " + s.kind + "\n"
	}
	tpl := ""
	if s.template != "" {
		tpl = "    template: " + s.template + "\n"
	}
	if s.platform == "telegram" {
		// A channel preview (t.me/s/NAME) links each message at its
		// permalink on t.me; here the preview is served on loopback, so
		// the permalinks' host is allowed as an analyst would allow it.
		tpl += fmt.Sprintf("    allow: [%q, '^https://t\\.me/']\n", "^"+regexp.QuoteMeta(base))
	}
	starts := make([]string, len(s.start))
	for i, u := range s.start {
		starts[i] = fmt.Sprintf("%q", u)
	}
	src := fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
  concurrency: 1
  timeout: 5s
  retries: 0
  robots: ignore
marketplaces:
  - name: %s
    start_urls: [%s]
    listing: auto
%s%s`, slug(s.name), strings.Join(starts, ", "), kind, tpl)
	cfg, err := config.Parse("eval.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("config: %v\n%s", err, src)
	}
	var mu sync.Mutex
	got := map[string][]crawler.Listing{}
	fetched := map[string]bool{}
	sink := crawler.SinkFunc(func(_ context.Context, p *crawler.Page) error {
		mu.Lock()
		defer mu.Unlock()
		fetched[p.URL] = true
		for _, l := range p.Listings {
			got[l.URL] = append(got[l.URL], l)
		}
		return nil
	})
	if _, err := crawler.Sweep(context.Background(), cfg.Marketplaces[0], sink, crawler.Options{}); err != nil {
		tb.Fatalf("sweep %s: %v", s.name, err)
	}
	return got, fetched
}

// score counts, over all sites, what automatic mode got right.
type score struct {
	tp, fp, fn                 int
	titleOK, priceOK, vendorOK int
	titleN, priceN, vendorN    int
	misses                     []string
}

func (s score) precision() float64 { return ratio(s.tp, s.tp+s.fp) }
func (s score) recall() float64    { return ratio(s.tp, s.tp+s.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func sameAmount(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func (sc *score) add(siteName string, want []expected, got map[string][]crawler.Listing) {
	wantBy := map[string]expected{}
	for _, w := range want {
		c, _ := crawler.Canonicalize(w.URL)
		wantBy[c] = w
	}
	for u := range got {
		if _, ok := wantBy[u]; !ok {
			sc.fp++
			sc.misses = append(sc.misses, fmt.Sprintf("%s: not a listing: %s (%q)", siteName, u, got[u][0].Fields["title"]))
		}
	}
	for u, w := range wantBy {
		versions, ok := got[u]
		if !ok {
			sc.fn++
			sc.misses = append(sc.misses, fmt.Sprintf("%s: missed %s (%q)", siteName, u, w.Title))
			continue
		}
		sc.tp++
		sc.titleN++
		titleOK, priceOK, vendorOK := true, true, true
		for _, l := range versions {
			f := l.Fields
			titleOK = titleOK && norm(f["title"]) == norm(w.Title)
			amount, cur, _ := strings.Cut(f["price"], " ")
			priceOK = priceOK && sameAmount(amount, w.Amount) && cur == w.Currency
			vendorOK = vendorOK && norm(f["vendor"]) == norm(w.Vendor)
		}
		if titleOK {
			sc.titleOK++
		} else {
			sc.misses = append(sc.misses, fmt.Sprintf("%s: %s title %q, want %q", siteName, u, versions[len(versions)-1].Fields["title"], w.Title))
		}
		if w.Amount != "" {
			sc.priceN++
			if priceOK {
				sc.priceOK++
			} else {
				sc.misses = append(sc.misses, fmt.Sprintf("%s: %s price %q, want %s %s", siteName, u, versions[len(versions)-1].Fields["price"], w.Amount, w.Currency))
			}
		}
		if w.Vendor != "" {
			sc.vendorN++
			if vendorOK {
				sc.vendorOK++
			} else {
				sc.misses = append(sc.misses, fmt.Sprintf("%s: %s vendor %q, want %q", siteName, u, versions[len(versions)-1].Fields["vendor"], w.Vendor))
			}
		}
	}
}

// TestAutoModeOnGeneratedSites sweeps every generated site with `listing:
// auto` and no selectors, and holds automatic mode to its targets: listing
// detection precision and recall ≥ 0.95, titles ≥ 0.95, prices with
// currency ≥ 0.90, vendors ≥ 0.85.
func TestAutoModeOnGeneratedSites(t *testing.T) {
	var total score
	for _, b := range builders {
		var s *site
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeHTTP(w, r) }))
		s = b.build(t, srv.URL)
		got, fetched := sweepSite(t, s, srv.URL)
		srv.Close()
		for _, n := range s.negatives {
			if c, _ := crawler.Canonicalize(srv.URL + n); !fetched[c] {
				t.Errorf("%s: page %s (no listing) was never fetched, so the set does not test it", b.name, n)
			}
		}
		var one score
		one.add(b.name, s.want, got)
		t.Logf("%-14s listings %3d/%3d found, %d wrong; titles %d/%d, prices %d/%d, vendors %d/%d",
			b.name, one.tp, one.tp+one.fn, one.fp, one.titleOK, one.titleN, one.priceOK, one.priceN, one.vendorOK, one.vendorN)
		total.add(b.name, s.want, got)
	}
	for _, m := range total.misses {
		t.Log(m)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"listing precision", total.precision(), 0.95},
		{"listing recall", total.recall(), 0.95},
		{"titles", ratio(total.titleOK, total.titleN), 0.95},
		{"prices with currency", ratio(total.priceOK, total.priceN), 0.90},
		{"vendors", ratio(total.vendorOK, total.vendorN), 0.85},
	}
	for _, c := range checks {
		t.Logf("%-22s %.3f (target %.2f)", c.name, c.got, c.want)
		if c.got < c.want {
			t.Errorf("%s = %.3f, want >= %.2f", c.name, c.got, c.want)
		}
	}
	if total.tp < 100 {
		t.Errorf("only %d labelled listings found; the set is too small to measure", total.tp)
	}
}
