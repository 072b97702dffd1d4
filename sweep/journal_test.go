package sweep

import (
	"context"
	"errors"
	"testing"

	"snoop/crawler"
	"snoop/store"
)

func TestJournalStopsAfterAFailedCommit(t *testing.T) {
	_, db := testRunner(t)
	ctx := context.Background()
	id, err := db.BeginSweep(ctx, []string{"shop"}, "sha256:x", db.Now())
	if err != nil {
		t.Fatal(err)
	}
	commits := make(chan int, 10)
	j := newJournal(db, func(ops []store.BatchOp) { commits <- len(ops) })
	go j.run(ctx)
	push := func(u string) store.BatchOp {
		return store.BatchOp{Push: &store.FrontierPushOp{SweepID: id, Market: "shop", Items: []store.FrontierItem{{URL: u}}}}
	}
	if err := j.submit(push("http://shop/a")); err != nil {
		t.Fatal(err)
	}
	if n := <-commits; n != 1 {
		t.Fatalf("first commit had %d writes, want 1", n)
	}
	// A page without a sweep cannot be stored: its batch fails as a full disk would.
	bad := store.BatchOp{Page: &store.PageOp{Page: store.PageRecord{Market: "shop", URL: "http://shop/p"}}}
	j.submit(bad, push("http://shop/b"))
	for j.failed() == nil {
		j.submit(push("http://shop/c")) // waits until the failing batch was applied
	}
	if err := j.submit(push("http://shop/d")); !errors.Is(err, crawler.ErrStop) {
		t.Errorf("submit after a failed commit = %v, want an error wrapping crawler.ErrStop", err)
	}
	if err := j.close(); err == nil {
		t.Error("close did not report the failed commit")
	}
	// Nothing submitted with or after the failed write is in the store.
	counts, err := db.FrontierCounts(ctx, id, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.FrontierQueued] != 1 || len(commits) != 0 {
		t.Errorf("queued = %d, later commits = %d; want only the first push (1, 0)", counts[store.FrontierQueued], len(commits))
	}
}
