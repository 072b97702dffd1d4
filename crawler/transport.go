package crawler

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// fetchIDHeader carries Sweep's per-fetch ID from the worker through Colly to the
// capture transport, which removes it before the request is sent. http.Client copies
// it to redirect requests, so every hop of one fetch is recorded under one ID.
const fetchIDHeader = "X-Snoop-Fetch-Id"

// capture is what the transport recorded for one hop of a fetch.
type capture struct {
	ex       *Exchange
	nonHTML  bool  // body not read: Content-Type is not HTML
	decodeEr error // Content-Encoding could not be decoded; the raw body was passed on
}

// captureTransport sits under Colly's http.Client. It paces requests per host,
// asks for gzip/br itself (so Go's transport leaves the body encoded), reads the
// body up to maxBody bytes, records the exchange from the bytes that crossed the
// connection (see recConn), and hands Colly the decoded body (bounded by maxBody,
// so compression bombs stay bounded) with Uncompressed set, so Colly does not
// decode again.
type captureTransport struct {
	base     *http.Transport // shared by the marketplaces with the same proxy and timeout
	dial     *dialer
	proxy    string // redacted proxy URL, "" if direct
	maxBody  int64
	keep     int // wire bytes kept per response
	limiter  HostLimiter
	rps      float64
	burst    int
	now      func() time.Time
	robotCtx context.Context // for Colly's robots.txt requests, which carry no context

	mu   sync.Mutex
	caps map[string][]*capture
}

// maxHeaderBytes bounds a response's status line and headers.
const maxHeaderBytes = 1 << 20

// Transports shares HTTP transports, with their connection pools and
// dialers, between the sweeps of marketplaces that use the same proxy,
// timeout and TLS configuration: a sweep of thousands of marketplaces then
// keeps one transport per proxy, not one per marketplace. Each sweep still
// captures its own exchanges and keeps its own limits. The zero value is
// ready to use and safe for concurrent use.
type Transports struct {
	mu sync.Mutex
	m  map[transportKey]*sharedTransport
}

type transportKey struct {
	proxy   string
	timeout time.Duration
	tls     *tls.Config
}

// sharedTransport is one connection pool and the dialer that fills it.
type sharedTransport struct {
	base  *http.Transport
	dial  *dialer
	proxy string // redacted proxy URL, "" if direct
}

// Idle connections kept by a shared transport: per host (a marketplace's
// concurrency rarely exceeds it) and in all, so that the connections of
// marketplaces whose sweep ended are closed.
const (
	maxIdlePerHost = 8
	maxIdle        = 4096
)

// defaultWireLimit is the wire bytes a connection keeps per response when
// the request does not say (robots.txt and redirects of a fetch say).
const defaultWireLimit = maxHeaderBytes + 64<<10

// get returns the transport for proxy, timeout and tlsConfig, making it
// on first use.
func (ts *Transports) get(proxy string, tlsConfig *tls.Config, timeout time.Duration) (*sharedTransport, error) {
	k := transportKey{proxy: proxy, timeout: timeout, tls: tlsConfig}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if st, ok := ts.m[k]; ok {
		return st, nil
	}
	var proxyURL *url.URL
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		proxyURL = u
	}
	d, err := newDialer(proxyURL, timeout, tlsConfig, defaultWireLimit)
	if err != nil {
		return nil, err
	}
	st := &sharedTransport{dial: d, base: &http.Transport{
		Proxy:                  d.httpProxy,
		DialContext:            d.dialPlain,
		DialTLSContext:         d.dialTLS,
		ResponseHeaderTimeout:  timeout,
		MaxIdleConnsPerHost:    maxIdlePerHost,
		MaxIdleConns:           maxIdle,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// HTTP/1.1 only: one request at a time per connection, so the bytes of
		// a connection split into exchanges.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}
	if proxyURL != nil {
		st.proxy = proxyURL.Redacted()
	}
	if ts.m == nil {
		ts.m = map[transportKey]*sharedTransport{}
	}
	ts.m[k] = st
	return st, nil
}

// Close closes the idle connections of every transport. Transports stay
// usable.
func (ts *Transports) Close() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, st := range ts.m {
		st.base.CloseIdleConnections()
	}
}

func newCaptureTransport(robotCtx context.Context, st *sharedTransport, maxBody int64, lim HostLimiter, rps float64, burst int, now func() time.Time) *captureTransport {
	// A segment keeps the head, the body as framed on the wire (chunk overhead is
	// bounded by Go's chunked reader to about twice the data) and some read-ahead.
	limit := int64(maxHeaderBytes) + 64<<10
	if maxBody < (1<<62-limit)/3 {
		limit += 3 * maxBody
	} else {
		limit = 1 << 62
	}
	return &captureTransport{base: st.base, dial: st.dial, proxy: st.proxy, maxBody: maxBody,
		keep: int(min(limit, int64(^uint(0)>>1))), limiter: lim, rps: rps, burst: burst, now: now,
		robotCtx: robotCtx, caps: map[string][]*capture{}}
}

// take removes and returns the hops recorded for a fetch ID.
func (t *captureTransport) take(id string) []*capture {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.caps[id]
	delete(t.caps, id)
	return c
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := req.Header.Get(fetchIDHeader)
	ctx := req.Context()
	if id == "" {
		// Colly's robots.txt request has no context: tie it to the sweep's. The body
		// is read before RoundTrip returns, so cancelling on return is safe.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(t.robotCtx, cancel)()
	}
	req = req.Clone(ctx)
	req.Header.Del(fetchIDHeader)
	if req.Response != nil { // http.Client copies headers to redirects; validators belong to the first URL
		req.Header.Del("If-None-Match")
		req.Header.Del("If-Modified-Since")
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip, br")
	}
	// The worker waits before a fetch's first hop; redirects and robots.txt wait here.
	if id == "" || req.Response != nil {
		if err := t.limiter.Wait(ctx, req.URL.Host, t.rps, t.burst); err != nil {
			return nil, err
		}
	}

	ct := &connTrace{limit: t.keep}
	req = req.WithContext(httptrace.WithClientTrace(ctx, ct.clientTrace()))
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	fetchedAt := t.now()
	c := &capture{}
	isRedirect := resp.StatusCode >= 300 && resp.StatusCode < 400 // incl. 304
	if id != "" && !isRedirect && !isHTMLType(resp.Header.Get("Content-Type")) {
		c.nonHTML = true
	}
	var raw []byte
	truncated := false
	if !c.nonHTML {
		raw, err = readBody(resp.Body, resp.ContentLength, t.maxBody+1)
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		if int64(len(raw)) > t.maxBody {
			raw, truncated = raw[:t.maxBody], true
		}
	} else if resp.Body != http.NoBody {
		truncated = true // not read: the record keeps the head only
	}
	resp.Body.Close()

	conn, seg, remote := ct.get()
	var reqBytes, respBytes []byte
	if conn == nil || seg == nil {
		return nil, fmt.Errorf("record %s: connection not traced", req.URL.Redacted())
	}
	reqBytes, wire, overflow := conn.snapshot(seg)
	if t.dial.proxyAuth != "" {
		reqBytes = bytes.ReplaceAll(reqBytes, []byte(t.dial.proxyAuth), []byte("[redacted]"))
	}
	respBytes, cut := responseBytes(wire, req.Method, t.maxBody, truncated || c.nonHTML, c.nonHTML)
	truncated = truncated || cut || overflow

	body := raw
	if enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc != "" && enc != "identity" && len(raw) > 0 {
		dec, cut, derr := decodeBody(enc, raw, t.maxBody)
		if derr != nil && !truncated {
			c.decodeEr = derr
		}
		if derr == nil || len(dec) > 0 {
			body = dec
			truncated = truncated || cut
			resp.Header.Del("Content-Encoding")
		}
	}
	resp.Header.Del("Content-Length")
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Uncompressed = true

	if t.proxy != "" {
		remote = ""
	}
	c.ex = &Exchange{
		Method:        req.Method,
		URL:           req.URL.String(),
		RequestBytes:  reqBytes,
		ResponseBytes: respBytes,
		Status:        resp.StatusCode,
		RemoteAddr:    remote,
		Proxy:         t.proxy,
		TLS:           tlsInfo(conn.tls),
		FetchedAt:     fetchedAt,
		Truncated:     truncated,
	}
	if id != "" {
		t.mu.Lock()
		t.caps[id] = append(t.caps[id], c)
		t.mu.Unlock()
	}
	return resp, nil
}

// readBody reads r to its end or to limit bytes, as io.ReadAll of an
// io.LimitReader does, into a buffer of the body's size: sized from the
// announced length, or else read through a pooled buffer and copied out, so
// that reading a body does not allocate a chain of growing buffers.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	r = io.LimitReader(r, limit)
	if contentLength >= 0 && contentLength < maxPrealloc {
		return readAll(r, make([]byte, 0, min(contentLength, limit-1)+1)) // +1: room to see the end
	}
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	b, err := readAll(r, (*buf)[:0])
	if cap(b) <= maxPooled {
		*buf = b
	}
	return bytes.Clone(b), err
}

// readAll appends what r holds to b, as io.ReadAll does.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// Bodies of unknown length are read through pooled buffers of up to
// maxPooled bytes; a body announced shorter than maxPrealloc is read into a
// buffer of its length.
const (
	maxPrealloc = 1 << 20
	maxPooled   = 1 << 20
)

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// responseBytes cuts the final response out of the bytes read for one request
// (see Exchange). When cut is set or the message is incomplete, the body is
// kept up to maxBody wire bytes (headOnly: none) and truncated reports true.
func responseBytes(wire []byte, method string, maxBody int64, cut, headOnly bool) (out []byte, truncated bool) {
	start, head, end, complete, err := frameResponse(wire, method)
	if err != nil { // not parsable as Go parsed it: keep what was read
		start, end = 0, len(wire)
		if i := bytes.Index(wire, []byte("\r\n\r\n")); i >= 0 {
			head = i + 4
		} else {
			head = len(wire)
		}
		complete = !cut
	}
	if !cut && complete {
		return wire[start:end], false
	}
	limit := int64(head) + maxBody
	if headOnly {
		limit = int64(head)
	}
	end = int(min(int64(len(wire)), limit))
	return wire[start:end], true
}

// decodeBody decodes a Content-Encoding, reading at most max+1 decoded bytes.
func decodeBody(enc string, raw []byte, max int64) (body []byte, truncated bool, err error) {
	var r io.Reader
	src := bytes.NewReader(raw)
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, false, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(src)
	case "deflate":
		if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(src)
		}
	default:
		return nil, false, fmt.Errorf("unsupported content encoding %q", enc)
	}
	body, err = io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(body)) > max {
		return body[:max], true, nil
	}
	if err != nil {
		return body, false, fmt.Errorf("%s: %w", enc, err)
	}
	return body, false, nil
}

// isHTMLType reports whether a Content-Type may hold an HTML page. An absent
// type counts as HTML (the parser copes with anything).
func isHTMLType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	switch mt {
	case "text/html", "application/xhtml+xml", "application/xml", "text/xml":
		return true
	}
	return false
}

func tlsInfo(cs *tls.ConnectionState) *TLSInfo {
	if cs == nil {
		return nil
	}
	ti := &TLSInfo{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	for _, c := range cs.PeerCertificates {
		ti.PeerCertificates = append(ti.PeerCertificates, c.Raw)
	}
	return ti
}
