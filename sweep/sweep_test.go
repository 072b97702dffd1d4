package sweep

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"snoop/classify"
	"snoop/config"
	"snoop/evidence"
	"snoop/export"
	"snoop/rules"
	"snoop/screenshot"
	"snoop/store"
)

// shopHTML serves a three-product shop: one opioid offer, two ordinary goods.
func newShop(t *testing.T) *httptest.Server {
	t.Helper()
	products := map[string][2]string{
		"1": {"Metonitazene powder 5 g", "Metonitazene in stock, 5 g and 10 g, stealth shipping, BTC only."},
		"2": {"Oak dining table", "Solid oak, seats six, pick up only."},
		"3": {"Road bike 54 cm", "Carbon frame, new chain, $650."},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/p/1">1</a> <a href="/p/2">2</a> <a href="/p/3">3</a> <a href="/about">about</a></body></html>`)
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><p>About this shop</p></body></html>`)
	})
	mux.HandleFunc("/p/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := products[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html><body><h1>%s</h1><div class="d">%s</div></body></html>`, p[0], p[1])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func testRunner(t testing.TB) (*Runner, *store.DB) {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Runner{DB: db, Classifier: c, RuleVersion: rs.Version()}, db
}

func shopMarkets(t *testing.T, base, extra string) []config.Market {
	t.Helper()
	cfg, err := config.Parse("shop.yaml", []byte(fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
marketplaces:
  - name: shop
    start_urls: ["%s/"]
    listing:
      url_pattern: '/p/\d+$'
      fields: {title: "h1", description: ".d"}
%s`, base, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Marketplaces
}

// fakeShooter renders every page as a 2x2 PNG and records the URLs.
type fakeShooter struct {
	mu     sync.Mutex
	urls   []string
	closed bool
}

func (f *fakeShooter) Capture(ctx context.Context, u string) (screenshot.Shot, error) {
	f.mu.Lock()
	f.urls = append(f.urls, u)
	f.mu.Unlock()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	sum := sha256.Sum256(buf.Bytes())
	return screenshot.Shot{PNG: buf.Bytes(), SHA256: hex.EncodeToString(sum[:]), URL: u, TakenAt: time.Now().UTC(), Width: 2, Height: 2}, nil
}

func (f *fakeShooter) Close() error { f.closed = true; return nil }

func TestScreenshotsOfNewHits(t *testing.T) {
	shop := newShop(t)
	r, db := testRunner(t)
	fake := &fakeShooter{}
	var session config.Market // the browser gets the marketplace's session
	r.Screenshots = func(ctx context.Context, m config.Market) (Shooter, error) { session = m; return fake, nil }
	markets := shopMarkets(t, shop.URL, "    screenshots: true\n    user_agent: shop-agent\n    headers: {X-Key: k}\n")

	res, err := r.Run(context.Background(), markets)
	if err != nil {
		t.Fatal(err)
	}
	if res.Markets[0].Hits != 1 || res.Markets[0].Screenshots != 1 {
		t.Fatalf("hits = %d, screenshots = %d; want 1 and 1", res.Markets[0].Hits, res.Markets[0].Screenshots)
	}
	if session.Name != "shop" || session.UserAgent != "shop-agent" || session.Headers["X-Key"] != "k" {
		t.Errorf("screenshot browser started with %+v, want the shop's session", session)
	}
	hits, err := db.Hits(context.Background(), store.HitFilter{})
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits = %v, %v", hits, err)
	}
	shot, err := db.LatestScreenshot(context.Background(), hits[0].ID)
	if err != nil {
		t.Fatalf("screenshot of hit %d: %v", hits[0].ID, err)
	}
	if shot.URL != shop.URL+"/p/1" || len(shot.PNG) == 0 {
		t.Errorf("screenshot = %s (%d bytes), want %s", shot.URL, len(shot.PNG), shop.URL+"/p/1")
	}
	if !fake.closed {
		t.Error("the browser was not closed at the end of the sweep")
	}

	// A second sweep finds no new hit and takes no new screenshot.
	if _, err := r.Run(context.Background(), markets); err != nil {
		t.Fatal(err)
	}
	if len(fake.urls) != 1 {
		t.Errorf("screenshots taken over two sweeps: %v, want one", fake.urls)
	}
}

func TestSweepGoesOnWithoutBrowser(t *testing.T) {
	shop := newShop(t)
	r, db := testRunner(t)
	var logs bytes.Buffer
	r.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	starts := 0
	r.Screenshots = func(ctx context.Context, m config.Market) (Shooter, error) {
		starts++
		return nil, fmt.Errorf("start: %w", screenshot.ErrNoBrowser)
	}
	r.AllScreenshots = true
	res, err := r.Run(context.Background(), shopMarkets(t, shop.URL, ""))
	if err != nil || res.Status != store.SweepCompleted {
		t.Fatalf("sweep without a browser: %v, status %q", err, res.Status)
	}
	hits, _ := db.Hits(context.Background(), store.HitFilter{})
	if len(hits) != 1 {
		t.Fatalf("hits = %d, want 1", len(hits))
	}
	if _, err := db.LatestScreenshot(context.Background(), hits[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestScreenshot err = %v, want ErrNotFound", err)
	}
	if n := strings.Count(logs.String(), "screenshots skipped"); n != 1 || starts != 1 {
		t.Errorf("said %d times that screenshots were skipped after %d starts; want once each:\n%s", n, starts, logs.String())
	}
}

func TestArchiveAllKeepsEveryPage(t *testing.T) {
	shop := newShop(t)
	r, db := testRunner(t)
	ctx := context.Background()
	res, err := r.Run(ctx, shopMarkets(t, shop.URL, "    archive: all\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := countEvidence(t, db); got != res.Pages() || got != 5 {
		t.Errorf("evidence records = %d for %d pages, want one per page (5)", got, res.Pages())
	}
	r2, db2 := testRunner(t)
	if _, err := r2.Run(ctx, shopMarkets(t, shop.URL, "")); err != nil {
		t.Fatal(err)
	}
	if got := countEvidence(t, db2); got != 3 {
		t.Errorf("evidence records with archive: listings = %d, want 3 (the listing pages)", got)
	}
}

func countEvidence(t *testing.T, db *store.DB) int {
	t.Helper()
	n := 0
	for id := int64(1); id < 100; id++ {
		if _, err := db.Evidence(context.Background(), id); err == nil {
			n++
		}
	}
	return n
}

func TestConditionalRequestsTouchUnchangedListings(t *testing.T) {
	var mu sync.Mutex
	notModified := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/p/1">1</a></body></html>`)
	})
	mux.HandleFunc("/p/1", func(w http.ResponseWriter, r *http.Request) {
		const etag = `"v1"`
		if r.Header.Get("If-None-Match") == etag {
			mu.Lock()
			notModified++
			mu.Unlock()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		fmt.Fprint(w, `<html><body><h1>Protonitazene 10 g</h1><div class="d">Protonitazene in stock, escrow, worldwide shipping.</div></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, db := testRunner(t)
	ctx := context.Background()
	markets := shopMarkets(t, srv.URL, "")
	if _, err := r.Run(ctx, markets); err != nil {
		t.Fatal(err)
	}
	first, _ := db.Hits(ctx, store.HitFilter{})
	evidenceBefore := countEvidence(t, db)
	res, err := r.Run(ctx, markets)
	if err != nil {
		t.Fatal(err)
	}
	if notModified != 1 || res.Markets[0].Crawl.NotModified != 1 {
		t.Fatalf("304 answers = %d (crawler counted %d), want 1", notModified, res.Markets[0].Crawl.NotModified)
	}
	if got := countEvidence(t, db); got != evidenceBefore+1 {
		t.Fatalf("evidence records %d -> %d; want the 304 kept as one more record", evidenceBefore, got)
	}
	again, _ := db.Hits(ctx, store.HitFilter{})
	evs, err := db.HitEvidence(ctx, again[0].ID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("hit evidence = %d records, %v; want the first capture and the 304", len(evs), err)
	}
	if nm := evs[1]; nm.Status != http.StatusNotModified || !nm.Revisit || nm.RefersTo != evs[0].ID ||
		nm.PayloadSHA256 != evs[0].PayloadSHA256 || len(nm.ResponseBytes) == 0 || strings.Contains(string(nm.ResponseBytes), "Protonitazene") {
		t.Errorf("304 evidence = status %d revisit %v refers to %d (want %d); payload %s (want %s)",
			nm.Status, nm.Revisit, nm.RefersTo, evs[0].ID, nm.PayloadSHA256, evs[0].PayloadSHA256)
	}
	if again[0].Evidence.WARCRecordID != evs[1].WARCRecordID {
		t.Errorf("hit's evidence is %s, want the latest sighting %s", again[0].Evidence.WARCRecordID, evs[1].WARCRecordID)
	}
	if len(first) != 1 || len(again) != 1 || !again[0].LastSeen.After(first[0].LastSeen) {
		t.Errorf("hit last_seen not moved by the 304: %v -> %v", first, again)
	}
	if res.Status != store.SweepCompleted || res.Markets[0].GoneListings != 0 {
		t.Errorf("status %s, gone %d; want completed with nothing gone", res.Status, res.Markets[0].GoneListings)
	}

	// The case package holds the 304 as a server-not-modified revisit of the
	// first capture, and verifies.
	pkg := filepath.Join(t.TempDir(), "case.zip")
	if _, err := export.Write(ctx, db, pkg, export.Options{Case: "304", Filter: store.HitFilter{Status: export.StatusAny}}); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Verify(pkg, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if warc := readWARCs(t, pkg); !strings.Contains(warc, "WARC-Profile: "+evidence.ProfileServerNotModified) ||
		strings.Count(warc, "WARC-Type: response") != 1 || strings.Count(warc, "WARC-Type: revisit") != 1 {
		t.Errorf("package WARC lacks one response and one server-not-modified revisit:\n%.2000s", warc)
	}
}

// readWARCs returns the decompressed WARC files of a case package.
func readWARCs(t *testing.T, pkg string) string {
	t.Helper()
	zr, err := zip.OpenReader(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out strings.Builder
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".warc.gz") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(gz) // concatenated members: one record each
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		rc.Close()
	}
	return out.String()
}

func TestSecondSweepRecordsChangedAndGoneListings(t *testing.T) {
	var mu sync.Mutex
	round := 1
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if round == 1 {
			fmt.Fprint(w, `<a href="/p/1">1</a> <a href="/p/2">2</a> <a href="/p/3">3</a>`)
			return
		}
		fmt.Fprint(w, `<a href="/p/1">1</a> <a href="/p/2">2</a>`) // product 3 sold out and delisted
	})
	mux.HandleFunc("/p/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		price := "$100"
		if r.PathValue("id") == "2" && round == 2 {
			price = "$80"
		}
		if r.PathValue("id") == "3" && round == 2 {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<h1>Desk lamp %s</h1><div class="d">Brass desk lamp, %s.</div>`, r.PathValue("id"), price)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, db := testRunner(t)
	ctx := context.Background()
	markets := shopMarkets(t, srv.URL, "")
	first, err := r.Run(ctx, markets)
	if err != nil {
		t.Fatal(err)
	}
	if m := first.Markets[0]; m.NewListings != 3 || m.ChangedListings != 0 || m.GoneListings != 0 {
		t.Fatalf("first sweep: new %d changed %d gone %d; want 3 0 0", m.NewListings, m.ChangedListings, m.GoneListings)
	}
	mu.Lock()
	round = 2
	mu.Unlock()
	second, err := r.Run(ctx, markets)
	if err != nil {
		t.Fatal(err)
	}
	if m := second.Markets[0]; m.NewListings != 0 || m.ChangedListings != 1 || m.GoneListings != 1 {
		t.Errorf("second sweep: new %d changed %d gone %d; want 0 1 1", m.NewListings, m.ChangedListings, m.GoneListings)
	}
	var lamp2 int64
	db.ListingsEach(ctx, func(l store.StoredListing) error {
		if strings.HasSuffix(l.URL, "/p/2") {
			lamp2 = l.ID
		}
		return nil
	})
	history, err := db.ListingHistory(ctx, lamp2)
	if err != nil || len(history) != 2 {
		t.Fatalf("history of the changed listing: %d versions, %v; want 2", len(history), err)
	}
	if !strings.Contains(history[0].Text+history[1].Text, "$80") {
		t.Errorf("price history lacks the new price: %+v", history)
	}
}

// A marketplace given twice must be refused before a sweep is begun: two
// crawls of one marketplace in one sweep would share its frontier rows, and
// the store refuses the second sweep_markets row with a bare SQL error.
func TestRunRefusesRepeatedMarketplace(t *testing.T) {
	shop := newShop(t)
	r, db := testRunner(t)
	m := shopMarkets(t, shop.URL, "")[0]
	_, err := r.Run(context.Background(), []config.Market{m, m})
	if err == nil || !strings.Contains(err.Error(), "marketplace shop given twice") {
		t.Fatalf("Run(shop, shop) err = %v, want marketplace shop given twice", err)
	}
	if ss, _ := db.Sweeps(context.Background()); len(ss) != 0 {
		t.Errorf("%d sweeps recorded, want none", len(ss))
	}
}
