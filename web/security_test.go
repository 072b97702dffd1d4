package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// TestHostCheckRefusesRebinding sends the requests a DNS-rebinding page
// sends: its own name as Host (and as Origin, which passes the
// cross-origin check), with JSON that needs no CSRF token.
func TestHostCheckRefusesRebinding(t *testing.T) {
	f := newFixture(t, nil)
	const evil = "rebind.evil.test:8080"
	origin := map[string]string{"Origin": "http://" + evil}
	tests := []struct {
		name string
		r    req
	}{
		{"read hits", req{path: "/api/hits", host: evil}},
		{"dashboard", req{path: "/", host: evil}},
		{"evidence", req{path: fmt.Sprintf("/evidence/%d/raw", f.evID), host: evil}},
		{"sweep now", req{method: "POST", path: "/api/sweeps", body: `{"market":"shop"}`, ctype: "application/json", host: evil, headers: origin}},
		{"review", req{method: "POST", path: fmt.Sprintf("/api/hits/%d/review", f.hits[0]), body: `{"status":"confirmed"}`, ctype: "application/json", host: evil, headers: origin}},
		{"export", req{method: "POST", path: "/api/exports", body: `{}`, ctype: "application/json", host: evil, headers: origin}},
		{"trailing dot", req{path: "/api/hits", host: "localhost.:8080"}},
		{"no port", req{path: "/api/hits", host: "rebind.evil.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.r)
			if w.Code != http.StatusMisdirectedRequest {
				t.Fatalf("status = %d, want 421: %.200s", w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), "Carfentanil") || len(w.Result().Cookies()) != 0 {
				t.Errorf("refusal leaks data or sets a cookie: %q %v", w.Body, w.Result().Cookies())
			}
		})
	}
	if len(f.sched.requested) != 0 {
		t.Errorf("a rebinding request started a sweep: %v", f.sched.requested)
	}
	if h, _ := f.db.Hit(context.Background(), f.hits[0]); h.Status != "new" {
		t.Errorf("a rebinding request triaged a hit: %q", h.Status)
	}
	for _, host := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LocalHost:8080"} {
		if w := f.do(t, req{path: "/api/hits", host: host}); w.Code != 200 {
			t.Errorf("Host %s = %d, want 200", host, w.Code)
		}
	}
}

// TestHostCheckOverTCP serves on a real loopback port: only the served
// address (and the configured public URL) is answered.
func TestHostCheckOverTCP(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	addr := ts.Listener.Addr().String()
	f := newFixture(t, func(o *Options) { o.Addr = addr; o.PublicURLs = []string{"https://snoop.example.org"} })
	ts.Config.Handler = f.srv
	ts.Start()
	defer ts.Close()
	_, port, _ := strings.Cut(addr, ":")
	get := func(host string) int {
		t.Helper()
		r, err := http.NewRequest("GET", ts.URL+"/api/hits", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Host = host
		resp, err := ts.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for host, want := range map[string]int{
		addr:                         200,
		"localhost:" + port:          200,
		"[::1]:" + port:              200,
		"snoop.example.org":          200,
		"snoop.example.org:443":      200,
		"127.0.0.1:1":                421, // another port
		"rebind.evil.test:" + port:   421,
		"snoop.example.org:" + port:  421,
		"snoop.example.org.evil.com": 421,
	} {
		if got := get(host); got != want {
			t.Errorf("Host %q = %d, want %d", host, got, want)
		}
	}
}

func TestHostCheckTable(t *testing.T) {
	tests := []struct {
		addr    string
		public  []string
		allowed []string
		refused []string
	}{
		{"127.0.0.1:8080", nil,
			[]string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST:8080"},
			[]string{"127.0.0.1:8081", "127.0.0.2:8080", "localhost", "evil.test:8080", "", "10.0.0.1:8080"}},
		{"127.0.0.1:80", nil, []string{"localhost", "127.0.0.1", "localhost:80"}, []string{"evil.test"}},
		{"0.0.0.0:8080", nil, []string{"10.1.2.3:8080", "[fd00::1]:8080", "localhost:8080"}, []string{"10.1.2.3:9", "intranet.test:8080", "10.1.2.3"}},
		{"10.0.0.5:8443", []string{"https://snoop.internal", "http://alt.internal:8000/snoop/"},
			[]string{"10.0.0.5:8443", "snoop.internal", "snoop.internal:443", "alt.internal:8000", "127.0.0.1:8443"},
			[]string{"10.0.0.6:8443", "snoop.internal:8443", "alt.internal", "evil.internal"}},
		{"", nil, []string{"127.0.0.1:1234", "localhost:9", "[::1]:5"}, []string{"evil.test:1234", "10.0.0.1:1234"}},
	}
	for _, tt := range tests {
		hc, err := newHostCheck(tt.addr, tt.public)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range tt.allowed {
			if !hc.allowed(h) {
				t.Errorf("addr %q: Host %q refused, want allowed", tt.addr, h)
			}
		}
		for _, h := range tt.refused {
			if hc.allowed(h) {
				t.Errorf("addr %q: Host %q allowed, want refused", tt.addr, h)
			}
		}
	}
	for _, bad := range []string{"snoop.internal", "ftp://x", "https://", "https://u:p@x"} {
		if _, err := newHostCheck("127.0.0.1:8080", []string{bad}); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("public URL %q: err = %v, want a clear refusal", bad, err)
		}
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/hits", "/hits"},
		{"/hits?market=shop&page=2", "/hits?market=shop&page=2"},
		{"/hits/5", "/hits/5"},
		{"/%09/evil.example/x", "/%09/evil.example/x"}, // escaped: stays a path
		{"/x#frag", "/x"},
		{"", "/"},
		{"hits", "/"},
		{"//evil.example/x", "/"},
		{"/\t/evil.example/x", "/"},
		{"/\n/evil.example/x", "/"},
		{"/\r/evil.example/x", "/"},
		{"\t//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/hits?q=a b", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/\u3000/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/https://evil.example/", "/https://evil.example/"},
		{"javascript:alert(1)", "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoginNextStaysLocal(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.PutUser(ctx, "alice", hash, testNow); err != nil {
		t.Fatal(err)
	}
	pre, tok := f.csrf(t)
	w := f.do(t, req{method: "POST", path: "/login", body: form("csrf", tok, "user", "alice", "password", "correct horse battery", "next", "/\t/evil.example/x"), ctype: formType, cookies: pre})
	if w.Code != 303 || w.Header().Get("Location") != "/" {
		t.Fatalf("login = %d, Location %q, want 303 to /", w.Code, w.Header().Get("Location"))
	}
	page := f.do(t, req{path: "/login?next=" + urlQueryEscape("/\t/evil.example/x"), cookies: pre})
	if strings.Contains(page.Body.String(), "evil.example") {
		t.Errorf("login page keeps the hostile next: %s", page.Body)
	}
}

// TestBulkReviewBackControlChar once made the bulk form panic.
func TestBulkReviewBackControlChar(t *testing.T) {
	f := newFixture(t, nil)
	cookies, tok := f.csrf(t)
	for _, back := range []string{"/hits\x01", "/hits?market=\x7f", "/hits\t", "/hits?%zz", "/hits%"} {
		w := f.do(t, req{method: "POST", path: "/hits/review", ctype: formType, cookies: cookies,
			body: form("csrf", tok, "hit", fmt.Sprint(f.hits[0]), "status", "confirmed", "back", back)})
		if w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/hits") {
			t.Errorf("back %q: %d %q, want 303 to /hits", back, w.Code, w.Header().Get("Location"))
		}
	}
}

// TestBulkFormsRefuseBadEncoding: a form body that does not decode is a
// 400, not a half-read form.
func TestBulkFormsRefuseBadEncoding(t *testing.T) {
	f := newFixture(t, nil)
	cookies, tok := f.csrf(t)
	for _, path := range []string{"/hits/review", "/export"} {
		w := f.do(t, req{method: "POST", path: path, ctype: formType, cookies: cookies, headers: map[string]string{"X-CSRF-Token": tok},
			body: fmt.Sprintf("hit=%d&status=confirmed&case=x&note=%%zz", f.hits[0])})
		if w.Code != 400 || !strings.Contains(w.Body.String(), "bad form") {
			t.Errorf("POST %s with a bad escape = %d, want 400", path, w.Code)
		}
	}
	if h, _ := f.db.Hit(context.Background(), f.hits[0]); h.Status != "new" {
		t.Errorf("a bad form triaged a hit: %q", h.Status)
	}
}

// login posts a sign-in of user from remote.
func (f *fixture) login(t *testing.T, user, password, remote string) *httptest.ResponseRecorder {
	t.Helper()
	pre, tok := f.csrf(t)
	return f.do(t, req{method: "POST", path: "/login", remote: remote, ctype: formType, cookies: pre,
		body: form("csrf", tok, "user", user, "password", password, "next", "/")})
}

// TestLoginFloodDoesNotLockOutOthers floods /login from one address: that
// address is slowed down, other analysts sign in as usual.
func TestLoginFloodDoesNotLockOutOthers(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		hash, err := HashPassword("correct horse " + u)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.PutUser(ctx, u, hash, testNow); err != nil {
			t.Fatal(err)
		}
	}
	const attacker = "203.0.113.66:4444"
	var limited int
	for range 60 {
		w := f.login(t, "alice", "guess", attacker)
		switch w.Code {
		case http.StatusTooManyRequests:
			limited++
			if w.Header().Get("Retry-After") == "" && limited == 1 {
				t.Error("429 without Retry-After")
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("flood: status %d", w.Code)
		}
	}
	if limited < 50 {
		t.Errorf("only %d of 60 guesses were refused, want the flood locked out", limited)
	}
	if w := f.login(t, "alice", "correct horse alice", attacker); w.Code != http.StatusTooManyRequests {
		t.Errorf("the flooding address signed in during its lockout: %d", w.Code)
	}
	// Another address, the flooded account and another account: both sign in.
	if w := f.login(t, "alice", "correct horse alice", "198.51.100.7:5555"); w.Code != 303 {
		t.Errorf("alice from her own address = %d, want 303: the flood locked her out", w.Code)
	}
	if w := f.login(t, "bob", "correct horse bob", "198.51.100.8:5555"); w.Code != 303 {
		t.Errorf("bob = %d, want 303: the flood locked him out", w.Code)
	}
	// Spraying many accounts from one address locks that address only.
	const sprayer = "[2001:db8:1:2::99]:1"
	for i := range loginAddrFree + 5 {
		f.login(t, fmt.Sprintf("user%d", i), "guess", sprayer)
	}
	if w := f.login(t, "bob", "correct horse bob", "[2001:db8:1:2::100]:1"); w.Code != http.StatusTooManyRequests {
		t.Errorf("same IPv6 /64 as the sprayer = %d, want 429", w.Code)
	}
	if w := f.login(t, "bob", "correct horse bob", "[2001:db8:9::1]:1"); w.Code != 303 {
		t.Errorf("bob from elsewhere after a spray = %d, want 303", w.Code)
	}
}

func TestLoginLimiterDelays(t *testing.T) {
	now := testNow
	l := newLoginLimiter(func() time.Time { return now })
	keys := loginKeys("Alice", "192.0.2.1:1")
	for range loginPairFree {
		if d, _ := l.wait(keys); d != 0 {
			t.Fatalf("locked before %d failures", loginPairFree)
		}
		l.fail(keys)
	}
	if d, _ := l.wait(keys); d != 0 {
		t.Fatalf("locked after %d failures: %v", loginPairFree, d)
	}
	var prev time.Duration
	for i := range 12 {
		l.fail(keys)
		d, what := l.wait(keys)
		if d <= 0 || d > loginMaxLockout || d < prev {
			t.Fatalf("failure %d: lockout %v after %v, want growing up to %v", loginPairFree+i+1, d, prev, loginMaxLockout)
		}
		if what == "" {
			t.Fatal("lockout without a reason")
		}
		prev = d
		now = now.Add(d)
		if d, _ := l.wait(keys); d != 0 {
			t.Fatalf("still locked after the delay: %v", d)
		}
	}
	if prev != loginMaxLockout {
		t.Errorf("longest lockout %v, want %v", prev, loginMaxLockout)
	}
	if d, _ := l.wait(loginKeys("bob", "192.0.2.2:1")); d != 0 {
		t.Errorf("another account from another address is locked: %v", d)
	}
	l.succeed(keys)
	if d, _ := l.wait(loginKeys("alice", "192.0.2.9:1")); d != 0 {
		t.Errorf("account still locked after a sign-in: %v", d)
	}
}

// TestBulkReviewCaps sends the bulk reviews that once wrote an audit row per
// repeated ID and failed on "too many SQL variables".
func TestBulkReviewCaps(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	audits := func() int {
		t.Helper()
		es, err := f.db.AuditEntries(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Action == store.ActionReview {
				n++
			}
		}
		return n
	}
	idsBody := func(status string, ids []int64) string {
		b, _ := json.Marshal(map[string]any{"ids": ids, "status": status})
		return string(b)
	}
	same := make([]int64, 20_000)
	for i := range same {
		same[i] = f.hits[0]
	}
	w := f.do(t, req{method: "POST", path: "/api/hits/review", ctype: "application/json", body: idsBody("confirmed", same)})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"reviewed": 1`) {
		t.Fatalf("20,000 copies of one ID: %d %s", w.Code, w.Body)
	}
	if n := audits(); n != 1 {
		t.Errorf("20,000 copies of one ID wrote %d audit rows, want 1", n)
	}

	many := make([]int64, 40_000)
	for i := range many {
		many[i] = int64(i + 1)
	}
	w = f.do(t, req{method: "POST", path: "/api/hits/review", ctype: "application/json", body: idsBody("false_positive", many)})
	if w.Code != 400 || !strings.Contains(w.Body.String(), fmt.Sprint(store.MaxReviewBatch)) {
		t.Fatalf("40,000 IDs: %d %s, want 400 naming the cap %d", w.Code, w.Body, store.MaxReviewBatch)
	}
	// One transaction: a missing hit reviews none of the batch.
	w = f.do(t, req{method: "POST", path: "/api/hits/review", ctype: "application/json", body: idsBody("false_positive", []int64{f.hits[1], 999_999})})
	if w.Code != 404 {
		t.Fatalf("batch with a missing hit: %d %s", w.Code, w.Body)
	}
	if h, _ := f.db.Hit(ctx, f.hits[1]); h.Status != "new" {
		t.Errorf("part of a failed batch was written: status %q", h.Status)
	}
	if n := audits(); n != 1 {
		t.Errorf("refused batches wrote audit rows: %d, want 1", n)
	}

	// Export: 40,000 IDs select (one SQL variable), more than the cap is a 400.
	hits, err := f.db.Hits(ctx, store.HitFilter{IDs: many})
	if err != nil || len(hits) != len(f.hits) {
		t.Fatalf("Hits with 40,000 IDs = %d hits, %v; want %d", len(hits), err, len(f.hits))
	}
	if n, err := f.db.CountHits(ctx, store.HitFilter{IDs: many}); err != nil || n != len(f.hits) {
		t.Fatalf("CountHits with 40,000 IDs = %d, %v", n, err)
	}
	tooMany := make([]int64, store.MaxSelectIDs+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	b, _ := json.Marshal(map[string]any{"case": "op", "hits": tooMany})
	w = f.do(t, req{method: "POST", path: "/api/exports", ctype: "application/json", body: string(b)})
	if w.Code != 400 || !strings.Contains(w.Body.String(), fmt.Sprint(store.MaxSelectIDs)) {
		t.Fatalf("export of %d IDs: %d %.300s, want 400 naming the cap", len(tooMany), w.Code, w.Body)
	}
}
