package triage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/store"
	"snoop/triage"
)

func newDB(t *testing.T) (*store.DB, []int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sw, err := db.BeginSweep(ctx, []string{"m"}, "r", now)
	if err != nil {
		t.Fatal(err)
	}
	var hits []int64
	for _, u := range []string{"http://m.test/1", "http://m.test/2"} {
		res, err := db.SavePage(ctx, store.PageRecord{SweepID: sw, Market: "m", URL: u, Status: 200,
			Evidence: store.Evidence{FetchedAt: now, RequestBytes: []byte("GET / HTTP/1.1\r\n\r\n"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\nx")}},
			[]store.ListingRecord{{URL: u, Title: "fentanyl", Text: "fentanyl", Hit: &store.HitRecord{Score: 1, Substances: []store.Substance{{Name: "fentanyl"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, res.Listings[0].HitID)
	}
	return db, hits
}

func TestReviewIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	db, hits := newDB(t)
	svc := triage.New(db, nil)
	// One missing hit: nothing is reviewed.
	_, err := svc.Review(ctx, []int64{hits[0], 999}, store.StatusConfirmed, "x", "ana")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Review with a missing hit = %v, want not found naming 999", err)
	}
	if h, _ := db.Hit(ctx, hits[0]); h.Status != store.StatusNew {
		t.Errorf("hit %d is %s after a failed batch, want new", hits[0], h.Status)
	}
	if _, err := svc.Review(ctx, hits, store.StatusConfirmed, "both", "ana"); err != nil {
		t.Fatal(err)
	}
	for _, id := range hits {
		if h, _ := db.Hit(ctx, id); h.Status != store.StatusConfirmed {
			t.Errorf("hit %d is %s, want confirmed", id, h.Status)
		}
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestReviewRules(t *testing.T) {
	db, hits := newDB(t)
	svc := triage.New(db, nil)
	for _, c := range []struct {
		ids    []int64
		status string
		note   string
	}{
		{hits, "maybe", ""},
		{nil, store.StatusConfirmed, ""},
		{hits, store.StatusConfirmed, strings.Repeat("x", triage.MaxNote+1)},
		{hits, store.StatusConfirmed, "\xff"},
		{make([]int64, triage.MaxBatch+1), store.StatusConfirmed, ""},
		{[]int64{-1}, store.StatusConfirmed, ""},
	} {
		if _, err := svc.Review(context.Background(), c.ids, c.status, c.note, "ana"); !errors.Is(err, triage.ErrInvalid) {
			t.Errorf("Review(%d ids, %q, %d-byte note) = %v, want invalid", len(c.ids), c.status, len(c.note), err)
		}
	}
}
