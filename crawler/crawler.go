// Package crawler sweeps one marketplace: it fetches pages with Colly, extracts
// listings with goquery, and hands every fetched page, with the raw HTTP exchange
// captured below Colly, to a Sink.
//
// A sweep is polite and bounded: per-host token buckets (shareable across sweeps
// through Options.Limiter), concurrency, max_pages, max_depth, allow/deny regexes,
// robots.txt, URL canonicalisation and trap guards, capped retries with backoff
// and Retry-After, capped redirects and bounded bodies (compressed or not). Pages
// that are gates (CAPTCHA, login wall, DDoS interstitial, 403/429/503) reach the
// Sink marked with Page.Gate and without listings, so they are never kept as a
// listing's evidence. The URLs of a sweep live in a Frontier, so that a sweep can
// resume after a crash without losing the pages that were in flight.
package crawler

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/publicsuffix"

	"snoop/config"
)

// Options tune a Sweep. The zero value is usable.
type Options struct {
	Logger *slog.Logger // nil: discard
	// Progress, if set, receives running counts after pages, at most once per
	// 200ms of Now's clock, and once more with the final counts when the
	// workers have stopped. It is never called concurrently.
	Progress func(Progress)
	Now      func() time.Time // nil: time.Now
	// Limiter paces requests per host; nil: a private *Limiters. Share one Limiters
	// between concurrent sweeps so marketplaces on one host share its limit.
	Limiter HostLimiter
	// Frontier holds the sweep's URLs; nil: a new MemFrontier (no resume across processes).
	Frontier Frontier
	// Transports shares connection pools between concurrent sweeps; nil: a
	// private one, whose idle connections are closed when the sweep ends.
	Transports *Transports
	// Retry bounds retries; a zero MaxRetries takes the marketplace's retries
	// setting (config.Settings.Retries, where 0 means none).
	Retry RetryPolicy
	// Gates are the gate patterns; nil: DefaultGates(). The marketplace's own
	// gates (config.Settings.Gates) are always tried after these.
	Gates        []GatePattern
	Traps        TrapLimits
	MaxRedirects int // per fetch; 0: 5
	// Validators returns the validators kept from an earlier fetch of a canonical
	// URL: its ETag and Last-Modified values, "" when unknown. Non-empty ones are
	// sent as If-None-Match and If-Modified-Since, and a 304 reply reaches the
	// Sink as a Page with NotModified set. A 304 page has no body, so its links
	// are not followed: return validators only for pages whose links the sweep
	// does not need (listing pages). nil: no conditional requests.
	Validators func(url string) (etag, lastModified string)
	// TLSConfig is the base TLS configuration (e.g. RootCAs); nil: the system
	// roots. ServerName and NextProtos are set per connection.
	TLSConfig *tls.Config
}

// Exchange is one HTTP request/response pair, captured below Colly from the bytes
// that crossed the connection: HTTP/1.1 only; over TLS, the plaintext inside it;
// behind an HTTP proxy (CONNECT) or a SOCKS5 proxy, inside the tunnel. These bytes
// become WARC request and response blocks.
//
// RequestBytes are the bytes written to the connection for the request: request
// line, headers in the order and case Go's transport wrote them, blank line and
// body. A plain-http URL behind an HTTP proxy has an absolute-form request line
// ("GET http://host/path HTTP/1.1"); there, a Proxy-Authorization value is
// replaced by "[redacted]", the one change made to the bytes.
//
// ResponseBytes are the bytes read from the connection for the final response:
// the status line and header lines exactly as received (original order, case
// and spacing, Transfer-Encoding included), the blank line, and the message
// body as framed on the wire, that is chunked framing (chunk sizes, extensions,
// last chunk, trailers) and Content-Encoding (gzip, br, ...) kept. To get the
// payload, de-chunk when the headers say Transfer-Encoding: chunked, then decode
// Content-Encoding. Interim 1xx responses and any bytes the server sent past the
// end of the message are left out.
//
// Truncated means Page.Body was cut at max_body_bytes. If the body as received
// (de-chunked, still encoded) was longer than max_body_bytes, ResponseBytes end
// max_body_bytes wire bytes after the blank line (possibly inside a chunk or its
// framing); if only the decoded body was too long (a compression bomb),
// ResponseBytes are complete. A response whose body is not read (a non-HTML
// page, which never reaches the Sink) keeps its head only and is Truncated.
type Exchange struct {
	Method        string
	URL           string
	RequestBytes  []byte
	ResponseBytes []byte
	Status        int
	RemoteAddr    string    // ip:port when known ("" behind a proxy)
	Proxy         string    // proxy URL used (password redacted), "" if direct
	TLS           *TLSInfo  // nil for plain http
	FetchedAt     time.Time // when the response headers arrived
	Truncated     bool      // body cut at max_body_bytes (raw or decoded)
}

// TLSInfo describes the TLS connection an Exchange used.
type TLSInfo struct {
	Version          string   // e.g. "TLS 1.3"
	CipherSuite      string   // e.g. "TLS_AES_128_GCM_SHA256"
	PeerCertificates [][]byte // DER, leaf first
}

// Listing is one listing extracted from a page.
type Listing struct {
	URL    string            // absolute, canonical: the page URL in page mode; the item's url field or the page URL in item mode
	Fields map[string]string // extracted, whitespace-collapsed text (title, description, price, vendor, ...)
	Text   string            // text to classify: title, description, other fields; or the visible text with no fields
	// Cut names the fields cut at MaxFieldBytes, and "text" when Text was
	// cut at MaxTextBytes; a cut value ends with a note saying so. nil
	// when nothing was cut.
	Cut []string
}

// cut records that the named value was cut.
func (l *Listing) cut(name string) { l.Cut = append(l.Cut, name) }

// Page is one fetched page.
type Page struct {
	Market    string
	URL       string // canonical URL of the final response (after redirects)
	Depth     int
	Status    int
	Header    http.Header // as Colly sees it: Content-Encoding and Content-Length removed after decoding
	Body      []byte      // decoded body (content-encoding and charset), UTF-8
	FetchedAt time.Time
	Exchange  *Exchange   // raw capture of the final response (non-nil for every page)
	Redirects []*Exchange // earlier hops, oldest first, when the fetch was redirected
	Listings  []Listing   // empty for pages that are not listing pages, and for gates
	// NotModified is set for a 304 reply to a conditional request (see
	// Options.Validators): Status is 304, Body and Listings are empty, Exchange
	// holds the 304 exchange. The sink may mark the page's listings as seen.
	NotModified bool
	// Gate is non-empty when the page stands between the crawler and the content:
	// the GatePattern name ("captcha", "ddos", "login") or "http_403", "http_429",
	// "http_503". A gate page must not be stored as a listing's evidence.
	Gate string
}

// Sink receives every fetched page (the final attempt of each URL, HTML only). It
// is called from worker goroutines, possibly concurrently. An error is counted
// (ErrorsByKind["sink"]) and logged, and the URL is left claimed in the Frontier
// so a resumed sweep fetches it again; an error wrapping ErrStop aborts the sweep.
type Sink interface {
	HandlePage(ctx context.Context, p *Page) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, p *Page) error

// HandlePage calls f.
func (f SinkFunc) HandlePage(ctx context.Context, p *Page) error { return f(ctx, p) }

// ErrStop, wrapped in an error returned by a Sink, stops the sweep.
var ErrStop = errors.New("stop sweep")

// Stats are the counts of one sweep of one marketplace.
type Stats struct {
	Market       string
	PagesFetched int // pages handed to the Sink, NotModified ones included
	NotModified  int // 304 replies to conditional requests
	ListingPages int // pages with at least one listing
	Listings     int
	Errors       int            // sum of ErrorsByKind
	Retries      int            // attempts repeated after a retryable failure
	ErrorsByKind map[string]int // ErrKind* constants
	// SkippedByReason counts URLs not fetched: deny, offsite, depth, max_pages
	// (counted once per page that links them), robots, non_html, and the trap
	// guards (SkipTrap*).
	SkippedByReason map[string]int
	Gates           map[string]int // gate pages by Page.Gate reason
	// ListingURLsRejected counts the url field values that were not made a
	// listing's URL, by reason: SkipDeny and SkipOffsite (outside the
	// marketplace's deny and allow) and RejectScheme (not http or https).
	// Such an item is left out; a page-mode listing keeps the page URL.
	ListingURLsRejected map[string]int
	// ListingsCut counts listings with a field cut at MaxFieldBytes or a
	// text cut at MaxTextBytes (see Listing.Cut).
	ListingsCut int
	// PagesCut counts pages whose markup was cut at MaxParseTags before
	// listings and links were extracted.
	PagesCut int
	Started  time.Time
	Finished time.Time
}

// Progress is a snapshot of a running sweep.
type Progress struct {
	Market                          string
	Pages, Queued, Listings, Errors int
	Rate                            float64 // pages fetched per second since the sweep started
	Final                           bool    // the last call of the sweep
}

// progressInterval is the shortest time between two Progress calls (but the last).
const progressInterval = 200 * time.Millisecond

// Skip reasons (keys of Stats.SkippedByReason), besides the trap guards.
const (
	SkipDeny     = "deny"
	SkipOffsite  = "offsite"
	SkipDepth    = "depth"
	SkipMaxPages = "max_pages"
	SkipRobots   = "robots"
	SkipNonHTML  = "non_html"
)

// Sweep crawls one marketplace once. It builds one colly.Collector for this call,
// fetches with m.Concurrency workers from the Frontier, and passes every page to
// sink. Each worker calls Colly's synchronous Request, so a URL is known to be
// finished (and can be marked done) when the call returns, and the number of
// goroutines stays bounded by the concurrency.
//
// When ctx is cancelled, Sweep stops fetching, waits for in-flight pages, and
// returns the statistics so far with an error wrapping ctx.Err(). URLs in flight
// stay claimed in the Frontier for a later resume.
func Sweep(ctx context.Context, m config.Market, sink Sink, opts Options) (Stats, error) {
	s, err := newSweeper(m, sink, opts)
	if err != nil {
		return Stats{Market: m.Name}, err
	}
	return s.run(ctx)
}

// fetchState is what Colly's callbacks saw for one Request call.
type fetchState struct {
	started bool
	resp    *colly.Response
	err     error
}

const stateKey = "snoop.fetch"

type sweeper struct {
	m        config.Market
	sink     Sink
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	limiter  HostLimiter
	frontier Frontier
	retry    RetryPolicy
	gates    gateSet
	traps    *trapGuard
	maxRedir int
	jar      http.CookieJar

	c             *colly.Collector
	tr            *captureTransport
	ownTransports *Transports // nil when shared through Options.Transports
	seq           atomic.Uint64

	statsMu sync.Mutex
	stats   Stats
	skipped map[string]struct{} // URLs already counted in SkippedByReason

	mu       sync.Mutex // guards busy, queued, finished, fatal; cond waits on it
	cond     *sync.Cond
	busy     int
	queued   int
	finished bool
	fatal    error
	cancel   context.CancelCauseFunc

	addMu sync.Mutex // serialises Frontier.Add so max_pages holds
	known int

	progressMu   sync.Mutex // serialises Progress calls; guards progressAt
	progressAt   time.Time  // time of the last Progress call
	progressSent bool
}

func newSweeper(m config.Market, sink Sink, opts Options) (*sweeper, error) {
	if sink == nil {
		return nil, errors.New("sweep: nil sink")
	}
	if len(m.StartURLs) == 0 {
		return nil, fmt.Errorf("sweep %s: no start URLs", m.Name)
	}
	s := &sweeper{m: m, sink: sink, opts: opts, log: opts.Logger, now: opts.Now, limiter: opts.Limiter,
		frontier: opts.Frontier, retry: opts.Retry.withDefaults(),
		traps: newTrapGuard(opts.Traps), maxRedir: opts.MaxRedirects}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("market", m.Name)
	if s.now == nil {
		s.now = time.Now
	}
	if s.limiter == nil {
		s.limiter = &Limiters{}
	}
	if s.frontier == nil {
		s.frontier = &MemFrontier{}
	}
	if opts.Gates == nil && len(m.Gates) == 0 {
		s.gates = defaultGateSet()
	} else {
		gates := opts.Gates
		if gates == nil {
			gates = defaultGateSet().patterns
		}
		gates = slices.Clip(gates)
		for _, g := range m.Gates {
			gates = append(gates, GatePattern{Name: g.Name, Text: g.Text, Selector: g.Selector})
		}
		s.gates = newGateSet(gates)
	}
	if opts.Retry.MaxRetries == 0 {
		s.retry.MaxRetries = max(m.Retries, 0)
	}
	if s.maxRedir <= 0 {
		s.maxRedir = 5
	}
	if s.m.Concurrency < 1 {
		s.m.Concurrency = 1
	}
	if s.m.MaxBodyBytes <= 0 {
		s.m.MaxBodyBytes = config.Builtin().MaxBodyBytes
	}
	if s.m.Timeout <= 0 {
		s.m.Timeout = config.Builtin().Timeout
	}
	if s.m.MaxPages <= 0 {
		s.m.MaxPages = config.Builtin().MaxPages
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, fmt.Errorf("sweep %s: cookie jar: %w", m.Name, err)
	}
	if m.CookiesFile != "" {
		cookies, err := readCookiesFile(m.CookiesFile, s.now())
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %w", m.Name, err)
		}
		for _, jc := range cookies {
			jar.SetCookies(jc.url, []*http.Cookie{jc.cookie})
		}
	}
	s.jar = jar
	s.cond = sync.NewCond(&s.mu)
	s.skipped = map[string]struct{}{}
	s.stats = Stats{Market: m.Name, ErrorsByKind: map[string]int{}, SkippedByReason: map[string]int{}, Gates: map[string]int{},
		ListingURLsRejected: map[string]int{}}
	return s, nil
}

// collector builds this sweep's Collector. Fields are set after NewCollector so
// that COLLY_* environment variables cannot override them.
func (s *sweeper) collector(ctx context.Context) (*colly.Collector, error) {
	ts := s.opts.Transports
	if ts == nil {
		ts = &Transports{}
		s.ownTransports = ts
	}
	st, err := ts.get(s.m.Proxy, s.opts.TLSConfig, s.m.Timeout)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", s.m.Name, err)
	}
	tr := newCaptureTransport(ctx, st, s.m.MaxBodyBytes, s.limiter, s.m.RequestsPerSecond, s.m.Burst, s.now)
	s.tr = tr
	c := colly.NewCollector(colly.StdlibContext(ctx))
	c.UserAgent = s.m.UserAgent
	c.Headers = nil
	if len(s.m.Headers) > 0 { // used by Colly for robots.txt; pages get them per request
		h := http.Header{}
		for k, v := range s.m.Headers {
			h.Set(k, v)
		}
		c.Headers = &h
	}
	c.MaxDepth = 0
	c.MaxRequests = 0
	c.AllowedDomains, c.DisallowedDomains = nil, nil
	c.URLFilters, c.DisallowedURLFilters = nil, nil
	c.AllowURLRevisit = true // the Frontier de-duplicates; retries refetch
	c.MaxBodySize = int(min(s.m.MaxBodyBytes, int64(^uint(0)>>1)))
	c.IgnoreRobotsTxt = s.m.Robots == config.RobotsIgnore
	c.ParseHTTPErrorResponse = true // 4xx/5xx reach OnResponse: they may be gates or evidence
	c.DetectCharset = false
	c.CacheDir = ""
	c.Async = false
	c.TraceHTTP = false
	c.CheckHead = false
	c.SetCookieJar(s.jar)
	c.WithTransport(tr)
	c.SetRequestTimeout(s.m.Timeout)
	c.SetRedirectHandler(s.checkRedirect)
	c.OnRequest(func(r *colly.Request) { fetchStateOf(r.Ctx).started = true })
	c.OnResponse(func(r *colly.Response) { fetchStateOf(r.Ctx).resp = r })
	c.OnError(func(r *colly.Response, err error) {
		st := fetchStateOf(r.Ctx)
		st.err = err
		if r.StatusCode != 0 {
			st.resp = r
		}
	})
	return c, nil
}

func fetchStateOf(ctx *colly.Context) *fetchState {
	if st, ok := ctx.GetAny(stateKey).(*fetchState); ok {
		return st
	}
	return &fetchState{} // a request not started by a worker; nothing reads it
}

func (s *sweeper) run(parent context.Context) (Stats, error) {
	s.stats.Started = s.now()
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.cancel = cancel
	stopWake := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stopWake()

	c, err := s.collector(ctx)
	if err != nil {
		return s.snapshot(), err
	}
	s.c = c
	if s.ownTransports != nil {
		defer s.ownTransports.Close()
	}

	counts, err := s.frontier.Resume(ctx)
	if err != nil {
		return s.snapshot(), fmt.Errorf("sweep %s: resume frontier: %w", s.m.Name, err)
	}
	s.known = counts.Queued + counts.Claimed + counts.Done
	s.queued = counts.Queued
	s.log.Info("sweep started", "start_urls", len(s.m.StartURLs), "resumed_queued", counts.Queued, "resumed_done", counts.Done)
	s.enqueue(ctx, s.m.StartURLs, 0)

	var wg sync.WaitGroup
	for range s.m.Concurrency {
		wg.Go(func() { s.worker(ctx) })
	}
	wg.Wait()
	s.progress(true)

	st := s.snapshot()
	s.log.Info("sweep finished", "pages", st.PagesFetched, "listings", st.Listings, "errors", st.Errors,
		"skipped", st.SkippedByReason, "gates", st.Gates)
	s.mu.Lock()
	fatal := s.fatal
	s.mu.Unlock()
	switch {
	case fatal != nil:
		return st, fmt.Errorf("sweep %s: %w", s.m.Name, fatal)
	case parent.Err() != nil:
		return st, fmt.Errorf("sweep %s: %w", s.m.Name, parent.Err())
	}
	return st, nil
}

// fail stops the sweep with err (the first one wins).
func (s *sweeper) fail(err error) {
	s.mu.Lock()
	if s.fatal == nil {
		s.fatal = err
	}
	s.mu.Unlock()
	s.cancel(err)
}

func (s *sweeper) worker(ctx context.Context) {
	for {
		e, ok := s.next(ctx)
		if !ok {
			return
		}
		s.process(ctx, e)
		s.mu.Lock()
		s.busy--
		s.cond.Broadcast()
		s.mu.Unlock()
		s.progress(false)
	}
}

// next claims a URL, waiting while other workers may still discover some.
func (s *sweeper) next(ctx context.Context) (FrontierEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if ctx.Err() != nil || s.finished {
			return FrontierEntry{}, false
		}
		e, ok, err := s.frontier.Claim(ctx)
		if err != nil {
			if s.fatal == nil {
				s.fatal = fmt.Errorf("claim: %w", err)
			}
			s.finished = true
			s.cond.Broadcast()
			go s.cancel(err)
			return FrontierEntry{}, false
		}
		if ok {
			s.busy++
			s.queued--
			return e, true
		}
		if s.busy == 0 {
			s.finished = true
			s.cond.Broadcast()
			return FrontierEntry{}, false
		}
		s.cond.Wait()
	}
}

// result is the outcome of one attempt at a URL.
type result struct {
	skip   string // skip reason: robots, non_html, or deny/offsite for a redirect target
	err    error  // no response
	kind   string // error kind, "" for a 1xx-3xx response
	status int
	header http.Header
	resp   *colly.Response
	caps   []*capture
}

func (s *sweeper) process(ctx context.Context, e FrontierEntry) {
	host := hostOf(e.URL)
	var r *result
	for attempt := 0; ; attempt++ {
		if err := s.limiter.Wait(ctx, host, s.m.RequestsPerSecond, s.m.Burst); err != nil {
			// Leave the URL claimed for a resumed sweep. When ctx has not ended
			// (the limiter saw the next slot fall after ctx's deadline), the
			// URL is lost to this run: count it, or the sweep would look
			// complete.
			if ctx.Err() == nil {
				s.countErr(ErrKindTimeout)
				s.log.Warn("not fetched: the rate limit's next slot is after the sweep's deadline", "url", e.URL, "err", err)
			}
			return
		}
		r = s.fetch(e)
		if ctx.Err() != nil {
			return
		}
		if r.skip != "" {
			if r.kind != "" && r.status >= 400 {
				s.countErr(r.kind)
			}
			s.skipURL(r.skip, e.URL)
			s.done(ctx, e.URL)
			return
		}
		if attempt >= s.retry.MaxRetries || !retryable(r.kind, r.status) {
			break
		}
		delay := s.retry.backoff(attempt)
		if r.header != nil {
			if ra, ok := retryAfter(r.header.Get("Retry-After"), s.now()); ok {
				if ra > s.retry.MaxRetryAfter {
					break
				}
				delay = ra
			}
		}
		s.statsMu.Lock()
		s.stats.Retries++
		s.statsMu.Unlock()
		s.log.Debug("retrying", "url", e.URL, "attempt", attempt+1, "status", r.status, "kind", r.kind, "delay", delay)
		if sleep(ctx, delay) != nil {
			return
		}
	}
	s.finish(ctx, e, r)
}

// fetch makes one attempt at a URL through Colly.
func (s *sweeper) fetch(e FrontierEntry) *result {
	id := strconv.FormatUint(s.seq.Add(1), 10)
	st := &fetchState{}
	cctx := colly.NewContext()
	cctx.Put(stateKey, st)
	hdr := http.Header{}
	for k, v := range s.m.Headers {
		hdr.Set(k, v)
	}
	hdr.Set(fetchIDHeader, id)
	if s.opts.Validators != nil {
		etag, lastMod := s.opts.Validators(e.URL)
		if etag != "" {
			hdr.Set("If-None-Match", etag)
		}
		if lastMod != "" {
			hdr.Set("If-Modified-Since", lastMod)
		}
	}
	err := s.c.Request(http.MethodGet, e.URL, nil, cctx, hdr)
	r := &result{caps: s.tr.take(id)}
	if !st.started { // refused before fetching: robots.txt, or a bad URL
		switch {
		case errors.Is(err, colly.ErrRobotsTxtBlocked):
			r.skip = SkipRobots
		case err == nil:
			r.err, r.kind = errors.New("request not started"), ErrKindRequest
		case s.m.Robots != config.RobotsIgnore && errorKind(err) != ErrKindRequest:
			r.err, r.kind = fmt.Errorf("robots.txt: %w", err), ErrKindRobots
		default:
			r.err, r.kind = err, ErrKindRequest
		}
		return r
	}
	if st.err != nil {
		var se *skipError
		if errors.As(st.err, &se) {
			r.skip = se.reason
			return r
		}
		r.err, r.kind = st.err, errorKind(st.err)
	} else if st.resp == nil && err != nil { // Colly failed after the response (charset)
		r.err, r.kind = err, ErrKindDecode
	}
	if st.resp != nil && st.resp.StatusCode != 0 {
		r.resp = st.resp
		r.status = st.resp.StatusCode
		if st.resp.Headers != nil {
			r.header = *st.resp.Headers
		}
		switch {
		case r.status >= 500:
			r.kind = ErrKindHTTP5xx
		case r.status >= 400:
			r.kind = ErrKindHTTP4xx
		}
		if len(r.caps) > 0 && r.caps[len(r.caps)-1].nonHTML {
			r.skip = SkipNonHTML
		}
	}
	return r
}

// finish records the final attempt at a URL and hands its page to the sink.
func (s *sweeper) finish(ctx context.Context, e FrontierEntry, r *result) {
	if r.resp == nil || len(r.caps) == 0 {
		err := r.err
		if err == nil {
			err = errors.New("no response recorded")
		}
		s.countErr(r.kind)
		s.log.Warn("fetch failed", "url", e.URL, "kind", r.kind, "err", err)
		s.done(ctx, e.URL)
		return
	}
	last := r.caps[len(r.caps)-1]
	ex := last.ex
	if last.decodeEr != nil {
		s.countErr(ErrKindDecode)
		s.log.Warn("content decoding failed", "url", e.URL, "err", last.decodeEr)
	}
	if ex.Truncated {
		s.countErr(ErrKindTooLarge)
		s.log.Warn("body truncated", "url", e.URL, "max_body_bytes", s.m.MaxBodyBytes)
	}
	if r.kind != "" {
		s.countErr(r.kind)
	}
	final := r.resp.Request.URL
	pageURL, err := canonicalURL(final)
	if err != nil {
		pageURL = final.String()
	}
	body := r.resp.Body
	if ct := r.header.Get("Content-Type"); !strings.Contains(strings.ToLower(ct), "charset") {
		body = toUTF8(body, ct) // Colly has converted header charsets already
	}
	p := &Page{
		Market: s.m.Name, URL: pageURL, Depth: e.Depth, Status: r.status, Header: r.header,
		Body: body, FetchedAt: ex.FetchedAt, Exchange: ex, NotModified: r.status == http.StatusNotModified,
	}
	if p.NotModified {
		p.Body = nil
	}
	for _, c := range r.caps[:len(r.caps)-1] {
		p.Redirects = append(p.Redirects, c.ex)
	}
	var doc *goquery.Document
	var base *url.URL
	ok2xx := r.status >= 200 && r.status < 300
	if len(p.Body) > 0 {
		parsed := body
		if n := cutMarkup(body, MaxParseTags); n < len(body) {
			parsed = body[:n]
			s.statsMu.Lock()
			s.stats.PagesCut++
			s.statsMu.Unlock()
			s.log.Warn("page markup cut for extraction: listings and links are read from its first tags only; the full page is kept in the evidence",
				"url", pageURL, "max_tags", MaxParseTags, "kept_bytes", n, "bytes", len(body))
		}
		doc, err = goquery.NewDocumentFromReader(bytes.NewReader(parsed))
		if err != nil {
			doc = nil
		}
	}
	if doc != nil {
		base = baseURL(doc, final)
		if ok2xx {
			x := extractListings(doc, base, pageURL, s.m.Listing, s.scope)
			p.Listings = keepInScope(&x, pageURL, s.scope)
			if len(x.rejected) > 0 {
				s.statsMu.Lock()
				for k, n := range x.rejected {
					s.stats.ListingURLsRejected[k] += n
				}
				s.statsMu.Unlock()
				s.log.Warn("listing URLs refused: outside the marketplace's allow/deny or not http(s); such items are left out",
					"page", pageURL, "refused", x.rejected, "example", x.example)
			}
		}
	}
	if gate := detectGate(r.status, doc, p.Listings, len(s.m.Listing.Fields) > 0 || s.m.Listing.Auto, s.gates); gate != "" {
		p.Gate, p.Listings = gate, nil
		s.statsMu.Lock()
		s.stats.Gates[gate]++
		s.statsMu.Unlock()
		s.log.Warn("gate page", "url", pageURL, "gate", gate, "status", r.status)
	}
	s.statsMu.Lock()
	s.stats.PagesFetched++
	if p.NotModified {
		s.stats.NotModified++
	}
	cut := 0
	if len(p.Listings) > 0 {
		s.stats.ListingPages++
		s.stats.Listings += len(p.Listings)
		for _, l := range p.Listings {
			if len(l.Cut) > 0 {
				cut++
			}
		}
		s.stats.ListingsCut += cut
	}
	s.statsMu.Unlock()
	if cut > 0 {
		s.log.Warn("listing text cut: what is classified and stored per listing is bounded; the full page is kept in the evidence",
			"url", pageURL, "listings_cut", cut, "max_field_bytes", MaxFieldBytes, "max_text_bytes", MaxTextBytes)
	}
	s.log.Debug("page", "url", pageURL, "status", r.status, "depth", e.Depth, "listings", len(p.Listings))

	if err := s.sink.HandlePage(ctx, p); err != nil {
		if errors.Is(err, ErrStop) {
			s.fail(err)
			return
		}
		s.countErr(ErrKindSink)
		s.log.Error("sink failed", "url", pageURL, "err", err)
		return // left claimed: a resumed sweep fetches it again
	}
	if p.Gate == "" && ok2xx && doc != nil {
		s.enqueue(ctx, links(doc, base, s.m.Follow), e.Depth+1)
	}
	s.done(ctx, e.URL)
	if pageURL != e.URL {
		s.done(ctx, pageURL)
	}
}

// keepInScope returns the listings of x whose URL is the page's or an
// in-scope http(s) URL, counting the others in x. Extractors check the
// URLs they take from a page; this holds for any extractor.
func keepInScope(x *extraction, pageURL string, scope scopeFunc) []Listing {
	out := x.listings[:0]
	for _, l := range x.listings {
		if l.URL != pageURL {
			c, err := Canonicalize(l.URL)
			switch {
			case err != nil || c != l.URL:
				x.reject(RejectScheme, l.URL)
				continue
			case scope(c) != "":
				x.reject(scope(c), l.URL)
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

// enqueue filters raw links and adds the survivors to the frontier within max_pages.
func (s *sweeper) enqueue(ctx context.Context, raws []string, depth int) {
	entries := make([]FrontierEntry, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			continue
		}
		c, err := canonicalURL(u)
		if err != nil || seen[c] {
			continue
		}
		seen[c] = true
		cu, _ := url.Parse(c)
		if reason := s.filter(c, cu, depth); reason != "" {
			s.skipURL(reason, c)
			continue
		}
		entries = append(entries, FrontierEntry{URL: c, Depth: depth})
	}
	if len(entries) == 0 {
		return
	}
	s.addMu.Lock()
	added, dropped, err := s.frontier.Add(ctx, entries, max(s.m.MaxPages-s.known, 0))
	s.known += added
	s.addMu.Unlock()
	if err != nil {
		s.fail(fmt.Errorf("frontier add: %w", err))
		return
	}
	s.skip(SkipMaxPages, dropped)
	if added > 0 {
		s.mu.Lock()
		s.queued += added
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// filter returns why the canonical URL c at depth must not be fetched, or "".
func (s *sweeper) filter(c string, u *url.URL, depth int) string {
	if r := s.scope(c); r != "" {
		return r
	}
	if depth > s.m.MaxDepth {
		return SkipDepth
	}
	return s.traps.check(u)
}

// scope applies the deny and allow regexes.
func (s *sweeper) scope(c string) string { return Scope(s.m, c) }

// Scope returns why the canonical URL c is outside marketplace m (SkipDeny
// when a deny regex matches it, SkipOffsite when no allow regex does), or ""
// when m may fetch it.
func Scope(m config.Market, c string) string {
	for _, re := range m.Deny {
		if re.MatchString(c) {
			return SkipDeny
		}
	}
	for _, re := range m.Allow {
		if re.MatchString(c) {
			return ""
		}
	}
	return SkipOffsite
}

// checkRedirect caps redirects, detects loops and keeps redirects in scope.
// One redirect back to the same URL is allowed (pages that set a session cookie).
func (s *sweeper) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > s.maxRedir {
		return fmt.Errorf("%w (%d)", errTooManyRedirects, len(via))
	}
	c, err := canonicalURL(req.URL)
	if err != nil {
		return err
	}
	n := 0
	for _, v := range via {
		if vc, err := canonicalURL(v.URL); err == nil && vc == c {
			n++
		}
	}
	lastSame := false
	if lc, err := canonicalURL(via[len(via)-1].URL); err == nil && lc == c {
		lastSame = true
	}
	if n >= 2 || (n == 1 && !lastSame) {
		return fmt.Errorf("%w at %s", errRedirectLoop, c)
	}
	if r := s.scope(c); r != "" {
		return &skipError{reason: r}
	}
	return nil
}

func (s *sweeper) done(ctx context.Context, u string) {
	if err := s.frontier.Done(ctx, u); err != nil {
		s.fail(fmt.Errorf("frontier done: %w", err))
	}
}

// maxSkipMemory bounds the set of skipped URLs remembered to count each once.
const maxSkipMemory = 100_000

// skipURL counts u as skipped for reason, once per URL (while the set of
// remembered URLs is below maxSkipMemory; past it every occurrence counts).
func (s *sweeper) skipURL(reason, u string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if _, ok := s.skipped[u]; ok {
		return
	}
	if len(s.skipped) < maxSkipMemory {
		s.skipped[u] = struct{}{}
	}
	s.stats.SkippedByReason[reason]++
}

func (s *sweeper) skip(reason string, n int) {
	if n <= 0 {
		return
	}
	s.statsMu.Lock()
	s.stats.SkippedByReason[reason] += n
	s.statsMu.Unlock()
}

func (s *sweeper) countErr(kind string) {
	s.statsMu.Lock()
	s.stats.ErrorsByKind[kind]++
	s.stats.Errors++
	s.statsMu.Unlock()
}

// snapshot returns a copy of the statistics with Finished set to now.
func (s *sweeper) snapshot() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.stats
	st.ErrorsByKind = maps.Clone(s.stats.ErrorsByKind)
	st.SkippedByReason = maps.Clone(s.stats.SkippedByReason)
	st.Gates = maps.Clone(s.stats.Gates)
	st.ListingURLsRejected = maps.Clone(s.stats.ListingURLsRejected)
	st.Finished = s.now()
	return st
}

// progress calls Options.Progress, throttled to progressInterval unless final.
func (s *sweeper) progress(final bool) {
	if s.opts.Progress == nil {
		return
	}
	s.progressMu.Lock()
	defer s.progressMu.Unlock()
	now := s.now()
	if !final && s.progressSent && now.Sub(s.progressAt) < progressInterval {
		return
	}
	s.progressSent, s.progressAt = true, now
	s.statsMu.Lock()
	p := Progress{Market: s.m.Name, Pages: s.stats.PagesFetched, Listings: s.stats.Listings, Errors: s.stats.Errors, Final: final}
	if el := now.Sub(s.stats.Started).Seconds(); el > 0 {
		p.Rate = float64(s.stats.PagesFetched) / el
	}
	s.statsMu.Unlock()
	s.mu.Lock()
	p.Queued = s.queued
	s.mu.Unlock()
	s.opts.Progress(p)
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return u
}
