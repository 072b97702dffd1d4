package demo

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"go.yaml.in/yaml/v3"

	"snoop/config"
)

// start starts the demo sites for one test and closes them at its end.
func start(t *testing.T) *Sites {
	t.Helper()
	s, err := Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// fetch GETs u and returns the status, the body and its parsed document.
func fetch(t *testing.T, u string) (int, string, *goquery.Document) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	return resp.StatusCode, string(body), doc
}

// resolve returns href resolved against base.
func resolve(t *testing.T, base, href string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Parse(href)
	if err != nil {
		t.Fatalf("bad href %q: %v", href, err)
	}
	return r.String()
}

// listingURLs returns the set of ground-truth listing URLs of one market.
func listingURLs(s *Sites, market string) map[string]bool {
	out := make(map[string]bool)
	for _, l := range s.Listings() {
		if l.Market == market {
			out[l.URL] = true
		}
	}
	return out
}

// crawlPaged visits every page of every section linked from the home page
// (following sectionSel links, then pageSel links) and calls fn on each page.
func crawlPaged(t *testing.T, base, sectionSel, pageSel string, fn func(pageURL string, doc *goquery.Document)) {
	t.Helper()
	_, _, home := fetch(t, base+"/")
	seen := make(map[string]bool)
	var queue []string
	home.Find(sectionSel).Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		queue = append(queue, resolve(t, base+"/", href))
	})
	if len(queue) == 0 {
		t.Fatalf("%s: no section links matching %q", base, sectionSel)
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		status, _, doc := fetch(t, u)
		if status != http.StatusOK {
			t.Fatalf("GET %s: status %d", u, status)
		}
		fn(u, doc)
		doc.Find(pageSel).Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			queue = append(queue, resolve(t, u, href))
		})
	}
}

func TestShopCategoriesPaginateToEveryProduct(t *testing.T) {
	s := start(t)
	base := s.URLs()["demo-shop"]
	found := make(map[string]bool)
	pagesPerCategory := make(map[string]int)
	crawlPaged(t, base, "nav.categories a", "nav.pagination a", func(u string, doc *goquery.Document) {
		pu, _ := url.Parse(u)
		pagesPerCategory[pu.Path]++
		links := doc.Find("nav.pagination a.page")
		if links.Length() < 2 {
			t.Errorf("%s: %d page links, want at least 2", u, links.Length())
		}
		links.Each(func(i int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if want := pu.Path + "?page=" + a.Text(); href != want || a.Text() != strconv.Itoa(i+1) {
				t.Errorf("%s: page link %d = %q (%q), want %q", u, i, href, a.Text(), want)
			}
		})
		last := doc.Find("nav.pagination a.current").Text() == strconv.Itoa(links.Length())
		if hasNext := doc.Find(`nav.pagination a[rel="next"]`).Length() == 1; hasNext == last {
			t.Errorf("%s: rel=next present = %v on last page = %v", u, hasNext, last)
		}
		doc.Find("a.product-link").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			found[resolve(t, u, href)] = true
		})
	})
	want := listingURLs(s, "demo-shop")
	if len(want) < 55 {
		t.Errorf("shop has %d products, want about 60", len(want))
	}
	if len(found) != len(want) {
		t.Errorf("category pages link %d products, want %d", len(found), len(want))
	}
	for u := range want {
		if !found[u] {
			t.Errorf("product %s not linked from any category page", u)
		}
	}
	if len(pagesPerCategory) < 3 || len(pagesPerCategory) > 4 {
		t.Errorf("%d categories, want 3-4", len(pagesPerCategory))
	}
	for c, n := range pagesPerCategory {
		if n < 2 {
			t.Errorf("category %s has %d pages, want >= 2", c, n)
		}
	}
}

func TestShopProductPage(t *testing.T) {
	s := start(t)
	base := s.URLs()["demo-shop"]
	tests := []struct {
		path, title, price, vendor, descPart, crumb string
	}{
		{"/product/101", "Refurbished iPhone 13, 128 GB, Midnight - Grade A", "$389.00", "PhoneHub Refurb", "12-month seller warranty", "Electronics"},
		{"/product/404", "Fentanyl HCl powder 99% - 10 g / 50 g / 100 g, wholesale", "$420.00 / 10 g", "ChemLink Trading Co.", "Stealth shipping", "Health, Beauty & Research"},
		{"/product/207", "The Blues Brothers (1980) Collector's Edition DVD", "$12.99", "RetroReels", "Elwood Blues", "Home, Books & Media"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, _, doc := fetch(t, base+tt.path)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			check := func(sel, want string) {
				t.Helper()
				sl := doc.Find(sel)
				if sl.Length() != 1 {
					t.Errorf("%s matches %d elements, want 1", sel, sl.Length())
				}
				if got := strings.TrimSpace(sl.Text()); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", sel, got, want)
				}
			}
			check("h1", tt.title)
			check(".price", tt.price)
			check(".vendor", tt.vendor)
			check(".description", tt.descPart)
			check("nav.breadcrumbs", tt.crumb)
			if n := doc.Find("ul.related a").Length(); n < 3 {
				t.Errorf("%d related links, want >= 3", n)
			}
			for _, sel := range []string{`a[href^="/cart"]`, `a[href="/login"]`} {
				if doc.Find(sel).Length() == 0 {
					t.Errorf("no %s link (the config's deny rules need something to deny)", sel)
				}
			}
		})
	}
	if status, _, _ := fetch(t, base+"/product/99999"); status != http.StatusNotFound {
		t.Errorf("unknown product: status %d, want 404", status)
	}
}

func TestRobotsAndDeniedPages(t *testing.T) {
	s := start(t)
	u := s.URLs()
	tests := []struct {
		url        string
		wantStatus int
		wantBody   string
	}{
		{u["demo-shop"] + "/robots.txt", 200, "Disallow: /admin"},
		{u["demo-board"] + "/robots.txt", 200, "Disallow: /post"},
		{u["demo-forum"] + "/robots.txt", 404, ""},
		{u["demo-shop"] + "/cart?add=404", 200, "cart"},
		{u["demo-shop"] + "/login", 200, "Sign in"},
		{u["demo-shop"] + "/admin", 403, "Staff only"},
		{u["demo-board"] + "/login", 200, "Sign in"},
		{u["demo-forum"] + "/login", 200, "captcha"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			status, body, _ := fetch(t, tt.url)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("status %d, body contains %q = %v; want %d, true", status, tt.wantBody, strings.Contains(body, tt.wantBody), tt.wantStatus)
			}
		})
	}
	if got := s.Requests("demo-shop", "/cart"); got != 1 {
		t.Errorf("Requests(demo-shop, /cart) = %d, want 1", got)
	}
	if got := s.Requests("demo-board", "/cart"); got != 0 {
		t.Errorf("Requests(demo-board, /cart) = %d, want 0", got)
	}
}

func TestBoardItemMarkup(t *testing.T) {
	s := start(t)
	base := s.URLs()["demo-board"]
	want := listingURLs(s, "demo-board")
	found := make(map[string]bool)
	crawlPaged(t, base, "nav.sections a:not(.news)", "nav.pager a", func(u string, doc *goquery.Document) {
		ads := doc.Find("article.ad")
		if ads.Length() == 0 || ads.Length() > boardPerPage {
			t.Errorf("%s: %d ads, want 1..%d", u, ads.Length(), boardPerPage)
		}
		ads.Each(func(_ int, ad *goquery.Selection) {
			for _, sel := range []string{".title", ".text", ".price", ".seller", "a.permalink"} {
				if ad.Find(sel).Length() != 1 {
					t.Errorf("%s: ad %s: %s matches %d, want 1", u, ad.AttrOr("id", "?"), sel, ad.Find(sel).Length())
				}
			}
			if strings.TrimSpace(ad.Find(".title").Text()) == "" {
				t.Errorf("%s: ad %s has an empty title", u, ad.AttrOr("id", "?"))
			}
			href, _ := ad.Find("a.permalink").Attr("href")
			if !regexp.MustCompile(`^/ad/\d+$`).MatchString(href) {
				t.Errorf("%s: permalink %q, want /ad/{id}", u, href)
			}
			found[resolve(t, u, href)] = true
		})
	})
	if len(want) < 40 {
		t.Errorf("board has %d ads, want >= 40", len(want))
	}
	for u := range want {
		if !found[u] {
			t.Errorf("ad %s is on no section page", u)
		}
	}
	if len(found) != len(want) {
		t.Errorf("section pages hold %d ads, want %d", len(found), len(want))
	}

	// The permalink page renders the same ad markup, and the news section exists.
	status, _, doc := fetch(t, base+"/ad/5601")
	if status != http.StatusOK || doc.Find("article.ad .title").Text() != "M30 blues pressed with fent - 100 pcs" {
		t.Errorf("/ad/5601: status %d, title %q", status, doc.Find("article.ad .title").Text())
	}
	_, _, home := fetch(t, base+"/")
	if n := home.Find("a.news").Length(); n < 2 {
		t.Errorf("home page has %d news links, want >= 2", n)
	}
	status, _, doc = fetch(t, base+"/news/9003")
	if status != http.StatusOK || doc.Find("article.ad").Length() != 0 {
		t.Errorf("/news/9003: status %d, %d ads; want 200 and no ads", status, doc.Find("article.ad").Length())
	}
}

func TestForumThreadsAndVendors(t *testing.T) {
	s := start(t)
	base := s.URLs()["demo-forum"]
	want := listingURLs(s, "demo-forum")
	found := make(map[string]bool)
	crawlPaged(t, base, "a.board", "div.pages a", func(u string, doc *goquery.Document) {
		doc.Find("a.thread").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			found[resolve(t, u, href)] = true
		})
	})
	if len(found) != len(want) {
		t.Errorf("boards link %d threads, want %d", len(found), len(want))
	}
	status, _, doc := fetch(t, base+"/thread/702")
	if status != http.StatusOK {
		t.Fatalf("thread status %d", status)
	}
	for sel, want := range map[string]string{
		"h1":                    "Isotonitazene",
		".listing .price":       "$90/g",
		".listing .vendor":      "IsoKing",
		".listing .description": "escrow",
	} {
		if got := doc.Find(sel).Text(); !strings.Contains(strings.ToLower(got), strings.ToLower(want)) {
			t.Errorf("thread %s = %q, want %q", sel, got, want)
		}
	}
	status, _, doc = fetch(t, base+"/vendor/IsoKing")
	if status != http.StatusOK || doc.Find("a.thread").Length() == 0 {
		t.Errorf("vendor profile: status %d, %d threads", status, doc.Find("a.thread").Length())
	}
}

func TestEveryListingServes(t *testing.T) {
	s := start(t)
	for _, l := range s.Listings() {
		status, _, _ := fetch(t, l.URL)
		if status != http.StatusOK {
			t.Errorf("%s %s: status %d", l.Market, l.URL, status)
		}
	}
}

func TestListingLabels(t *testing.T) {
	s := start(t)
	type counts struct{ all, offers, decoys int }
	per := make(map[string]*counts)
	var all []string
	for _, l := range s.Listings() {
		c := per[l.Market]
		if c == nil {
			c = &counts{}
			per[l.Market] = c
		}
		c.all++
		switch l.Kind {
		case Offer:
			c.offers++
			if len(l.Substances) == 0 {
				t.Errorf("offer %s has no substances", l.URL)
			}
			for _, sub := range l.Substances {
				if sub != strings.ToLower(sub) {
					t.Errorf("offer %s: substance %q not lower case", l.URL, sub)
				}
			}
		case Decoy:
			c.decoys++
		}
		all = append(all, l.Title)
	}
	total, offers := 0, 0
	for m, c := range per {
		t.Logf("%s: %d listings, %d offers, %d decoys", m, c.all, c.offers, c.decoys)
		if c.offers == 0 || c.decoys == 0 {
			t.Errorf("%s: %d offers, %d decoys; want some of each", m, c.offers, c.decoys)
		}
		total += c.all
		offers += c.offers
	}
	if share := float64(offers) / float64(total); share < 0.10 || share > 0.16 {
		t.Errorf("offers are %.1f%% of listings, want about 10-15%%", 100*share)
	}
	if got := len(s.Expected()); got != offers {
		t.Errorf("Expected() has %d listings, want %d", got, offers)
	}

	// The disguises the rules must see through are present.
	joined := strings.Join(all, "\n")
	for _, disguise := range []string{"F3NTANYL", "f\u0435ntanyl", "I S O T O N I T A Z E N E", "Fentanilo", "фентанил", "芬太尼", "M30 blues"} {
		if !strings.Contains(joined, disguise) {
			t.Errorf("no listing title contains %q", disguise)
		}
	}
}

func TestHostileListing(t *testing.T) {
	s := start(t)
	u := s.Hostile()
	if u == "" {
		t.Fatal("no hostile listing")
	}
	_, body, doc := fetch(t, u)
	for _, raw := range []string{"<script>alert(1)</script>", "<img src=x onerror=alert(1)>"} {
		if !strings.Contains(body, raw) {
			t.Errorf("page does not contain raw %q", raw)
		}
	}
	if !strings.Contains(body, "<h1>Protonitazene HCl 99% &lt;img src=x onerror=alert(1)&gt; in stock</h1>") {
		t.Error("title markup is not served escaped")
	}
	if doc.Find(".description script").Length() != 1 || doc.Find(".description img[onerror]").Length() != 1 {
		t.Error("description does not hold a live script and img[onerror]")
	}
	// Nothing else is rendered raw.
	for _, l := range s.Listings() {
		if l.URL == u {
			continue
		}
		if _, body, _ := fetch(t, l.URL); strings.Contains(body, "<script>") {
			t.Errorf("%s contains a script element", l.URL)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	s := start(t)
	data := s.ConfigYAML()

	var generic map[string]any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		t.Fatalf("ConfigYAML is not YAML: %v\n%s", err, data)
	}
	markets, _ := generic["marketplaces"].([]any)
	if len(markets) != len(s.URLs()) {
		t.Fatalf("%d marketplaces, want %d", len(markets), len(s.URLs()))
	}

	cfg, err := config.Parse("demo.yaml", data)
	if err != nil {
		t.Fatalf("config.Parse: %v\n%s", err, data)
	}
	if cfg.Defaults.RequestsPerSecond < 20 || cfg.Defaults.Concurrency < 2 || cfg.Defaults.Robots != "respect" {
		t.Errorf("defaults %+v: want a fast polite demo", cfg.Defaults)
	}
	tests := []struct {
		name     string
		itemMode bool
		listing  string // a path that must match url_pattern (page mode)
	}{
		{"demo-shop", false, "/product/404"},
		{"demo-board", true, ""},
		{"demo-forum", false, "/thread/702"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := cfg.Market(tt.name)
			if !ok {
				t.Fatal("not in config")
			}
			base := s.URLs()[tt.name]
			if len(m.StartURLs) != 1 || m.StartURLs[0] != base+"/" {
				t.Errorf("start_urls %v, want [%s/]", m.StartURLs, base)
			}
			if len(m.Allow) != 1 || !m.Allow[0].MatchString(base+"/x") || m.Allow[0].MatchString("http://127.0.0.1:1/") {
				t.Errorf("allow %v does not match exactly this site", m.Allow)
			}
			denied := func(p string) bool {
				for _, re := range m.Deny {
					if re.MatchString(base + p) {
						return true
					}
				}
				return false
			}
			for _, p := range []string{"/cart", "/cart?add=1", "/login"} {
				if !denied(p) {
					t.Errorf("%s is not denied", p)
				}
			}
			if denied("/") || (tt.listing != "" && denied(tt.listing)) {
				t.Errorf("deny %v blocks listing pages", m.Deny)
			}
			if gotItem := m.Listing.Item != ""; gotItem != tt.itemMode {
				t.Errorf("item mode = %v, want %v", gotItem, tt.itemMode)
			}
			if tt.listing != "" && (m.Listing.URLPattern == nil || !m.Listing.URLPattern.MatchString(base+tt.listing)) {
				t.Errorf("url_pattern %v does not match %s", m.Listing.URLPattern, tt.listing)
			}
			if m.Schedule != "@every 1h" {
				t.Errorf("schedule %q", m.Schedule)
			}
			names := map[string]bool{}
			for _, f := range m.Listing.Fields {
				names[f.Name] = true
			}
			for _, f := range []string{"title", "description", "price", "vendor"} {
				if !names[f] {
					t.Errorf("no %s field", f)
				}
			}
		})
	}
}

func TestCloseFreesPorts(t *testing.T) {
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, base := range s.URLs() {
		addrs = append(addrs, strings.TrimPrefix(base, "http://"))
	}
	s.Close()
	s.Close() // idempotent
	for _, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("port %s not freed: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

func TestCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := strings.TrimPrefix(s.URLs()["demo-shop"], "http://")
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("sites still serving 3s after ctx was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
