package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestUniqueIDs(t *testing.T) {
	got, err := UniqueIDs([]int64{3, 1, 3, 3, 2, 1}, 3, "hit")
	if err != nil || fmt.Sprint(got) != "[3 1 2]" {
		t.Fatalf("UniqueIDs = %v, %v; want [3 1 2]", got, err)
	}
	if _, err := UniqueIDs([]int64{1, 2, 3, 4}, 3, "hit"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "at most 3") {
		t.Errorf("over the cap: %v, want ErrInvalid naming 3", err)
	}
	if _, err := UniqueIDs([]int64{1, 0}, 3, "hit"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ID 0: %v, want ErrInvalid", err)
	}
	same := make([]int64, 100_000)
	for i := range same {
		same[i] = 7
	}
	if got, err := UniqueIDs(same, 3, "hit"); err != nil || len(got) != 1 {
		t.Errorf("100,000 copies of one ID = %v, %v; want [7]", got, err)
	}
}

func TestReviewHits(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sw := beginSweep(t, db, at, "shop")
	var ids []int64
	for i := range 3 {
		u := fmt.Sprintf("https://shop.test/%d", i)
		res := savePage(t, db, page(sw, "shop", u, at, "x"), listing(u, "isotonitazene", "$1", hitOf(0.9, "isotonitazene")))
		ids = append(ids, res.Listings[0].HitID)
	}
	reviews := func() int { return count(t, db, "reviews") }

	n, err := db.ReviewHits(ctx, []int64{ids[0], ids[1], ids[0], ids[1], ids[0]}, StatusConfirmed, "sale", "alice", at)
	if err != nil || n != 2 || reviews() != 2 {
		t.Fatalf("ReviewHits with repeats = %d, %v, %d reviews; want 2, nil, 2", n, err, reviews())
	}
	entries, _ := db.AuditEntries(ctx, time.Time{})
	var audits int
	for _, e := range entries {
		if e.Action == ActionReview {
			audits++
		}
	}
	if audits != 2 {
		t.Errorf("review audit rows = %d, want 2", audits)
	}
	// All or nothing.
	if _, err := db.ReviewHits(ctx, []int64{ids[2], 99_999}, StatusFalsePositive, "", "alice", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("batch with a missing hit: %v, want ErrNotFound", err)
	}
	if h, _ := db.Hit(ctx, ids[2]); h.Status != StatusNew || reviews() != 2 {
		t.Errorf("a failed batch wrote: status %q, %d reviews", h.Status, reviews())
	}
	for name, call := range map[string]func() error{
		"bad status": func() error { _, err := db.ReviewHits(ctx, ids, "done", "", "a", at); return err },
		"long note": func() error {
			_, err := db.ReviewHits(ctx, ids, StatusNew, strings.Repeat("n", MaxNoteBytes+1), "a", at)
			return err
		},
		"none": func() error { _, err := db.ReviewHits(ctx, nil, StatusNew, "", "a", at); return err },
		"too many": func() error {
			many := make([]int64, MaxReviewBatch+1)
			for i := range many {
				many[i] = int64(i + 1)
			}
			_, err := db.ReviewHits(ctx, many, StatusNew, "", "a", at)
			return err
		},
	} {
		if err := call(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if reviews() != 2 {
		t.Errorf("refused reviews wrote rows: %d", reviews())
	}
	// Selections beyond SQLite's variable limit are one parameter.
	big := make([]int64, 40_000)
	for i := range big {
		big[i] = int64(i + 1)
	}
	if hits, err := db.Hits(ctx, HitFilter{IDs: big}); err != nil || len(hits) != 3 {
		t.Errorf("Hits with 40,000 IDs = %d, %v", len(hits), err)
	}
}

func TestHitsMaxText(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sw := beginSweep(t, db, at, "shop")
	long := "é" + strings.Repeat("ü", 100) // 2-byte runes: a cut at an odd byte must back off
	l := ListingRecord{URL: "https://shop.test/long", Title: long, Description: long, Text: long, Vendor: "v", Price: "$1", Hit: hitOf(0.9, "isotonitazene")}
	res := savePage(t, db, page(sw, "shop", l.URL, at, "body"), l)
	hits, err := db.Hits(ctx, HitFilter{IDs: []int64{res.Listings[0].HitID}, MaxText: 11})
	if err != nil || len(hits) != 1 {
		t.Fatalf("Hits = %v, %v", hits, err)
	}
	h := hits[0]
	if !h.Cut || h.Title != "éüüüü" || h.Text != "éüüüü" || h.Description != "éüüüü" || h.Vendor != "v" {
		t.Errorf("cut hit: cut %v, title %q, text %q, description %q, vendor %q", h.Cut, h.Title, h.Text, h.Description, h.Vendor)
	}
	whole, _ := db.Hits(ctx, HitFilter{IDs: []int64{h.ID}})
	if whole[0].Cut || whole[0].Text != long {
		t.Errorf("uncut hit: cut %v, %d bytes", whole[0].Cut, len(whole[0].Text))
	}
	vs, err := db.ListingHistoryCut(ctx, h.ListingID, 11)
	if err != nil || len(vs) != 1 || !vs[0].Cut || vs[0].Text != "éüüüü" {
		t.Errorf("ListingHistoryCut = %+v, %v", vs, err)
	}
	evs, err := db.HitEvidenceInfo(ctx, h.ID)
	if err != nil || len(evs) != 1 || evs[0].ResponseBytes != nil || evs[0].Size != len(page(sw, "shop", l.URL, at, "body").Evidence.ResponseBytes) || evs[0].SHA256 == "" {
		t.Errorf("HitEvidenceInfo = %+v, %v", evs, err)
	}
	if _, err := db.HitEvidenceInfo(ctx, 99_999); !errors.Is(err, ErrNotFound) {
		t.Errorf("HitEvidenceInfo of a missing hit: %v", err)
	}
}
