package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"snoop/config"
)

// offScopeServer counts every request it receives: a listing URL that points
// at it must never be fetched.
func offScopeServer(t *testing.T) (*httptest.Server, *requestLog) {
	t.Helper()
	var log requestLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		fmt.Fprint(w, `<html><body><h2>metadata</h2></body></html>`)
	}))
	t.Cleanup(srv.Close)
	return srv, &log
}

// An item's url field may not point outside the marketplace's allow and deny,
// nor be a javascript:, data: or file: URL: such an item is left out and
// counted, never given the page URL where it would overwrite its neighbours.
func TestItemURLsOutsideScopeRefused(t *testing.T) {
	off, offLog := offScopeServer(t)
	var page string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	items := []struct{ title, href string }{
		{"In scope", "/post/1"},
		{"Metadata service", "http://169.254.169.254/latest/meta-data/"},
		{"Other loopback port", off.URL + "/admin"},
		{"Script", "javascript:alert(1)"},
		{"Data", "data:text/html,<script>alert(1)</script>"},
		{"File", "file:///etc/passwd"},
		{"Denied", "/cart/add?id=3"},
		{"Also in scope", srv.URL + "/post/2"},
	}
	var b strings.Builder
	b.WriteString("<html><body>")
	for _, it := range items {
		fmt.Fprintf(&b, `<div class="post"><h2>%s</h2><a class="permalink" href="%s">link</a></div>`, it.title, it.href)
	}
	b.WriteString("</body></html>")
	page = b.String()

	cfg, err := config.Parse("t.yaml", []byte(fmt.Sprintf(`marketplaces:
  - name: board
    start_urls: [%q]
    follow: []
    deny: ['/cart']
    requests_per_second: 1000
    listing:
      item: div.post
      fields:
        title: h2
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
	var got []string
	for _, l := range sink.listings() {
		got = append(got, l.URL+" "+l.Fields["url"])
	}
	want := []string{srv.URL + "/post/1 " + srv.URL + "/post/1", srv.URL + "/post/2 " + srv.URL + "/post/2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listings = %q, want %q", got, want)
	}
	wantRejected := map[string]int{SkipOffsite: 2, RejectScheme: 3, SkipDeny: 1}
	if fmt.Sprint(st.ListingURLsRejected) != fmt.Sprint(wantRejected) {
		t.Errorf("ListingURLsRejected = %v, want %v", st.ListingURLsRejected, wantRejected)
	}
	if st.Listings != 2 {
		t.Errorf("Listings = %d, want 2", st.Listings)
	}
	if p := offLog.paths(); len(p) != 0 {
		t.Errorf("the off-scope server was fetched: %v", p)
	}
}

// In page mode a url field outside the marketplace leaves the listing at the
// page's own URL.
func TestPageModeURLOutsideScopeKeepsPageURL(t *testing.T) {
	off, offLog := offScopeServer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><body><a href="/product/1">1</a></body></html>`)
		case "/product/1":
			fmt.Fprintf(w, `<html><body><h1>Carfentanil</h1><a class="permalink" href="%s/x">x</a></body></html>`, off.URL)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var sink collector
	st, err := Sweep(context.Background(), market(t, srv.URL, ""), &sink, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	ls := sink.listings()
	if len(ls) != 1 || ls[0].URL != srv.URL+"/product/1" || ls[0].Fields["url"] != "" {
		t.Fatalf("listings = %+v, want one at %s without a url field", ls, srv.URL+"/product/1")
	}
	if st.ListingURLsRejected[SkipOffsite] != 1 {
		t.Errorf("ListingURLsRejected = %v, want offsite=1", st.ListingURLsRejected)
	}
	if p := offLog.paths(); len(p) != 0 {
		t.Errorf("the off-scope server was fetched: %v", p)
	}
}

// Whatever an extractor returns, a listing leaves the crawler with the page's
// URL or an in-scope one.
func TestKeepInScope(t *testing.T) {
	m, err := config.Parse("t.yaml", []byte(`marketplaces:
  - name: shop
    start_urls: ["http://shop.example/"]
    deny: ['/cart']
    listing: auto
`))
	if err != nil {
		t.Fatal(err)
	}
	scope := func(c string) string { return Scope(m.Marketplaces[0], c) }
	page := "http://shop.example/list"
	x := extraction{listings: []Listing{
		{URL: page}, {URL: "http://shop.example/p/1"}, {URL: "http://169.254.169.254/"},
		{URL: "javascript:alert(1)"}, {URL: "http://shop.example/cart/1"}, {URL: "HTTP://shop.example/p/2#x"},
	}}
	got := keepInScope(&x, page, scope)
	if len(got) != 2 || got[0].URL != page || got[1].URL != "http://shop.example/p/1" {
		t.Errorf("kept %+v", got)
	}
	if fmt.Sprint(x.rejected) != fmt.Sprint(map[string]int{SkipOffsite: 1, RejectScheme: 2, SkipDeny: 1}) {
		t.Errorf("rejected = %v", x.rejected)
	}
}
