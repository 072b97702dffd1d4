package export

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iawarc "github.com/internetarchive/gowarc"

	"snoop/store"
)

// wireResponse is a gzip-encoded, chunked response with header fields in
// the server's case and order, as the crawler stores it; cut drops that
// many bytes from the end (a truncated capture).
func wireResponse(html string, cut int) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(html))
	zw.Close()
	gz := z.Bytes()
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nserver: nginx\r\ncontent-type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
	for len(gz) > 0 {
		n := min(len(gz), 700)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(gz[:n])
		b.WriteString("\r\n")
		gz = gz[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()[:b.Len()-cut]
}

// saveWire stores one capture of url in a new sweep with one hit listing.
func saveWire(tb testing.TB, db *store.DB, at time.Time, url string, resp []byte, truncated bool) store.SaveResult {
	tb.Helper()
	ctx := context.Background()
	s, err := db.BeginSweep(ctx, []string{"shop"}, testRules, at)
	if err != nil {
		tb.Fatal(err)
	}
	text := "Isotonitazene 5g " + hostile
	res, err := db.SavePage(ctx, store.PageRecord{SweepID: s, Market: "shop", URL: url, Status: 200,
		Evidence: store.Evidence{FetchedAt: at, RequestBytes: []byte("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n"), ResponseBytes: resp, Truncated: truncated}},
		[]store.ListingRecord{{URL: url, Title: "Isotonitazene 5g", Text: text, Hit: &store.HitRecord{Score: 0.9, RuleVersion: testRules,
			Substances: []store.Substance{{Name: "isotonitazene", Class: "nitazene", Matched: "Isotonitazene", Start: 0, End: 13}}}}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.FinishSweep(ctx, s, "completed", nil, at.Add(time.Minute)); err != nil {
		tb.Fatal(err)
	}
	return res
}

const wirePage = "<html><body><h1>Isotonitazene 5g</h1><p>stealth shipping</p><script>alert('evidence')</script><img src=x onerror=alert(3)></body></html>"

// TestExportWireBytesAndRevisits exports hits whose evidence is chunked and
// gzip-encoded, truncated, and revisits of captures that belong to no
// exported hit; the package verifies, internetarchive/gowarc reads every
// record back with the payload digests it computes itself, and the report
// shows the decoded page, escaped.
func TestExportWireBytesAndRevisits(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	full := wireResponse(strings.Repeat(wirePage, 30), 0)
	a, b := "https://shop.example/a", "https://shop.example/b"
	r1 := saveWire(t, db, t0, a, full, false)
	r2 := saveWire(t, db, t0.Add(24*time.Hour), a, full, false) // revisit of r1
	rb := saveWire(t, db, t0.Add(time.Hour), b, wireResponse(wirePage, 40), true)
	if r1.Revisit || !r2.Revisit || rb.Revisit {
		t.Fatalf("revisit flags = %v %v %v, want only the second capture of a", r1.Revisit, r2.Revisit, rb.Revisit)
	}
	hitA := r1.Listings[0].HitID

	// A listing on another page whose capture revisits one made before it
	// became a hit: export its hit alone, and the original must come along.
	c := "https://shop.example/c"
	ctx2 := context.Background()
	s, _ := db.BeginSweep(ctx2, []string{"shop"}, testRules, t0)
	_, err := db.SavePage(ctx2, store.PageRecord{SweepID: s, Market: "shop", URL: c, Status: 200,
		Evidence: store.Evidence{FetchedAt: t0, ResponseBytes: full}}, []store.ListingRecord{{URL: c, Title: "not yet a hit", Text: "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	rc := saveWire(t, db, t0.Add(48*time.Hour), c, full, false)
	if !rc.Revisit {
		t.Fatal("capture of c is not a revisit")
	}
	hitC := rc.Listings[0].HitID

	for _, tc := range []struct {
		name      string
		filter    store.HitFilter
		responses int // response records, originals included
		revisits  int
	}{
		{"all", anyStatus, 2, 2},
		{"hit a", store.HitFilter{Status: StatusAny, IDs: []int64{hitA}}, 1, 1},
		{"hit c only", store.HitFilter{Status: StatusAny, IDs: []int64{hitC}}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "case.zip")
			if _, err := Write(ctx, db, out, Options{Case: "wire", Now: fixedNow(), Filter: tc.filter}); err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(out, nil)
			if err != nil {
				t.Fatalf("verify: %v\n%v", err, rep.Problems)
			}
			files, _ := zipFiles(t, out)
			responses, revisits := readBack(t, files)
			if tc.name == "all" {
				tc.responses = 3 // a (and c's identical original), b
			}
			if len(responses) != tc.responses || len(revisits) != tc.revisits {
				t.Errorf("%d response and %d revisit records, want %d and %d", len(responses), len(revisits), tc.responses, tc.revisits)
			}
			for id, rv := range revisits {
				o, ok := responses[rv.refersTo]
				if !ok {
					t.Errorf("revisit %s refers to %s, not in the package", id, rv.refersTo)
				} else if o != rv.payloadDigest {
					t.Errorf("revisit %s payload digest %s, original's %s", id, rv.payloadDigest, o)
				}
			}
			report := string(files[ReportFile])
			if !strings.Contains(report, "Revisit of") || !strings.Contains(report, "&lt;h1&gt;Isotonitazene 5g&lt;/h1&gt;") {
				t.Error("report lacks the revisit note or the decoded, escaped page")
			}
			if strings.Contains(report, "<script>alert") || strings.Contains(report, "<img src=x") {
				t.Error("report carries active markup from the evidence")
			}
		})
	}

	// The original's stored payload digest must agree with the revisit's.
	t.Run("altered payload digest", func(t *testing.T) {
		dbPath := db.Path
		db.Close()
		raw := openRawSQL(t, dbPath)
		if _, err := raw.Exec(`UPDATE evidence SET payload_sha256 = ? WHERE id = ?`, strings.Repeat("1", 64), r2.EvidenceID); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		db2, err := store.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		_, err = Write(ctx, db2, filepath.Join(t.TempDir(), "case.zip"), Options{Now: fixedNow(), Filter: store.HitFilter{Status: StatusAny, IDs: []int64{hitA}}})
		if err == nil || !strings.Contains(err.Error(), "altered") {
			t.Errorf("export of an altered revisit: %v", err)
		}
	})
}

type revisitInfo struct{ refersTo, payloadDigest string }

// readBack reads every WARC file of a package with internetarchive/gowarc
// and checks each record's block digest and each response's payload digest
// against what net/http reads from the block (de-chunked, content coding
// kept), digested by internetarchive/gowarc.
func readBack(tb testing.TB, files map[string][]byte) (responses map[string]string, revisits map[string]revisitInfo) {
	tb.Helper()
	responses, revisits = map[string]string{}, map[string]revisitInfo{}
	for name, data := range files {
		if !strings.HasPrefix(name, EvidenceDir) {
			continue
		}
		r, err := iawarc.NewReader(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		for {
			rec, err := r.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			block, err := io.ReadAll(rec.Content)
			rec.Content.Close()
			if err != nil {
				tb.Fatal(err)
			}
			id := strings.Trim(rec.Header.Get("WARC-Record-ID"), "<>")
			if got, want := rec.Header.Get("WARC-Block-Digest"), "sha256:"+sha256hex(block); got != want {
				tb.Errorf("%s: block digest %s, recomputed %s", id, got, want)
			}
			switch rec.Header.Get("WARC-Type") {
			case "response":
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
				if err != nil {
					tb.Fatal(err)
				}
				want, err := iawarc.GetDigest(resp.Body, iawarc.SHA256Base16)
				if rec.Header.Get("WARC-Truncated") != "" {
					resp, _ = http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
					body, _ := io.ReadAll(resp.Body) // cut: what net/http could read
					want, err = "sha256:"+sha256hex(body), nil
				}
				if err != nil {
					tb.Fatal(err)
				}
				if got := rec.Header.Get("WARC-Payload-Digest"); got != want {
					tb.Errorf("%s: payload digest %s, internetarchive/gowarc computes %s", id, got, want)
				}
				responses[id] = want
			case "revisit":
				if p := rec.Header.Get("WARC-Profile"); p != "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest" {
					tb.Errorf("%s: WARC-Profile %q", id, p)
				}
				if rec.Header.Get("WARC-Refers-To-Target-URI") == "" || rec.Header.Get("WARC-Refers-To-Date") == "" {
					tb.Errorf("%s: revisit lacks WARC-Refers-To-Target-URI or -Date", id)
				}
				if !bytes.HasSuffix(block, []byte("\r\n\r\n")) || bytes.Contains(block, []byte("\r\n\r\n\x1f")) {
					tb.Errorf("%s: revisit block is not headers only", id)
				}
				revisits[id] = revisitInfo{strings.Trim(rec.Header.Get("WARC-Refers-To"), "<>"), rec.Header.Get("WARC-Payload-Digest")}
			}
		}
	}
	return responses, revisits
}

func TestVerifyRevisitReferences(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	full := wireResponse(wirePage, 0)
	saveWire(t, db, t0, "https://shop.example/a", full, false)
	saveWire(t, db, t0.Add(time.Hour), "https://shop.example/a", full, false)
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow()}); err != nil {
		t.Fatal(err)
	}
	files, order := zipFiles(t, out)
	// Point the revisit at a record that is not there, keeping every
	// digest consistent: only the reference check can catch it.
	var warcName string
	for _, n := range order {
		if strings.HasPrefix(n, EvidenceDir) {
			warcName = n
		}
	}
	rewritten := rewriteWARC(t, files[warcName], func(h map[string]string) {
		if h["WARC-Type"] == "revisit" {
			h["WARC-Refers-To"] = "<urn:uuid:00000000-0000-4000-8000-000000000000>"
		}
	})
	files[warcName] = rewritten
	rep, err := Verify(rezip(t, files, order), nil)
	if err == nil {
		t.Fatal("verify passed a revisit whose original is missing")
	}
	found := false
	for _, p := range rep.Problems {
		if strings.Contains(p.Detail, "refers to urn:uuid:00000000-0000-4000-8000-000000000000, which is not a response record") {
			found = true
		}
	}
	if !found {
		t.Errorf("problems lack the dangling reference: %v", rep.Problems)
	}
}

// rewriteWARC re-serialises a gzip-per-record WARC file with edit applied
// to each record's header fields (a map, so field order is not kept).
func rewriteWARC(tb testing.TB, data []byte, edit func(map[string]string)) []byte {
	tb.Helper()
	r, err := iawarc.NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	for {
		rec, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		block, _ := io.ReadAll(rec.Content)
		rec.Content.Close()
		h := map[string]string{}
		for k := range rec.Header {
			h[k] = rec.Header.Get(k)
		}
		edit(h)
		zw := gzip.NewWriter(&out)
		fmt.Fprintf(zw, "WARC/1.1\r\nWARC-Type: %s\r\n", h["WARC-Type"])
		for k, v := range h {
			if k != "WARC-Type" {
				fmt.Fprintf(zw, "%s: %s\r\n", k, v)
			}
		}
		zw.Write([]byte("\r\n"))
		zw.Write(block)
		zw.Write([]byte("\r\n\r\n"))
		zw.Close()
	}
	return out.Bytes()
}

// TestScreenshotsFromStore exports the latest stored screenshot of each hit
// when Options.Screenshots is nil.
func TestScreenshotsFromStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2})
	old := testPNG(t, color.RGBA{0, 0, 200, 255})
	shot := testPNG(t, color.RGBA{0, 200, 0, 255})
	for i, png := range [][]byte{old, shot} {
		if _, err := db.SaveScreenshot(ctx, store.Screenshot{HitID: 1, TakenAt: t0.Add(time.Duration(i+1) * time.Hour), PNG: png}); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow()}); err != nil {
		t.Fatal(err)
	}
	files, _ := zipFiles(t, out)
	if !bytes.Equal(files["screenshots/hit-1.png"], shot) {
		t.Error("screenshots/hit-1.png is not the latest stored screenshot")
	}
	if _, ok := files["screenshots/hit-2.png"]; ok {
		t.Error("hit 2 has no screenshot but one was exported")
	}
	report := string(files[ReportFile])
	if !strings.Contains(report, `src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(shot)+`"`) || !strings.Contains(report, sha256hex(shot)) {
		t.Error("report.html does not embed the screenshot with its sha256")
	}
	if !strings.Contains(string(files[HitsJSONLFile]), `"screenshot":{"sha256":"`+sha256hex(shot)+`"`) {
		t.Errorf("hits.jsonl lacks the screenshot digest:\n%s", files[HitsJSONLFile])
	}
	if !strings.Contains(string(files[CustodyFile]), `"action":"screenshot"`) {
		t.Error("custody.log lacks the screenshot rows")
	}
	if rep, err := Verify(out, nil); err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
}

func openRawSQL(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		tb.Fatal(err)
	}
	return db
}
