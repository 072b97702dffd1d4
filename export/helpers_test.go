package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

var t0 = time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)

const testRules = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// hostile is markup a marketplace page might carry to attack an analyst.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// seedOptions shape the test database.
type seedOptions struct {
	pages        int // listing pages, each one hit
	perPage      int // listings per page (item mode when > 1), all hits
	bodyBytes    int // padding in each page body
	hostile      bool
	secondSweep  bool // re-detect the first page in a second sweep
	decoyNonHits bool // add a listing that is not a hit
}

// seed fills db and returns the sweep ids.
func seed(tb testing.TB, db *store.DB, o seedOptions) []int64 {
	tb.Helper()
	ctx := context.Background()
	if o.perPage == 0 {
		o.perPage = 1
	}
	sweep, err := db.BeginSweep(ctx, []string{"shop", "board"}, testRules, t0)
	if err != nil {
		tb.Fatal(err)
	}
	sweeps := []int64{sweep}
	rnd := rand.New(rand.NewPCG(1, 2))
	padding := func() string { // poorly compressible, like real pages
		b := make([]byte, o.bodyBytes)
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz     0123456789"[rnd.IntN(41)]
		}
		return string(b)
	}
	save := func(sweepID int64, i int, at time.Time) store.SaveResult {
		market := "shop"
		if o.perPage > 1 {
			market = "board"
		}
		pageURL := fmt.Sprintf("https://%s.example/product/%d", market, i)
		var listings []store.ListingRecord
		var body strings.Builder
		body.WriteString("<html><body>")
		for j := range o.perPage {
			title := fmt.Sprintf("Isotonitazene powder %d-%d", i, j)
			if o.hostile {
				title += " " + hostile
			}
			text := title + " — pure is0tonitazene, ships worldwide. Also N-pyrrolidino etonitazene."
			lurl := pageURL
			if o.perPage > 1 {
				lurl = fmt.Sprintf("%s#item-%d", pageURL, j)
			}
			start := strings.Index(text, "is0tonitazene")
			start2 := strings.Index(text, "etonitazene.")
			listings = append(listings, store.ListingRecord{
				URL: lurl, Title: title, Description: "pure is0tonitazene, ships worldwide", Price: "=1+1 USD", Vendor: "chem-" + fmt.Sprint(i),
				Text: text,
				Hit: &store.HitRecord{Score: 0.9, RuleVersion: testRules, Substances: []store.Substance{
					{Name: "isotonitazene", Class: "nitazene", Matched: text[start : start+13], Start: start, End: start + 13},
					{Name: "etonitazepyne", Class: "nitazene", Matched: text[start2 : start2+11], Start: start2, End: start2 + 11},
				}},
			})
			fmt.Fprintf(&body, "<div class=item><h1>%s</h1><p>%s</p></div>", title, padding())
		}
		if o.decoyNonHits {
			listings = append(listings, store.ListingRecord{URL: pageURL + "#decoy", Title: "fentanyl test strips", Text: "fentanyl test strips"})
		}
		body.WriteString("</body></html>")
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", body.Len(), body.String())
		res, err := db.SavePage(ctx, store.PageRecord{
			SweepID: sweepID, Market: market, URL: pageURL, Status: 200,
			Evidence: store.Evidence{
				FetchedAt:     at,
				RequestBytes:  []byte(fmt.Sprintf("GET /product/%d HTTP/1.1\r\nHost: %s.example\r\n\r\n", i, market)),
				ResponseBytes: []byte(resp),
				RemoteAddr:    "192.0.2.10:443",
			},
		}, listings)
		if err != nil {
			tb.Fatal(err)
		}
		return res
	}
	for i := range o.pages {
		save(sweep, i, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if err := db.FinishSweep(ctx, sweep, "completed", map[string]int{"pages": o.pages}, t0.Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	if o.secondSweep {
		s2, err := db.BeginSweep(ctx, []string{"shop"}, testRules, t0.Add(24*time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		save(s2, 0, t0.Add(25*time.Hour))
		if err := db.FinishSweep(ctx, s2, "completed", nil, t0.Add(26*time.Hour)); err != nil {
			tb.Fatal(err)
		}
		sweeps = append(sweeps, s2)
	}
	return sweeps
}

func openDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "snoop.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func testKey(tb testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "KEY")
	if err := GenerateKey(p); err != nil {
		tb.Fatal(err)
	}
	priv, err := LoadPrivateKey(p)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := LoadPublicKey(p + ".pub")
	if err != nil {
		tb.Fatal(err)
	}
	return priv, pub
}

// unzip extracts a package into a new directory.
func unzip(tb testing.TB, zipPath string) string {
	tb.Helper()
	dir := tb.TempDir()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			tb.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f.Name, err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// zipFiles returns the package's files by name.
func zipFiles(tb testing.TB, zipPath string) (map[string][]byte, []string) {
	tb.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		files[f.Name] = data
		order = append(order, f.Name)
	}
	return files, order
}

// rezip writes files (in order; names missing from files are skipped) to a
// new zip.
func rezip(tb testing.TB, files map[string][]byte, order []string) string {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range order {
		data, ok := files[name]
		if !ok {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "tampered.zip")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func fixedNow() func() time.Time {
	return func() time.Time { return t0.Add(48 * time.Hour) }
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// anyStatus selects hits of every status, as `snoop export --status any`.
var anyStatus = store.HitFilter{Status: StatusAny}
