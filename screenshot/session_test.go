package screenshot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// A login-walled page is rendered with the marketplace's session: its user
// agent, headers and cookies reach the server, which serves the logged-in
// page only then.
func TestCaptureUsesSession(t *testing.T) {
	if _, err := findBrowser(""); err != nil {
		if os.Getenv("SNOOP_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("chromium required (SNOOP_REQUIRE_CHROMIUM=1): %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	var mu sync.Mutex
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/listing/7" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		if c, err := r.Cookie("session"); err != nil || c.Value != "abc123" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<h1>Listing 7</h1>`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tk, err := New(ctx, Options{Timeout: 20 * time.Second, Logger: testLogger(t),
		UserAgent: "snoop-test-agent/1.0",
		Headers:   map[string]string{"Accept-Language": "de", "X-Market-Key": "k1"},
		Cookies:   []Cookie{{URL: "http://" + u.Host + "/", Cookie: &http.Cookie{Name: "session", Value: "abc123", Path: "/"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Close()
	if _, err := tk.Capture(ctx, srv.URL+"/listing/7"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got == nil {
		t.Fatal("the page was not requested")
	}
	if ua := got.UserAgent(); ua != "snoop-test-agent/1.0" {
		t.Errorf("User-Agent = %q", ua)
	}
	if got.Header.Get("X-Market-Key") != "k1" || got.Header.Get("Accept-Language") != "de" {
		t.Errorf("headers = %v", got.Header)
	}
	if c, err := got.Cookie("session"); err != nil || c.Value != "abc123" {
		t.Errorf("session cookie not sent: %v (headers %v)", err, got.Header)
	}
}
