package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wirePage returns a page whose response is chunked on the wire, with
// header fields in the server's case, as the crawler stores it.
func wirePage(sweepID int64, u string, at time.Time, body, date string) PageRecord {
	p := page(sweepID, "shop", u, at, "")
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\ndate: " + date + "\r\ncontent-type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
	for len(body) > 0 {
		n := min(len(body), 1000)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	p.Evidence.ResponseBytes = []byte(b.String())
	return p
}

func evidenceBytes(tb testing.TB, db *DB) int64 {
	tb.Helper()
	var n int64
	if err := db.db.QueryRow(`SELECT COALESCE(SUM(length(response_bytes) + length(request_bytes)), 0) FROM evidence`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestRevisits(t *testing.T) {
	db := openTest(t)
	db.RawEvidence = true // measure what revisits save, apart from compression
	ctx := context.Background()
	body := strings.Repeat("<p>isotonitazene 1g, ships worldwide</p>\n", 500) // ~20 KB
	const pages = 20
	sweep := func(at time.Time, change int) []SaveResult {
		s := beginSweep(t, db, at, "shop")
		var out []SaveResult
		for i := range pages {
			u := fmt.Sprintf("https://shop.test/p/%d", i)
			b := body
			if i == change {
				b += "<p>price now $40</p>"
			}
			// The Date header differs every sweep; only the payload counts.
			out = append(out, savePage(t, db, wirePage(s, u, at, b, at.Format(time.RFC1123)), listing(u, "isotonitazene", "$50", hitOf(0.9, "isotonitazene"))))
		}
		return out
	}

	first := sweep(t0, -1)
	afterFirst := evidenceBytes(t, db)
	second := sweep(t0.Add(time.Hour), 3)
	afterSecond := evidenceBytes(t, db)
	added := afterSecond - afterFirst
	t.Logf("evidence bytes: first sweep %d, second identical sweep added %d (%.1f%%)", afterFirst, added, 100*float64(added)/float64(afterFirst))
	if added*5 > afterFirst {
		t.Errorf("second sweep added %d evidence bytes, want far fewer than the first sweep's %d", added, afterFirst)
	}

	for i, r := range second {
		e, err := db.Evidence(ctx, r.EvidenceID)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := db.Evidence(ctx, first[i].EvidenceID)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if e.Revisit || r.Revisit || e.RefersTo != 0 {
				t.Errorf("changed page %d stored as a revisit", i)
			}
			continue
		}
		if !e.Revisit || !r.Revisit || e.RefersTo != orig.ID {
			t.Fatalf("page %d: revisit %v refers to %d, want a revisit of %d", i, e.Revisit, e.RefersTo, orig.ID)
		}
		if e.PayloadSHA256 != orig.PayloadSHA256 || e.PayloadSHA256 != sha256Hex([]byte(body)) {
			t.Errorf("page %d: payload sha256 %s, original %s, want the de-chunked body's", i, e.PayloadSHA256, orig.PayloadSHA256)
		}
		if !bytes.HasSuffix(e.ResponseBytes, []byte("Transfer-Encoding: chunked\r\n\r\n")) || bytes.Contains(e.ResponseBytes, []byte("isotonitazene")) {
			t.Errorf("page %d: revisit keeps %q, want the status line and headers only", i, e.ResponseBytes)
		}
		if e.SHA256 != sha256Hex(e.ResponseBytes) || r.EvidenceBytes != len(e.ResponseBytes)+len(e.RequestBytes) {
			t.Errorf("page %d: sha256 %s / bytes %d do not describe the stored bytes", i, e.SHA256, r.EvidenceBytes)
		}
	}

	// A third sweep refers to the first capture again (never to a revisit),
	// except for the changed page, whose new capture is now the original.
	third := sweep(t0.Add(2*time.Hour), -1)
	for i, r := range third {
		e, _ := db.Evidence(ctx, r.EvidenceID)
		want := first[i].EvidenceID
		if i == 3 {
			want = 0 // payload differs from the second sweep's capture
		}
		if e.RefersTo != want {
			t.Errorf("third sweep page %d refers to %d, want %d", i, e.RefersTo, want)
		}
	}

	// Hits link every capture, revisits included.
	h, err := db.Hit(ctx, first[0].Listings[0].HitID)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := db.HitEvidence(ctx, h.ID)
	if len(evs) != 3 || evs[0].Revisit || !evs[1].Revisit || !evs[2].Revisit || h.Evidence.ID != evs[2].ID {
		t.Errorf("hit evidence = %d records, latest %d", len(evs), h.Evidence.ID)
	}
}

func TestRevisitNotFor(t *testing.T) {
	ctx := context.Background()
	body := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name  string
		tweak func(first, second *PageRecord)
	}{
		{"truncated", func(_, p *PageRecord) { p.Evidence.Truncated = true }},
		{"truncated original", func(p, _ *PageRecord) { p.Evidence.Truncated = true }},
		{"cut chunked body", func(_, p *PageRecord) {
			p.Evidence.ResponseBytes = p.Evidence.ResponseBytes[:len(p.Evidence.ResponseBytes)-5]
		}},
		{"other method", func(_, p *PageRecord) { p.Evidence.Method = "POST" }},
		{"other url", func(_, p *PageRecord) { p.Evidence.URL = "https://shop.test/other" }},
		{"empty payload", func(f, p *PageRecord) {
			f.Evidence.ResponseBytes = []byte("HTTP/1.1 304 Not Modified\r\n\r\n")
			p.Evidence.ResponseBytes = []byte("HTTP/1.1 304 Not Modified\r\n\r\n")
		}},
		{"not http", func(f, p *PageRecord) {
			f.Evidence.ResponseBytes = []byte(body)
			p.Evidence.ResponseBytes = []byte(body)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			s := beginSweep(t, db, t0, "shop")
			u := "https://shop.test/p/1"
			first, second := wirePage(s, u, t0, body, "a"), wirePage(s, u, t0.Add(time.Hour), body, "b")
			tc.tweak(&first, &second)
			savePage(t, db, first)
			r := savePage(t, db, second)
			e, err := db.Evidence(ctx, r.EvidenceID)
			if err != nil {
				t.Fatal(err)
			}
			if e.Revisit || r.Revisit || !bytes.Equal(e.ResponseBytes, second.Evidence.ResponseBytes) {
				t.Errorf("stored as a revisit (%d bytes kept)", len(e.ResponseBytes))
			}
		})
	}

	t.Run("payload sha256 given", func(t *testing.T) {
		db := openTest(t)
		s := beginSweep(t, db, t0, "shop")
		p := wirePage(s, "https://shop.test/p/1", t0, body, "a")
		p.Evidence.PayloadSHA256 = sha256Hex([]byte(body))
		savePage(t, db, p)
		p.Evidence.PayloadSHA256 = strings.Repeat("0", 64)
		if _, err := db.SavePage(ctx, p, nil); err == nil {
			t.Error("SavePage with a wrong payload sha256 succeeded")
		}
	})
}

// TestUpgradeFromBeforeRevisits opens a database made by the migrations
// before 0003 (including 0050, which numbers after it), holding evidence
// without payload digests: Open adds 0003, the old evidence reads back with
// its payload digest, and a new identical capture becomes a revisit of it.
func TestUpgradeFromBeforeRevisits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: dsnParams}
	raw, err := sql.Open("sqlite3", u.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_init.sql", "0002_frontier.sql", "0050_web.sql"} {
		sqlText, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(sqlText)); err != nil {
			t.Fatal(err)
		}
		v := []int{1, 2, 50}[i]
		if _, err := raw.Exec(`INSERT INTO schema_version VALUES (?, ?, 'x')`, v, name); err != nil {
			t.Fatal(err)
		}
	}
	body := strings.Repeat("<p>old capture</p>", 200)
	oldResp := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body // de-chunked, as stored before
	for _, q := range []string{
		`INSERT INTO sweeps (status, started_at) VALUES ('completed', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO pages (sweep_id, market, url, fetched_at) VALUES (1, 'shop', 'https://shop.test/p/1', '2026-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO evidence (page_id, url, method, fetched_at, request_bytes, response_bytes, sha256, warc_record_id, request_record_id)
		VALUES (1, 'https://shop.test/p/1', 'GET', '2026-01-01T00:00:00.000000000Z', x'', ?, ?, 'urn:uuid:a', 'urn:uuid:b')`,
		[]byte(oldResp), sha256Hex([]byte(oldResp))); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions []int
	rows, _ := db.db.Query(`SELECT version FROM schema_version ORDER BY version`)
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	if fmt.Sprint(versions[:4]) != "[1 2 3 50]" {
		t.Errorf("schema versions = %v, want 3 applied after 50", versions)
	}
	old, err := db.Evidence(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Revisit || old.RefersTo != 0 || old.PayloadSHA256 != sha256Hex([]byte(body)) {
		t.Errorf("old evidence = revisit %v, refers to %d, payload %s", old.Revisit, old.RefersTo, old.PayloadSHA256)
	}
	s := beginSweep(t, db, t0, "shop")
	r := savePage(t, db, wirePage(s, "https://shop.test/p/1", t0, body, "now"))
	if !r.Revisit {
		t.Error("identical capture after the upgrade is not a revisit of the old one")
	}
}

func TestScreenshots(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s := beginSweep(t, db, t0, "shop")
	u := "https://shop.test/p/1"
	res := savePage(t, db, page(s, "shop", u, t0, "a"), listing(u, "x", "", hitOf(0.9, "fentanyl")))
	hitID := res.Listings[0].HitID

	if _, err := db.LatestScreenshot(ctx, hitID); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestScreenshot before any = %v, want ErrNotFound", err)
	}
	h, _ := db.Hit(ctx, hitID)
	if h.Screenshot != nil {
		t.Errorf("hit has screenshot %+v before any was taken", h.Screenshot)
	}

	png1 := []byte("\x89PNG\r\n\x1a\nfirst")
	png2 := []byte("\x89PNG\r\n\x1a\nsecond")
	id1, err := db.SaveScreenshot(ctx, Screenshot{HitID: hitID, EvidenceID: res.EvidenceID, TakenAt: t0.Add(time.Minute), PNG: png1})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := db.SaveScreenshot(ctx, Screenshot{HitID: hitID, URL: u + "?rendered", TakenAt: t0.Add(2 * time.Minute), PNG: png2, SHA256: sha256Hex(png2)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.LatestScreenshot(ctx, hitID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id2 || !bytes.Equal(got.PNG, png2) || got.SHA256 != sha256Hex(png2) || got.URL != u+"?rendered" || !got.TakenAt.Equal(t0.Add(2*time.Minute)) || got.EvidenceID != 0 {
		t.Errorf("latest = %+v, want screenshot %d", got, id2)
	}
	var first Screenshot
	db.db.QueryRow(`SELECT url, evidence_id FROM screenshots WHERE id = ?`, id1).Scan(&first.URL, &first.EvidenceID)
	if first.URL != u || first.EvidenceID != res.EvidenceID {
		t.Errorf("first screenshot url, evidence = %q, %d; want the listing URL and %d", first.URL, first.EvidenceID, res.EvidenceID)
	}

	hits, err := db.Hits(ctx, HitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if sh := hits[0].Screenshot; sh == nil || sh.SHA256 != sha256Hex(png2) || !sh.TakenAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Hits screenshot = %+v", sh)
	}
	if h, _ := db.Hit(ctx, hitID); h.Screenshot == nil || h.Screenshot.SHA256 != sha256Hex(png2) {
		t.Errorf("Hit screenshot = %+v", h.Screenshot)
	}

	for _, tc := range []struct {
		name string
		s    Screenshot
		want error
	}{
		{"no image", Screenshot{HitID: hitID}, errAny},
		{"wrong sha256", Screenshot{HitID: hitID, PNG: png1, SHA256: sha256Hex(png2)}, errAny},
		{"missing hit", Screenshot{HitID: 999, PNG: png1}, ErrNotFound},
		{"missing evidence", Screenshot{HitID: hitID, EvidenceID: 999, PNG: png1}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.SaveScreenshot(ctx, tc.s)
			if err == nil || tc.want == ErrNotFound && !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if n := count(t, db, "screenshots"); n != 2 {
		t.Errorf("%d screenshots stored, want 2", n)
	}
	es, _ := db.AuditEntries(ctx, time.Time{})
	if last := es[len(es)-1]; last.Action != ActionScreenshot || !strings.Contains(string(last.Details), sha256Hex(png2)) {
		t.Errorf("last audit row = %s %s", last.Action, last.Details)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

// TestLatestCaptureLookupsUseIndex checks that the lookups of a URL's
// latest capture, whose parameters are hidden from the query planner,
// still search the index of originals by URL and method.
func TestLatestCaptureLookupsUseIndex(t *testing.T) {
	db := openTest(t)
	for _, q := range []string{latestOriginalSQL, latestCompleteSQL, validatorsSQL} {
		rows, err := db.db.Query("EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); got != "SEARCH evidence USING INDEX evidence_url_original (url=? AND method=?)" {
			t.Errorf("%s\nplan: %s", q, got)
		}
	}
}
