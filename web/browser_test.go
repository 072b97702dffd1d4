package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"

	"snoop/classify"
	"snoop/config"
	"snoop/rules"
	"snoop/schedule"
	"snoop/store"
	"snoop/sweep"
)

// evilListing is a marketplace page that tries everything a hostile page
// can try: inline scripts and an onerror handler that change the title, set
// a data attribute, write storage and cookies and reach for the top window.
const evilListing = `<!doctype html>
<html><head><title>Original listing title</title></head><body>
<h1>Isotonitazene powder 99% - 10 g<script>document.title='PWNED-h1'</script></h1>
<div class="description">Pure isotonitazene, lab tested. Stealth shipping worldwide, pay with BTC.
<img src=x onerror="document.title='PWNED-onerror';document.body.setAttribute('data-pwned','onerror');try{top.document.title='PWNED-top'}catch(e){}"></div>
<span class="price">$450</span><span class="vendor">chemlab</span>
<script>
document.title = 'PWNED-script';
document.body.setAttribute('data-pwned', 'script');
try { localStorage.setItem('pwned', 'script') } catch (e) {}
document.cookie = 'pwned=script; path=/';
try { top.document.title = 'PWNED-top' } catch (e) {}
</script>
</body></html>`

// chromiumPath finds Chromium, or skips the test (fails it when
// SNOOP_REQUIRE_CHROMIUM=1).
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("SNOOP_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("SNOOP_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not found and SNOOP_REQUIRE_CHROMIUM=1 (install the Debian package chromium)")
	}
	t.Skip("chromium not found (install the Debian package chromium, or set SNOOP_CHROMIUM)")
	return ""
}

// artifactDir is where screenshots go: $SNOOP_TEST_ARTIFACTS or a temp dir.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SNOOP_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sweptServer sweeps an httptest marketplace serving evilListing and
// returns a workbench server on the resulting database.
func sweptServer(t *testing.T) (*httptest.Server, *store.DB, int64) {
	t.Helper()
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/product/1">iso</a></body></html>`)
	})
	mux.HandleFunc("/product/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, evilListing)
	})
	market := httptest.NewServer(mux)
	t.Cleanup(market.Close)

	cfg, err := config.Parse("evil.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 100
  burst: 10
  robots: ignore
  timeout: 5s
marketplaces:
  - name: evil-shop
    start_urls: ["%s/"]
    listing:
      url_pattern: '/product/\d+$'
      fields:
        title: "h1"
        description: ".description"
        price: ".price"
        vendor: ".vendor"
`, market.URL)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	runner := &sweep.Runner{DB: db, Classifier: c, RuleVersion: rs.Version()}
	res, err := runner.Run(ctx, cfg.Marketplaces)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := db.Hits(ctx, store.HitFilter{SweepID: res.SweepID})
	if err != nil || len(hits) != 1 {
		t.Fatalf("sweep found %d hits (%v); want the one listing", len(hits), err)
	}
	sched, err := schedule.New(cfg.Marketplaces, schedule.Options{Sweep: func(ctx context.Context, m config.Market) (int64, error) {
		r, err := runner.Run(ctx, []config.Market{m})
		return r.SweepID, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	if err := sched.Start(sctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sched.Wait() })
	srv, err := New(Options{DB: db, Scheduler: sched, Classifier: c, RuleVersion: rs.Version(), ToolVersion: "browser-test", LocalActor: "browser-analyst"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, db, hits[0].ID
}

// TestBrowserNoPayloadRuns drives the workbench in headless Chromium: it
// opens the dashboard, triages the hit, opens its evidence inline and on
// its own, and checks that no script of the crawled page ever ran.
func TestBrowserNoPayloadRuns(t *testing.T) {
	chrome := chromiumPath(t)
	ts, db, hitID := sweptServer(t)
	artifacts := artifactDir(t)

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
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	// Collect the browser's console and log: it reports blocked scripts.
	var mu sync.Mutex
	var messages []string
	consoleCtx, stopConsole := context.WithCancel(bctx)
	defer stopConsole()
	msgs := chromedp.Console(consoleCtx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, string(m.Type)+": "+m.Text)
			mu.Unlock()
		}
	}()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(artifacts, name)
			if err := os.WriteFile(p, buf, 0o644); err != nil {
				return err
			}
			t.Logf("screenshot: %s", p)
			return nil
		})
	}
	// notPwned checks the top-level page: title, storage and cookies untouched.
	notPwned := func(wantTitle string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			title, err := chromedp.Evaluate[string](`document.title`)(ctx, tg)
			if err != nil {
				return err
			}
			storage, err := chromedp.Evaluate[string](`String(localStorage.getItem('pwned'))`)(ctx, tg)
			if err != nil {
				return err
			}
			cookie, err := chromedp.Evaluate[string](`document.cookie`)(ctx, tg)
			if err != nil {
				return err
			}
			if title != wantTitle || storage != "null" || strings.Contains(cookie, "pwned") {
				return fmt.Errorf("payload ran in the workbench: title %q (want %q), localStorage %q, cookie %q", title, wantTitle, storage, cookie)
			}
			return nil
		})
	}

	hitURL := fmt.Sprintf("%s/hits/%d", ts.URL, hitID)
	pick := chromedp.CSS(fmt.Sprintf("#pick-%d", hitID))
	err := chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#new-hits")),
		notPwned("Dashboard · snoop"),
		shot("01-dashboard.png"),
	)
	if err != nil {
		t.Fatalf("browser: dashboard: %v", err)
	}
	newCount, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#new-count")))
	if err != nil || newCount != "1" {
		t.Errorf("dashboard new hits = %q (%v), want 1", newCount, err)
	}

	// Bulk triage on the hits page.
	err = chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+"/hits"),
		chromedp.WaitVisible(pick),
		notPwned("Hits · snoop"),
		chromedp.Click(pick),
		chromedp.SendKeys(chromedp.CSS("#bulk-note"), "sells isotonitazene; vendor chemlab"),
		shot("02-hits-selected.png"),
		chromedp.Click(chromedp.CSS("#bulk-confirm")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
	)
	if err != nil {
		t.Fatalf("browser: triage: %v", err)
	}

	// The hit page, with the archived page in its sandboxed iframe.
	err = chromedp.Do(bctx,
		chromedp.Navigate(hitURL),
		chromedp.WaitVisible(chromedp.CSS("#evidence-frame")),
	)
	if err != nil {
		t.Fatalf("browser: hit page: %v", err)
	}
	// Queries first: reading the iframe below resets the page's DOM node ids.
	status, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#hit-status")))
	if err != nil || status != "confirmed" {
		t.Errorf("hit status after triage = %q (%v), want confirmed", status, err)
	}
	src, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS("#evidence-frame"), "src"))
	if err != nil {
		t.Fatal(err)
	}
	// Inside the iframe: the archived DOM must be as served.
	frameHTML, err := evidenceFrameHTML(bctx, src.Value)
	if err != nil {
		t.Fatalf("read the iframe: %v", err)
	}
	checkArchivedDOM(t, "iframe", frameHTML)
	err = chromedp.Do(bctx,
		notPwned(fmt.Sprintf("Hit %d · snoop", hitID)),
		shot("03-hit-detail.png"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// The viewport, scrolled to the iframe: full-page captures may
			// leave out-of-process frames blank.
			if _, err := chromedp.Evaluate[bool](`document.getElementById('evidence-frame').scrollIntoView(), true`)(ctx, tg); err != nil {
				return err
			}
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(artifacts, "03b-hit-evidence-iframe.png")
			t.Logf("screenshot: %s", p)
			return os.WriteFile(p, buf, 0o644)
		}),
	)
	if err != nil {
		t.Fatalf("browser: hit page: %v", err)
	}
	rs, err := db.Reviews(context.Background(), hitID)
	if err != nil || len(rs) != 1 || rs[0].Status != "confirmed" || rs[0].Actor != "browser-analyst" || !strings.Contains(rs[0].Note, "chemlab") {
		t.Errorf("reviews = %+v, %v", rs, err)
	}

	// The evidence opened on its own (as the "view" link does, or by its
	// body's URL) is the evidence page, framing the body sandboxed too.
	err = chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+src.Value),
		chromedp.WaitVisible(chromedp.CSS("#evidence-frame")),
		shot("04-evidence-page.png"),
	)
	if err != nil {
		t.Fatalf("browser: evidence page: %v", err)
	}
	topHTML, err := evidenceFrameHTML(bctx, src.Value)
	if err != nil {
		t.Fatalf("read the evidence page's frame: %v", err)
	}
	checkArchivedDOM(t, "evidence page", topHTML)
	if err := chromedp.Do(bctx, notPwned(fmt.Sprintf("Evidence %s · snoop", strings.TrimSuffix(strings.TrimPrefix(src.Value, "/evidence/"), "/page")))); err != nil {
		t.Fatalf("browser: evidence page: %v", err)
	}

	// The vendor pages: from the hit to its vendor, triage it there, then
	// the vendor list.
	err = chromedp.Do(bctx,
		chromedp.Navigate(hitURL),
		chromedp.WaitVisible(chromedp.CSS("#vendor-link")),
		chromedp.Click(chromedp.CSS("#vendor-link")),
		chromedp.WaitVisible(chromedp.CSS("#vendor-listings")),
		shot("05-vendor.png"),
	)
	if err != nil {
		t.Fatalf("browser: vendor page: %v", err)
	}
	vendorTitle, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil || !strings.HasPrefix(vendorTitle, "Vendor ") {
		t.Fatalf("vendor page title = %q (%v)", vendorTitle, err)
	}
	listingText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#vendor-listings")))
	if err != nil || !strings.Contains(listingText, "evil-shop") || !strings.Contains(listingText, "Isotonitazene powder") {
		t.Errorf("vendor listings = %q (%v), want the evil-shop listing", listingText, err)
	}
	err = chromedp.Do(bctx,
		notPwned(vendorTitle),
		chromedp.SetValue(chromedp.CSS(`#vendor-triage select[name="status"]`), "target"),
		chromedp.SendKeys(chromedp.CSS(`#vendor-triage input[name="note"]`), "sells isotonitazene under chemlab"),
		chromedp.Click(chromedp.CSS(`#vendor-triage button`)),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
		shot("06-vendor-triaged.png"),
	)
	if err != nil {
		t.Fatalf("browser: vendor triage: %v", err)
	}
	if st, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#vendor-status"))); err != nil || st != "target" {
		t.Errorf("vendor status after triage = %q (%v), want target", st, err)
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+"/vendors"),
		chromedp.WaitVisible(chromedp.CSS("#vendors")),
		notPwned("Vendors · snoop"),
		shot("07-vendors.png"),
	)
	if err != nil {
		t.Fatalf("browser: vendor list: %v", err)
	}
	if rows, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#vendors tbody"))); err != nil || !strings.Contains(rows, "chemlab") || !strings.Contains(rows, "target") {
		t.Errorf("vendor list = %q (%v), want chemlab marked target", rows, err)
	}

	// Back on the workbench origin: nothing was stored by the payload.
	if err := chromedp.Do(bctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#marketplaces")), notPwned("Dashboard · snoop")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	stopConsole()
	mu.Lock()
	defer mu.Unlock()
	for _, m := range messages {
		t.Logf("browser console: %s", m)
		if strings.Contains(m, "PWNED") {
			t.Errorf("payload output in the console: %s", m)
		}
	}
}

// pwnedAttr matches an element that the payload marked (the payload's own
// source text mentions data-pwned only inside quotes).
var pwnedAttr = regexp.MustCompile(`<[a-z]+[^>]*\sdata-pwned=`)

// checkArchivedDOM fails if the archived page's DOM shows that any of its
// scripts ran.
func checkArchivedDOM(t *testing.T, where, html string) {
	t.Helper()
	if !strings.Contains(html, "Isotonitazene powder") {
		t.Fatalf("%s: archived page not shown: %.300q", where, html)
	}
	if !strings.Contains(html, "<title>Original listing title</title>") {
		t.Errorf("%s: <title> changed, a script ran: %.300q", where, html)
	}
	if pwnedAttr.MatchString(html) {
		t.Errorf("%s: a data-pwned attribute was set on an element, a script ran", where)
	}
	if !strings.Contains(html, "document.title = 'PWNED-script'") || !strings.Contains(html, "onerror=") {
		t.Errorf("%s: the payloads are not in the archived page, the test proves nothing: %.300q", where, html)
	}
}

// evidenceFrameHTML waits for the evidence iframe of the current page to
// load and returns the outer HTML of its document, read through the
// DevTools DOM domain (nothing runs in the frame for it). Chromium isolates
// sandboxed iframes in their own process, so the frame is usually a target
// of its own; without site isolation it is part of the page.
func evidenceFrameHTML(bctx context.Context, src string) (string, error) {
	var last error
	for range 200 {
		h, err := chromedp.Run(bctx, iframeHTML())
		if err == nil && strings.Contains(h, "</body>") {
			return h, nil
		}
		if err == nil || errors.Is(err, errNoContentDocument) {
			h, err = frameTargetHTML(bctx, src)
			if err == nil && strings.Contains(h, "</body>") {
				return h, nil
			}
		}
		last = err
		select {
		case <-bctx.Done():
			return "", bctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("evidence iframe did not load: %v", last)
}

// frameTargetHTML reads the document of the out-of-process iframe whose URL
// ends in path.
func frameTargetHTML(bctx context.Context, path string) (string, error) {
	infos, err := chromedp.Targets(bctx)
	if err != nil {
		return "", err
	}
	for _, ti := range infos {
		if ti.Type != "iframe" || !strings.HasSuffix(ti.URL, path) {
			continue
		}
		fctx, cancel := chromedp.NewContext(bctx, chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
		defer cancel()
		return chromedp.Run(fctx, documentHTML())
	}
	return "", fmt.Errorf("no iframe target for %s", path)
}

// documentHTML returns the outer HTML of the target's document.
func documentHTML() chromedp.Action[string] {
	return func(ctx context.Context, tg *chromedp.Target) (string, error) {
		depth := int64(1)
		doc, err := cdp.Call(ctx, tg, dom.GetDocument, dom.GetDocumentParams{Depth: &depth})
		if err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, tg, dom.GetOuterHTML, dom.GetOuterHTMLParams{BackendNodeID: doc.Root.BackendNodeID})
		if err != nil {
			return "", err
		}
		return res.OuterHTML, nil
	}
}

var errNoContentDocument = errors.New("evidence iframe has no content document in this process")

// iframeHTML returns the outer HTML of the evidence iframe's document, read
// through the DevTools DOM domain (no script runs in the frame for it).
func iframeHTML() chromedp.Action[string] {
	return func(ctx context.Context, tg *chromedp.Target) (string, error) {
		depth, pierce := int64(-1), true
		doc, err := cdp.Call(ctx, tg, dom.GetDocument, dom.GetDocumentParams{Depth: &depth, Pierce: &pierce})
		if err != nil {
			return "", err
		}
		frame := findNode(doc.Root, func(n *cdp.Node) bool {
			return n.NodeName == "IFRAME" && attr(n, "id") == "evidence-frame"
		})
		if frame == nil {
			return "", fmt.Errorf("no evidence iframe")
		}
		if frame.ContentDocument == nil {
			return "", errNoContentDocument
		}
		res, err := cdp.Call(ctx, tg, dom.GetOuterHTML, dom.GetOuterHTMLParams{BackendNodeID: frame.ContentDocument.BackendNodeID})
		if err != nil {
			return "", err
		}
		return res.OuterHTML, nil
	}
}

func findNode(n *cdp.Node, match func(*cdp.Node) bool) *cdp.Node {
	if n == nil {
		return nil
	}
	if match(n) {
		return n
	}
	for _, c := range n.Children {
		if f := findNode(c, match); f != nil {
			return f
		}
	}
	return findNode(n.ContentDocument, match)
}

// attr returns the value of a node's attribute ("" if absent).
func attr(n *cdp.Node, name string) string {
	for i := 0; i+1 < len(n.Attributes); i += 2 {
		if n.Attributes[i] == name {
			return n.Attributes[i+1]
		}
	}
	return ""
}
