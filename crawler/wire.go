package crawler

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/proxy"
)

// recConn is a connection whose bytes are recorded, one segment per request.
// Go's HTTP/1.1 transport never pipelines, so the bytes read between the write of
// request N and the write of request N+1 are response N: a Write that follows a
// Read starts a new segment. The request that got the connection (httptrace
// GotConn) is handed the segment its first Write starts, and keeps that pointer,
// so a connection reused by the next request cannot change what was recorded.
//
// Over TLS the wrapped connection is the *tls.Conn: segments hold plaintext.
type recConn struct {
	net.Conn
	tls   *tls.ConnectionState // end-to-end TLS with the target; nil for plain http or TLS to a proxy
	limit int                  // response bytes kept per segment, unless the request's trace sets its own

	mu    sync.Mutex // guards cur, claim and the fields of every segment of this conn
	cur   *segment
	claim *connTrace // the request waiting for its segment
}

// segment is one request and its response as they crossed the connection.
type segment struct {
	req, resp []byte
	limit     int  // response bytes kept
	read      bool // bytes were read since the request was written
	overflow  bool // more than limit response bytes; resp holds the first limit
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.cur == nil || c.cur.read {
		c.cur = &segment{limit: c.limit}
		if c.claim != nil {
			if c.claim.limit > 0 {
				c.cur.limit = c.claim.limit
			}
			c.claim.seg.Store(c.cur)
			c.claim = nil
		}
	}
	seg := c.cur
	c.mu.Unlock()
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	seg.req = append(seg.req, p[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if seg := c.cur; seg != nil { // bytes before any request are not a response
			seg.read = true
			keep := max(min(n, seg.limit-len(seg.resp)), 0)
			if keep < n {
				seg.overflow = true
			}
			if keep > 0 {
				seg.resp = append(seg.resp, p[:keep]...)
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// expect hands the segment started by the next request write to ct.
func (c *recConn) expect(ct *connTrace) {
	c.mu.Lock()
	c.claim = ct
	c.mu.Unlock()
}

// snapshot returns the bytes of a segment of this connection so far. They
// are not copied: a segment only ever grows by appending, so the bytes
// returned never change; the capacity is cut so that appending to them
// cannot either.
func (c *recConn) snapshot(s *segment) (req, resp []byte, overflow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.req[:len(s.req):len(s.req)], s.resp[:len(s.resp):len(s.resp)], s.overflow
}

// connTrace follows one RoundTrip to the connection and segment it used. Go's
// transport may retry a request on a new connection; the last one wins.
type connTrace struct {
	limit  int // response bytes to keep; 0: the connection's default
	mu     sync.Mutex
	conn   *recConn
	remote string
	seg    atomic.Pointer[segment]
}

func (ct *connTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			rc, _ := info.Conn.(*recConn)
			ct.mu.Lock()
			ct.remote = info.Conn.RemoteAddr().String()
			ct.conn = rc
			ct.seg.Store(nil)
			ct.mu.Unlock()
			if rc != nil {
				rc.expect(ct) // the request is written after GotConn returns
			}
		},
	}
}

func (ct *connTrace) get() (*recConn, *segment, string) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.conn, ct.seg.Load(), ct.remote
}

// dialer opens the connections of a captureTransport: directly, through a SOCKS5
// proxy, or through an HTTP(S) proxy (CONNECT for https targets), doing TLS itself
// so that the recorded bytes are the plaintext of the exchange with the target.
type dialer struct {
	net       *net.Dialer
	timeout   time.Duration
	tlsConfig *tls.Config
	limit     int
	proxy     *url.URL     // nil: direct
	proxyAddr string       // host:port of proxy
	proxyAuth string       // Proxy-Authorization value for an HTTP(S) proxy with userinfo
	socks     proxy.Dialer // for socks5 and socks5h proxies
}

func newDialer(proxyURL *url.URL, timeout time.Duration, tlsConfig *tls.Config, limit int) (*dialer, error) {
	d := &dialer{net: &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}, timeout: timeout,
		tlsConfig: tlsConfig, limit: limit, proxy: proxyURL}
	if proxyURL == nil {
		return d, nil
	}
	d.proxyAddr = proxyURL.Host
	switch proxyURL.Scheme {
	case "socks5", "socks5h":
		// Names are sent to the proxy unresolved (socks5h semantics) for both
		// schemes, so .onion addresses work and no lookup leaks.
		var auth *proxy.Auth
		if u := proxyURL.User; u != nil {
			pw, _ := u.Password()
			auth = &proxy.Auth{User: u.Username(), Password: pw}
		}
		s, err := proxy.SOCKS5("tcp", proxyURL.Host, auth, d.net)
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %w", proxyURL.Redacted(), err)
		}
		d.socks = s
	case "http", "https":
		if u := proxyURL.User; u != nil {
			pw, _ := u.Password()
			d.proxyAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
		}
	default:
		return nil, fmt.Errorf("proxy %s: unsupported scheme %q", proxyURL.Redacted(), proxyURL.Scheme)
	}
	return d, nil
}

// httpProxy is the transport's Proxy function: only plain-http targets go to an
// HTTP(S) proxy in absolute form through Go's transport; every other route is a
// tunnel that the dialer builds, so TLS runs end to end inside it.
func (d *dialer) httpProxy(req *http.Request) (*url.URL, error) {
	if d.proxy != nil && d.socks == nil && req.URL.Scheme == "http" {
		return d.proxy, nil
	}
	return nil, nil
}

// dialPlain is the transport's DialContext: plain-http targets, or an http:// proxy.
func (d *dialer) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := d.tunnel(ctx, addr, false)
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: conn, limit: d.limit}, nil
}

// dialTLS is the transport's DialTLSContext: https targets, or an https:// proxy
// for plain-http targets.
func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if d.proxy != nil && d.proxy.Scheme == "https" && d.socks == nil && strings.EqualFold(addr, d.proxyAddr) {
		conn, err := d.dialProxy(ctx)
		if err != nil {
			return nil, err
		}
		return &recConn{Conn: conn, limit: d.limit}, nil
	}
	conn, err := d.tunnel(ctx, addr, true)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tc, err := d.handshake(ctx, conn, host)
	if err != nil {
		return nil, err
	}
	cs := tc.ConnectionState()
	return &recConn{Conn: tc, tls: &cs, limit: d.limit}, nil
}

// tunnel returns a connection to addr: direct, through SOCKS5, or, for TLS
// targets behind an HTTP(S) proxy, through a CONNECT tunnel.
func (d *dialer) tunnel(ctx context.Context, addr string, forTLS bool) (net.Conn, error) {
	switch {
	case d.socks != nil:
		conn, err := d.socks.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("socks proxy %s: %w", d.proxy.Redacted(), err)
		}
		return conn, nil
	case d.proxy != nil && forTLS:
		conn, err := d.dialProxy(ctx)
		if err != nil {
			return nil, err
		}
		if err := d.connect(ctx, conn, addr); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
	return d.net.DialContext(ctx, "tcp", addr)
}

// dialProxy connects to an HTTP(S) proxy.
func (d *dialer) dialProxy(ctx context.Context) (net.Conn, error) {
	conn, err := d.net.DialContext(ctx, "tcp", d.proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", d.proxy.Redacted(), err)
	}
	if d.proxy.Scheme != "https" {
		return conn, nil
	}
	tc, err := d.handshake(ctx, conn, d.proxy.Hostname())
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", d.proxy.Redacted(), err)
	}
	return tc, nil
}

// connect asks an HTTP proxy for a tunnel to addr.
func (d *dialer) connect(ctx context.Context, conn net.Conn, addr string) error {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	hdr := http.Header{"User-Agent": {""}}
	if d.proxyAuth != "" {
		hdr.Set("Proxy-Authorization", d.proxyAuth)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: hdr}
	if err := req.Write(conn); err != nil {
		return fmt.Errorf("proxy %s: CONNECT %s: %w", d.proxy.Redacted(), addr, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fmt.Errorf("proxy %s: CONNECT %s: %w", d.proxy.Redacted(), addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("proxy %s: CONNECT %s: %s", d.proxy.Redacted(), addr, resp.Status)
	}
	if br.Buffered() > 0 {
		return fmt.Errorf("proxy %s: CONNECT %s: unexpected data after the reply", d.proxy.Redacted(), addr)
	}
	return nil
}

// handshake runs a TLS 1.2+ client handshake for host offering only HTTP/1.1.
func (d *dialer) handshake(ctx context.Context, conn net.Conn, host string) (*tls.Conn, error) {
	cfg := &tls.Config{}
	if d.tlsConfig != nil {
		cfg = d.tlsConfig.Clone()
	}
	cfg.ServerName = host
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// framePool holds the buffered readers of frameResponse.
var framePool = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// frameResponse finds the final response in the bytes read for one request:
// interim 1xx responses are skipped, and the message ends where its framing
// (Content-Length, chunked encoding with trailers, or end of data) says, exactly
// as Go's transport read it. head is the offset just after the blank line.
// complete is false when the data ends before the message does.
func frameResponse(b []byte, method string) (start, head, end int, complete bool, err error) {
	rd := bytes.NewReader(b)
	br := framePool.Get().(*bufio.Reader)
	br.Reset(rd)
	defer func() {
		br.Reset(nil)
		framePool.Put(br)
	}()
	consumed := func() int { return len(b) - rd.Len() - br.Buffered() }
	for range 16 {
		start = consumed()
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return 0, 0, 0, false, err
		}
		head = consumed()
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp.Body.Close()
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return start, head, consumed(), err == nil, nil
	}
	return 0, 0, 0, false, errors.New("too many interim responses")
}
