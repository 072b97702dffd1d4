package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const specExample = `defaults:
  user_agent: "Mozilla/5.0 (compatible; snoop)"
  requests_per_second: 1
  burst: 1
  concurrency: 2
  timeout: 30s
  max_pages: 5000
  max_depth: 8
  max_body_bytes: 10485760
  robots: respect
  proxy: ""
marketplaces:
  - name: example-shop
    start_urls: ["https://shop.example/"]
    allow: ['^https://shop\.example/']
    deny: ['/cart', '/login']
    follow: ["a[href]"]
    listing:
      url_pattern: '/product/\d+$'
      item: ""
      fields:
        title: "h1"
        description: ".description"
        price: ".price"
        vendor: ".vendor"
        url: "a.permalink@href"
    schedule: "0 */6 * * *"
    cookies_file: ""
    headers: {}
`

func TestParseSpecExample(t *testing.T) {
	cfg, err := Parse("markets.yaml", []byte(specExample))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.Defaults, Builtin(); !reflect.DeepEqual(got, want) {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	m, ok := cfg.Market("example-shop")
	if !ok {
		t.Fatal("Market(example-shop) not found")
	}
	if got, want := m.StartURLs, []string{"https://shop.example/"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StartURLs = %v, want %v", got, want)
	}
	if len(m.Deny) != 2 || m.Deny[0].String() != "/cart" {
		t.Errorf("Deny = %v", m.Deny)
	}
	if m.Listing.URLPattern == nil || !m.Listing.URLPattern.MatchString("https://shop.example/product/12") {
		t.Errorf("URLPattern = %v", m.Listing.URLPattern)
	}
	if m.Listing.Item != "" {
		t.Errorf("Item = %q, want empty", m.Listing.Item)
	}
	wantFields := []Field{
		{Name: "title", Selector: "h1"},
		{Name: "description", Selector: ".description"},
		{Name: "price", Selector: ".price"},
		{Name: "vendor", Selector: ".vendor"},
		{Name: "url", Selector: "a.permalink", Attr: "href"},
	}
	if !reflect.DeepEqual(m.Listing.Fields, wantFields) {
		t.Errorf("Fields = %+v, want %+v", m.Listing.Fields, wantFields)
	}
	if m.Schedule != "0 */6 * * *" {
		t.Errorf("Schedule = %q", m.Schedule)
	}
	if m.Timeout != 30*time.Second || m.Robots != "respect" || m.Concurrency != 2 {
		t.Errorf("settings = %+v", m.Settings)
	}
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	src := `defaults:
  requests_per_second: 0.5
  timeout: 2m
  robots: ignore
  headers: {Accept-Language: en, X-A: "1"}
  cookies_file: cookies.txt
  gates: [{name: site-queue, text: 'you are in the queue'}]
marketplaces:
  - name: a
    start_urls: ["http://a.test:8080/start", "http://A.test:8080/other", "https://b.test/"]
    listing: {url_pattern: x}
  - name: b-2
    start_urls: ["https://b.test/"]
    timeout: 5s
    max_pages: 10
    max_depth: 0
    burst: 3
    concurrency: 4
    user_agent: ua
    max_body_bytes: 100
    proxy: socks5h://127.0.0.1:9050
    schedule: "@every 6h"
    cookies_file: /abs/c.txt
    headers: {X-A: "2", X-B: b}
    retries: 0
    archive: all
    screenshots: true
    gates:
      - {name: login_form, selector: "form.login"}
    listing:
      item: "div.card"
      fields:
        url: "@href"
        title: "h2 a"
`
	cfg, err := Parse(filepath.Join("conf", "m.yaml"), []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	a, _ := cfg.Market("a")
	b, _ := cfg.Market("b-2")
	if a.RequestsPerSecond != 0.5 || a.Timeout != 2*time.Minute || a.Robots != "ignore" || a.Burst != 1 {
		t.Errorf("a settings = %+v", a.Settings)
	}
	if got, want := a.CookiesFile, filepath.Join("conf", "cookies.txt"); got != want {
		t.Errorf("a.CookiesFile = %q, want %q", got, want)
	}
	var allow []string
	for _, re := range a.Allow {
		allow = append(allow, re.String())
	}
	if got, want := allow, []string{`^(?i:http://a\.test:8080)/`, `^(?i:https://b\.test)/`}; !reflect.DeepEqual(got, want) {
		t.Errorf("a.Allow = %q, want %q", got, want)
	}
	if got, want := a.Follow, []string{"a[href]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a.Follow = %v, want %v", got, want)
	}
	want := Settings{
		UserAgent: "ua", RequestsPerSecond: 0.5, Burst: 3, Concurrency: 4, Timeout: 5 * time.Second,
		MaxPages: 10, MaxDepth: 0, MaxBodyBytes: 100, Robots: "ignore", Proxy: "socks5h://127.0.0.1:9050",
		Schedule: "@every 6h", CookiesFile: "/abs/c.txt",
		Headers: map[string]string{"Accept-Language": "en", "X-A": "2", "X-B": "b"},
		Retries: 0, Archive: "all", Screenshots: true,
	}
	var gates []string
	for _, g := range b.Gates {
		gates = append(gates, fmt.Sprintf("%s|%v|%s", g.Name, g.Text, g.Selector))
	}
	if got, want := gates, []string{"site-queue|(?i)you are in the queue|", "login_form|<nil>|form.login"}; !reflect.DeepEqual(got, want) {
		t.Errorf("b.Gates = %q, want %q", got, want)
	}
	if len(a.Gates) != 1 || a.Retries != 3 || a.Archive != "listings" || a.Screenshots {
		t.Errorf("a: gates %d, retries %d, archive %q, screenshots %v; want 1, 3, listings, false", len(a.Gates), a.Retries, a.Archive, a.Screenshots)
	}
	b.Gates = nil
	if !reflect.DeepEqual(b.Settings, want) {
		t.Errorf("b settings =\n%+v, want\n%+v", b.Settings, want)
	}
	if a.Headers["X-A"] != "1" {
		t.Errorf("a.Headers changed by b's override: %v", a.Headers)
	}
	if got, want := b.Listing.Fields[0], (Field{Name: "url", Attr: "href"}); got != want {
		t.Errorf("item-self field = %+v, want %+v", got, want)
	}
}

// TestParseErrors checks that every problem is reported with its line and key path.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "LINE: KEY: substring of message"
	}{
		{"unknown top key", "bogus: 1\nmarketplaces: [{name: a, start_urls: ['http://a/'], listing: {url_pattern: x}}]\n",
			[]string{"1: bogus: unknown key"}},
		{"yaml syntax", "marketplaces:\n  - name: a\n    start_urls: [x\n",
			[]string{"2: : invalid YAML"}},
		{"empty", "", []string{"0: : empty config"}},
		{"missing marketplaces", "defaults: {burst: 2}\n", []string{"1: marketplaces: missing"}},
		{"bad defaults", `defaults:
  timeout: 30
  burst: 0
  requests_per_second: fast
  robots: maybe
  proxy: ftp://x:1
  schedule: "* * *"
  colour: red
  max_depth: -1
  concurrency: 1.5
marketplaces: [{name: a, start_urls: ['http://a/'], listing: {url_pattern: x}}]
`, []string{
			"2: defaults.timeout: invalid duration",
			"3: defaults.burst: must be at least 1",
			"4: defaults.requests_per_second: must be a number",
			"5: defaults.robots: must be respect or ignore",
			"6: defaults.proxy: scheme must be",
			"7: defaults.schedule: want 5 cron fields",
			"8: defaults.colour: unknown key",
			"9: defaults.max_depth: must be at least 0",
			"10: defaults.concurrency: must be an integer",
		}},
		{"market problems", `marketplaces:
  - name: shop
    start_urls: ["http://shop.test/"]
  - name: Shop_2
    start_urls: []
  - name: shop
    start_urls: ["/relative", "ftp://x/"]
    allow: ['(unclosed']
    deny: ['ok', '[z-a]']
    follow: ["a[href", "a"]
    timeout: -5s
    schedule: "61 * * * *"
    extra: 1
    listing:
      url_pattern: '/p/(\d+'
      kind: x
`, []string{
			"2: marketplaces[0].listing: missing",
			"4: marketplaces[1].name: must be non-empty and use only a-z",
			"4: marketplaces[1].listing: missing",
			"5: marketplaces[1].start_urls: empty",
			"6: marketplaces[2].name: duplicate marketplace name \"shop\" (first at line 2)",
			"7: marketplaces[2].start_urls[0]: not an absolute http(s) URL",
			"7: marketplaces[2].start_urls[1]: not an absolute http(s) URL",
			"8: marketplaces[2].allow[0]: invalid regex",
			"9: marketplaces[2].deny[1]: invalid regex",
			"10: marketplaces[2].follow[0]: invalid CSS selector",
			"11: marketplaces[2].timeout: must be positive",
			"12: marketplaces[2].schedule: invalid schedule",
			"13: marketplaces[2].extra: unknown key",
			"15: marketplaces[2].listing.url_pattern: invalid regex",
			"16: marketplaces[2].listing.kind: unknown key",
		}},
		{"missing name and start_urls", "marketplaces:\n  - deny: ['x']\n",
			[]string{"2: marketplaces[0].name: missing", "2: marketplaces[0].start_urls: missing", "2: marketplaces[0].listing: missing"}},
		{"listing modes", `marketplaces:
  - name: both
    start_urls: ["http://a.test/"]
    listing:
      url_pattern: '/p/'
      item: 'div.card'
  - name: neither
    start_urls: ["http://a.test/"]
    listing:
      fields:
        title: h1
  - name: badfields
    start_urls: ["http://a.test/"]
    listing:
      item: 'div..card'
      fields:
        title: "h1 >> b"
        url: "a@"
        price: "@content"
        "bad name": h1
  - name: pageself
    start_urls: ["http://a.test/"]
    listing:
      url_pattern: x
      fields:
        url: "@href"
        title: ""
`, []string{
			"6: marketplaces[0].listing.item: url_pattern and item are both set",
			"10: marketplaces[1].listing.fields: fields need url_pattern",
			"15: marketplaces[2].listing.item: invalid CSS selector",
			"17: marketplaces[2].listing.fields.title: invalid CSS selector",
			"18: marketplaces[2].listing.fields.url: invalid CSS selector",
			"20: marketplaces[2].listing.fields.bad name: field name must use only",
			"26: marketplaces[3].listing.fields.url: empty selector before @href",
			"27: marketplaces[3].listing.fields.title: empty selector",
		}},
		{"types and duplicates", `marketplaces:
  - name: a
    name: b
    start_urls: "http://a.test/"
    headers: [x]
    listing: [1]
  - 7
`, []string{
			"3: marketplaces[0].name: key defined twice (first at line 2)",
			"4: marketplaces[0].start_urls: must be a list",
			"5: marketplaces[0].headers: must be a mapping",
			"6: marketplaces[0].listing: must be a mapping",
			"7: marketplaces[1]: must be a mapping",
		}},
		{"new keys", `defaults:
  retries: -1
  archive: everything
  screenshots: "yes"
  gates:
    - name: Bad Name
      text: '(unclosed'
    - {name: ok, selector: "div["}
    - {name: empty}
    - {text: x, colour: red}
    - just-a-string
marketplaces:
  - name: a
    start_urls: ["http://a.test/"]
    retries: many
    gates: {name: x}
`, []string{
			"2: defaults.retries: must be at least 0",
			"3: defaults.archive: must be listings or all",
			"4: defaults.screenshots: must be true or false",
			"6: defaults.gates[0].name: must be non-empty and use only",
			"7: defaults.gates[0].text: invalid regex",
			"8: defaults.gates[1].selector: invalid CSS selector",
			"9: defaults.gates[2]: needs text or selector",
			"10: defaults.gates[3].colour: unknown key",
			"10: defaults.gates[3].name: missing",
			"11: defaults.gates[4]: must be a mapping",
			"13: marketplaces[0].listing: missing",
			"15: marketplaces[0].retries: must be an integer",
			"16: marketplaces[0].gates: must be a list",
		}},
		{"gate unknown key with a list value", `defaults:
  gates:
    - name: q
      text: queue
      pattern: [a, b]
marketplaces: [{name: a, start_urls: ['http://a/'], listing: {url_pattern: x}}]
`, []string{"5: defaults.gates[0].pattern: unknown key"}},
		{"headers", `marketplaces:
  - name: a
    start_urls: ["http://a.test/"]
    headers:
      "Bad Header": x
      X-Ok: [1]
`, []string{
			"2: marketplaces[0].listing: missing",
			"5: marketplaces[0].headers.Bad Header: invalid header name",
			"6: marketplaces[0].headers.X-Ok: must be a string",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want errors %q", tt.want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			var got []string
			for _, e := range list {
				if e.File != "m.yaml" {
					t.Errorf("error %q: File = %q, want m.yaml", e, e.File)
				}
				got = append(got, strings.TrimPrefix(e.Error(), "m.yaml:"))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				// want is "LINE: KEY: text": the error must start with "LINE: KEY: " and contain text.
				parts := strings.SplitN(tt.want[i], ": ", 3)
				prefix := parts[0] + ": " + parts[1] + ": "
				if parts[1] == "" {
					prefix = parts[0] + ": "
				}
				if parts[0] == "0" {
					prefix = parts[1] + ": "
					if parts[1] == "" {
						prefix = " "
					}
				}
				if !strings.HasPrefix(got[i], prefix) || !strings.Contains(got[i], parts[2]) {
					t.Errorf("error %d = %q, want prefix %q and text %q", i, got[i], prefix, parts[2])
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("dir/m.yaml", []byte("marketplaces:\n  - name: a\n    start_urls: ['http://a/']\n    listing:\n      url_pattern: '('\n"))
	want := "dir/m.yaml:5: marketplaces[0].listing.url_pattern: invalid regex: error parsing regexp: missing closing ): `(`"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestParseFieldAt(t *testing.T) {
	tests := []struct {
		in   string
		item bool
		want Field
	}{
		{"h1", false, Field{Name: "f", Selector: "h1"}},
		{"a.permalink@href", false, Field{Name: "f", Selector: "a.permalink", Attr: "href"}},
		{"a[href*='@x']", false, Field{Name: "f", Selector: "a[href*='@x']"}},
		{"a[href*='@x']@data-id", false, Field{Name: "f", Selector: "a[href*='@x']", Attr: "data-id"}},
		{"@href", true, Field{Name: "f", Attr: "href"}},
		{" meta[itemprop=price] @content ", false, Field{Name: "f", Selector: "meta[itemprop=price]", Attr: "content"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseField("f", tt.in, tt.item)
			if err != nil || got != tt.want {
				t.Errorf("parseField(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(path, []byte(specExample), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.File != path || len(cfg.Marketplaces) != 1 {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) err = %v, want ErrNotExist", err)
	}
	if _, ok := cfg.Market("nope"); ok {
		t.Error("Market(nope) found")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(specExample))
	f.Add([]byte("marketplaces: [{name: a, start_urls: ['http://a/'], listing: {item: div, fields: {url: '@href'}}}]"))
	f.Add([]byte("defaults: &d {burst: 2}\nmarketplaces: [*d]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range list {
				if !strings.HasPrefix(e.Error(), "f.yaml") {
					t.Fatalf("error without file name: %q", e)
				}
			}
			return
		}
		if len(cfg.Marketplaces) == 0 {
			t.Fatal("valid config without marketplaces")
		}
		for _, m := range cfg.Marketplaces {
			if !nameRE.MatchString(m.Name) || len(m.StartURLs) == 0 || len(m.Allow) == 0 {
				t.Fatalf("invalid market accepted: %+v", m)
			}
			if m.Listing.URLPattern != nil && m.Listing.Item != "" {
				t.Fatalf("both listing modes accepted: %+v", m.Listing)
			}
			if m.Burst < 1 || m.Concurrency < 1 || m.RequestsPerSecond <= 0 || m.Timeout <= 0 {
				t.Fatalf("bad settings accepted: %+v", m.Settings)
			}
		}
	})
}

func TestParseMistakesSuggest(t *testing.T) {
	src := `defaults:
  requests_per_secnd: 2
marketplace:
  - name: x
marketplaces:
  - name: shop
    start_urls: ["https://shop.test/"]
    allow: ['^https://shop\.test/catalog/']
    deny: ['/private']
    folow: ["a"]
    listing:
      url_patern: '/p/'
      item: div.card
      fields:
        tittle: h1
        descripton: .d
        price: .price
        shipping: .ship
  - name: other
    start_urls: ["https://other.test/private/start"]
    deny: ['/private']
    listing: {url_pattern: '/p/'}
  - name: nolisting
    start_urls: ["https://n.test/"]
`
	_, err := Parse("m.yaml", []byte(src))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, e := range list {
		got = append(got, strings.TrimPrefix(e.Error(), "m.yaml:"))
	}
	want := []string{
		"2: defaults.requests_per_secnd: unknown key; did you mean requests_per_second?",
		"3: marketplace: unknown key; did you mean marketplaces?",
		`7: marketplaces[0].start_urls[0]: "https://shop.test/" is outside allow`,
		"10: marketplaces[0].folow: unknown key; did you mean follow?",
		"12: marketplaces[0].listing.url_patern: unknown key; did you mean url_pattern?",
		"15: marketplaces[0].listing.fields.tittle: unknown field; did you mean title?",
		"16: marketplaces[0].listing.fields.descripton: unknown field; did you mean description?",
		`20: marketplaces[1].start_urls[0]: "https://other.test/private/start" matches deny pattern "/private"`,
		"23: marketplaces[2].listing: missing",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}

func TestNearest(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"tittle", "title"}, {"vendr", "vendor"}, {"prcie", "price"}, {"shipping", ""}, {"url", "url"}, {"uri", "url"}, {"sku", ""},
	} {
		if got := nearest(tt.in, knownFields); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
