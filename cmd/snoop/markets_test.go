package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"snoop/config"
)

const importBaseConfig = `# snoop marketplaces, kept by hand
defaults:
  requests_per_second: 1   # be polite
  robots: respect
marketplaces:
  # the first shop we watch
  - name: example-shop     # keep this name
    start_urls: ["https://www.shop.example/"]
    listing: auto
  - name: board
    start_urls:
      - https://board.example/forum/
    listing:
      url_pattern: '/t/\d+$'
# end of marketplaces
`

func TestMarketsImportCSV(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "snoop.yaml")
	if err := os.WriteFile(cfgPath, []byte(importBaseConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	csv := `name,url,kind,proxy,schedule
chem-b2b,https://chem.example/products/,market,,@every 6h
,https://shop.example,shop,,
,http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion/,market,socks5h://127.0.0.1:9050,0 */6 * * *
,ftp://files.example/,shop,,
forum-x,https://forum.example/,forum,,
dup,https://chem.example/products,market,,
,https://bad-kind.example/,bazaar,,
,https://bad-schedule.example/,shop,,every day
board,https://other.example/,forum,,
`
	in := filepath.Join(dir, "new.csv")
	if err := os.WriteFile(in, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCmd(t, context.Background(), "markets", "import", in, "--config", cfgPath)
	if code != 1 {
		t.Errorf("exit %d, want 1 (bad lines)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		in + ":3: duplicate of marketplace example-shop",
		in + ":5: bad URL \"ftp://files.example/\": not an http(s) URL",
		in + ":7: duplicate of line 2",
		in + ":8: kind: must be one of",
		in + ":9: schedule: invalid schedule",
		in + ":10: name \"board\" is already taken",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "added 3 marketplaces") {
		t.Errorf("stdout: %s", stdout)
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, keep := range []string{"# snoop marketplaces, kept by hand", "# be polite", "# the first shop we watch", "# keep this name", "# end of marketplaces", `url_pattern: '/t/\d+$'`} {
		if !strings.Contains(text, keep) {
			t.Errorf("config lost %q:\n%s", keep, text)
		}
	}
	cfg, err := config.Parse(cfgPath, data)
	if err != nil {
		t.Fatalf("written config does not parse: %v\n%s", err, text)
	}
	var names []string
	for _, m := range cfg.Marketplaces {
		names = append(names, m.Name)
	}
	want := []string{"example-shop", "board", "chem-b2b", "abcdefghijklmnop-onion", "forum-x"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("marketplaces %v, want %v", names, want)
	}
	onion, _ := cfg.Market("abcdefghijklmnop-onion")
	if !onion.Listing.Auto || onion.Kind != "market" || onion.Proxy != "socks5h://127.0.0.1:9050" || onion.Schedule != "0 */6 * * *" {
		t.Errorf("imported entry %+v", onion)
	}
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", fi.Mode().Perm())
	}
}

func TestMarketsImportURLListDryRun(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "snoop.yaml")
	if err := os.WriteFile(cfgPath, []byte(importBaseConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "urls.txt")
	os.WriteFile(in, []byte("# found on a paste site\nhttps://new-shop.example/\nhttps://new-shop.example\nhttps://www.new-shop.example/\n\nhttps://second.example/cat/\n"), 0o600)
	stdout, stderr, code := runCmd(t, context.Background(), "markets", "import", "--dry-run", in, "--config", cfgPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "would add new-shop-example (https://new-shop.example/)") || !strings.Contains(stdout, "would add 2 marketplaces") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if strings.Count(stderr, "duplicate of line 2") != 2 {
		t.Errorf("stderr:\n%s", stderr)
	}
	if data, _ := os.ReadFile(cfgPath); string(data) != importBaseConfig {
		t.Errorf("dry run changed the config:\n%s", data)
	}
	// Without --dry-run the same file is written, and a second import of it adds nothing.
	if _, _, code := runCmd(t, context.Background(), "markets", "import", in, "--config", cfgPath); code != 0 {
		t.Fatalf("import exit %d", code)
	}
	stdout, stderr, _ = runCmd(t, context.Background(), "markets", "import", in, "--config", cfgPath)
	if !strings.Contains(stdout, "added 0 marketplaces") || !strings.Contains(stderr, "duplicate of marketplace new-shop-example") {
		t.Errorf("second import:\n%s\n%s", stdout, stderr)
	}
}

func TestMarketsCheck(t *testing.T) {
	mux := http.NewServeMux()
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><body><h1>Shop</h1><a href="/product/iso-5g">Iso</a> <a href="/cart">Cart</a> <a href="/about">About</a></body></html>`)
		case "/product/iso-5g":
			fmt.Fprint(w, `<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Isotonitazene 5g",
"description":"Pure powder.","offers":{"@type":"Offer","price":"120.00","priceCurrency":"USD","seller":{"@type":"Organization","name":"IsoKing"}}}</script></head>
<body><h1>Isotonitazene 5g</h1><p class="price">$120.00</p></body></html>`)
		case "/cart":
			fmt.Fprint(w, `<html><body><h1>Your cart</h1><p class="price">$120.00</p></body></html>`)
		case "/about":
			fmt.Fprint(w, `<html><body><h1>About us</h1><p>Shipping $10.00</p></body></html>`)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "snoop.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`defaults:
  requests_per_second: 100
  burst: 10
  robots: ignore
marketplaces:
  - name: iso
    start_urls: ["%s/"]
    listing: auto
`, srv.URL)), 0o600)
	stdout, stderr, code := runCmd(t, context.Background(), "markets", "check", "--config", cfgPath, "--market", "iso")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"== iso (auto)",
		"page " + srv.URL + "/product/iso-5g: 1 listing(s)",
		"title:       Isotonitazene 5g",
		"price:       120.00 USD",
		"vendor:      IsoKing",
		"page " + srv.URL + "/cart: no listing (cart page)",
		"page " + srv.URL + "/about: no listing (info page)",
		"summary: 4 pages, 1 listings",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// --pages bounds the fetches.
	hits.Store(0)
	stdout, _, code = runCmd(t, context.Background(), "markets", "check", "--config", cfgPath, "--pages", "1")
	if code != 1 || hits.Load() != 1 || !strings.Contains(stdout, "hint: no listing in the first 1 pages") {
		t.Errorf("--pages 1: exit %d, %d requests, stdout:\n%s", code, hits.Load(), stdout)
	}
}
