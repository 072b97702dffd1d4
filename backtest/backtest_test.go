package backtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"snoop/classify"
	"snoop/rules"
	"snoop/store"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sweep, err := db.BeginSweep(ctx, []string{"m"}, "old", now)
	if err != nil {
		t.Fatal(err)
	}
	hit := func(name string) *store.HitRecord {
		return &store.HitRecord{Score: 1, RuleVersion: "old", Substances: []store.Substance{{Name: name, Class: "nitazene"}}}
	}
	listings := []store.ListingRecord{
		{URL: "http://m/kept", Text: "Pure isotonitazene powder 99%, 10 g for sale, stealth shipping worldwide, pay with BTC", Hit: hit("isotonitazene")},
		{URL: "http://m/lost", Text: "garden chairs, two pieces", Hit: hit("isotonitazene")},
		{URL: "http://m/gained", Text: "Metonitazene 5 g for sale, lab tested 99%, stealth shipping worldwide, BTC only"},
		{URL: "http://m/none", Text: "a bicycle"},
	}
	for _, l := range listings {
		if _, err := db.SavePage(ctx, store.PageRecord{SweepID: sweep, Market: "m", URL: l.URL, Status: 200,
			Evidence: store.Evidence{FetchedAt: now, RequestBytes: []byte("GET /"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\n" + l.URL)}},
			[]store.ListingRecord{l}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(ctx, db, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Listings != 4 || res.Kept != 1 || len(res.Lost) != 1 || len(res.Gained) != 1 || len(res.Relabeled) != 0 {
		t.Fatalf("result = listings %d kept %d lost %d gained %d relabeled %d", res.Listings, res.Kept, len(res.Lost), len(res.Gained), len(res.Relabeled))
	}
	if got := res.Lost[0].Listing.URL; got != "http://m/lost" {
		t.Errorf("lost = %s", got)
	}
	if got := res.Gained[0]; got.Listing.URL != "http://m/gained" || len(got.After) == 0 || got.After[0] != "metonitazene" {
		t.Errorf("gained = %+v", got)
	}
}
