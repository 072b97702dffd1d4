package web

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"snoop/classify"
	"snoop/rules"
	"snoop/schedule"
	"snoop/store"
)

// payloadTitle is a listing title that would run script if it ever
// reached the page unescaped.
const payloadTitle = `Isotonitazene 1g <script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

var testNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type fakeScheduler struct {
	mu        sync.Mutex
	status    []schedule.MarketStatus
	requested []string
}

func (f *fakeScheduler) Status() []schedule.MarketStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]schedule.MarketStatus(nil), f.status...)
}

func (f *fakeScheduler) SweepNow(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, st := range f.status {
		if st.Name != name {
			continue
		}
		if st.Running {
			return fmt.Errorf("sweep %s: %w", name, schedule.ErrRunning)
		}
		f.requested = append(f.requested, name)
		f.status[i].Queued = true
		return nil
	}
	return fmt.Errorf("sweep %s: %w", name, schedule.ErrUnknownMarket)
}

type fixture struct {
	srv    *Server
	db     *store.DB
	sched  *fakeScheduler
	hits   []int64 // hit IDs in creation order
	evID   int64   // evidence of the first hit (gzip-encoded HTML)
	evRaw  []byte
	sweep  int64
	rulesV string
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// newFixture builds a server on a fresh database holding one sweep with
// three hits and one listing that is not a hit.
func newFixture(t testing.TB, tweak func(*Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, rulesV: rs.Version(), sched: &fakeScheduler{status: []schedule.MarketStatus{
		{Name: "shop", Schedule: "@every 6h", Next: testNow.Add(time.Hour)},
		{Name: "board", Schedule: "", Running: true},
	}}}
	f.sweep, err = db.BeginSweep(ctx, []string{"shop", "board"}, rs.Version(), testNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	page := func(market, u, html string, gzipped bool, l store.ListingRecord) store.SaveResult {
		t.Helper()
		hdr := "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
		body := []byte(html)
		if gzipped {
			hdr += "Content-Encoding: gzip\r\n"
			body = gz(t, html)
		}
		raw := append([]byte(hdr+"\r\n"), body...)
		res, err := db.SavePage(ctx, store.PageRecord{SweepID: f.sweep, Market: market, URL: u, Status: 200,
			Evidence: store.Evidence{FetchedAt: testNow.Add(-30 * time.Minute), RequestBytes: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ResponseBytes: raw}},
			[]store.ListingRecord{l})
		if err != nil {
			t.Fatal(err)
		}
		if f.evRaw == nil {
			f.evRaw, f.evID = raw, res.EvidenceID
		}
		if id := res.Listings[0].HitID; id != 0 {
			f.hits = append(f.hits, id)
		}
		return res
	}
	listing := func(u, title, text string, subs ...store.Substance) store.ListingRecord {
		l := store.ListingRecord{URL: u, Title: title, Text: text, Price: "$450", Vendor: "chemlab"}
		if len(subs) > 0 {
			l.Hit = &store.HitRecord{Score: 0.9, RuleVersion: rs.Version(), Substances: subs}
		}
		return l
	}
	text1 := payloadTitle + " — pure isotonitazene powder for sale, ships worldwide"
	i := strings.Index(text1, "Isotonitazene")
	page("shop", "http://shop.test/product/1",
		`<html><head><title>shop</title><script>document.title="pwned"</script></head><body><h1>Isotonitazene</h1><img src=x onerror="document.title='pwned'"></body></html>`, true,
		listing("http://shop.test/product/1", payloadTitle, text1, store.Substance{Name: "isotonitazene", Class: "nitazene", Matched: text1[i : i+13], Start: i, End: i + 13}))
	page("shop", "http://shop.test/product/2", "<h1>Carfentanil</h1>", false,
		listing("http://shop.test/product/2", "Carfentanil 10mg", "Carfentanil 10mg for sale", store.Substance{Name: "carfentanil", Class: "fentanyl-analogue", Matched: "Carfentanil", Start: 0, End: 11}))
	page("board", "http://board.test/t/3", "<p>metonitazene</p>", false,
		listing("http://board.test/t/3", "WTS metonitazene", "WTS metonitazene bulk", store.Substance{Name: "metonitazene", Class: "nitazene", Matched: "metonitazene", Start: 4, End: 16}))
	page("shop", "http://shop.test/product/4", "<h1>Test strips</h1>", false, listing("http://shop.test/product/4", "Fentanyl test strips", "Fentanyl test strips, harm reduction"))
	if err := db.FinishSweep(ctx, f.sweep, "completed", map[string]any{"sweep_id": f.sweep, "status": "completed",
		"markets": []any{map[string]any{"market": "shop", "crawl": map[string]any{"PagesFetched": 7, "Listings": 3}, "hits": 2, "new_hits": 2}}}, testNow.Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	opts := Options{DB: db, Scheduler: f.sched, Classifier: c, RuleVersion: rs.Version(), ToolVersion: "test",
		Now: func() time.Time { return testNow }, LocalActor: "local-analyst"}
	if tweak != nil {
		tweak(&opts)
	}
	f.srv, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// req is one request to the fixture's handler.
type req struct {
	method, path string
	body         string
	ctype        string
	headers      map[string]string
	cookies      []*http.Cookie
	host         string // Host header; "" for 127.0.0.1:8080
	remote       string // client address; "" for httptest's default
}

func (f *fixture) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, "http://127.0.0.1:8080"+r.path, strings.NewReader(r.body))
	if r.host != "" {
		hr.Host = r.host
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, hr)
	return w
}

// csrf gets a page and returns the anti-CSRF cookie it set and the token.
func (f *fixture) csrf(t *testing.T, cookies ...*http.Cookie) ([]*http.Cookie, string) {
	t.Helper()
	w := f.do(t, req{path: "/login", cookies: cookies})
	if w.Code != http.StatusOK {
		t.Fatalf("GET /login = %d", w.Code)
	}
	tok := formToken(t, w.Body.String())
	return append(cookies, w.Result().Cookies()...), tok
}

func formToken(t *testing.T, html string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(html, marker)
	if i < 0 {
		t.Fatal("page has no CSRF field")
	}
	rest := html[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

const formType = "application/x-www-form-urlencoded"

func checkCSP(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := w.Header().Get("Content-Security-Policy"); got != want {
		t.Errorf("Content-Security-Policy = %q, want %q", got, want)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		path string
		code int
		csp  string
		want []string
	}{
		{"/healthz", 200, cspPage, []string{"ok"}},
		{"/", 200, cspPage, []string{"Marketplaces", "shop", "@every 6h", "2026-03-02 13:00Z", "running", "Sweep now", "New since you last looked", "<svg", "fentanyl-analogue", "Recent sweeps"}},
		{"/hits", 200, cspPage, []string{`id="hits"`, "Carfentanil 10mg", "metonitazene", `id="bulk-confirm"`, `accesskey="c"`, `id="select-all"`, "Export selected", "page 1 of 1"}},
		{"/hits?market=board", 200, cspPage, []string{"WTS metonitazene"}},
		{"/hits?class=fentanyl-analogue&sort=-score", 200, cspPage, []string{"Carfentanil 10mg"}},
		{"/hits?status=bogus", 400, cspPage, []string{"want new, confirmed or false_positive"}},
		{fmt.Sprintf("/hits/%d", f.hits[0]), 200, cspDetail, []string{"<mark class=\"substance\"", "isotonitazene", "nitazene", "History across sweeps", "<iframe class=\"evidence\" id=\"evidence-frame\" sandbox src=\"/evidence/", "urn:uuid:", "Page source (escaped)", "&lt;script&gt;"}},
		{"/hits/999", 404, cspPage, []string{"no hit 999"}},
		{"/hits/abc", 400, cspPage, []string{"positive number"}},
		{"/rules", 200, cspPage, []string{f.rulesV, "Explain", "Backtest candidate rules"}},
		{"/export", 200, cspPage, []string{"Case name", "Download package", fmt.Sprintf(`<option value="%d">`, f.sweep)}},
		{"/login", 200, cspPage, []string{"Sign in", `type="password"`}},
		{"/static/style.css", 200, cspPage, []string{"font"}},
		{"/nope", 404, cspPage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := f.do(t, req{path: tt.path})
			if w.Code != tt.code {
				t.Fatalf("status = %d, want %d; body:\n%s", w.Code, tt.code, w.Body)
			}
			checkCSP(t, w, tt.csp)
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			for _, bad := range []string{"<script", "onerror=\"document", "style=\""} {
				if strings.Contains(body, bad) {
					t.Errorf("body contains %q", bad)
				}
			}
		})
	}
}

func TestEvidenceIsSandboxed(t *testing.T) {
	f := newFixture(t, nil)
	w := f.do(t, req{path: fmt.Sprintf("/evidence/%d/page", f.evID), headers: map[string]string{"Sec-Fetch-Dest": "iframe"}})
	if w.Code != 200 {
		t.Fatalf("status = %d", w.Code)
	}
	checkCSP(t, w, cspEvidence)
	if !strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "sandbox; default-src 'none'") {
		t.Errorf("evidence CSP does not start with sandbox; default-src 'none'")
	}
	if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := w.Header().Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options = %q", got)
	}
	if !strings.Contains(w.Body.String(), "<h1>Isotonitazene</h1>") {
		t.Errorf("gzip body not decoded: %q", w.Body.String())
	}

	raw := f.do(t, req{path: fmt.Sprintf("/evidence/%d/raw", f.evID)})
	checkCSP(t, raw, cspEvidence)
	if !bytes.Equal(raw.Body.Bytes(), f.evRaw) {
		t.Error("raw evidence differs from the stored bytes")
	}
	sum := sha256.Sum256(f.evRaw)
	if got := raw.Header().Get("X-Snoop-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("X-Snoop-SHA256 = %q", got)
	}
	if cd := raw.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition = %q, want attachment", cd)
	}
	if w := f.do(t, req{path: "/evidence/9999/page"}); w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("missing evidence: %d %q", w.Code, w.Header().Get("Content-Security-Policy"))
	}

	// The evidence page: a workbench page framing the body, whose frame may
	// not be navigated away from the workbench.
	page := f.do(t, req{path: fmt.Sprintf("/evidence/%d", f.evID)})
	if page.Code != 200 {
		t.Fatalf("evidence page = %d", page.Code)
	}
	checkCSP(t, page, cspDetail)
	if !strings.Contains(page.Body.String(), fmt.Sprintf(`id="evidence-frame" sandbox src="/evidence/%d/page"`, f.evID)) {
		t.Errorf("evidence page does not frame the body: %s", page.Body)
	}
	if strings.Contains(page.Body.String(), "<h1>Isotonitazene</h1>") {
		t.Error("evidence page holds the archived markup itself")
	}
	// The body opened as a page of its own goes to the evidence page; other
	// embeddings are refused.
	for dest, want := range map[string]int{"document": 303, "object": 403, "embed": 403, "iframe": 200, "": 200} {
		w := f.do(t, req{path: fmt.Sprintf("/evidence/%d/page", f.evID), headers: map[string]string{"Sec-Fetch-Dest": dest}})
		if w.Code != want {
			t.Errorf("Sec-Fetch-Dest %q: %d, want %d", dest, w.Code, want)
		}
		if want == 303 && w.Header().Get("Location") != fmt.Sprintf("/evidence/%d", f.evID) {
			t.Errorf("top-level body redirects to %q", w.Header().Get("Location"))
		}
		if want != 303 && !strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("Sec-Fetch-Dest %q: CSP %q", dest, w.Header().Get("Content-Security-Policy"))
		}
	}
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", w.Body, err)
	}
	return v
}

func TestAPIRead(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		query string
		want  int // number of hits
	}{
		{"", 3}, {"?market=shop", 2}, {"?substance=Carfentanil", 1}, {"?class=nitazene", 2}, {"?status=new", 3},
		{"?status=confirmed", 0}, {"?q=bulk", 1}, {"?limit=2", 2}, {"?offset=2", 1}, {fmt.Sprintf("?sweep=%d", f.sweep), 3},
		{"?since=2026-03-02", 3}, {"?until=2026-03-01", 0},
	}
	for _, tt := range tests {
		t.Run("hits"+tt.query, func(t *testing.T) {
			w := f.do(t, req{path: "/api/hits" + tt.query})
			if w.Code != 200 {
				t.Fatalf("status = %d: %s", w.Code, w.Body)
			}
			checkCSP(t, w, cspPage)
			hits := decode[[]map[string]any](t, w)
			if len(hits) != tt.want {
				t.Fatalf("got %d hits, want %d", len(hits), tt.want)
			}
		})
	}
	t.Run("hit object fields", func(t *testing.T) {
		w := f.do(t, req{path: fmt.Sprintf("/api/hits/%d", f.hits[0])})
		h := decode[map[string]any](t, w)
		for _, k := range []string{"id", "marketplace", "url", "title", "price", "vendor", "score", "status", "substances", "rule_version", "sweep_id", "first_seen", "last_seen", "evidence"} {
			if _, ok := h[k]; !ok {
				t.Errorf("hit lacks %q", k)
			}
		}
		if h["title"] != payloadTitle {
			t.Errorf("title = %q", h["title"])
		}
	})
	t.Run("sorted by score then id, descending", func(t *testing.T) {
		hits := decode[[]store.Hit](t, f.do(t, req{path: "/api/hits?sort=-id"}))
		if hits[0].ID != f.hits[2] {
			t.Errorf("first = %d, want %d", hits[0].ID, f.hits[2])
		}
	})
	for _, tt := range []struct{ path, want string }{
		{"/api/hits?status=x", "status"}, {"/api/hits?sort=x", "sort"}, {"/api/hits?since=yesterday", "since"}, {"/api/hits?limit=-1", "limit"},
	} {
		t.Run("bad "+tt.path, func(t *testing.T) {
			w := f.do(t, req{path: tt.path})
			if w.Code != 400 || !strings.Contains(decode[apiError](t, w).Error, tt.want) {
				t.Fatalf("got %d %s", w.Code, w.Body)
			}
		})
	}
	t.Run("hit 404", func(t *testing.T) {
		if w := f.do(t, req{path: "/api/hits/4242"}); w.Code != 404 {
			t.Fatalf("status = %d", w.Code)
		}
	})
	t.Run("hit detail", func(t *testing.T) {
		d := decode[hitDetailJSON](t, f.do(t, req{path: fmt.Sprintf("/api/hits/%d/detail", f.hits[0])}))
		if len(d.Evidence) != 1 || d.Evidence[0].WARCRecordID == "" || len(d.History) != 1 || d.Explain.RuleVersion != f.rulesV {
			t.Fatalf("detail = %+v", d)
		}
	})
	t.Run("sweeps", func(t *testing.T) {
		sw := decode[[]store.Sweep](t, f.do(t, req{path: "/api/sweeps"}))
		if len(sw) != 1 || sw[0].ID != f.sweep || sw[0].Status != "completed" {
			t.Fatalf("sweeps = %+v", sw)
		}
	})
	t.Run("marketplaces", func(t *testing.T) {
		rows := decode[[]marketRow](t, f.do(t, req{path: "/api/marketplaces"}))
		if len(rows) != 2 {
			t.Fatalf("rows = %+v", rows)
		}
		shop := rows[0]
		if shop.Name != "shop" || shop.NextRun == nil || !shop.NextRun.Equal(testNow.Add(time.Hour)) || shop.LastRun == nil ||
			shop.LastRun.Pages != 7 || shop.LastRun.Hits != 2 || shop.LastRun.Status != "completed" {
			t.Errorf("shop = %+v / %+v", shop, shop.LastRun)
		}
		if board := rows[1]; !board.Running || board.NextRun != nil {
			t.Errorf("board = %+v", board)
		}
	})
	t.Run("dashboard", func(t *testing.T) {
		d := decode[map[string]any](t, f.do(t, req{path: "/api/dashboard"}))
		if d["new_hit_count"].(float64) != 3 || len(d["classes"].([]any)) != 2 {
			t.Fatalf("dashboard = %v", d)
		}
	})
	t.Run("rules", func(t *testing.T) {
		d := decode[map[string]any](t, f.do(t, req{path: "/api/rules"}))
		if d["version"] != f.rulesV {
			t.Fatalf("rules = %v", d)
		}
	})
	t.Run("unknown API route", func(t *testing.T) {
		if w := f.do(t, req{path: "/api/nope"}); w.Code != 404 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("got %d %s", w.Code, w.Header().Get("Content-Type"))
		}
	})
}

func TestAPIWrite(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	post := func(path, body string) *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: path, body: body, ctype: "application/json"})
	}
	t.Run("review", func(t *testing.T) {
		w := post(fmt.Sprintf("/api/hits/%d/review", f.hits[1]), `{"status":"confirmed","note":"offered for sale"}`)
		if w.Code != 200 || decode[store.Hit](t, w).Status != "confirmed" {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		rs, _ := f.db.Reviews(ctx, f.hits[1])
		if len(rs) != 1 || rs[0].Actor != "local-analyst" || rs[0].Note != "offered for sale" {
			t.Fatalf("reviews = %+v", rs)
		}
		entries, _ := f.db.AuditEntries(ctx, time.Time{})
		if last := entries[len(entries)-1]; last.Action != store.ActionReview || last.Actor != "local-analyst" {
			t.Fatalf("last audit entry = %+v", last)
		}
	})
	for _, tt := range []struct {
		name, path, body string
		code             int
	}{
		{"bad status", fmt.Sprintf("/api/hits/%d/review", f.hits[0]), `{"status":"maybe"}`, 400},
		{"unknown field", fmt.Sprintf("/api/hits/%d/review", f.hits[0]), `{"status":"new","x":1}`, 400},
		{"missing hit", "/api/hits/999/review", `{"status":"new"}`, 404},
		{"bulk", "/api/hits/review", fmt.Sprintf(`{"ids":[%d,%d],"status":"false_positive","note":"news"}`, f.hits[0], f.hits[2]), 200},
		{"bulk empty", "/api/hits/review", `{"ids":[],"status":"new"}`, 400},
		{"sweep now", "/api/sweeps", `{"market":"shop"}`, 202},
		{"sweep running", "/api/sweeps", `{"market":"board"}`, 409},
		{"sweep unknown", "/api/sweeps", `{"market":"nope"}`, 404},
		{"seen", "/api/seen", `{}`, 200},
		{"explain", "/api/rules/explain", `{"text":"isotonitazene 5g for sale"}`, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if w := post(tt.path, tt.body); w.Code != tt.code {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.code, w.Body)
			}
		})
	}
	if got := f.sched.requested; len(got) != 1 || got[0] != "shop" {
		t.Errorf("sweeps requested = %v", got)
	}
	if h, _ := f.db.Hit(ctx, f.hits[2]); h.Status != "false_positive" {
		t.Errorf("bulk review: status %q", h.Status)
	}
	t.Run("explain result", func(t *testing.T) {
		e := decode[explainJSON](t, post("/api/rules/explain", `{"text":"isotonitazene 5g for sale"}`))
		if len(e.Matches) == 0 || e.RuleVersion != f.rulesV {
			t.Fatalf("explain = %+v", e)
		}
		// The arithmetic adds up to the score, as the CLI prints it.
		p := e.Parts
		if got := min(1, max(0, p.Base+p.Sales-p.Exclude)); e.Threshold <= 0 || p.Base <= 0 || p.Sales <= 0 || math.Abs(got-e.Score) > 1e-9 {
			t.Errorf("parts %+v threshold %v do not make score %v", p, e.Threshold, e.Score)
		}
	})
	t.Run("seen resets new hits", func(t *testing.T) {
		d := decode[map[string]any](t, f.do(t, req{path: "/api/dashboard"}))
		if d["new_hit_count"].(float64) != 0 {
			t.Fatalf("new hits after seen = %v", d["new_hit_count"])
		}
	})
	t.Run("backtest", func(t *testing.T) {
		files := map[string]string{}
		err := fs.WalkDir(rules.DefaultFS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(rules.DefaultFS(), p)
			files[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"files": files})
		w := post("/api/rules/backtest", string(body))
		if w.Code != 200 {
			t.Fatalf("status = %d: %s", w.Code, w.Body)
		}
		if bt := decode[backtestJSON](t, w); bt.Listings != 4 || bt.RuleVersion != f.rulesV {
			t.Fatalf("backtest = %+v", bt)
		}
		bad := post("/api/rules/backtest", `{"files":{"x.yaml":"substances: [ {"}}`)
		if bad.Code != 400 {
			t.Fatalf("bad rules: %d %s", bad.Code, bad.Body)
		}
		if w := post("/api/rules/backtest", `{"files":{"../../etc/x.sh":"a"}}`); w.Code != 400 {
			t.Fatalf("non-yaml file: %d", w.Code)
		}
	})
	t.Run("export", func(t *testing.T) {
		// The export policy: without a status only confirmed hits are packed.
		if w := post("/api/exports", fmt.Sprintf(`{"case":"OP 7/x","hits":[%d]}`, f.hits[0])); w.Code != 400 || !strings.Contains(w.Body.String(), "nothing to export") {
			t.Fatalf("unconfirmed hit without a status: %d %s", w.Code, w.Body)
		}
		w := post("/api/exports", fmt.Sprintf(`{"case":"OP 7/x","hits":[%d],"status":"any"}`, f.hits[0]))
		if w.Code != 200 {
			t.Fatalf("status = %d: %s", w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/zip" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="OP-7x.zip"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "manifest.json") {
			t.Fatalf("zip files = %v", names)
		}
		if w := post("/api/exports", `{"status":"maybe"}`); w.Code != 400 {
			t.Fatalf("bad export status: %d", w.Code)
		}
	})
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, nil)
	path := fmt.Sprintf("/hits/%d/review", f.hits[0])
	body := func(tok string) string { return form("csrf", tok, "status", "confirmed", "note", "n") }
	cookies, tok := f.csrf(t)
	for _, c := range cookies {
		if c.Name == csrfCookie && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
			t.Errorf("csrf cookie flags: %+v", c)
		}
	}
	tests := []struct {
		name string
		r    req
		code int
	}{
		{"form without token", req{method: "POST", path: path, body: body(""), ctype: formType, cookies: cookies}, 403},
		{"form with wrong token", req{method: "POST", path: path, body: body("forged"), ctype: formType, cookies: cookies}, 403},
		{"form token without cookie", req{method: "POST", path: path, body: body(tok), ctype: formType}, 403},
		{"cross-site form", req{method: "POST", path: path, body: body(tok), ctype: formType, cookies: cookies, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"cross-origin JSON", req{method: "POST", path: "/api/sweeps", body: `{"market":"shop"}`, ctype: "application/json", headers: map[string]string{"Origin": "http://evil.test"}}, 403},
		{"API form post without token", req{method: "POST", path: "/api/sweeps", body: form("market", "shop"), ctype: formType}, 403},
		{"API text/plain without token", req{method: "POST", path: "/api/sweeps", body: `{"market":"shop"}`, ctype: "text/plain"}, 403},
		{"sweep form without token", req{method: "POST", path: "/sweeps", body: form("market", "shop"), ctype: formType}, 403},
		{"seen without token", req{method: "POST", path: "/seen", ctype: formType}, 403},
		{"export without token", req{method: "POST", path: "/export", body: form("case", "x"), ctype: formType}, 403},
		{"explain without token", req{method: "POST", path: "/rules/explain", body: form("text", "x"), ctype: formType}, 403},
		{"login without token", req{method: "POST", path: "/login", body: form("user", "a", "password", "b"), ctype: formType}, 403},
		{"form with token", req{method: "POST", path: path, body: body(tok), ctype: formType, cookies: cookies, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 303},
		{"header token", req{method: "POST", path: "/api/sweeps", body: form("market", "shop"), ctype: formType, cookies: cookies, headers: map[string]string{"X-CSRF-Token": tok}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.r)
			if w.Code != tt.code {
				t.Fatalf("status = %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			checkCSP(t, w, cspPage)
		})
	}
	if h, _ := f.db.Hit(context.Background(), f.hits[0]); h.Status != "confirmed" {
		t.Errorf("status after the one good request = %q", h.Status)
	}
	if len(f.sched.requested) != 0 {
		t.Errorf("a refused request started a sweep: %v", f.sched.requested)
	}
}

func TestFormsWithToken(t *testing.T) {
	f := newFixture(t, nil)
	cookies, tok := f.csrf(t)
	post := func(path string, kv ...string) *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: path, body: form(append([]string{"csrf", tok}, kv...)...), ctype: formType, cookies: cookies})
	}
	t.Run("bulk triage", func(t *testing.T) {
		w := post("/hits/review", "hit", fmt.Sprint(f.hits[0]), "hit", fmt.Sprint(f.hits[1]), "status", "false_positive", "note", "harm reduction", "back", "/hits?market=shop")
		if w.Code != 303 || w.Header().Get("Location") != "/hits?market=shop&notice=reviewed" {
			t.Fatalf("got %d %q", w.Code, w.Header().Get("Location"))
		}
		for _, id := range f.hits[:2] {
			rs, _ := f.db.Reviews(context.Background(), id)
			if len(rs) != 1 || rs[0].Status != "false_positive" || rs[0].Note != "harm reduction" {
				t.Errorf("hit %d reviews = %+v", id, rs)
			}
		}
		if w := post("/hits/review", "status", "confirmed", "back", "//evil.test/"); w.Code != 400 {
			t.Fatalf("no hits selected: %d", w.Code)
		}
		w = post("/hits/review", "hit", fmt.Sprint(f.hits[0]), "status", "new", "back", "//evil.test/")
		if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/hits") {
			t.Fatalf("open redirect: %q", loc)
		}
	})
	t.Run("sweep now", func(t *testing.T) {
		if w := post("/sweeps", "market", "shop"); w.Code != 303 {
			t.Fatalf("got %d", w.Code)
		}
		if w := post("/sweeps", "market", "board"); w.Code != 409 {
			t.Fatalf("running: got %d", w.Code)
		}
	})
	t.Run("seen", func(t *testing.T) {
		if w := post("/seen"); w.Code != 303 {
			t.Fatalf("got %d", w.Code)
		}
		if at, _ := f.db.LastLook(context.Background(), "local-analyst"); !at.Equal(testNow) {
			t.Fatalf("last look = %v", at)
		}
	})
	t.Run("explain", func(t *testing.T) {
		w := post("/rules/explain", "text", "selling isotonitazene <b>now</b>")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `id="explain-verdict"`) || !strings.Contains(w.Body.String(), "&lt;b&gt;now&lt;/b&gt;") {
			t.Fatalf("got %d: %s", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `id="explain-arithmetic"`) || !strings.Contains(w.Body.String(), " = base ") || !strings.Contains(w.Body.String(), "threshold ") {
			t.Errorf("explain lacks the score arithmetic: %s", w.Body)
		}
	})
	t.Run("backtest upload", func(t *testing.T) {
		var b bytes.Buffer
		mw := newMultipart(&b)
		mw.field("csrf", tok)
		mw.field("source", "upload")
		for _, name := range []string{"scoring.yaml", "nitazenes.yaml"} {
			data, err := fs.ReadFile(rules.DefaultFS(), name)
			if err != nil {
				t.Fatal(err)
			}
			mw.file("rules", name, data)
		}
		mw.close()
		w := f.do(t, req{method: "POST", path: "/rules/backtest", body: b.String(), ctype: mw.contentType(), cookies: cookies})
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("got %d: %s", w.Code, w.Body)
		}
		if w.Code == 200 && !strings.Contains(w.Body.String(), `id="backtest-summary"`) {
			t.Fatalf("no summary: %s", w.Body)
		}
	})
	t.Run("export", func(t *testing.T) {
		w := post("/export", "case", "op", "hit", fmt.Sprint(f.hits[1]), "status", "any")
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/zip" {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		hits := fmt.Sprintf("%d %d", f.hits[0], f.hits[1])
		w = post("/export", "case", "op", "hit", hits, "preview", "1")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "The selection holds 0 confirmed, 1 new, 1 false_positive: the package will hold <strong>0</strong> hit(s). Nothing to export") {
			t.Fatalf("preview with the default status: %d %s", w.Code, w.Body)
		}
		w = post("/export", "case", "op", "hit", hits, "status", "any", "preview", "1")
		if !strings.Contains(w.Body.String(), "the package will hold <strong>2</strong> hit(s)") || !strings.Contains(w.Body.String(), `<option value="any" selected>`) {
			t.Fatalf("preview with status any: %s", w.Body)
		}
		if w := post("/export", "case", "op", "back", "/hits"); w.Code != 400 {
			t.Fatalf("export from the hits page with nothing selected: %d", w.Code)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, nil)
	big := `{"text":"` + strings.Repeat("a", maxBody+10) + `"}`
	w := f.do(t, req{method: "POST", path: "/api/rules/explain", body: big, ctype: "application/json"})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "larger than") {
		t.Fatalf("got %d %s", w.Code, clip(w.Body.String(), 200))
	}
}

func TestAuth(t *testing.T) {
	const token = "s3cret-token-for-tests"
	f := newFixture(t, func(o *Options) { o.Token = token; o.SecureCookies = true })
	ctx := context.Background()
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.PutUser(ctx, "alice", hash, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("short password accepted")
	}

	t.Run("anonymous is refused", func(t *testing.T) {
		for _, p := range []string{"/", "/hits", fmt.Sprintf("/hits/%d", f.hits[0]), "/rules", "/export", fmt.Sprintf("/evidence/%d", f.evID)} {
			w := f.do(t, req{path: p})
			if w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
				t.Errorf("GET %s = %d %q, want redirect to /login", p, w.Code, w.Header().Get("Location"))
			}
			checkCSP(t, w, cspPage)
		}
		for _, p := range []string{"/api/hits", "/api/sweeps", "/api/marketplaces", fmt.Sprintf("/api/hits/%d", f.hits[0])} {
			w := f.do(t, req{path: p})
			if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s = %d, want 401", p, w.Code)
			}
		}
		if w := f.do(t, req{method: "POST", path: "/api/sweeps", body: `{"market":"shop"}`, ctype: "application/json"}); w.Code != 401 {
			t.Errorf("anonymous JSON POST = %d, want 401", w.Code)
		}
		for _, p := range []string{"/healthz", "/login", "/static/style.css"} {
			if w := f.do(t, req{path: p}); w.Code != 200 {
				t.Errorf("public %s = %d", p, w.Code)
			}
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		auth := map[string]string{"Authorization": "Bearer " + token}
		if w := f.do(t, req{path: "/api/hits", headers: auth}); w.Code != 200 {
			t.Fatalf("GET with token = %d", w.Code)
		}
		if w := f.do(t, req{path: "/api/hits", headers: map[string]string{"Authorization": "Bearer wrong"}}); w.Code != 401 {
			t.Fatalf("GET with wrong token = %d", w.Code)
		}
		w := f.do(t, req{method: "POST", path: fmt.Sprintf("/api/hits/%d/review", f.hits[0]), body: `{"status":"confirmed"}`, ctype: "application/json", headers: auth})
		if w.Code != 200 {
			t.Fatalf("POST with token = %d %s", w.Code, w.Body)
		}
		rs, _ := f.db.Reviews(ctx, f.hits[0])
		if rs[0].Actor != "api-token of local-analyst" {
			t.Errorf("actor = %q", rs[0].Actor)
		}
		named := map[string]string{"Authorization": "Bearer " + token, "X-Snoop-Analyst": "dana"}
		f.do(t, req{method: "POST", path: fmt.Sprintf("/api/hits/%d/review", f.hits[0]), body: `{"status":"new"}`, ctype: "application/json", headers: named})
		if rs, _ := f.db.Reviews(ctx, f.hits[0]); rs[len(rs)-1].Actor != "dana (api-token)" {
			t.Errorf("actor with X-Snoop-Analyst = %q", rs[len(rs)-1].Actor)
		}
	})
	t.Run("session", func(t *testing.T) {
		pre, tok := f.csrf(t) // the login page works without a session
		login := func(pw string) *httptest.ResponseRecorder {
			return f.do(t, req{method: "POST", path: "/login", body: form("csrf", tok, "user", "alice", "password", pw, "next", "/hits"), ctype: formType, cookies: pre})
		}
		if w := login("wrong password"); w.Code != 401 || !strings.Contains(w.Body.String(), "Wrong user name or password") {
			t.Fatalf("wrong password: %d", w.Code)
		}
		w := login("correct horse battery")
		if w.Code != 303 || w.Header().Get("Location") != "/hits" {
			t.Fatalf("login = %d %q", w.Code, w.Header().Get("Location"))
		}
		var sess *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == sessionCookie {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" {
			t.Fatalf("session cookie = %+v", sess)
		}
		page := f.do(t, req{path: "/", cookies: []*http.Cookie{sess}})
		if page.Code != 200 || !strings.Contains(page.Body.String(), "signed in as <strong>alice</strong>") {
			t.Fatalf("dashboard with session = %d", page.Code)
		}
		stok := formToken(t, page.Body.String())
		if stok == tok {
			t.Fatal("session CSRF token equals the pre-login token")
		}
		review := func(tk string) int {
			return f.do(t, req{method: "POST", path: fmt.Sprintf("/hits/%d/review", f.hits[1]), body: form("csrf", tk, "status", "confirmed"), ctype: formType, cookies: []*http.Cookie{sess}}).Code
		}
		if code := review(tok); code != 403 {
			t.Errorf("review with the pre-login token = %d, want 403", code)
		}
		if code := review(stok); code != 303 {
			t.Errorf("review with the session token = %d, want 303", code)
		}
		rs, _ := f.db.Reviews(ctx, f.hits[1])
		if len(rs) != 1 || rs[0].Actor != "alice" {
			t.Errorf("reviews = %+v", rs)
		}
		// The JSON API used with a session cookie needs the header token.
		api := req{method: "POST", path: "/api/sweeps", body: `{"market":"shop"}`, ctype: "application/json", cookies: []*http.Cookie{sess}}
		if w := f.do(t, api); w.Code != 403 {
			t.Errorf("session API POST without token = %d, want 403", w.Code)
		}
		api.headers = map[string]string{"X-CSRF-Token": stok}
		if w := f.do(t, api); w.Code != 202 {
			t.Errorf("session API POST with token = %d, want 202", w.Code)
		}
		out := f.do(t, req{method: "POST", path: "/logout", body: form("csrf", stok), ctype: formType, cookies: []*http.Cookie{sess}})
		if out.Code != 303 {
			t.Fatalf("logout = %d", out.Code)
		}
		if w := f.do(t, req{path: "/", cookies: []*http.Cookie{sess}}); w.Code != 303 {
			t.Errorf("dashboard after logout = %d, want redirect", w.Code)
		}
		entries, _ := f.db.AuditEntries(ctx, time.Time{})
		var logins int
		for _, e := range entries {
			if e.Action == "web.login" && e.Actor == "alice" {
				logins++
			}
		}
		if logins != 1 {
			t.Errorf("web.login audit rows = %d, want 1", logins)
		}
	})
	t.Run("login redirect stays local", func(t *testing.T) {
		for _, next := range []string{"//evil.test/", "https://evil.test/", "/\\evil.test"} {
			if got := localPath(next); got != "/" {
				t.Errorf("localPath(%q) = %q", next, got)
			}
		}
	})
}

func TestHighlight(t *testing.T) {
	text := "buy isotonitazene — ünïcode carfentanil"
	i := strings.Index(text, "isotonitazene")
	j := strings.Index(text, "carfentanil")
	segs := highlight(text, []span{
		{start: j, end: j + 11, class: "substance"},
		{start: i, end: i + 13, class: "substance"},
		{start: i + 2, end: i + 5, class: "sales"},    // overlaps: dropped
		{start: -1, end: 3},                           // out of range
		{start: j - 3, end: j - 2},                    // inside a multi-byte rune? "e " ok
		{start: len(text) - 1, end: len(text) + 4},    // past the end
		{start: strings.Index(text, "ü") + 1, end: j}, // not a rune start
	})
	var joined strings.Builder
	var marks []string
	for _, s := range segs {
		joined.WriteString(s.Text)
		if s.Mark {
			marks = append(marks, s.Text)
		}
	}
	if joined.String() != text {
		t.Fatalf("segments do not rebuild the text: %q", joined.String())
	}
	if got := strings.Join(marks, "|"); got != "isotonitazene|d|carfentanil" {
		t.Fatalf("marks = %q", got)
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name, raw, want, ctype string
	}{
		{"plain", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>", "<p>hi</p>", "text/html"},
		{"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + string(gz(t, "zipped")), "zipped", ""},
		{"no body", "HTTP/1.1 204 No Content\r\n\r\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodeResponse([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if string(d.Body) != tt.want || d.ContentType != tt.ctype {
				t.Fatalf("got %q %q, want %q %q", d.Body, d.ContentType, tt.want, tt.ctype)
			}
		})
	}
	if _, err := decodeResponse([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\nxx")); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestChart(t *testing.T) {
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	c := buildChart([]store.ClassCount{{Day: "2026-02-01", Class: "nitazene", Hits: 2}, {Day: "2026-02-01", Class: "precursor", Hits: 2}, {Day: "2026-02-03", Class: "nitazene", Hits: 1}}, from, 30)
	if c.Empty || c.Max != 4 || len(c.Bars) != 3 || len(c.Legend) != 2 {
		t.Fatalf("chart = %+v", c)
	}
	if c.Bars[0].H+c.Bars[1].H != chartH-padT-padB {
		t.Errorf("tallest day does not fill the plot: %d+%d", c.Bars[0].H, c.Bars[1].H)
	}
	if e := buildChart(nil, from, 30); !e.Empty {
		t.Error("empty chart not empty")
	}
}

// multipartBody builds a multipart/form-data request body.
type multipartBody struct{ w *multipart.Writer }

func newMultipart(b *bytes.Buffer) *multipartBody { return &multipartBody{w: multipart.NewWriter(b)} }

func (m *multipartBody) field(k, v string) { m.w.WriteField(k, v) }

func (m *multipartBody) file(field, name string, data []byte) {
	fw, _ := m.w.CreateFormFile(field, name)
	fw.Write(data)
}

func (m *multipartBody) close()              { m.w.Close() }
func (m *multipartBody) contentType() string { return m.w.FormDataContentType() }

// A refused POST used to render its error page without the caller's
// identity: it set a fresh snoop_csrf cookie (breaking the caller's other
// open pages) and, for a signed-in analyst, showed no user and a sign-out
// form whose token no session has.
func TestRefusalKeepsCSRFToken(t *testing.T) {
	f := newFixture(t, nil)
	cookies, tok := f.csrf(t)
	w := f.do(t, req{method: "POST", path: "/seen", body: form("csrf", "forged"), ctype: formType, cookies: cookies})
	if w.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == csrfCookie {
			t.Errorf("refusal replaced the CSRF cookie with %q", c.Value)
		}
	}
	// The token still works afterwards.
	w = f.do(t, req{method: "POST", path: "/seen", body: form("csrf", tok), ctype: formType, cookies: cookies})
	if w.Code != http.StatusSeeOther {
		t.Errorf("POST with the caller's token after a refusal = %d, want 303", w.Code)
	}
}
