package screenshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTaker starts a Taker for a test, or skips the test when Chromium is
// missing (fails instead when SNOOP_REQUIRE_CHROMIUM=1).
func newTaker(tb testing.TB, timeout time.Duration) *Taker {
	tb.Helper()
	if _, err := findBrowser(""); err != nil {
		if os.Getenv("SNOOP_REQUIRE_CHROMIUM") == "1" {
			tb.Fatalf("chromium required (SNOOP_REQUIRE_CHROMIUM=1): %v", err)
		}
		tb.Skipf("chromium not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tk, err := New(ctx, Options{Timeout: timeout, Logger: testLogger(tb)})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := tk.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		if _, err := os.Stat(tk.dataDir); !errors.Is(err, os.ErrNotExist) {
			tb.Errorf("profile dir %s not removed after Close (stat: %v)", tk.dataDir, err)
		}
	})
	return tk
}

// testLogger returns a logger that writes to the test log at debug level when
// the test runs with -v.
func testLogger(tb testing.TB) *slog.Logger {
	tb.Helper()
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter adapts testing.TB to io.Writer.
type testWriter struct{ tb testing.TB }

// Write logs p as one test log line.
func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// watchedServer is an httptest server on 127.0.0.1 that counts the
// connections and requests it sees.
type watchedServer struct {
	*httptest.Server
	conns    atomic.Int64
	mu       sync.Mutex
	requests []string
}

// newWatchedServer starts a watchedServer serving h (nil: 200 "ok").
func newWatchedServer(tb testing.TB, h http.Handler) *watchedServer {
	tb.Helper()
	w := &watchedServer{}
	if h == nil {
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, "ok") })
	}
	w.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.requests = append(w.requests, r.Method+" "+r.URL.String())
		w.mu.Unlock()
		h.ServeHTTP(rw, r)
	}))
	w.Server.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			w.conns.Add(1)
		}
	}
	w.Start()
	tb.Cleanup(w.Close)
	return w
}

// seen returns the requests the server received so far.
func (w *watchedServer) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...)
}

// pngBytes encodes a small solid PNG.
func pngBytes(tb testing.TB, c color.Color) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for x := range 4 {
		for y := range 4 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestCaptureStaysOnHost renders testdata/page.html, which references a second
// server in every way a page can (img, css, font, script, iframe, preconnect,
// fetch, beacon, websocket, redirect, ...), and checks the screenshot and
// that the second server saw nothing.
func TestCaptureStaysOnHost(t *testing.T) {
	tk := newTaker(t, 20*time.Second)

	other := newWatchedServer(t, nil)
	fixture, err := os.ReadFile(filepath.Join("testdata", "page.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := strings.NewReplacer(
		"{{OTHER}}", other.URL,
		"{{OTHER_WS}}", "ws://"+other.Listener.Addr().String(),
		"{{OTHER_HOSTPORT}}", other.Listener.Addr().String(),
	).Replace(string(fixture))
	worker := strings.NewReplacer(
		"{{OTHER}}", other.URL,
		"{{OTHER_WS}}", "ws://"+other.Listener.Addr().String(),
	).Replace(workerJS)
	local := pngBytes(t, color.RGBA{0, 0, 255, 255})
	own := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(rw, html)
		case "/local.png":
			rw.Header().Set("Content-Type", "image/png")
			rw.Write(local)
		case "/worker.js":
			rw.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(rw, worker)
		case "/redirect":
			http.Redirect(rw, r, other.URL+"/redirected.png", http.StatusFound)
		default:
			http.NotFound(rw, r)
		}
	}))

	pageURL := own.URL + "/"
	shot, err := tk.Capture(t.Context(), pageURL)
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}

	if got := other.seen(); len(got) != 0 {
		t.Errorf("second server got %d requests, want 0: %q", len(got), got)
	}
	if n := other.conns.Load(); n != 0 {
		t.Errorf("second server got %d connections, want 0", n)
	}
	if got := own.seen(); !contains(got, "GET /local.png") {
		t.Errorf("own server requests = %q, want the own-host image to load", got)
	}

	img, format, err := image.Decode(bytes.NewReader(shot.PNG))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	if format != "png" {
		t.Errorf("format = %q, want png", format)
	}
	b := img.Bounds()
	if b.Dx() != shot.Width || b.Dy() != shot.Height {
		t.Errorf("Shot size %dx%d, decoded %dx%d", shot.Width, shot.Height, b.Dx(), b.Dy())
	}
	if b.Dx() < 800 || b.Dx() > 4000 {
		t.Errorf("width = %d, want the %d px viewport", b.Dx(), viewportWidth)
	}
	if b.Dy() < 2400 || b.Dy() > 16384 {
		t.Errorf("height = %d, want the full page (>= 2400 px)", b.Dy())
	}
	// The body background is rgb(200,30,40); a blank or failed render is not.
	if r, g, bl, _ := img.At(b.Dx()-5, b.Dy()-5).RGBA(); r>>8 != 200 || g>>8 != 30 || bl>>8 != 40 {
		t.Errorf("pixel near the bottom = (%d,%d,%d), want the page background (200,30,40)", r>>8, g>>8, bl>>8)
	}
	sum := sha256.Sum256(shot.PNG)
	if got, want := shot.SHA256, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("SHA256 = %s, want %s", got, want)
	}
	if shot.URL != pageURL {
		t.Errorf("URL = %q, want %q", shot.URL, pageURL)
	}
	if shot.TakenAt.IsZero() || time.Since(shot.TakenAt) > time.Minute || shot.TakenAt.Location() != time.UTC {
		t.Errorf("TakenAt = %v, want a recent UTC time", shot.TakenAt)
	}
}

// workerJS is a worker script served from the page's own host that tries to
// reach the second server.
const workerJS = `
try { fetch("{{OTHER}}/worker-fetch"); } catch (e) {}
try { new WebSocket("{{OTHER_WS}}/worker-ws"); } catch (e) {}
try { importScripts("{{OTHER}}/worker-import.js"); } catch (e) {}
`

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCaptureTimeout checks that a page that never finishes loading is cut off
// at Options.Timeout with a clear error, and that the Taker still works.
func TestCaptureTimeout(t *testing.T) {
	const timeout = 2 * time.Second
	tk := newTaker(t, timeout)

	release := make(chan struct{})
	srv := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(rw, "<!DOCTYPE html><p>fine</p>")
			return
		}
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprint(rw, "<!DOCTYPE html><p>loading forever")
		rw.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	start := time.Now()
	_, err := tk.Capture(t.Context(), srv.URL+"/slow")
	took := time.Since(start)
	if err == nil {
		t.Fatal("Capture of a page that never loads: got nil error")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "timed out after 2s") {
		t.Errorf("error = %q, want it to say it timed out after 2s", err)
	}
	if took > timeout+5*time.Second {
		t.Errorf("Capture took %s, want about %s", took, timeout)
	}

	if _, err := tk.Capture(t.Context(), srv.URL+"/ok"); err != nil {
		t.Errorf("Capture after a timeout: %v", err)
	}
}

// TestCaptureCancel checks that cancelling the caller's context stops a capture.
func TestCaptureCancel(t *testing.T) {
	tk := newTaker(t, 20*time.Second)
	srv := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tk.Capture(ctx, srv.URL)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want the caller's context.DeadlineExceeded, not ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Capture took %s after the caller's context ended", took)
	}
}

// TestCaptureConcurrent runs several captures at once on one Taker.
func TestCaptureConcurrent(t *testing.T) {
	tk := newTaker(t, 20*time.Second)
	srv := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(rw, "<!DOCTYPE html><h1>page %s</h1>", r.URL.Path)
	}))
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	sums := make([]string, n)
	for i := range n {
		wg.Go(func() {
			shot, err := tk.Capture(t.Context(), fmt.Sprintf("%s/p%d", srv.URL, i))
			errs[i], sums[i] = err, shot.SHA256
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("capture %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for _, s := range sums {
		seen[s] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct screenshots of %d distinct pages", len(seen), n)
	}
}

// TestCaptureAfterClose checks that Capture on a closed Taker fails with ErrClosed.
func TestCaptureAfterClose(t *testing.T) {
	tk := newTaker(t, 5*time.Second)
	if err := tk.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := tk.Capture(t.Context(), "http://127.0.0.1:1/"); !errors.Is(err, ErrClosed) {
		t.Errorf("Capture after Close: error = %v, want ErrClosed", err)
	}
}

// TestNewNoBrowser checks ErrNoBrowser for a missing, unstartable or
// unfindable browser. It needs no Chromium.
func TestNewNoBrowser(t *testing.T) {
	dir := t.TempDir()
	notBrowser := filepath.Join(dir, "not-a-browser")
	if err := os.WriteFile(notBrowser, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		execPath string
		path     string // PATH for the test; "" keeps it
	}{
		{name: "missing exec path", execPath: filepath.Join(dir, "nowhere", "chromium")},
		{name: "nothing in PATH", path: t.TempDir()},
		{name: "exits at once", execPath: notBrowser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			tk, err := New(ctx, Options{ExecPath: tt.execPath})
			if err == nil {
				tk.Close()
				t.Fatal("New: got nil error, want ErrNoBrowser")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrNoBrowser) {
				t.Errorf("New: error = %v, want ErrNoBrowser", err)
			}
		})
	}
}

// TestCaptureRejectsURL checks the URLs Capture refuses before rendering.
func TestCaptureRejectsURL(t *testing.T) {
	tk := &Taker{browser: context.Background()} // never reaches the browser
	for _, u := range []string{"file:///etc/passwd", "about:blank", "/relative", "javascript:alert(1)", "http://%zz"} {
		t.Run(u, func(t *testing.T) {
			if _, err := tk.Capture(t.Context(), u); err == nil {
				t.Errorf("Capture(%q): got nil error", u)
			}
		})
	}
}

// TestAllowedRequest checks the host:port gate.
func TestAllowedRequest(t *testing.T) {
	tests := []struct {
		raw     string
		allowed string
		want    bool
	}{
		{"http://127.0.0.1:8080/x.png", "127.0.0.1:8080", true},
		{"http://127.0.0.1:8081/x.png", "127.0.0.1:8080", false},
		{"http://localhost:8080/x.png", "127.0.0.1:8080", false},
		{"http://Example.ONION/a", "example.onion:80", true},
		{"http://example.onion:80/a", "example.onion:80", true},
		{"https://example.onion/a", "example.onion:80", false},
		{"https://example.onion/a", "example.onion:443", true},
		{"http://sub.example.onion/a", "example.onion:80", false},
		{"http://example.onion.evil.com/a", "example.onion:80", false},
		{"http://example.onion@evil.com/a", "example.onion:80", false},
		{"http://[::1]:8080/a", "[::1]:8080", true},
		{"ws://example.onion/a", "example.onion:80", false},
		{"data:image/png;base64,AAAA", "example.onion:80", false},
		{"ftp://example.onion/a", "example.onion:21", false},
		{"", "example.onion:80", false},
		{"http://%zz/", "example.onion:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := allowedRequest(tt.raw, tt.allowed); got != tt.want {
				t.Errorf("allowedRequest(%q, %q) = %v, want %v", tt.raw, tt.allowed, got, tt.want)
			}
		})
	}
}

// TestChromiumProxy checks the proxy URL translation.
func TestChromiumProxy(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "", want: ""},
		{in: "socks5h://127.0.0.1:9050", want: "socks5://127.0.0.1:9050"},
		{in: "socks5://127.0.0.1:9050", want: "socks5://127.0.0.1:9050"},
		{in: "http://proxy:3128/", want: "http://proxy:3128"},
		{in: "ftp://proxy:21", wantErr: true},
		{in: "http://user:pw@proxy:3128", wantErr: true},
		{in: "proxy:3128", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := chromiumProxy(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("chromiumProxy(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("chromiumProxy(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestFindBrowserPATH checks the PATH lookup order.
func TestFindBrowserPATH(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"google-chrome", "chromium-browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	got, err := findBrowser("")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "chromium-browser"); got != want {
		t.Errorf("findBrowser = %q, want %q", got, want)
	}
	if _, err := exec.LookPath("sh"); err == nil {
		t.Errorf("PATH was not replaced")
	}
}

// TestCaptureRedirectOffHost checks that a page redirecting to another host is
// not followed: Capture fails and the other host sees nothing.
func TestCaptureRedirectOffHost(t *testing.T) {
	tk := newTaker(t, 10*time.Second)
	other := newWatchedServer(t, nil)
	own := newWatchedServer(t, http.RedirectHandler(other.URL+"/landing", http.StatusFound))
	_, err := tk.Capture(t.Context(), own.URL+"/")
	if err == nil {
		t.Fatal("Capture of an off-host redirect: got nil error")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "ERR_BLOCKED_BY_CLIENT") {
		t.Errorf("error = %q, want it to name ERR_BLOCKED_BY_CLIENT", err)
	}
	if got := other.seen(); len(got) != 0 {
		t.Errorf("other server got requests %q, want none", got)
	}
}

// TestCaptureDismissesDialogs renders a hostile page whose scripts open
// dialogs: they must not hold the page until the timeout.
func TestCaptureDismissesDialogs(t *testing.T) {
	tk := newTaker(t, 15*time.Second)
	srv := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprint(rw, `<!DOCTYPE html><h1>Offer</h1><script>alert(1)</script><script>confirm("x"); prompt("y")</script><img src=x onerror=alert(2)><p>end</p>`)
	}))
	shot, err := tk.Capture(t.Context(), srv.URL+"/hostile")
	if err != nil {
		t.Fatalf("Capture of a page that opens dialogs: %v", err)
	}
	if len(shot.PNG) == 0 || shot.Width == 0 {
		t.Errorf("empty screenshot: %+v", shot)
	}
}

// TestCaptureRunsNoScripts checks that a page's scripts do not run: the
// crawler reads HTML without running scripts, and so does the screenshot.
func TestCaptureRunsNoScripts(t *testing.T) {
	tk := newTaker(t, 20*time.Second)
	own := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, `<!doctype html><html><head><style>body{background:rgb(200,30,40);margin:0;height:900px}</style>
<script>document.documentElement.style.background = "rgb(0,255,0)"; fetch("/js-ran"); new Image().src = "/js-image";</script></head>
<body><script>document.body.style.background = "rgb(0,255,0)";</script><p>listing</p></body></html>`)
	}))
	shot, err := tk.Capture(t.Context(), own.URL+"/")
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	for _, req := range own.seen() {
		if strings.Contains(req, "/js-") {
			t.Errorf("a page script ran: the server got %q", req)
		}
	}
	img, err := png.Decode(bytes.NewReader(shot.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := img.At(10, 10).RGBA(); r>>8 != 200 || g>>8 != 30 || b>>8 != 40 {
		t.Errorf("pixel = (%d,%d,%d), want the page's own background (200,30,40): a script changed it", r>>8, g>>8, b>>8)
	}
}

// TestCaptureThroughProxy checks that with a proxy every request of the
// render goes through it, loopback targets included, so that a screenshot
// never reaches a marketplace around its Tor or HTTP proxy.
func TestCaptureThroughProxy(t *testing.T) {
	if _, err := findBrowser(""); err != nil {
		newTaker(t, time.Second) // skips, or fails under SNOOP_REQUIRE_CHROMIUM=1
	}
	target := newWatchedServer(t, nil)
	proxy := newWatchedServer(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, `<!doctype html><html><body><p>served by the proxy</p></body></html>`)
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tk, err := New(ctx, Options{Timeout: 20 * time.Second, Logger: testLogger(t), Proxy: proxy.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer tk.Close()
	pageURL := target.URL + "/listing/1"
	if _, err := tk.Capture(t.Context(), pageURL); err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if got := target.seen(); len(got) != 0 {
		t.Errorf("the target was reached around the proxy: %q", got)
	}
	if got := proxy.seen(); !contains(got, "GET "+pageURL) {
		t.Errorf("proxy requests = %q, want GET %s", got, pageURL)
	}
}

// TestBrowserFlagsSandbox checks that Chromium's sandbox is only turned off
// for root, where Chromium does not start with it.
func TestBrowserFlagsSandbox(t *testing.T) {
	has := func(flags []flag) bool {
		for _, f := range flags {
			if f.name == "no-sandbox" {
				return true
			}
		}
		return false
	}
	if !has(browserFlags(0)) {
		t.Error("root: no-sandbox missing; Chromium refuses to run as root in its sandbox")
	}
	if has(browserFlags(1000)) {
		t.Error("non-root user: the sandbox is turned off")
	}
}
