package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openTest opens a fresh database in a temporary directory.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "snoop.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func beginSweep(tb testing.TB, db *DB, at time.Time, markets ...string) int64 {
	tb.Helper()
	id, err := db.BeginSweep(context.Background(), markets, "sha256:rules", at)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// page returns a page record with a small HTTP response whose body is body.
func page(sweepID int64, market, url string, at time.Time, body string) PageRecord {
	return PageRecord{
		SweepID: sweepID, Market: market, URL: url, Depth: 1, Status: 200, FetchedAt: at,
		Evidence: Evidence{
			RequestBytes:  []byte("GET " + url + " HTTP/1.1\r\nHost: shop.test\r\n\r\n"),
			ResponseBytes: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body),
			RemoteAddr:    "127.0.0.1:8080",
		},
	}
}

func listing(url, title, price string, hit *HitRecord) ListingRecord {
	return ListingRecord{
		URL:    url,
		Fields: map[string]string{"title": title, "price": price},
		Text:   title + " " + price,
		Hit:    hit,
	}
}

func hitOf(score float64, names ...string) *HitRecord {
	h := &HitRecord{Score: score, RuleVersion: "sha256:rules"}
	for _, n := range names {
		h.Substances = append(h.Substances, Substance{Name: n, Class: "nitazene", Matched: n, Start: 0, End: len(n)})
	}
	return h
}

func savePage(tb testing.TB, db *DB, p PageRecord, ls ...ListingRecord) SaveResult {
	tb.Helper()
	res, err := db.SavePage(context.Background(), p, ls)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func count(tb testing.TB, db *DB, table string) int {
	tb.Helper()
	var n int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestOpenMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snoop.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		rows, err := db.db.Query(`SELECT version, name FROM schema_version ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var v int
			var name string
			if err := rows.Scan(&v, &name); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s", v, name))
		}
		rows.Close()
		var want []string
		for _, m := range ms {
			want = append(want, fmt.Sprintf("%d %s", m.version, m.name))
		}
		if strings.Join(got, ";") != strings.Join(want, ";") {
			t.Errorf("open #%d: schema_version = %q, want %q", i, got, want)
		}
		if i == 0 {
			beginSweep(t, db, t0, "shop")
		}
		if n := count(t, db, "sweeps"); n != 1 {
			t.Errorf("open #%d: %d sweeps, want data kept across reopen", i, n)
		}
		db.Close()
	}
	if len(ms) < 2 || ms[0].version != 1 || ms[1].version != 2 {
		t.Errorf("migrations = %+v, want 1 and 2 first", ms)
	}
}

func TestOpenPragmas(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	// Hold several connections at once so the pool must open more than
	// one: every one must carry the pragmas.
	for i := range 3 {
		conn, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, tc := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "10000"},
			{"synchronous", "2"}, // FULL
		} {
			var got string
			if err := conn.QueryRowContext(ctx, `PRAGMA `+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, tc.pragma, got, tc.want)
			}
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snoop.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (9999, 'future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, path); err == nil {
		db.Close()
		t.Fatal("open of a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("err = %v, want it to say newer", err)
	}
}

func TestSavePageEvidence(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	sweep := beginSweep(t, db, t0, "shop")
	p := page(sweep, "shop", "https://shop.test/p/1", t0, "<h1>x</h1>")
	p.Evidence.TLS = json.RawMessage(`{"version":"TLS 1.3"}`)
	p.Evidence.Truncated = true
	res := savePage(t, db, p)
	e, err := db.Evidence(ctx, res.EvidenceID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(p.Evidence.ResponseBytes)
	uuid := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"request bytes", string(e.RequestBytes), string(p.Evidence.RequestBytes)},
		{"response bytes", string(e.ResponseBytes), string(p.Evidence.ResponseBytes)},
		{"sha256", e.SHA256, hex.EncodeToString(sum[:])},
		{"url", e.URL, p.URL},
		{"method", e.Method, "GET"},
		{"status", e.Status, 200},
		{"fetched_at", e.FetchedAt.Equal(t0), true},
		{"remote addr", e.RemoteAddr, "127.0.0.1:8080"},
		{"tls", string(e.TLS), `{"version":"TLS 1.3"}`},
		{"truncated", e.Truncated, true},
		{"response record id", uuid.MatchString(e.WARCRecordID), true},
		{"request record id", uuid.MatchString(e.RequestRecordID), true},
		{"distinct record ids", e.WARCRecordID != e.RequestRecordID, true},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if _, err := db.Evidence(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Evidence(999) err = %v, want ErrNotFound", err)
	}

	bad := page(sweep, "shop", "https://shop.test/p/2", t0, "x")
	bad.Evidence.SHA256 = strings.Repeat("0", 64)
	if _, err := db.SavePage(ctx, bad, nil); err == nil {
		t.Error("SavePage with a wrong sha256 succeeded")
	}
}

func TestSavePageUpsert(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s1 := beginSweep(t, db, t0, "shop")
	url := "https://shop.test/p/1"

	r1 := savePage(t, db, page(s1, "shop", url, t0, "a"), listing(url, "Widget", "$10", nil))
	if l := r1.Listings[0]; !l.New || l.Changed {
		t.Errorf("first save: %+v, want new", l)
	}
	t1 := t0.Add(time.Hour)
	r2 := savePage(t, db, page(s1, "shop", url, t1, "a"), listing(url, "Widget", "$10", nil))
	if l := r2.Listings[0]; l.New || l.Changed || l.ListingID != r1.Listings[0].ListingID {
		t.Errorf("same content: %+v, want same listing %d, not new or changed", l, r1.Listings[0].ListingID)
	}
	if n := count(t, db, "listings"); n != 1 {
		t.Errorf("%d listings, want 1", n)
	}
	var first, last string
	if err := db.db.QueryRow(`SELECT first_seen, last_seen FROM listings`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if first != formatTime(t0) || last != formatTime(t1) {
		t.Errorf("first_seen, last_seen = %s, %s; want %s, %s", first, last, formatTime(t0), formatTime(t1))
	}
	// The same URL in another marketplace is another listing.
	savePage(t, db, page(s1, "other", url, t1, "a"), listing(url, "Widget", "$10", nil))
	if n := count(t, db, "listings"); n != 2 {
		t.Errorf("%d listings, want 2", n)
	}

	t2 := t1.Add(time.Hour)
	r3 := savePage(t, db, page(s1, "shop", url, t2, "b"), listing(url, "Widget", "$12", nil))
	if l := r3.Listings[0]; l.New || !l.Changed {
		t.Errorf("changed price: %+v, want changed", l)
	}
	hist, err := db.ListingHistory(ctx, r1.Listings[0].ListingID)
	if err != nil {
		t.Fatal(err)
	}
	var prices []string
	for _, v := range hist {
		prices = append(prices, v.Price+"@"+v.SeenAt.Format(time.RFC3339))
	}
	if got, want := strings.Join(prices, " "), "$10@2026-03-01T12:00:00Z $12@2026-03-01T14:00:00Z"; got != want {
		t.Errorf("price history = %s, want %s", got, want)
	}
	if hist[1].EvidenceID != r3.EvidenceID || hist[1].Fields["price"] != "$12" {
		t.Errorf("version 2 = %+v, want evidence %d and price field $12", hist[1], r3.EvidenceID)
	}
	if _, err := db.ListingHistory(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("ListingHistory(999) err = %v, want ErrNotFound", err)
	}
}

func TestContentHash(t *testing.T) {
	// Stored listings keep their hashes: a new hash for the same content
	// would record every listing as changed.
	for _, tc := range []struct {
		fields map[string]string
		text   string
		want   string
	}{
		{map[string]string{"title": "Isotonitazene 5 g", "price": "$50", "vendor": "élan ✓", "": "x"}, "Isotonitazene 5 g\n$50",
			"3eccc970b3a1d906b5f4dd568357c4861159efbc2778c49188a60649a59592c1"},
		{nil, "", "643d76d2766c1c66bf6df40630304dc3b86aa16ace3849a62e16419d2ed3cce7"},
	} {
		if got := ContentHash(tc.fields, tc.text); got != tc.want {
			t.Errorf("ContentHash(%v, %q) = %s, want %s", tc.fields, tc.text, got, tc.want)
		}
	}
	a := ContentHash(map[string]string{"a": "1", "b": "2"}, "t")
	for _, tc := range []struct {
		name   string
		fields map[string]string
		text   string
		same   bool
	}{
		{"same", map[string]string{"b": "2", "a": "1"}, "t", true},
		{"value", map[string]string{"a": "1", "b": "3"}, "t", false},
		{"text", map[string]string{"a": "1", "b": "2"}, "u", false},
		{"boundary", map[string]string{"a": "12", "b": ""}, "t", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContentHash(tc.fields, tc.text) == a; got != tc.same {
				t.Errorf("equal = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestHitStatusPreserved(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s1 := beginSweep(t, db, t0, "shop")
	url := "https://shop.test/p/1"
	r1 := savePage(t, db, page(s1, "shop", url, t0, "a"), listing(url, "isotonitazene 1g", "$50", hitOf(0.8, "isotonitazene")))
	l1 := r1.Listings[0]
	if !l1.NewHit || l1.HitID == 0 {
		t.Fatalf("first detection: %+v, want a new hit", l1)
	}
	if err := db.Review(ctx, l1.HitID, StatusConfirmed, "clear offer", "alice", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s2 := beginSweep(t, db, t0.Add(time.Hour), "shop")
	r2 := savePage(t, db, page(s2, "shop", url, t0.Add(time.Hour), "b"), listing(url, "isotonitazene 1g", "$45", hitOf(0.9, "isotonitazene")))
	l2 := r2.Listings[0]
	if l2.NewHit || l2.HitID != l1.HitID {
		t.Errorf("re-detection: %+v, want the same hit %d", l2, l1.HitID)
	}
	h, err := db.Hit(ctx, l1.HitID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != StatusConfirmed || h.Score != 0.9 || h.SweepID != s2 || h.Price != "$45" || h.Evidence.ID != r2.EvidenceID {
		t.Errorf("hit = %+v, want status confirmed, score 0.9, sweep %d, price $45, evidence %d", h, s2, r2.EvidenceID)
	}
	if !h.FirstSeen.Equal(t0) || !h.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("first/last seen = %v/%v", h.FirstSeen, h.LastSeen)
	}
	evs, err := db.HitEvidence(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != r1.EvidenceID || evs[1].ID != r2.EvidenceID {
		t.Errorf("hit evidence = %d records, want %d then %d", len(evs), r1.EvidenceID, r2.EvidenceID)
	}
	if _, err := db.HitEvidence(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("HitEvidence(999) err = %v, want ErrNotFound", err)
	}
	if _, err := db.Hit(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Hit(999) err = %v, want ErrNotFound", err)
	}

	// JSON shape of the documented hits format.
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"id", "marketplace", "url", "title", "price", "vendor", "score", "status", "substances",
		"rule_version", "sweep_id", "first_seen", "last_seen", "evidence"} {
		if _, ok := m[k]; !ok {
			t.Errorf("hit JSON %s lacks %q", b, k)
		}
	}
	if ev := m["evidence"].(map[string]any); ev["sha256"] == "" || !strings.HasPrefix(ev["warc_record_id"].(string), "urn:uuid:") {
		t.Errorf("hit JSON evidence = %v", ev)
	}
}

func TestReview(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s := beginSweep(t, db, t0, "shop")
	url := "https://shop.test/p/1"
	hitID := savePage(t, db, page(s, "shop", url, t0, "a"), listing(url, "x", "", hitOf(0.7, "fentanyl"))).Listings[0].HitID

	for _, tc := range []struct {
		name   string
		hitID  int64
		status string
		want   error // nil, ErrNotFound, or errAny
	}{
		{"confirm", hitID, StatusConfirmed, nil},
		{"back to new", hitID, StatusNew, nil},
		{"false positive", hitID, StatusFalsePositive, nil},
		{"bad status", hitID, "maybe", errAny},
		{"missing hit", 999, StatusConfirmed, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := count(t, db, "audit_log")
			err := db.Review(ctx, tc.hitID, tc.status, "note "+tc.name, "alice", t0.Add(time.Hour))
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tc.want == errAny && err == nil, tc.want == ErrNotFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			wantRows := before
			if tc.want == nil {
				wantRows++
			}
			if got := count(t, db, "audit_log"); got != wantRows {
				t.Errorf("audit rows = %d, want %d", got, wantRows)
			}
		})
	}
	h, _ := db.Hit(ctx, hitID)
	if h.Status != StatusFalsePositive {
		t.Errorf("status = %q, want false_positive", h.Status)
	}
	if n := count(t, db, "reviews"); n != 3 {
		t.Errorf("%d reviews, want 3", n)
	}
	entries, err := db.AuditEntries(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	var d map[string]any
	json.Unmarshal(last.Details, &d)
	if last.Action != ActionReview || last.Actor != "alice" || d["status"] != StatusFalsePositive || d["previous_status"] != StatusNew || d["url"] != url {
		t.Errorf("last audit entry = %+v (%v)", last, d)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit: %v", err)
	}
	since, err := db.AuditEntries(ctx, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(since) != 3 {
		t.Errorf("AuditEntries(since) = %d rows, want the 3 reviews", len(since))
	}
}

var errAny = errors.New("any error")

func TestVerifyAudit(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper []string // raw SQL
		want   []string // each must appear in the error
	}{
		{"intact", nil, nil},
		{"edited", []string{`UPDATE audit_log SET details = '{"note":"changed"}' WHERE id = 3`},
			[]string{"audit row 3: edited"}},
		{"edited actor and re-hashed", []string{`UPDATE audit_log SET actor = 'mallory', hash = '` + strings.Repeat("a", 64) + `' WHERE id = 3`},
			[]string{"audit row 3: edited", "audit row 4: prev_hash does not match row 3"}},
		{"time rewritten", []string{`UPDATE audit_log SET at = '2026-03-01T12:00:02Z' WHERE id = 3`},
			[]string{"audit row 3: edited: time"}},
		{"time garbled", []string{`UPDATE audit_log SET at = 'yesterday' WHERE id = 3`},
			[]string{"audit row 3: edited"}},
		{"deleted", []string{`DELETE FROM audit_log WHERE id = 3`},
			[]string{"audit row 4: rows 3..3 deleted"}},
		{"deleted first", []string{`DELETE FROM audit_log WHERE id = 1`},
			[]string{"audit row 2: rows 1..1 deleted"}},
		{"deleted last", []string{`DELETE FROM audit_log WHERE id = 5`},
			[]string{"audit row 5: rows 5..5 deleted from the end"}},
		{"swapped", []string{
			`UPDATE audit_log SET id = -2 WHERE id = 2`,
			`UPDATE audit_log SET id = 2 WHERE id = 3`,
			`UPDATE audit_log SET id = 3 WHERE id = -2`},
			[]string{"audit row 2: reordered", "audit row 3: reordered", "audit row 4: reordered"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			for i := range 5 {
				if err := db.Audit(ctx, "alice", "test", map[string]int{"n": i}, t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range tc.tamper {
				if _, err := db.db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			err := db.VerifyAudit(ctx)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("VerifyAudit: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrAuditBroken) {
				t.Fatalf("VerifyAudit err = %v, want ErrAuditBroken", err)
			}
			t.Logf("%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("VerifyAudit err = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestAuditChain(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if err := db.Audit(ctx, "alice", "export", map[string]string{"case": "c1"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, "bob", "export", nil, t0); err != nil {
		t.Fatal(err)
	}
	es, err := db.AuditEntries(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].PrevHash != GenesisHash || es[1].PrevHash != es[0].Hash || string(es[1].Details) != "{}" {
		t.Errorf("chain = %+v", es)
	}
	// The documented formula, recomputed by hand.
	in := GenesisHash + "\n1\n2026-03-01T12:00:00.000000000Z\nalice\nexport\n" + `{"case":"c1"}`
	sum := sha256.Sum256([]byte(in))
	if got, want := es[0].Hash, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash = %s, want %s", got, want)
	}
	for _, bad := range []struct{ actor, action string }{{"", "x"}, {"a", ""}, {"a\nb", "x"}} {
		if err := db.Audit(ctx, bad.actor, bad.action, nil, t0); err == nil {
			t.Errorf("Audit(%q, %q) succeeded", bad.actor, bad.action)
		}
	}
}

func TestHitsFilter(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s1 := beginSweep(t, db, t0, "shop", "board")
	s2 := beginSweep(t, db, t0.Add(24*time.Hour), "shop")
	save := func(sweep int64, market, url string, at time.Time, h *HitRecord) int64 {
		return savePage(t, db, page(sweep, market, url, at, url), listing(url, url, "", h)).Listings[0].HitID
	}
	h1 := save(s1, "shop", "https://shop.test/1", t0, hitOf(0.9, "isotonitazene"))
	h2 := save(s1, "board", "https://board.test/2", t0, hitOf(0.8, "fentanyl", "carfentanil"))
	h3 := save(s1, "shop", "https://shop.test/3", t0, hitOf(0.7, "Carfentanil"))
	save(s1, "shop", "https://shop.test/4", t0, nil) // not a hit
	// Sweep 2 sees h1 again and finds h4.
	t1 := t0.Add(24 * time.Hour)
	save(s2, "shop", "https://shop.test/1", t1, hitOf(0.9, "isotonitazene"))
	h4 := save(s2, "shop", "https://shop.test/5", t1, hitOf(0.6, "protonitazene"))
	if err := db.Review(ctx, h2, StatusConfirmed, "", "alice", t1); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		f    HitFilter
		want []int64
	}{
		{"all", HitFilter{}, []int64{h1, h2, h3, h4}},
		{"ids", HitFilter{IDs: []int64{h3, h1, 999}}, []int64{h1, h3}},
		{"sweep 1", HitFilter{SweepID: s1}, []int64{h1, h2, h3}},
		{"sweep 2", HitFilter{SweepID: s2}, []int64{h1, h4}},
		{"since", HitFilter{Since: t1}, []int64{h1, h4}},
		{"market", HitFilter{Market: "board"}, []int64{h2}},
		{"substance", HitFilter{Substance: "carfentanil"}, []int64{h2, h3}},
		{"substance case", HitFilter{Substance: "ISOTONITAZENE"}, []int64{h1}},
		{"status confirmed", HitFilter{Status: StatusConfirmed}, []int64{h2}},
		{"status new", HitFilter{Status: StatusNew}, []int64{h1, h3, h4}},
		{"combined", HitFilter{Market: "shop", SweepID: s1, Substance: "carfentanil"}, []int64{h3}},
		{"limit offset", HitFilter{Limit: 2, Offset: 1}, []int64{h2, h3}},
		{"none", HitFilter{Market: "nowhere"}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := db.Hits(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, h := range hits {
				got = append(got, h.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := db.Hits(ctx, HitFilter{Status: "bogus"}); err == nil {
		t.Error("Hits with a bad status succeeded")
	}
	stop := errors.New("stop")
	n := 0
	err := db.HitsEach(ctx, HitFilter{}, func(h Hit) error {
		if n++; n == 2 {
			return stop
		}
		// Callers may query the store while iterating.
		_, err := db.HitEvidence(ctx, h.ID)
		return err
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("HitsEach err = %v after %d calls, want stop after 2", err, n)
	}

	var listings []StoredListing
	if err := db.ListingsEach(ctx, func(l StoredListing) error { listings = append(listings, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listings) != 5 || listings[3].HitID != 0 || listings[0].HitID != h1 || listings[1].Substances[1].Name != "carfentanil" {
		t.Errorf("listings = %+v", listings)
	}
}

func TestMarkGone(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a, b := "https://shop.test/a", "https://shop.test/b"
	s1 := beginSweep(t, db, t0, "shop")
	savePage(t, db, page(s1, "shop", a, t0, "a"), listing(a, "A", "", nil))
	savePage(t, db, page(s1, "shop", b, t0, "b"), listing(b, "B", "", nil))
	savePage(t, db, page(s1, "board", b, t0, "b"), listing(b, "B", "", nil))

	s2 := beginSweep(t, db, t0.Add(time.Hour), "shop")
	savePage(t, db, page(s2, "shop", a, t0.Add(time.Hour), "a"), listing(a, "A", "", nil))
	for i, want := range []int{1, 0} { // the second call finds nothing new
		n, err := db.MarkGone(ctx, s2, "shop", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("MarkGone #%d = %d, want %d", i, n, want)
		}
	}
	gone := func(market, url string) bool {
		var g *string
		if err := db.db.QueryRow(`SELECT gone_at FROM listings WHERE market = ? AND url = ?`, market, url).Scan(&g); err != nil {
			t.Fatal(err)
		}
		return g != nil
	}
	if gone("shop", a) || !gone("shop", b) || gone("board", b) {
		t.Errorf("gone a, b, board b = %v, %v, %v; want false, true, false", gone("shop", a), gone("shop", b), gone("board", b))
	}
	s3 := beginSweep(t, db, t0.Add(3*time.Hour), "shop")
	savePage(t, db, page(s3, "shop", b, t0.Add(3*time.Hour), "b"), listing(b, "B", "", nil))
	if gone("shop", b) {
		t.Error("listing seen again is still gone")
	}
}

func TestSweeps(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s1 := beginSweep(t, db, t0, "shop", "board")
	s2 := beginSweep(t, db, t0.Add(time.Hour), "shop")
	if err := db.FinishSweep(ctx, s1, SweepCompleted, map[string]int{"pages": 3}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishSweep(ctx, s2, "done", nil, t0); err == nil {
		t.Error("FinishSweep with a bad status succeeded")
	}
	if err := db.FinishSweep(ctx, 999, SweepFailed, nil, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishSweep(999) err = %v, want ErrNotFound", err)
	}
	ss, err := db.Sweeps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].ID != s2 || ss[1].ID != s1 {
		t.Fatalf("sweeps = %+v, want newest first", ss)
	}
	got := ss[1]
	if got.Status != SweepCompleted || strings.Join(got.Markets, ",") != "shop,board" || string(got.Stats) != `{"pages":3}` ||
		!got.StartedAt.Equal(t0) || !got.FinishedAt.Equal(t0.Add(time.Minute)) || got.RuleVersion != "sha256:rules" {
		t.Errorf("sweep = %+v", got)
	}
	if ss[0].Status != SweepRunning || !ss[0].FinishedAt.IsZero() || ss[0].Stats != nil {
		t.Errorf("running sweep = %+v", ss[0])
	}
	if _, err := db.Sweep(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Sweep(999) err = %v, want ErrNotFound", err)
	}

	// Resume: the latest running or interrupted sweep.
	u, ok, err := db.UnfinishedSweep(ctx)
	if err != nil || !ok || u.ID != s2 {
		t.Fatalf("UnfinishedSweep = %d, %v, %v; want %d", u.ID, ok, err, s2)
	}
	if err := db.FinishSweep(ctx, s2, SweepInterrupted, nil, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if u, ok, _ := db.UnfinishedSweep(ctx); !ok || u.Status != SweepInterrupted {
		t.Errorf("UnfinishedSweep after interrupt = %+v, %v", u, ok)
	}
	if err := db.ResumeSweep(ctx, s2, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.ResumeSweep(ctx, s1, t0.Add(3*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResumeSweep(completed) err = %v, want ErrNotFound", err)
	}
	if err := db.FinishSweep(ctx, s2, SweepCompleted, nil, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.UnfinishedSweep(ctx); ok {
		t.Error("UnfinishedSweep found one after all finished")
	}

	var actions []string
	es, _ := db.AuditEntries(ctx, time.Time{})
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if got, want := strings.Join(actions, " "), "sweep.begin sweep.begin sweep.finish sweep.finish sweep.resume sweep.finish"; got != want {
		t.Errorf("audit actions = %s, want %s", got, want)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestFrontier(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s := beginSweep(t, db, t0, "shop")
	items := func(urls ...string) []FrontierItem {
		var its []FrontierItem
		for i, u := range urls {
			its = append(its, FrontierItem{URL: u, Depth: i})
		}
		return its
	}
	counts := func() string {
		c, err := db.FrontierCounts(ctx, s, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("q%d c%d d%d f%d", c[FrontierQueued], c[FrontierClaimed], c[FrontierDone], c[FrontierFailed])
	}
	urls := func(its []FrontierItem) string {
		var us []string
		for _, it := range its {
			us = append(us, it.URL)
		}
		return strings.Join(us, " ")
	}

	if n, _, err := db.FrontierPush(ctx, s, "shop", items("/a", "/b", "/c", "/a"), -1); err != nil || n != 3 {
		t.Fatalf("push = %d, %v; want 3", n, err)
	}
	if n, _, _ := db.FrontierPush(ctx, s, "board", items("/a"), -1); n != 1 {
		t.Errorf("push to another market = %d, want 1", n)
	}
	got, err := db.FrontierClaim(ctx, s, "shop", 2)
	if err != nil {
		t.Fatal(err)
	}
	if urls(got) != "/a /b" || got[1].Depth != 1 {
		t.Errorf("claim = %+v, want /a /b oldest first", got)
	}
	if c := counts(); c != "q1 c2 d0 f0" {
		t.Errorf("counts = %s", c)
	}
	// A URL already claimed or done is not queued again.
	if n, _, _ := db.FrontierPush(ctx, s, "shop", items("/a", "/d"), -1); n != 1 {
		t.Errorf("push again = %d, want 1", n)
	}
	// The limit bounds new URLs only; known ones are neither added nor dropped.
	if n, dropped, _ := db.FrontierPush(ctx, s, "board", items("/a", "/x", "/y", "/z"), 1); n != 1 || dropped != 2 {
		t.Errorf("push with limit 1 = %d added, %d dropped; want 1, 2", n, dropped)
	}
	if err := db.FrontierDone(ctx, s, "shop", "/a", FrontierDone); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.FrontierState(ctx, s, "shop", "/a"); st != FrontierDone {
		t.Errorf("state /a = %q", st)
	}
	if _, err := db.FrontierState(ctx, s, "shop", "/zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FrontierState(/zz) err = %v", err)
	}
	// A redirect target unknown to the frontier is recorded as done.
	if err := db.FrontierDone(ctx, s, "shop", "/zz", FrontierDone); err != nil {
		t.Errorf("FrontierDone(/zz) err = %v", err)
	}
	if st, _ := db.FrontierState(ctx, s, "shop", "/zz"); st != FrontierDone {
		t.Errorf("state /zz = %q, want done", st)
	}
	if err := db.FrontierDone(ctx, s, "shop", "/a", "claimed"); err == nil {
		t.Error("FrontierDone with state claimed succeeded")
	}
	// A crash leaves /b claimed: requeue it and claim it again.
	if n, err := db.FrontierRequeueClaimed(ctx, s, "shop"); err != nil || n != 1 {
		t.Errorf("requeue = %d, %v; want 1", n, err)
	}
	if c := counts(); c != "q3 c0 d2 f0" {
		t.Errorf("counts after requeue = %s", c)
	}
	got, _ = db.FrontierClaim(ctx, s, "shop", 10)
	if urls(got) != "/b /c /d" {
		t.Errorf("claim after requeue = %s", urls(got))
	}
	var attempts int
	db.db.QueryRow(`SELECT attempts FROM frontier WHERE url = '/b' AND market = 'shop'`).Scan(&attempts)
	if attempts != 2 {
		t.Errorf("attempts of /b = %d, want 2", attempts)
	}
	db.FrontierDone(ctx, s, "shop", "/c", FrontierFailed)
	if got, _ := db.FrontierClaim(ctx, s, "shop", 10); len(got) != 0 {
		t.Errorf("claim of an empty queue = %v", got)
	}
	if c := counts(); c != "q0 c2 d2 f1" {
		t.Errorf("final counts = %s", c)
	}
}

// TestConcurrentWriters writes from two handles on one file (two processes,
// say a sweep and a review) at once: BEGIN IMMEDIATE and the busy timeout
// must serialise them without "database is locked" errors, and the audit
// chain must stay intact.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snoop.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	s := beginSweep(t, dbs[0], t0, "shop")
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for w, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				url := fmt.Sprintf("https://shop.test/%d/%d", w, i)
				res, err := db.SavePage(ctx, page(s, "shop", url, t0, url), []ListingRecord{listing(url, "t", "", hitOf(0.5, "fentanyl"))})
				if err != nil {
					errs <- fmt.Errorf("writer %d save %d: %w", w, i, err)
					continue
				}
				if err := db.Review(ctx, res.Listings[0].HitID, StatusConfirmed, "", fmt.Sprint("analyst", w), t0); err != nil {
					errs <- fmt.Errorf("writer %d review %d: %w", w, i, err)
				}
				if _, _, err := db.FrontierPush(ctx, s, "shop", []FrontierItem{{URL: url}}, -1); err != nil {
					errs <- fmt.Errorf("writer %d push %d: %w", w, i, err)
				}
				// A read between writes on the same handle.
				if _, err := db.FrontierClaim(ctx, s, "shop", 1); err != nil {
					errs <- fmt.Errorf("writer %d claim %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := count(t, dbs[1], "listings"); got != 2*n {
		t.Errorf("%d listings, want %d", got, 2*n)
	}
	if got := count(t, dbs[1], "audit_log"); got != 2*n+1 {
		t.Errorf("%d audit rows, want %d", got, 2*n+1)
	}
	if err := dbs[0].VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit after concurrent writes: %v", err)
	}
}

// TestSavePageAtomic interrupts SavePage's transaction part way through and
// checks that nothing of the page was stored.
func TestSavePageAtomic(t *testing.T) {
	tables := []string{"pages", "evidence", "listings", "listing_versions", "hits", "hit_evidence"}
	for _, tc := range []struct {
		name string
		hook func(cancel context.CancelFunc) func() error
	}{
		{"failing write", func(context.CancelFunc) func() error {
			return func() error { return errors.New("disk on fire") }
		}},
		{"context cancelled", func(cancel context.CancelFunc) func() error {
			return func() error { cancel(); return nil }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			s := beginSweep(t, db, t0, "shop")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			hook := tc.hook(cancel)
			db.testHookAfterListing = func() error {
				// Fail after the first listing and its hit are written.
				if calls++; calls == 2 {
					return hook()
				}
				return nil
			}
			ls := []ListingRecord{
				listing("https://shop.test/1", "a", "", hitOf(0.9, "fentanyl")),
				listing("https://shop.test/2", "b", "", hitOf(0.9, "fentanyl")),
				listing("https://shop.test/3", "c", "", nil),
			}
			if _, err := db.SavePage(ctx, page(s, "shop", "https://shop.test/", t0, "x"), ls); err == nil {
				t.Fatal("SavePage succeeded")
			}
			if calls < 2 {
				t.Fatalf("hook ran %d times, want the transaction interrupted after a listing", calls)
			}
			for _, table := range tables {
				if n := count(t, db, table); n != 0 {
					t.Errorf("%d rows in %s after a failed SavePage", n, table)
				}
			}
			// The database is still usable.
			db.testHookAfterListing = nil
			savePage(t, db, page(s, "shop", "https://shop.test/", t0, "x"), ls...)
			if n := count(t, db, "hits"); n != 2 {
				t.Errorf("%d hits after retry, want 2", n)
			}
		})
	}

	t.Run("cancelled before", func(t *testing.T) {
		db := openTest(t)
		s := beginSweep(t, db, t0, "shop")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := db.SavePage(ctx, page(s, "shop", "https://shop.test/", t0, "x"), nil); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if n := count(t, db, "pages"); n != 0 {
			t.Errorf("%d pages", n)
		}
	})
	t.Run("invalid score", func(t *testing.T) {
		db := openTest(t)
		s := beginSweep(t, db, t0, "shop")
		ls := []ListingRecord{listing("https://shop.test/1", "a", "", hitOf(2, "fentanyl"))}
		if _, err := db.SavePage(context.Background(), page(s, "shop", "https://shop.test/", t0, "x"), ls); err == nil {
			t.Error("SavePage with score 2 succeeded")
		}
	})
	t.Run("unknown sweep", func(t *testing.T) {
		db := openTest(t)
		if _, err := db.SavePage(context.Background(), page(42, "shop", "https://shop.test/", t0, "x"), nil); err == nil {
			t.Error("SavePage for a missing sweep succeeded (foreign keys off?)")
		}
		if n := count(t, db, "pages"); n != 0 {
			t.Errorf("%d pages", n)
		}
	})
}

func BenchmarkSavePage(b *testing.B) {
	db := openTest(b)
	s := beginSweep(b, db, t0, "shop")
	body := strings.Repeat("<p>lorem ipsum dolor sit amet, consectetur adipiscing elit</p>\n", 1000) // ~64 KB
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := range b.N {
		url := fmt.Sprintf("https://shop.test/p/%d", i)
		var h *HitRecord
		if i%10 == 0 {
			h = hitOf(0.9, "isotonitazene")
		}
		p := page(s, "shop", url, t0, body)
		if _, err := db.SavePage(context.Background(), p, []ListingRecord{listing(url, "title", "$1", h)}); err != nil {
			b.Fatal(err)
		}
	}
}
