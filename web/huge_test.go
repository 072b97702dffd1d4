package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// hugeListing stores one hit whose title, description and text are each
// about size bytes of "fentanyl " (every word a match), fetched twice with
// different content (two history versions), and returns its ID.
func hugeListing(tb testing.TB, f *fixture, size int) int64 {
	tb.Helper()
	ctx := context.Background()
	words := strings.Repeat("fentanyl ", size/9)
	var hitID int64
	for i, extra := range []string{"first", "second"} {
		text := "Fentanyl powder for sale, " + extra + " " + words
		body := "<html><body><h1>Fentanyl</h1><p>" + text + "</p></body></html>"
		raw := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body)
		res, err := f.db.SavePage(ctx, store.PageRecord{SweepID: f.sweep, Market: "shop", URL: "http://shop.test/huge", Status: 200,
			Evidence: store.Evidence{FetchedAt: testNow.Add(-time.Duration(2-i) * 10 * time.Minute), RequestBytes: []byte("GET /huge HTTP/1.1\r\nHost: shop.test\r\n\r\n"), ResponseBytes: raw}},
			[]store.ListingRecord{{URL: "http://shop.test/huge", Title: text, Description: text, Text: text, Price: "$1", Vendor: "v",
				Hit: &store.HitRecord{Score: 0.9, RuleVersion: f.rulesV, Substances: []store.Substance{{Name: "fentanyl", Class: "fentanyl-analogue", Matched: "Fentanyl", Start: 0, End: 8}}}}})
		if err != nil {
			tb.Fatal(err)
		}
		hitID = res.Listings[0].HitID
	}
	return hitID
}

// TestHugeListingIsBounded: a 10 MiB listing gave a 396 MB hit page; what
// the workbench sends for it is bounded now, and says what it left out.
func TestHugeListingIsBounded(t *testing.T) {
	f := newFixture(t, nil)
	id := hugeListing(t, f, 10<<20)

	page := f.do(t, req{path: fmt.Sprintf("/hits/%d", id)})
	if page.Code != 200 {
		t.Fatalf("hit page = %d", page.Code)
	}
	body := page.Body.String()
	if n := len(body); n > 4<<20 {
		t.Errorf("hit page of a 10 MiB listing is %d bytes, want at most 4 MiB", n)
	}
	for _, want := range []string{`id="cut-note"`, "listing text cut at 256 KiB", "the full bytes are in the evidence",
		fmt.Sprintf("the first %d of", maxShownMatches), "first 512 KiB shown"} {
		if !strings.Contains(body, want) {
			t.Errorf("hit page lacks %q", want)
		}
	}
	if n := strings.Count(body, "<mark "); n > maxShownMatches+10 {
		t.Errorf("hit page highlights %d terms, want at most %d", n, maxShownMatches)
	}

	detail := f.do(t, req{path: fmt.Sprintf("/api/hits/%d/detail", id)})
	if detail.Code != 200 {
		t.Fatalf("detail = %d", detail.Code)
	}
	if n := detail.Body.Len(); n > 2<<20 {
		t.Errorf("API detail of a 10 MiB listing is %d bytes, want at most 2 MiB", n)
	}
	var d struct {
		Cut     string `json:"cut"`
		Explain struct {
			Matches      []json.RawMessage `json:"matches"`
			MatchesTotal int               `json:"matches_total"`
		} `json:"explain"`
		History []struct {
			Text string `json:"text"`
		} `json:"history"`
	}
	if err := json.Unmarshal(detail.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Cut, "cut at") || !strings.Contains(d.Cut, "full bytes are in the evidence") {
		t.Errorf("detail cut = %q, want what was cut", d.Cut)
	}
	if len(d.Explain.Matches) != maxShownMatches || d.Explain.MatchesTotal <= maxShownMatches {
		t.Errorf("detail lists %d of %d matches, want %d of more", len(d.Explain.Matches), d.Explain.MatchesTotal, maxShownMatches)
	}
	if len(d.History) != 2 || len(d.History[0].Text) > maxVersionText {
		t.Errorf("history: %d versions, first %d bytes", len(d.History), len(d.History[0].Text))
	}

	for _, p := range []string{"/hits", "/api/hits", "/", fmt.Sprintf("/api/hits/%d", id)} {
		w := f.do(t, req{path: p})
		if w.Code != 200 || w.Body.Len() > 1<<20 {
			t.Errorf("GET %s = %d, %d bytes; want 200 and at most 1 MiB", p, w.Code, w.Body.Len())
		}
	}

	// The stored listing is whole: only the view is cut.
	full, err := f.db.Hit(context.Background(), id)
	if err != nil || len(full.Text) < 10<<20 {
		t.Errorf("stored text = %d bytes (%v), want it whole", len(full.Text), err)
	}
}

// BenchmarkHitPage renders the hit page of a small listing and of a
// 10 MiB one; compare B/op and resp-bytes/op.
func BenchmarkHitPage(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"small", 0}, {"1MiB", 1 << 20}, {"10MiB", 10 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b, nil)
			id := f.hits[0]
			if bc.size > 0 {
				id = hugeListing(b, f, bc.size)
			}
			path := fmt.Sprintf("/hits/%d", id)
			var n int
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				f.srv.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:8080"+path, nil))
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
				n = w.Body.Len()
			}
			b.ReportMetric(float64(n), "resp-bytes/op")
		})
	}
}
