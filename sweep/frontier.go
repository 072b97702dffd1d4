package sweep

import (
	"context"
	"sync"

	"snoop/crawler"
	"snoop/store"
)

// storeFrontier keeps one marketplace's crawl frontier of one sweep in the
// store, so that a sweep stopped by Ctrl-C, SIGTERM or kill -9 continues
// where it stopped. It claims URLs from the store a few at a time; claimed
// URLs that were never finished go back to the queue on resume.
type storeFrontier struct {
	db      *store.DB
	sweepID int64
	market  string
	batch   int

	mu      sync.Mutex
	claimed []crawler.FrontierEntry // claimed in the store, not yet handed out
}

var _ crawler.Frontier = (*storeFrontier)(nil)

func newStoreFrontier(db *store.DB, sweepID int64, market string, batch int) *storeFrontier {
	if batch < 1 {
		batch = 1
	}
	return &storeFrontier{db: db, sweepID: sweepID, market: market, batch: batch}
}

// Resume requeues the URLs a previous run left claimed.
func (f *storeFrontier) Resume(ctx context.Context) (crawler.FrontierCounts, error) {
	if _, err := f.db.FrontierRequeueClaimed(ctx, f.sweepID, f.market); err != nil {
		return crawler.FrontierCounts{}, err
	}
	c, err := f.db.FrontierCounts(ctx, f.sweepID, f.market)
	if err != nil {
		return crawler.FrontierCounts{}, err
	}
	return crawler.FrontierCounts{
		Queued:  c[store.FrontierQueued],
		Claimed: c[store.FrontierClaimed],
		Done:    c[store.FrontierDone] + c[store.FrontierFailed],
	}, nil
}

// Add queues entries the frontier does not know yet.
func (f *storeFrontier) Add(ctx context.Context, entries []crawler.FrontierEntry, limit int) (int, int, error) {
	items := make([]store.FrontierItem, len(entries))
	for i, e := range entries {
		items[i] = store.FrontierItem{URL: e.URL, Depth: e.Depth}
	}
	return f.db.FrontierPush(ctx, f.sweepID, f.market, items, limit)
}

// Claim hands out the oldest queued URL, claiming a batch from the store
// when its local supply is empty.
func (f *storeFrontier) Claim(ctx context.Context) (crawler.FrontierEntry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.claimed) == 0 {
		items, err := f.db.FrontierClaim(ctx, f.sweepID, f.market, f.batch)
		if err != nil {
			return crawler.FrontierEntry{}, false, err
		}
		for _, it := range items {
			f.claimed = append(f.claimed, crawler.FrontierEntry{URL: it.URL, Depth: it.Depth})
		}
	}
	if len(f.claimed) == 0 {
		return crawler.FrontierEntry{}, false, nil
	}
	e := f.claimed[0]
	f.claimed = f.claimed[1:]
	return e, true, nil
}

// Done marks url finished.
func (f *storeFrontier) Done(ctx context.Context, url string) error {
	return f.db.FrontierDone(ctx, f.sweepID, f.market, url, store.FrontierDone)
}
