package backtest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
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

// seedListings stores n listings, none of them a hit, with the given text.
func seedListings(t *testing.T, n int, text string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sweep, err := db.BeginSweep(ctx, []string{"m"}, "old", now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		url := fmt.Sprintf("http://m/%d", i)
		if _, err := db.SavePage(ctx, store.PageRecord{SweepID: sweep, Market: "m", URL: url, Status: 200,
			Evidence: store.Evidence{FetchedAt: now, RequestBytes: []byte("GET /"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\n" + url)}},
			[]store.ListingRecord{{URL: url, Text: text}}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// fakeClassifier calls every text a hit and records the lengths it saw;
// with block set it blocks until release is closed.
type fakeClassifier struct {
	mu      sync.Mutex
	lengths []int
	block   bool
	started chan struct{}
	release chan struct{}
}

func (f *fakeClassifier) Classify(text string) classify.Result {
	f.mu.Lock()
	f.lengths = append(f.lengths, len(text))
	f.mu.Unlock()
	if f.block {
		f.started <- struct{}{}
		<-f.release
	}
	return classify.Result{Hit: true, Score: 1}
}

func TestRunWithBoundsRows(t *testing.T) {
	db := seedListings(t, 7, "anything")
	res, err := RunWith(context.Background(), db, &fakeClassifier{}, Options{MaxRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Listings != 7 || res.GainedTotal != 7 || len(res.Gained) != 3 {
		t.Errorf("listings %d gained %d of %d, want 7 listings, 3 rows of 7", res.Listings, len(res.Gained), res.GainedTotal)
	}
	for _, r := range res.Gained {
		if r.Listing.Text != "" {
			t.Errorf("row keeps the listing text (%d bytes)", len(r.Listing.Text))
		}
	}
}

func TestRunWithBoundsText(t *testing.T) {
	// "и" is two bytes: a cut at an odd byte count must not split it.
	db := seedListings(t, 2, strings.Repeat("и", 1000))
	fc := &fakeClassifier{}
	res, err := RunWith(context.Background(), db, fc, Options{MaxTextBytes: 101})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cut != 2 {
		t.Errorf("cut = %d, want 2", res.Cut)
	}
	for _, n := range fc.lengths {
		if n != 100 {
			t.Errorf("classified %d bytes, want 100", n)
		}
	}
}

func TestRunWithTimeout(t *testing.T) {
	db := seedListings(t, 3, "anything")
	fc := &fakeClassifier{block: true, started: make(chan struct{}, 3), release: make(chan struct{})}
	defer close(fc.release)
	_, err := RunWith(context.Background(), db, fc, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("RunWith = %v, want ErrTimeout", err)
	}
}

// TestRunCancelledMidListing cancels while a listing is being classified:
// Run must return without waiting for the classification to end.
func TestRunCancelledMidListing(t *testing.T) {
	db := seedListings(t, 3, "anything")
	fc := &fakeClassifier{block: true, started: make(chan struct{}, 3), release: make(chan struct{})}
	defer close(fc.release)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Run(ctx, db, fc)
		errc <- err
	}()
	<-fc.started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancellation while a listing was classified")
	}
}
