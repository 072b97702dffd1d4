package crawler

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/andybalholm/brotli"
)

// faultServer misbehaves in the ways real marketplaces do.
func faultServer(t *testing.T) *httptest.Server {
	t.Helper()
	var flaky, busy atomic.Int64
	latin := readFixture(t, "latin1.html")
	captcha := readFixture(t, "captcha.html")
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte("<p>bomb</p>"), 1<<20)) // 11 MB decoded, ~20 KB on the wire
	zw.Close()
	html := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			html(w, 200, `<html><body>
<a href="/flaky">flaky</a> <a href="/busy">busy</a> <a href="/loop/a">loop</a>
<a href="/big">big</a> <a href="/bomb">bomb</a> <a href="/latin">latin</a> <a href="/latin-header">latin2</a>
<a href="/captcha">captcha</a> <a href="/forbidden">forbidden</a> <a href="/down">down</a>
<a href="/doc.pdf">pdf</a> <a href="/calendar?month=1">calendar</a> <a href="/away">away</a>
</body></html>`)
		case "/flaky":
			if flaky.Add(1) == 1 {
				html(w, 500, "<h1>oops</h1>")
				return
			}
			html(w, 200, "<h1>flaky ok</h1>")
		case "/busy":
			if busy.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				html(w, 429, "<h1>slow down</h1>")
				return
			}
			html(w, 200, "<h1>busy ok</h1>")
		case "/loop/a":
			http.Redirect(w, r, "/loop/b", http.StatusFound)
		case "/loop/b":
			http.Redirect(w, r, "/loop/a", http.StatusFound)
		case "/away":
			http.Redirect(w, r, "http://offsite.invalid/", http.StatusMovedPermanently)
		case "/big":
			html(w, 200, "<h1>big</h1>"+strings.Repeat("<p>filler</p>", 20000))
		case "/bomb":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case "/latin":
			w.Header().Set("Content-Type", "text/html")
			w.Write(latin)
		case "/latin-header":
			w.Header().Set("Content-Type", "text/html; charset=windows-1252")
			w.Write(bytes.ReplaceAll(latin, []byte(`<meta charset="windows-1252">`), nil))
		case "/captcha":
			w.Header().Set("Content-Type", "text/html")
			w.Write(captcha)
		case "/forbidden":
			html(w, 403, "<h1>Forbidden</h1>")
		case "/down":
			html(w, 503, "<h1>Service unavailable</h1>")
		case "/doc.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			io.WriteString(w, "%PDF-1.4 "+strings.Repeat("x", 1000))
		case "/calendar":
			m, _ := strconv.Atoi(r.URL.Query().Get("month"))
			html(w, 200, fmt.Sprintf(`<a href="/calendar?month=%d">next</a>`, m+1))
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestSweepFaults(t *testing.T) {
	srv := faultServer(t)
	defer srv.Close()
	m := market(t, srv.URL, "    max_body_bytes: 65536\n    max_depth: 50\n    concurrency: 4\n")
	var sink collector
	opts := fastOpts()
	opts.Traps = TrapLimits{MaxQueryVariants: 5}
	st, err := Sweep(context.Background(), m, &sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	pages := sink.byURL()
	page := func(path string) *Page {
		t.Helper()
		p := pages[srv.URL+path]
		if p == nil {
			t.Fatalf("no page %s; have %d pages", path, len(pages))
		}
		return p
	}
	if p := page("/flaky"); p.Status != 200 || !bytes.Contains(p.Body, []byte("flaky ok")) {
		t.Errorf("/flaky = %d %q, want the retried 200", p.Status, p.Body)
	}
	if p := page("/busy"); p.Status != 200 {
		t.Errorf("/busy = %d, want 200 after Retry-After", p.Status)
	}
	if p := page("/big"); !p.Exchange.Truncated || len(p.Body) != 65536 {
		t.Errorf("/big truncated = %v, body %d bytes; want truncated at 65536", p.Exchange.Truncated, len(p.Body))
	}
	if p := page("/bomb"); !p.Exchange.Truncated || len(p.Body) != 65536 {
		t.Errorf("/bomb truncated = %v, body %d bytes; want decoded body cut at 65536", p.Exchange.Truncated, len(p.Body))
	}
	for _, path := range []string{"/latin", "/latin-header"} {
		if p := page(path); !strings.Contains(string(p.Body), "Café crème €5") {
			t.Errorf("%s body = %q, want decoded windows-1252", path, p.Body)
		}
	}
	gates := map[string]string{"/captcha": "captcha", "/forbidden": "http_403", "/down": "http_503"}
	for path, want := range gates {
		if p := page(path); p.Gate != want || len(p.Listings) != 0 {
			t.Errorf("%s Gate = %q, want %q", path, p.Gate, want)
		}
	}
	if p := page("/"); p.Gate != "" {
		t.Errorf("/ is a gate: %q", p.Gate)
	}
	if _, ok := pages[srv.URL+"/doc.pdf"]; ok {
		t.Error("non-HTML page reached the sink")
	}
	wantErr := map[string]int{ErrKindRedirect: 1, ErrKindTooLarge: 2, ErrKindHTTP5xx: 1, ErrKindHTTP4xx: 1}
	for k, v := range wantErr {
		if st.ErrorsByKind[k] != v {
			t.Errorf("ErrorsByKind[%s] = %d, want %d (%v)", k, st.ErrorsByKind[k], v, st.ErrorsByKind)
		}
	}
	wantSkip := map[string]int{SkipNonHTML: 1, SkipOffsite: 1, SkipTrapQuery: 1}
	for k, v := range wantSkip {
		if st.SkippedByReason[k] != v {
			t.Errorf("SkippedByReason[%s] = %d, want %d (%v)", k, st.SkippedByReason[k], v, st.SkippedByReason)
		}
	}
	if st.Gates["captcha"] != 1 || st.Gates["http_403"] != 1 || st.Gates["http_503"] != 1 {
		t.Errorf("Gates = %v", st.Gates)
	}
	if st.Retries != 5 { // flaky 1, busy 1, down 3
		t.Errorf("Retries = %d, want 5", st.Retries)
	}
	calendar := 0
	for u := range pages {
		if strings.Contains(u, "/calendar") {
			calendar++
		}
	}
	if calendar != 5 {
		t.Errorf("fetched %d calendar pages, want 5 (MaxQueryVariants)", calendar)
	}
}

func TestRetryAfter(t *testing.T) {
	now := mustTime(t, "Mon, 02 Jan 2006 15:04:05 GMT")
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"3", "3s", true},
		{"-1", "0s", true},
		{"Mon, 02 Jan 2006 15:04:35 GMT", "30s", true},
		{"soon", "0s", false},
		{"", "0s", false},
	}
	for _, tt := range tests {
		d, ok := retryAfter(tt.in, now)
		if d.String() != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %s, %v", tt.in, d, ok, tt.want, tt.ok)
		}
	}
	p := RetryPolicy{}.withDefaults()
	for attempt := range 10 {
		d := p.backoff(attempt)
		hi := min(p.BaseDelay<<attempt, p.MaxDelay)
		if d < hi/2 || d > hi {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, hi/2, hi)
		}
	}
}

// socks5Server is a minimal SOCKS5 proxy (no auth, CONNECT only) that sends every
// connection to target and records the address the client asked for.
type socks5Server struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	asked  []string
	wg     sync.WaitGroup
}

func startSOCKS5(t *testing.T, target string) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln, target: target}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *socks5Server) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 262)
	if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, buf[:buf[1]]); err != nil {
		return
	}
	c.Write([]byte{5, 0}) // no authentication
	if _, err := io.ReadFull(c, buf[:4]); err != nil || buf[1] != 1 {
		return
	}
	var host string
	switch buf[3] {
	case 1:
		io.ReadFull(c, buf[:4])
		host = net.IP(buf[:4]).String()
	case 3:
		io.ReadFull(c, buf[:1])
		n := int(buf[0])
		io.ReadFull(c, buf[:n])
		host = string(buf[:n])
	default:
		return
	}
	io.ReadFull(c, buf[:2])
	port := binary.BigEndian.Uint16(buf[:2])
	s.mu.Lock()
	s.asked = append(s.asked, net.JoinHostPort(host, strconv.Itoa(int(port))))
	s.mu.Unlock()
	up, err := net.Dial("tcp", s.target)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	go func() {
		io.Copy(up, c)
		up.Close() // the client hung up: end the other direction too
	}()
	io.Copy(c, up)
}

func TestSweepSOCKS5Proxy(t *testing.T) {
	srv := httptest.NewServer(shopHandler(t, nil, ""))
	defer srv.Close()
	for _, scheme := range []string{"socks5", "socks5h"} {
		t.Run(scheme, func(t *testing.T) {
			proxy := startSOCKS5(t, srv.Listener.Addr().String())
			// A name only the proxy can resolve, as with .onion behind Tor.
			m := market(t, "http://shop.invalid", fmt.Sprintf("    proxy: %s://%s\n", scheme, proxy.ln.Addr()))
			var sink collector
			st, err := Sweep(context.Background(), m, &sink, fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			if st.PagesFetched != 9 || st.Listings != 5 {
				t.Errorf("stats = %+v", st)
			}
			proxy.mu.Lock()
			asked := proxy.asked
			proxy.mu.Unlock()
			if len(asked) == 0 || asked[0] != "shop.invalid:80" {
				t.Errorf("proxy was asked for %v, want shop.invalid:80 (name resolved by the proxy)", asked)
			}
			p := sink.byURL()["http://shop.invalid/product/2"]
			if p == nil || p.Exchange.Proxy != scheme+"://"+proxy.ln.Addr().String() || p.Exchange.RemoteAddr != "" {
				t.Fatalf("page = %+v", p)
			}
		})
	}
}

func TestSweepHTTPProxy(t *testing.T) {
	var log requestLog
	shop := shopHandler(t, &log, "")
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != "shop.invalid" {
			http.Error(w, "bad proxy request "+r.RequestURI, http.StatusBadRequest)
			return
		}
		shop.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	m := market(t, "http://shop.invalid", fmt.Sprintf("    proxy: %s\n", proxy.URL))
	var sink collector
	st, err := Sweep(context.Background(), m, &sink, fastOpts())
	if err != nil || st.PagesFetched != 9 {
		t.Fatalf("Sweep: %v %+v", err, st)
	}
	p := sink.byURL()["http://shop.invalid/product/2"]
	if p == nil || !bytes.HasPrefix(p.Exchange.RequestBytes, []byte("GET http://shop.invalid/product/2 HTTP/1.1\r\n")) {
		t.Fatalf("RequestBytes = %q", p.Exchange.RequestBytes)
	}
}

func TestSweepTimeoutRetried(t *testing.T) {
	var hangs atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		hangs.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	m := market(t, srv.URL, "    timeout: 100ms\n")
	opts := fastOpts()
	opts.Retry.MaxRetries = 1
	st, err := Sweep(context.Background(), m, &collector{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.ErrorsByKind[ErrKindTimeout] != 1 || st.Retries != 1 || hangs.Load() != 2 || st.PagesFetched != 0 {
		t.Errorf("stats = %+v, server saw %d requests; want 1 timeout after 1 retry", st, hangs.Load())
	}
}

func TestDecodeBody(t *testing.T) {
	want := bytes.Repeat([]byte("snoop "), 1000)
	var gz, br, zl bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(want)
	gw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write(want)
	bw.Close()
	zw := zlib.NewWriter(&zl)
	zw.Write(want)
	zw.Close()
	tests := []struct {
		enc     string
		raw     []byte
		max     int64
		wantLen int
		cut     bool
	}{
		{"gzip", gz.Bytes(), 1 << 20, len(want), false},
		{"br", br.Bytes(), 1 << 20, len(want), false},
		{"deflate", zl.Bytes(), 1 << 20, len(want), false},
		{"br", br.Bytes(), 100, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.enc, func(t *testing.T) {
			got, cut, err := decodeBody(tt.enc, tt.raw, tt.max)
			if err != nil || len(got) != tt.wantLen || cut != tt.cut || !bytes.Equal(got, want[:tt.wantLen]) {
				t.Errorf("decodeBody = %d bytes, cut %v, %v; want %d, %v", len(got), cut, err, tt.wantLen, tt.cut)
			}
		})
	}
	if _, _, err := decodeBody("zstd", []byte("x"), 10); err == nil {
		t.Error("unknown encoding decoded")
	}
}
