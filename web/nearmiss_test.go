package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"snoop/backtest"
	"snoop/store"
)

// TestAPINearMisses stores a listing that only names a nitazene (not a
// hit, a near miss) and asks GET /api/hits?near_miss=1 for it: it is
// listed, and the test-strip listing and the hits are not.
func TestAPINearMisses(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	_, err := f.db.SavePage(ctx, store.PageRecord{SweepID: f.sweep, Market: "board", URL: "http://board.test/t/9", Status: 200,
		Evidence: store.Evidence{FetchedAt: testNow.Add(-10 * time.Minute), RequestBytes: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			ResponseBytes: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Metonitazene</p>")}},
		[]store.ListingRecord{{URL: "http://board.test/t/9", Title: "Metonitazene", Text: "Metonitazene"}})
	if err != nil {
		t.Fatal(err)
	}
	w := f.do(t, req{path: "/api/hits?near_miss=1"})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	nms := decode[[]backtest.NearMiss](t, w)
	if len(nms) != 1 || nms[0].URL != "http://board.test/t/9" || !nms[0].NearMiss || len(nms[0].Substances) != 1 ||
		nms[0].Substances[0].Name != "metonitazene" {
		t.Fatalf("near misses = %+v, want the metonitazene listing alone", nms)
	}
	if w := f.do(t, req{path: "/api/hits?near_miss=1&market=shop"}); len(decode[[]backtest.NearMiss](t, w)) != 0 {
		t.Errorf("market=shop: %s", w.Body)
	}
}
