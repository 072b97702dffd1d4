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
	"net"
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
// body as received up to maxBody bytes, records the exchange, and hands Colly the
// decoded body (bounded by maxBody, so compression bombs stay bounded) with
// Uncompressed set, so Colly does not decode again.
type captureTransport struct {
	base     *http.Transport
	proxy    string // redacted proxy URL, "" if direct
	wireURL  bool   // plain-http requests go to an HTTP proxy in absolute form
	maxBody  int64
	limiter  HostLimiter
	rps      float64
	burst    int
	now      func() time.Time
	robotCtx context.Context // for Colly's robots.txt requests, which carry no context

	mu   sync.Mutex
	caps map[string][]*capture
}

func newCaptureTransport(robotCtx context.Context, proxy string, timeout time.Duration, conns int, maxBody int64, lim HostLimiter, rps float64, burst int, now func() time.Time) (*captureTransport, error) {
	base := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		// HTTP/1.1 only: the request bytes recorded are then the bytes sent.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	t := &captureTransport{base: base, maxBody: maxBody, limiter: lim, rps: rps, burst: burst, now: now,
		robotCtx: robotCtx, caps: map[string][]*capture{}}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		switch u.Scheme {
		case "http", "https":
			t.wireURL = true
		case "socks5", "socks5h": // Go's transport lets the proxy resolve names (socks5h semantics)
		default:
			return nil, fmt.Errorf("proxy %s: unsupported scheme %q", u.Redacted(), u.Scheme)
		}
		base.Proxy = http.ProxyURL(u)
		t.proxy = u.Redacted()
	}
	return t, nil
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
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip, br")
	}
	// The worker waits before a fetch's first hop; redirects and robots.txt wait here.
	if id == "" || req.Response != nil {
		if err := t.limiter.Wait(ctx, req.URL.Host, t.rps, t.burst); err != nil {
			return nil, err
		}
	}

	var reqBytes bytes.Buffer
	if err := writeRequest(&reqBytes, req, t.wireURL && req.URL.Scheme == "http"); err != nil {
		return nil, fmt.Errorf("record request: %w", err)
	}
	var (
		remoteMu sync.Mutex
		remote   string
	)
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		remoteMu.Lock()
		remote = info.Conn.RemoteAddr().String()
		remoteMu.Unlock()
	}}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))

	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	fetchedAt := t.now()
	c := &capture{}
	if id != "" && !isHTMLType(resp.Header.Get("Content-Type")) {
		c.nonHTML = true
	}
	var raw []byte
	truncated := false
	if !c.nonHTML {
		raw, err = io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		if int64(len(raw)) > t.maxBody {
			raw, truncated = raw[:t.maxBody], true
		}
	}
	resp.Body.Close()

	var rb bytes.Buffer
	fmt.Fprintf(&rb, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
	resp.Header.Write(&rb)
	rb.WriteString("\r\n")
	rb.Write(raw)

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

	remoteMu.Lock()
	ra := remote
	remoteMu.Unlock()
	if t.proxy != "" {
		ra = ""
	}
	c.ex = &Exchange{
		Method:        req.Method,
		URL:           req.URL.String(),
		RequestBytes:  reqBytes.Bytes(),
		ResponseBytes: rb.Bytes(),
		Status:        resp.StatusCode,
		RemoteAddr:    ra,
		Proxy:         t.proxy,
		TLS:           tlsInfo(resp.TLS),
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

// writeRequest writes req as Go's transport sends it over HTTP/1.1, without
// consuming req.Body.
func writeRequest(w io.Writer, req *http.Request, proxyForm bool) error {
	r := req
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			r = req.Clone(req.Context())
			r.Body = nil // body not replayable: record headers only
		} else {
			b, err := req.GetBody()
			if err != nil {
				return err
			}
			r = req.Clone(req.Context())
			r.Body = b
		}
	}
	if proxyForm {
		return r.WriteProxy(w)
	}
	return r.Write(w)
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
