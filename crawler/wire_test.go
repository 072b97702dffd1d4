package crawler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"snoop/config"
)

// rawServer answers HTTP/1.1 requests with hand-written bytes and records
// exactly what it read and wrote, per request path (each path is requested once).
type rawServer struct {
	respond func(path string) []byte
	mu      sync.Mutex
	read    map[string][]byte
	wrote   map[string][]byte
	conns   atomic.Int64
	served  atomic.Int64
	wg      sync.WaitGroup
}

func newRawServer(respond func(path string) []byte) *rawServer {
	return &rawServer{respond: respond, read: map[string][]byte{}, wrote: map[string][]byte{}}
}

// listen serves on a new 127.0.0.1 listener until the test ends.
func (s *rawServer) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() {
				defer c.Close()
				s.serve(c, bufio.NewReader(c), "")
			})
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return ln.Addr().String()
}

// serve answers up to 100 requests on one connection. first, if set, is the
// path of a request already read and to be answered first.
func (s *rawServer) serve(c net.Conn, br *bufio.Reader, first string) {
	s.conns.Add(1)
	for range 100 {
		path := first
		if first == "" {
			raw, p, err := readRawRequest(br)
			if err != nil {
				return
			}
			path = p
			s.mu.Lock()
			s.read[path] = raw
			s.mu.Unlock()
		}
		first = ""
		resp := s.respond(path)
		s.mu.Lock()
		s.wrote[path] = resp
		s.mu.Unlock()
		s.served.Add(1)
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

func (s *rawServer) bytes(path string) (read, wrote []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read[path], s.wrote[path]
}

// readRawRequest reads a request head (GET only, no body) and returns its bytes
// and the path of its target.
func readRawRequest(br *bufio.Reader) ([]byte, string, error) {
	var raw []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, "", err
		}
		raw = append(raw, line...)
		if string(line) == "\r\n" {
			break
		}
	}
	f := strings.Fields(string(raw[:bytes.IndexByte(raw, '\n')]))
	if len(f) != 3 {
		return nil, "", fmt.Errorf("bad request line %q", raw)
	}
	path := f[1]
	if i := strings.Index(path, "://"); i >= 0 { // absolute form (proxy)
		path = path[i+3:]
		path = path[strings.IndexByte(path, '/'):]
	}
	return raw, path, nil
}

// chunked frames b in chunks of n bytes, with an extension on the first chunk
// and the given trailer lines.
func chunked(b []byte, n int, trailer string) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += n {
		c := b[i:min(i+n, len(b))]
		ext := ""
		if i == 0 {
			ext = ";name=\"x\""
		}
		fmt.Fprintf(&sb, "%x%s\r\n%s\r\n", len(c), ext, c)
	}
	return sb.String() + "0\r\n" + trailer + "\r\n"
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// wireResponses are hand-written responses: unusual header case and order,
// repeated headers, chunked with extensions and trailers, gzip inside chunked,
// a body cut by max_body_bytes (4096 in wireMarket), and 20 product pages.
func wireResponses(tb testing.TB) func(path string) []byte {
	index := `<html><body><a href="/chunked">c</a> <a href="/gzip">g</a> <a href="/big">b</a>`
	for i := range 20 {
		index += fmt.Sprintf(` <a href="/product/%d">p%d</a>`, i, i)
	}
	index += `</body></html>`
	gz := gzipped(tb, []byte(`<html><h1>Gzipped</h1><p class="description">inside chunks</p></html>`))
	big := []byte("<html><h1>Big</h1>" + strings.Repeat("<p>filler line</p>\n", 600) + "</html>")
	return func(path string) []byte {
		switch {
		case path == "/":
			return []byte("HTTP/1.1 200 OK\r\nx-zeta: last-first\r\ncontent-TYPE: text/html; charset=utf-8\r\nSet-Cookie: a=1\r\nX-Dup: 1\r\nset-cookie: b=2\r\nx-dup:  2 \r\nCONTENT-LENGTH: " +
				fmt.Sprint(len(index)) + "\r\n\r\n" + index)
		case path == "/chunked":
			body := []byte(`<html><h1>Chunked</h1><p class="description">framing kept</p></html>`)
			return []byte("HTTP/1.1 200 Fine Thanks\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\nTrailer: X-Sum\r\n\r\n" +
				chunked(body, 7, "X-Sum: 42\r\n"))
		case path == "/gzip":
			return []byte("HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\ncontent-type: text/html\r\n\r\n" +
				chunked(gz, 16, ""))
		case path == "/big":
			return []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(big, 500, ""))
		case strings.HasPrefix(path, "/product/"):
			n := strings.TrimPrefix(path, "/product/")
			body := fmt.Sprintf(`<html><h1>Product %s</h1><p class="description">item %s</p><span class="price">$%s</span></html>`, n, n, n)
			if len(n)%2 == 0 { // two-digit numbers: chunked
				return []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Product: " + n + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked([]byte(body), 10+len(body)%7, ""))
			}
			return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\ncontent-type: text/html\r\nX-Product: %s\r\n\r\n%s", len(body), n, body))
		}
		return []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	}
}

func wireMarket(tb testing.TB, base, extra string) config.Market {
	tb.Helper()
	return market(tb, base, "    max_body_bytes: 4096\n    concurrency: 4\n"+extra)
}

// checkWire asserts that each page's exchange holds exactly the bytes srv read
// and wrote for its path, cut at max_body_bytes when Truncated.
func checkWire(t *testing.T, sink *collector, srv *rawServer, base string, wantPages int, checkRequest bool) {
	t.Helper()
	pages := sink.byURL()
	if len(pages) != wantPages {
		t.Errorf("got %d pages, want %d", len(pages), wantPages)
	}
	truncated := 0
	for u, p := range pages {
		path := strings.TrimPrefix(u, base)
		read, wrote := srv.bytes(path)
		want := wrote
		if p.Exchange.Truncated {
			truncated++
			head := bytes.Index(wrote, []byte("\r\n\r\n")) + 4
			want = wrote[:head+4096]
		}
		if !bytes.Equal(p.Exchange.ResponseBytes, want) {
			t.Errorf("%s: ResponseBytes differ from the bytes written\n got: %q\nwant: %q", path, p.Exchange.ResponseBytes, want)
		}
		if checkRequest && !bytes.Equal(p.Exchange.RequestBytes, read) {
			t.Errorf("%s: RequestBytes differ from the bytes read\n got: %q\nwant: %q", path, p.Exchange.RequestBytes, read)
		}
	}
	if p := pages[base+"/big"]; p == nil || !p.Exchange.Truncated || truncated != 1 {
		t.Errorf("truncated pages = %d, want only /big", truncated)
	}
	if p := pages[base+"/gzip"]; p == nil || !bytes.Contains(p.Body, []byte("inside chunks")) {
		t.Errorf("/gzip body not decoded: %+v", p)
	}
}

func TestWireBytesKeepAlive(t *testing.T) {
	srv := newRawServer(wireResponses(t))
	base := "http://" + srv.listen(t)
	var sink collector
	st, err := Sweep(context.Background(), wireMarket(t, base, ""), &sink, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if st.PagesFetched != 24 {
		t.Errorf("stats = %+v", st)
	}
	checkWire(t, &sink, srv, base, 24, true)
	// 25 requests with robots.txt over 4 workers; only /big closes its
	// connection early. Under load an idle connection may be dropped and
	// redialled now and then, so the bound is loose: most requests must
	// have reused a connection.
	if c, n := srv.conns.Load(), srv.served.Load(); c > 12 || n != 25 {
		t.Errorf("%d connections for %d requests: keep-alive not exercised", c, n)
	}
	p := sink.byURL()[base+"/chunked"]
	if p == nil || p.Status != 200 || p.Exchange.TLS != nil || p.Exchange.RemoteAddr != strings.TrimPrefix(base, "http://") {
		t.Fatalf("page = %+v", p)
	}
	if !bytes.Contains(p.Exchange.ResponseBytes, []byte("\r\nTransfer-Encoding: chunked\r\n")) || !bytes.HasSuffix(p.Exchange.ResponseBytes, []byte("0\r\nX-Sum: 42\r\n\r\n")) {
		t.Errorf("chunked framing not kept: %q", p.Exchange.ResponseBytes)
	}
}

// tlsRawServer is an httptest TLS server whose handler hijacks the connection
// and answers it, and the requests that follow on it, with srv's raw bytes.
func tlsRawServer(t *testing.T, srv *rawServer) (*httptest.Server, *tls.Config) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		srv.serve(c, rw.Reader, r.URL.Path)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut by Close
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return ts, &tls.Config{RootCAs: pool}
}

func TestWireBytesTLS(t *testing.T) {
	srv := newRawServer(wireResponses(t))
	ts, cfg := tlsRawServer(t, srv)
	opts := fastOpts()
	opts.TLSConfig = cfg
	var sink collector
	if _, err := Sweep(context.Background(), wireMarket(t, ts.URL, ""), &sink, opts); err != nil {
		t.Fatal(err)
	}
	checkWire(t, &sink, srv, ts.URL, 24, false)
	p := sink.byURL()[ts.URL+"/product/3"]
	if p == nil || p.Exchange.TLS == nil {
		t.Fatalf("page = %+v", p)
	}
	if tl := p.Exchange.TLS; tl.Version != "TLS 1.3" || len(tl.PeerCertificates) == 0 || !bytes.Equal(tl.PeerCertificates[0], ts.Certificate().Raw) {
		t.Errorf("TLS = %s %s, %d certificates", tl.Version, tl.CipherSuite, len(tl.PeerCertificates))
	}
	if !bytes.HasPrefix(p.Exchange.RequestBytes, []byte("GET /product/3 HTTP/1.1\r\nHost: "+strings.TrimPrefix(ts.URL, "https://")+"\r\n")) {
		t.Errorf("RequestBytes = %q", p.Exchange.RequestBytes)
	}
}

// connectProxy is an HTTP proxy that only tunnels (CONNECT), always to target.
func connectProxy(t *testing.T, target string) (*httptest.Server, *atomic.Value) {
	t.Helper()
	var asked atomic.Value
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		asked.Store(r.Host)
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(up, rw)
			up.Close()
		}()
		io.Copy(c, up)
	}))
	t.Cleanup(px.Close)
	return px, &asked
}

// TestWireBytesTLSBehindProxy captures inside CONNECT and SOCKS5 tunnels; the
// name example.com is only known to the proxies (the test certificate covers it).
func TestWireBytesTLSBehindProxy(t *testing.T) {
	for _, kind := range []string{"connect", "socks5h"} {
		t.Run(kind, func(t *testing.T) {
			srv := newRawServer(wireResponses(t))
			ts, cfg := tlsRawServer(t, srv)
			target := ts.Listener.Addr().String()
			var proxyURL string
			var asked func() string
			if kind == "connect" {
				px, a := connectProxy(t, target)
				proxyURL = px.URL
				asked = func() string { s, _ := a.Load().(string); return s }
			} else {
				s := startSOCKS5(t, target)
				proxyURL = "socks5h://" + s.ln.Addr().String()
				asked = func() string {
					s.mu.Lock()
					defer s.mu.Unlock()
					return s.asked[0]
				}
			}
			opts := fastOpts()
			opts.TLSConfig = cfg
			var sink collector
			base := "https://example.com"
			if _, err := Sweep(context.Background(), wireMarket(t, base, "    proxy: "+proxyURL+"\n"), &sink, opts); err != nil {
				t.Fatal(err)
			}
			checkWire(t, &sink, srv, base, 24, false)
			if got := asked(); got != "example.com:443" {
				t.Errorf("proxy asked for %q, want example.com:443", got)
			}
			p := sink.byURL()[base+"/product/1"]
			if p == nil || p.Exchange.Proxy != proxyURL || p.Exchange.RemoteAddr != "" || p.Exchange.TLS == nil {
				t.Fatalf("exchange = %+v", p.Exchange)
			}
		})
	}
}

func TestResponseBytes(t *testing.T) {
	final := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	tests := []struct {
		name, wire, want string
		max              int64
		cut, trunc       bool
	}{
		{"exact", final, final, 100, false, false},
		{"interim skipped", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + final, final, 100, false, false},
		{"trailing bytes dropped", final + "junk", final, 100, false, false},
		{"cut", "HTTP/1.1 200 OK\r\n\r\n0123456789", "HTTP/1.1 200 OK\r\n\r\n0123", 4, true, true},
		{"incomplete", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123", 4, false, true},
		{"no body", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 4, false, false},
		{"garbage", "not http\r\n\r\nbody", "not http\r\n\r\nbody", 100, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, trunc := responseBytes([]byte(tt.wire), http.MethodGet, tt.max, tt.cut, false)
			if string(got) != tt.want || trunc != tt.trunc {
				t.Errorf("responseBytes = %q, %v; want %q, %v", got, trunc, tt.want, tt.trunc)
			}
		})
	}
}

// readBody reads what io.ReadAll of an io.LimitReader reads, whatever the
// announced length says.
func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		body          string
		contentLength int64
		limit         int64
	}{
		{"", 0, 11},
		{"hello", 5, 11},
		{"hello", -1, 11},
		{"hello", 3, 11},   // longer than announced
		{"hello", 900, 11}, // shorter than announced
		{"hello world, and more", 21, 11},
		{"hello world, and more", -1, 11},
		{strings.Repeat("x", 3000), -1, 1 << 20},
	} {
		want, wantErr := io.ReadAll(io.LimitReader(strings.NewReader(tc.body), tc.limit))
		got, err := readBody(strings.NewReader(tc.body), tc.contentLength, tc.limit)
		if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) {
			t.Errorf("readBody(%d bytes, length %d, limit %d) = %d bytes, %v; want %d bytes, %v",
				len(tc.body), tc.contentLength, tc.limit, len(got), err, len(want), wantErr)
		}
	}
}
