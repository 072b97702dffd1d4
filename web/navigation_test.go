package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium (or skips, see chromiumPath) and
// returns its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	chrome := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	return bctx
}

// marketplace is a loopback server standing for the marketplace: it
// records every request it gets.
type marketplace struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func newMarketplace(t *testing.T) *marketplace {
	t.Helper()
	m := &marketplace{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.got = append(m.got, r.Method+" "+r.URL.String())
		m.mu.Unlock()
		fmt.Fprint(w, "<h1>marketplace</h1>")
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *marketplace) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = nil
}

func (m *marketplace) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// linkPage is an archived page whose top is one big link to href.
func linkPage(href, target string) string {
	attr := ""
	if target != "" {
		attr = fmt.Sprintf(` target="%s"`, target)
	}
	return fmt.Sprintf(`<!doctype html><html><head><title>listing</title></head><body>
<h1><a id="go" href="%s"%s>%s</a></h1>
<p>Isotonitazene 99%%, order on our site.</p></body></html>`, href, attr, strings.Repeat("open the listing ", 40))
}

// clickFrame clicks, as a user does, near the top left of the content of
// the iframe #evidence-frame of the current page, where linkPage's link
// is.
func clickFrame(bctx context.Context, t *testing.T, opts ...chromedp.MouseOption) {
	t.Helper()
	rectJSON, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => {
		const f = document.getElementById('evidence-frame');
		f.scrollIntoView();
		return JSON.stringify(f.getBoundingClientRect());
	})()`))
	if err != nil {
		t.Fatalf("find the evidence frame: %v", err)
	}
	var rect struct{ Left, Top float64 }
	if err := json.Unmarshal([]byte(rectJSON), &rect); err != nil {
		t.Fatal(err)
	}
	// Point at the link first and give the frame's process a moment to
	// take input, as a user's hand does.
	x, y := rect.Left+80, rect.Top+45
	if err := chromedp.Do(bctx, chromedp.MouseEvent(chromedp.MouseMoved, x, y), chromedp.Sleep(500*time.Millisecond), chromedp.MouseClickXY(x, y, opts...)); err != nil {
		t.Fatalf("click: %v", err)
	}
}

// waitRequests waits up to d for the marketplace to be asked anything.
func waitRequests(m *marketplace, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := m.requests(); len(got) > 0 {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	return m.requests()
}

// TestBrowserEvidenceLinksGoNowhere clicks links of archived pages in
// Chromium and checks that the marketplace hears nothing: on the evidence
// page, in the hit page's frame, and when the archived body is opened as a
// page of its own. A control page with the same sandboxed frame but without
// the workbench's policy proves the click does follow the link there.
func TestBrowserEvidenceLinksGoNowhere(t *testing.T) {
	bctx := newBrowser(t)
	market := newMarketplace(t)

	// Control: the same link in a sandboxed iframe of a plain page.
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/inner" {
			fmt.Fprint(w, linkPage(market.URL+"/control", ""))
			return
		}
		fmt.Fprint(w, `<!doctype html><html><body><iframe id="evidence-frame" sandbox src="/inner" width="900" height="500"></iframe></body></html>`)
	}))
	defer control.Close()
	if err := chromedp.Do(bctx, chromedp.Navigate(control.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := evidenceFrameHTML(bctx, "/inner"); err != nil {
		t.Fatal(err)
	}
	clickFrame(bctx, t)
	if got := waitRequests(market, 10*time.Second); len(got) != 1 || !strings.Contains(got[0], "/control") {
		t.Fatalf("control: the click did not reach the marketplace (%v): this test cannot tell a blocked click", got)
	}
	market.reset()

	// The workbench, on a real loopback port.
	ts := httptest.NewUnstartedServer(nil)
	f := newFixture(t, func(o *Options) { o.Addr = ts.Listener.Addr().String() })
	ts.Config.Handler = f.srv
	ts.Start()
	defer ts.Close()
	var evs []int64
	var hits []int64
	for i, target := range []string{"", "_top", "_blank", "_parent"} {
		u := fmt.Sprintf("https://shop.test/nav/%d", i)
		html := linkPage(fmt.Sprintf("%s/listing/%d?target=%s", market.URL, i, target), target)
		res := saveWire(t, f, u, testNow.Add(-time.Duration(10-i)*time.Minute), wireResponse(t, html, 0), false)
		evs = append(evs, res.EvidenceID)
		hits = append(hits, res.Listings[0].HitID)
	}

	// Every way a mouse opens a link: a click, a middle click (new tab),
	// ctrl-click (background tab), shift-click (new window).
	clicks := []struct {
		name string
		opts []chromedp.MouseOption
	}{
		{"click", nil},
		{"middle click", []chromedp.MouseOption{chromedp.ButtonMiddle}},
		{"ctrl-click", []chromedp.MouseOption{chromedp.ButtonModifiers(chromedp.ModifierCtrl)}},
		{"shift-click", []chromedp.MouseOption{chromedp.ButtonModifiers(chromedp.ModifierShift)}},
	}
	for i, ev := range evs {
		// The evidence page, as the hit page's "view" link opens it.
		view := fmt.Sprintf("%s/evidence/%d", ts.URL, ev)
		if err := chromedp.Do(bctx, chromedp.Navigate(view)); err != nil {
			t.Fatal(err)
		}
		html, err := evidenceFrameHTML(bctx, fmt.Sprintf("/evidence/%d/page", ev))
		if err != nil || !strings.Contains(html, "open the listing") {
			t.Fatalf("evidence %d: frame not shown: %v", ev, err)
		}
		for _, c := range clicks {
			market.reset()
			clickFrame(bctx, t, c.opts...)
			if got := waitRequests(market, 1500*time.Millisecond); len(got) > 0 {
				t.Errorf("evidence page %d: a %s reached the marketplace: %v", ev, c.name, got)
			}
		}
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil || loc != view {
			t.Errorf("evidence page %d: the page moved to %q (%v)", ev, loc, err)
		}

		// The hit page's frame.
		if err := chromedp.Do(bctx, chromedp.Navigate(fmt.Sprintf("%s/hits/%d", ts.URL, hits[i]))); err != nil {
			t.Fatal(err)
		}
		if _, err := evidenceFrameHTML(bctx, fmt.Sprintf("/evidence/%d/page", ev)); err != nil {
			t.Fatal(err)
		}
		market.reset()
		clickFrame(bctx, t)
		if got := waitRequests(market, 1500*time.Millisecond); len(got) > 0 {
			t.Errorf("hit page %d: a click reached the marketplace: %v", hits[i], got)
		}
	}

	// The archived body opened on its own becomes the evidence page.
	page := fmt.Sprintf("%s/evidence/%d/page", ts.URL, evs[0])
	if err := chromedp.Do(bctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if want := fmt.Sprintf("%s/evidence/%d", ts.URL, evs[0]); err != nil || loc != want {
		t.Fatalf("archived body opened on its own: at %q (%v), want the evidence page %q", loc, err, want)
	}
	if _, err := evidenceFrameHTML(bctx, fmt.Sprintf("/evidence/%d/page", evs[0])); err != nil {
		t.Fatal(err)
	}
	market.reset()
	clickFrame(bctx, t)
	if got := waitRequests(market, 1500*time.Millisecond); len(got) > 0 {
		t.Errorf("archived body opened on its own: a click reached the marketplace: %v", got)
	}
}
