package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testMarket serves the fixture marketplace under testdata/market: a shop in
// page mode (/category, /product) and a board in item mode (/board).
type testMarket struct {
	*httptest.Server
	// priceBump, when set, changes the price of product 1 (a changed listing).
	priceBump atomic.Bool
	// hold, when non-nil, makes /product/4 wait until it is closed.
	hold chan struct{}
}

func newTestMarket(t *testing.T) *testMarket {
	t.Helper()
	m := &testMarket{}
	mux := http.NewServeMux()
	serve := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := os.ReadFile(filepath.Join("testdata", "market", name))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if name == "product1.html" && m.priceBump.Load() {
				b = bytes.Replace(b, []byte("$450"), []byte("$420"), 1)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b)
		}
	}
	mux.HandleFunc("/{$}", serve("index.html"))
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /private\n") })
	mux.HandleFunc("/category/chem", func(w http.ResponseWriter, r *http.Request) {
		serve("category"+r.URL.Query().Get("page")+".html")(w, r)
	})
	mux.HandleFunc("/board", func(w http.ResponseWriter, r *http.Request) {
		serve("board"+r.URL.Query().Get("page")+".html")(w, r)
	})
	mux.HandleFunc("/product/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "4" && m.hold != nil {
			select {
			case <-m.hold:
			case <-r.Context().Done():
				return
			}
		}
		serve("product"+r.PathValue("id")+".html")(w, r)
	})
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("denied URL /cart was fetched")
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

// writeConfig writes a marketplace config for the test market.
func writeConfig(t *testing.T, dir, base string) string {
	t.Helper()
	cfg := fmt.Sprintf(`defaults:
  requests_per_second: 200
  burst: 20
  concurrency: 4
  timeout: 5s
marketplaces:
  - name: test-shop
    start_urls: ["%[1]s/"]
    deny: ['/cart']
    follow: ["nav a[href]", "ul a[href]", "a.next"]
    listing:
      url_pattern: '/product/\d+$'
      fields:
        title: "h1"
        description: ".description"
        price: ".price"
        vendor: ".vendor"
  - name: test-board
    start_urls: ["%[1]s/board?page=1"]
    follow: ["a[href*='/board']"]
    listing:
      item: ".ad"
      fields:
        title: "h2"
        description: "p.text"
        price: ".price"
        vendor: ".seller"
        url: "a.permalink@href"
`, base)
	path := filepath.Join(dir, "markets.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCmd runs snoop with args and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(ctx, args, strings.NewReader(""), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

type jsonHit struct {
	ID          int64   `json:"id"`
	Marketplace string  `json:"marketplace"`
	URL         string  `json:"url"`
	Title       string  `json:"title"`
	Price       string  `json:"price"`
	Vendor      string  `json:"vendor"`
	Score       float64 `json:"score"`
	Status      string  `json:"status"`
	Substances  []struct {
		Name, Class, Matched string
	} `json:"substances"`
	RuleVersion string    `json:"rule_version"`
	SweepID     int64     `json:"sweep_id"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Evidence    struct {
		SHA256       string `json:"sha256"`
		WARCRecordID string `json:"warc_record_id"`
	} `json:"evidence"`
}

func readHits(t *testing.T, ctx context.Context, db string, extra ...string) []jsonHit {
	t.Helper()
	out, errOut, code := runCmd(t, ctx, append([]string{"hits", "--db", db, "--format", "jsonl"}, extra...)...)
	if code != 0 {
		t.Fatalf("hits: exit %d: %s", code, errOut)
	}
	var hits []jsonHit
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var h jsonHit
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("hits jsonl line %q: %v", sc.Text(), err)
		}
		hits = append(hits, h)
	}
	return hits
}

func hitsByURL(t *testing.T, base string, hits []jsonHit) map[string]jsonHit {
	t.Helper()
	m := map[string]jsonHit{}
	for _, h := range hits {
		m[strings.TrimPrefix(h.URL, base)] = h
	}
	return m
}

func TestSweepExportVerifyEndToEnd(t *testing.T) {
	ctx := context.Background()
	market := newTestMarket(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, market.URL)
	db := filepath.Join(dir, "snoop.db")

	out, errOut, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg)
	if code != 0 {
		t.Fatalf("sweep: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	hits := readHits(t, ctx, db)
	byURL := hitsByURL(t, market.URL, hits)
	if !strings.Contains(out, fmt.Sprintf("new hits of sweep 1: %d\n", len(hits))) || !strings.Contains(out, "\nnext: snoop hits --db ") {
		t.Errorf("sweep does not print its new hits and next commands:\n%s", out)
	}
	for _, h := range hits {
		if !strings.Contains(out, h.URL) {
			t.Errorf("sweep output lacks hit %s:\n%s", h.URL, out)
		}
	}
	want := map[string]string{ // URL path -> substance
		"/product/1": "isotonitazene",
		"/product/4": "carfentanil",
		"/ad/12":     "etonitazepyne",
	}
	for path, substance := range want {
		h, ok := byURL[path]
		if !ok {
			t.Errorf("no hit for %s (hits: %v)", path, keys(byURL))
			continue
		}
		if len(h.Substances) == 0 || h.Substances[0].Name != substance {
			t.Errorf("hit %s substances = %+v, want %s", path, h.Substances, substance)
		}
		if h.Status != "new" || h.Evidence.SHA256 == "" || !strings.HasPrefix(h.Evidence.WARCRecordID, "urn:uuid:") ||
			!strings.HasPrefix(h.RuleVersion, "sha256:") || h.SweepID == 0 {
			t.Errorf("hit %s incomplete: %+v", path, h)
		}
	}
	for _, decoy := range []string{"/product/2", "/product/3", "/ad/11", "/ad/13", "/ad/14"} {
		if _, ok := byURL[decoy]; ok {
			t.Errorf("decoy %s was reported as a hit", decoy)
		}
	}
	if len(hits) != len(want) {
		t.Errorf("got %d hits, want %d", len(hits), len(want))
	}
	if h := byURL["/ad/12"]; h.Marketplace != "test-board" || h.Vendor != "nitro" || h.Price != "$300" {
		t.Errorf("item-mode hit fields = %+v", h)
	}
	if h := byURL["/product/1"]; h.Marketplace != "test-shop" || h.Vendor != "chemlab" || h.Price != "$450" {
		t.Errorf("page-mode hit fields = %+v", h)
	}

	// CSV and table output.
	csvOut, _, code := runCmd(t, ctx, "hits", "--db", db, "--format", "csv")
	if code != 0 || !strings.HasPrefix(csvOut, "id,marketplace,url,") || strings.Count(csvOut, "\n") != len(hits)+1 {
		t.Errorf("hits csv (exit %d):\n%s", code, csvOut)
	}
	filtered := readHits(t, ctx, db, "--substance", "carfentanil")
	if len(filtered) != 1 || !strings.HasSuffix(filtered[0].URL, "/product/4") {
		t.Errorf("--substance carfentanil = %+v", filtered)
	}

	// Review, then export and verify.
	if _, e, code := runCmd(t, ctx, "review", "--db", db, fmt.Sprint(byURL["/product/4"].ID), "--status", "confirmed", "--note", "checked"); code != 0 {
		t.Fatalf("review: exit %d: %s", code, e)
	}
	if got := readHits(t, ctx, db, "--status", "confirmed"); len(got) != 1 {
		t.Errorf("confirmed hits = %d, want 1", len(got))
	}
	pkg := filepath.Join(dir, "case.zip")
	o, e, code := runCmd(t, ctx, "export", "--db", db, "--out", pkg, "--case", "test case")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	if !strings.Contains(o, "wrote "+pkg+": 1 hits") || !strings.Contains(e, "packed confirmed hits only") {
		t.Errorf("export without --status: %s%s, want the confirmed hit only, said", o, e)
	}
	all := filepath.Join(dir, "all.zip")
	if o, e, code := runCmd(t, ctx, "export", "--db", db, "--out", all, "--status", "any"); code != 0 || !strings.Contains(o, fmt.Sprintf(": %d hits", len(hits))) || !strings.Contains(e, "hits of every status") {
		t.Errorf("export --status any: exit %d: %s%s", code, o, e)
	}
	none := filepath.Join(dir, "none.zip")
	if _, e, code := runCmd(t, ctx, "export", "--db", db, "--out", none, "--status", "false_positive"); code != 1 || !strings.Contains(e, "no hit matches the selection (hits with status false_positive)") {
		t.Errorf("export of an empty selection: exit %d: %s", code, e)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("empty selection wrote %s", none)
	}
	if o, e, code := runCmd(t, ctx, "verify", pkg); code != 0 {
		t.Fatalf("verify of a fresh package: exit %d: %s%s", code, o, e)
	}
	names := zipNames(t, pkg)
	for _, n := range []string{"manifest.json", "hits.jsonl", "hits.csv", "custody.log", "SHA256SUMS"} {
		if !names[n] {
			t.Errorf("package lacks %s (has %v)", n, names)
		}
	}
	if _, e, code := runCmd(t, ctx, "audit", "verify", "--db", db); code != 0 {
		t.Errorf("audit verify: exit %d: %s", code, e)
	}

	// A flipped byte in the package must fail verification.
	flipped := filepath.Join(dir, "flipped.zip")
	flipZipEntryByte(t, pkg, flipped, "hits.jsonl")
	if _, _, code := runCmd(t, ctx, "verify", flipped); code != 1 {
		t.Errorf("verify of a tampered package: exit %d, want 1", code)
	}

	// A second sweep updates listings instead of duplicating them.
	market.priceBump.Store(true)
	if o, e, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg); code != 0 {
		t.Fatalf("second sweep: exit %d: %s%s", code, o, e)
	} else if !strings.Contains(o, "new hits of sweep 2: 0\n") {
		t.Errorf("second sweep reports new hits:\n%s", o)
	}
	again := readHits(t, ctx, db)
	if len(again) != len(hits) {
		t.Fatalf("after a second sweep: %d hits, want %d", len(again), len(hits))
	}
	for _, h := range again {
		first := byURL[strings.TrimPrefix(h.URL, market.URL)]
		if !h.FirstSeen.Equal(first.FirstSeen) || !h.LastSeen.After(first.LastSeen) {
			t.Errorf("%s: first_seen %v -> %v, last_seen %v -> %v; want first kept, last later", h.URL, first.FirstSeen, h.FirstSeen, first.LastSeen, h.LastSeen)
		}
	}
	if h := hitsByURL(t, market.URL, again)["/product/1"]; h.Price != "$420" {
		t.Errorf("changed price not updated: %q", h.Price)
	}
	if h := hitsByURL(t, market.URL, again)["/product/4"]; h.Status != "confirmed" {
		t.Errorf("review status lost after a new sweep: %q", h.Status)
	}
}

func TestInterruptedSweepLeavesConsistentDatabase(t *testing.T) {
	market := newTestMarket(t)
	market.hold = make(chan struct{})
	defer close(market.hold)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, market.URL)
	db := filepath.Join(dir, "snoop.db")

	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once the shop's other products are in: /product/4 hangs until then.
	go func() {
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-deadline:
				cancel()
				return
			case <-time.After(20 * time.Millisecond):
			}
			if n := len(readHitsQuiet(db)); n >= 2 {
				cancel()
				return
			}
		}
	}()
	_, errOut, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "interrupted") {
		t.Fatalf("interrupted sweep: exit %d, stderr %q; want exit 1 saying interrupted", code, errOut)
	}
	bg := context.Background()
	hits := readHits(t, bg, db)
	if len(hits) < 2 {
		t.Fatalf("hits stored before the interruption: %d, want at least 2", len(hits))
	}
	for _, h := range hits {
		if h.Evidence.SHA256 == "" {
			t.Errorf("hit %d has no evidence", h.ID)
		}
	}
	pkg := filepath.Join(dir, "case.zip")
	if _, e, code := runCmd(t, bg, "export", "--db", db, "--out", pkg, "--status", "any"); code != 0 {
		t.Fatalf("export after interruption: exit %d: %s", code, e)
	}
	if o, e, code := runCmd(t, bg, "verify", pkg); code != 0 {
		t.Fatalf("verify after interruption: exit %d: %s%s", code, o, e)
	}
	if _, e, code := runCmd(t, bg, "audit", "verify", "--db", db); code != 0 {
		t.Errorf("audit verify after interruption: exit %d: %s", code, e)
	}
}

// readHitsQuiet lists hits without failing the test (used while a sweep runs).
func readHitsQuiet(db string) []string {
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"hits", "--db", db, "--format", "jsonl"}, nil, &out, &errb); err != nil {
		return nil
	}
	return strings.FieldsFunc(out.String(), func(r rune) bool { return r == '\n' })
}

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("marketplaces:\n  - name: x\n    start_urls: ['http://127.0.0.1/']\n    bogus: 1\n"), 0o644)
	newEmptyDB(t, filepath.Join(dir, "x.db"))
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{nil, 2, "no command"},
		{[]string{"nosuch"}, 2, "unknown command"},
		{[]string{"sweep"}, 2, "--config is required"},
		{[]string{"hits", "--format", "xml", "--db", filepath.Join(dir, "x.db")}, 2, "--format"},
		{[]string{"review", "--db", filepath.Join(dir, "x.db"), "1", "--status", "maybe"}, 2, "--status"},
		{[]string{"review", "--db", filepath.Join(dir, "x.db"), "99", "--status", "confirmed"}, 1, "no hit with ID 99"},
		{[]string{"sweep", "--db", filepath.Join(dir, "x.db"), "--config", bad}, 1, "bad.yaml:4"},
		{[]string{"verify", filepath.Join(dir, "missing.zip")}, 1, "missing.zip"},
		{[]string{"sweep", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := runCmd(t, ctx, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d containing %q", code, errOut, tt.code, tt.contains)
			}
		})
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

func zipNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		if dir, _, ok := strings.Cut(f.Name, "/"); ok {
			names[dir+"/"] = true
		}
	}
	return names
}

// flipZipEntryByte copies the zip at src to dst with one byte of entry name changed.
func flipZipEntryByte(t *testing.T, src, dst, name string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		b := buf.Bytes()
		if e.Name == name && len(b) > 10 {
			b[10] ^= 0x01
		}
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// --market NAME given twice sweeps NAME once.
func TestSweepRepeatedMarketFlag(t *testing.T) {
	ctx := context.Background()
	m := newTestMarket(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, m.URL)
	db := filepath.Join(dir, "snoop.db")
	out, errOut, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg, "--market", "test-shop", "--market", "test-shop")
	if code != 0 {
		t.Fatalf("sweep exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	summary, _, _ := strings.Cut(out, "\nnew hits of sweep") // the hit table below names it per hit
	if n := strings.Count(summary, "test-shop"); n != 1 {
		t.Errorf("summary names test-shop %d times, want once:\n%s", n, out)
	}
}
