// Package screenshot renders web pages in headless Chromium and returns
// full-page PNG screenshots for evidence.
//
// A Taker starts one Chromium process (through chromedp) and shares it between
// captures; each Capture runs in its own tab and its own browser context, so
// captures are independent (no shared cookies, cache or storage) and may run
// concurrently.
//
// Pages are rendered with JavaScript off: snoop's crawler reads the HTML as
// served, without running scripts, so the screenshot shows what the listing
// was extracted from, and a hostile page's scripts never run in the
// analyst's process tree. Chromium runs in its sandbox unless the process is
// root, where Chromium refuses the sandbox. With a proxy, every request,
// loopback ones included, goes through it.
//
// Rendering is confined to the page's own host: every request the tab makes is
// paused by the DevTools fetch domain and continued only when its host:port
// equals the host:port of the captured URL; any other request fails with
// BlockedByClient before it leaves the browser. WebSockets, WebRTC and
// service workers, which the fetch domain cannot see, are disabled in the page
// by a script that runs before the page's own scripts, and the browser's own
// background traffic (updates, sync, prediction, QUIC) is switched off by flags
// and preferences.
package screenshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"iter"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoBrowser reports that no usable Chromium was found or that it could not
// be started. Callers test it with errors.Is and carry on without screenshots.
var ErrNoBrowser = errors.New("no usable chromium")

// ErrTimeout reports that a page did not finish loading and rendering within
// Options.Timeout. Capture wraps it together with context.DeadlineExceeded.
var ErrTimeout = errors.New("page timed out")

// ErrClosed reports a Capture on a Taker that was closed.
var ErrClosed = errors.New("screenshot taker closed")

// DefaultTimeout is the per-page time limit used when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// startTimeout bounds how long New waits for Chromium to start and answer.
const startTimeout = 30 * time.Second

// closeTimeout bounds how long Close waits for Chromium to exit gracefully
// before it is killed.
const closeTimeout = 5 * time.Second

// viewportWidth and viewportHeight are the window size pages are laid out in;
// the screenshot then extends to the full height of the page.
const (
	viewportWidth  = 1280
	viewportHeight = 800
)

// browserNames are the programs New looks up in PATH when Options.ExecPath
// is empty, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// Options configure a Taker. The zero value is usable: Chromium is looked up
// in PATH, pages get DefaultTimeout, logs are discarded and no proxy is used.
type Options struct {
	// ExecPath is the Chromium binary. Empty means look up chromium,
	// chromium-browser and google-chrome in PATH.
	ExecPath string
	// Timeout bounds one Capture: load, render and screenshot. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Logger receives debug and warning messages; nil discards them.
	Logger *slog.Logger
	// Proxy is an optional proxy URL for rendering, such as
	// socks5h://127.0.0.1:9050 for Tor or http://host:port. With a SOCKS5
	// proxy Chromium resolves host names through the proxy.
	Proxy string
	// UserAgent, Headers and Cookies are the marketplace's session, sent
	// with every render as the crawl sends them; empty sends Chromium's own.
	UserAgent string
	Headers   map[string]string
	Cookies   []Cookie
}

// Shot is one rendered page.
type Shot struct {
	// PNG is the full-page screenshot, PNG-encoded.
	PNG []byte
	// SHA256 is the lower-case hex sha256 of PNG.
	SHA256 string
	// URL is the URL that was rendered, as given to Capture.
	URL string
	// TakenAt is when the screenshot was taken (UTC).
	TakenAt time.Time
	// Width and Height are the pixel size of PNG.
	Width, Height int
}

// Taker renders pages in one shared headless Chromium and returns full-page
// PNGs. It is safe for concurrent use; each Capture uses its own tab. Close
// stops Chromium and removes its temporary profile.
type Taker struct {
	log     *slog.Logger
	timeout time.Duration
	dataDir string

	// browser is the chromedp context that owns the Chromium process; tabs
	// are made from it. chromedp binds the browser's life to a context, so
	// the Taker must keep one.
	browser       context.Context
	cancelBrowser context.CancelFunc
	cancelAlloc   context.CancelFunc

	closeOnce sync.Once
	closeErr  error

	userAgent string
	headers   map[string]string
	cookies   []Cookie
}

// New starts headless Chromium and returns a Taker that uses it. ctx bounds
// the start only (together with an internal start timeout); the browser lives
// until Close. When no browser is found, or it fails to start, New returns an
// error that wraps ErrNoBrowser.
func New(ctx context.Context, opts Options) (*Taker, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	execPath, err := findBrowser(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	proxy, err := chromiumProxy(opts.Proxy)
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "snoop-chromium-")
	if err != nil {
		return nil, fmt.Errorf("screenshot: profile dir: %w", err)
	}
	if err := writePreferences(dataDir); err != nil {
		os.RemoveAll(dataDir)
		return nil, err
	}

	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(viewportWidth, viewportHeight),
	}
	for _, f := range browserFlags(os.Geteuid()) {
		allocOpts = append(allocOpts, chromedp.Flag(f.name, f.value))
	}
	if proxy != "" {
		// Chromium sends loopback addresses around any proxy unless told
		// otherwise: "<-loopback>" removes that implicit bypass.
		allocOpts = append(allocOpts, chromedp.ProxyServer(proxy), chromedp.Flag("proxy-bypass-list", "<-loopback>"))
	}

	// The browser must outlive New's ctx, so it hangs off a context that
	// keeps ctx's values but not its cancellation.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(ctx), allocOpts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx,
		chromedp.WithLogf(func(format string, args ...any) { log.Debug("chromium", "msg", fmt.Sprintf(format, args...)) }),
		chromedp.WithErrorf(func(format string, args ...any) { log.Debug("chromium error", "msg", fmt.Sprintf(format, args...)) }),
	)
	t := &Taker{
		log:           log,
		timeout:       timeout,
		dataDir:       dataDir,
		browser:       browserCtx,
		cancelBrowser: cancelBrowser,
		cancelAlloc:   cancelAlloc,
		userAgent:     opts.UserAgent,
		headers:       opts.Headers,
		cookies:       opts.Cookies,
	}

	// The first Run starts Chromium and binds it to browserCtx, so it must
	// run on browserCtx itself; the start is bounded by cancelling
	// browserCtx when startCtx ends first.
	startCtx, cancelStart := context.WithTimeout(ctx, startTimeout)
	defer cancelStart()
	stop := context.AfterFunc(startCtx, cancelBrowser)
	err = chromedp.Do(browserCtx)
	if !stop() {
		err = errors.Join(err, fmt.Errorf("timed out or cancelled after %s: %w", startTimeout, startCtx.Err()))
	}
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("screenshot: start %s: %w: %w", execPath, ErrNoBrowser, err)
	}
	log.Debug("chromium started", "path", execPath, "proxy", proxy, "timeout", timeout)
	return t, nil
}

// flag is one Chromium command-line switch.
type flag struct {
	name  string
	value any
}

// chromiumFlags keep Chromium headless, quiet on the network and free of
// background work. The machines this runs on may have no internet; without
// these, Chromium keeps trying to reach update, sync and metrics services.
var chromiumFlags = []flag{
	{"headless", true},
	{"disable-gpu", true},
	{"disable-quic", true},
	{"no-first-run", true},
	{"no-default-browser-check", true},
	{"disable-background-networking", true},
	{"disable-component-update", true},
	{"disable-sync", true},
	{"disable-default-apps", true},
	{"disable-extensions", true},
	{"disable-breakpad", true},
	{"disable-domain-reliability", true},
	{"disable-client-side-phishing-detection", true},
	{"disable-dev-shm-usage", true},
	{"metrics-recording-only", true},
	{"no-pings", true},
	{"mute-audio", true},
	{"hide-scrollbars", true},
	{"password-store", "basic"},
	{"use-mock-keychain", true},
	// Keep cross-site iframes in the page's process, so the page's fetch
	// interception sees their requests too.
	{"disable-site-isolation-trials", true},
	{"disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider," +
		"IsolateOrigins,site-per-process,InterestFeedContentSuggestions," +
		"CertificateTransparencyComponentUpdater,AutofillServerCommunication,SpeculationRulesPrefetchProxy"},
	// WebRTC must not open UDP sockets around the proxy or the interception.
	{"force-webrtc-ip-handling-policy", "disable_non_proxied_udp"},
	{"webrtc-ip-handling-policy", "disable_non_proxied_udp"},
}

// browserFlags returns the command-line switches for a process running as
// effective user euid. Chromium's sandbox stays on, except for root, where
// Chromium refuses to start with it.
func browserFlags(euid int) []flag {
	flags := slices.Clone(chromiumFlags)
	if euid == 0 {
		flags = append(flags, flag{"no-sandbox", true})
	}
	return flags
}

// preferences turn off network prediction (DNS prefetch and preconnect), which
// opens connections that request interception cannot see.
const preferences = `{"net":{"network_prediction_options":2},` +
	`"dns_prefetching":{"enabled":false},` +
	`"safebrowsing":{"enabled":false},` +
	`"search":{"suggest_enabled":false}}`

// writePreferences writes the profile preferences into a fresh user data dir.
func writePreferences(dataDir string) error {
	dir := filepath.Join(dataDir, "Default")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("screenshot: profile dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Preferences"), []byte(preferences), 0o600); err != nil {
		return fmt.Errorf("screenshot: profile preferences: %w", err)
	}
	return nil
}

// findBrowser returns the absolute path of the browser to run, or an error
// wrapping ErrNoBrowser.
func findBrowser(execPath string) (string, error) {
	if execPath != "" {
		p, err := exec.LookPath(execPath)
		if err != nil {
			return "", fmt.Errorf("screenshot: %s: %w: %w", execPath, ErrNoBrowser, err)
		}
		return p, nil
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("screenshot: none of %s in PATH: %w", strings.Join(browserNames, ", "), ErrNoBrowser)
}

// chromiumProxy converts a proxy URL into the form Chromium's --proxy-server
// accepts. Chromium knows no socks5h scheme; its socks5 already resolves names
// through the proxy.
func chromiumProxy(proxy string) (string, error) {
	if proxy == "" {
		return "", nil
	}
	u, err := url.Parse(proxy)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("screenshot: proxy %q: not a proxy URL", proxy)
	}
	switch u.Scheme {
	case "http", "https", "socks4", "socks5":
	case "socks5h":
		u.Scheme = "socks5"
	default:
		return "", fmt.Errorf("screenshot: proxy %q: unsupported scheme %q", proxy, u.Scheme)
	}
	if u.User != nil {
		return "", fmt.Errorf("screenshot: proxy %q: credentials are not supported", proxy)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Capture loads pageURL in a new tab, waits for the load event and returns a
// full-page PNG. Requests to any host:port other than pageURL's are blocked.
// Capture is bounded by Options.Timeout and by ctx; a page that does not load
// in time gives an error wrapping ErrTimeout and context.DeadlineExceeded.
func (t *Taker) Capture(ctx context.Context, pageURL string) (Shot, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return Shot{}, fmt.Errorf("screenshot %s: %w", pageURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Shot{}, fmt.Errorf("screenshot %s: only absolute http and https URLs can be rendered", pageURL)
	}
	if t.browser.Err() != nil {
		return Shot{}, fmt.Errorf("screenshot %s: %w", pageURL, ErrClosed)
	}
	allowed := hostPort(u)

	// The tab's context derives from the browser's; the deadline and the
	// caller's cancellation close the tab, not the browser.
	limitCtx, cancelLimit := context.WithTimeoutCause(t.browser, t.timeout, ErrTimeout)
	defer cancelLimit()
	stop := context.AfterFunc(ctx, cancelLimit)
	defer stop()
	tabCtx, cancelTab := chromedp.NewContext(limitCtx, chromedp.WithNewBrowserContext())
	defer cancelTab()

	start := time.Now()
	var blocked blockLog
	data, err := chromedp.Run(tabCtx, t.render(pageURL, allowed, &blocked))
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		case errors.Is(context.Cause(limitCtx), ErrTimeout):
			err = fmt.Errorf("%w after %s: %w (%w)", ErrTimeout, t.timeout, context.DeadlineExceeded, err)
		case t.browser.Err() != nil:
			err = fmt.Errorf("%w (%w)", ErrClosed, err)
		}
		return Shot{}, fmt.Errorf("screenshot %s: %w", pageURL, err)
	}
	takenAt := time.Now().UTC()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Shot{}, fmt.Errorf("screenshot %s: decode png: %w", pageURL, err)
	}
	sum := sha256.Sum256(data)
	shot := Shot{
		PNG:     data,
		SHA256:  hex.EncodeToString(sum[:]),
		URL:     pageURL,
		TakenAt: takenAt,
		Width:   cfg.Width,
		Height:  cfg.Height,
	}
	t.log.Debug("screenshot taken", "url", pageURL, "width", shot.Width, "height", shot.Height,
		"bytes", len(data), "blocked", blocked.count(), "took", time.Since(start))
	return shot, nil
}

// guardScript runs in every frame before the page's own scripts (should
// scripts ever run: they are disabled) and removes
// the APIs whose traffic request interception cannot see or stop: WebSocket,
// WebTransport, WebRTC and service workers.
const guardScript = `(() => {
  const kill = (o, name) => { try { Object.defineProperty(o, name, {value: undefined, configurable: false, writable: false}); } catch (e) {} };
  for (const n of ["WebSocket", "WebTransport", "RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel", "Worker", "SharedWorker"]) kill(window, n);
  try { if (window.Navigator) kill(Navigator.prototype, "serviceWorker"); } catch (e) {}
  kill(navigator, "serviceWorker");
})();`

// render is the action that runs in the tab: it confines the tab's requests
// to allowed, loads pageURL and takes the full-page screenshot.
func (t *Taker) render(pageURL, allowed string, blocked *blockLog) chromedp.Action[[]byte] {
	return func(ctx context.Context, tgt *chromedp.Target) ([]byte, error) {
		// Subscribe before enabling interception, so no paused request is
		// missed; the goroutine ends with ctx (the tab).
		paused := cdp.Events(ctx, tgt, fetch.RequestPaused)
		go t.gate(ctx, tgt, paused, allowed, blocked)
		// A hostile page's alert() or confirm() would hold the load event
		// until the deadline: dismiss every dialog at once.
		dialogs := cdp.Events(ctx, tgt, page.JavascriptDialogOpening)
		go func() {
			for _, err := range dialogs {
				if err != nil {
					return
				}
				if _, err := cdp.Call(ctx, tgt, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}); err != nil && ctx.Err() == nil {
					t.log.Debug("screenshot: dismiss dialog", "err", err)
				}
			}
		}()
		if _, err := cdp.Call(ctx, tgt, page.Enable, page.EnableParams{}); err != nil {
			return nil, fmt.Errorf("enable page events: %w", err)
		}
		if _, err := cdp.Call(ctx, tgt, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}},
		}); err != nil {
			return nil, fmt.Errorf("enable request interception: %w", err)
		}
		if _, err := cdp.Call(ctx, tgt, network.Enable, network.EnableParams{}); err != nil {
			return nil, fmt.Errorf("enable network: %w", err)
		}
		if _, err := cdp.Call(ctx, tgt, network.SetBypassServiceWorker, network.SetBypassServiceWorkerParams{Bypass: true}); err != nil {
			return nil, fmt.Errorf("bypass service workers: %w", err)
		}
		// Belt and braces for what the fetch domain does not intercept.
		if _, err := cdp.Call(ctx, tgt, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
			{URLPattern: "ws://*:*/*", Block: true},
			{URLPattern: "wss://*:*/*", Block: true},
		}}); err != nil {
			t.log.Debug("screenshot: block websockets", "err", err)
		}
		// The crawler runs no scripts, and neither does the screenshot:
		// it shows the HTML the listing was read from.
		if _, err := cdp.Call(ctx, tgt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			return nil, fmt.Errorf("disable scripts: %w", err)
		}
		if _, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: guardScript}); err != nil {
			return nil, fmt.Errorf("install page guard: %w", err)
		}
		if err := t.applySession(ctx, tgt); err != nil {
			return nil, err
		}
		if _, err := chromedp.EmulateViewport(viewportWidth, viewportHeight)(ctx, tgt); err != nil {
			return nil, fmt.Errorf("set viewport: %w", err)
		}
		if _, err := chromedp.Navigate(pageURL)(ctx, tgt); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		data, err := chromedp.FullScreenshot(100)(ctx, tgt)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		return data, nil
	}
}

// gate answers every paused request of a tab: requests to allowed continue,
// all others fail with BlockedByClient.
func (t *Taker) gate(ctx context.Context, tgt *chromedp.Target, paused iter.Seq2[fetch.EventRequestPaused, error], allowed string, blocked *blockLog) {
	for ev, err := range paused {
		if err != nil {
			return
		}
		raw := ""
		if ev.Request != nil {
			raw = ev.Request.URL
		}
		if allowedRequest(raw, allowed) {
			if _, err := cdp.Call(ctx, tgt, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}); err != nil && ctx.Err() == nil {
				t.log.Debug("screenshot: continue request", "url", raw, "err", err)
			}
			continue
		}
		blocked.add()
		t.log.Debug("screenshot: blocked request", "url", raw, "allowed", allowed, "type", ev.ResourceType)
		if _, err := cdp.Call(ctx, tgt, fetch.FailRequest, fetch.FailRequestParams{
			RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient,
		}); err != nil && ctx.Err() == nil {
			t.log.Debug("screenshot: fail request", "url", raw, "err", err)
		}
	}
}

// allowedRequest reports whether a request URL may leave the browser: only
// http(s) and ws(s) URLs whose host:port equals allowed.
func allowedRequest(raw, allowed string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return false
	}
	return hostPort(u) == allowed
}

// hostPort returns u's lower-case host and explicit or default port.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https", "wss":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// blockLog counts the requests blocked during one capture.
type blockLog struct {
	mu sync.Mutex
	n  int
}

// add counts one blocked request.
func (b *blockLog) add() {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
}

// count returns the number of blocked requests so far.
func (b *blockLog) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Close stops Chromium and removes its temporary profile. Captures still
// running fail. Close is safe to call more than once.
func (t *Taker) Close() error {
	t.closeOnce.Do(func() {
		// Ask the browser to exit gracefully, bounded; cancelling the
		// allocator then kills it if it is still there and waits for it.
		ctx, cancel := context.WithTimeout(t.browser, closeTimeout)
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.log.Debug("screenshot: close chromium", "err", err)
		}
		cancel()
		t.cancelBrowser()
		t.cancelAlloc()
		if err := os.RemoveAll(t.dataDir); err != nil {
			t.closeErr = fmt.Errorf("screenshot: remove profile: %w", err)
		}
	})
	return t.closeErr
}
