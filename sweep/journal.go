package sweep

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"snoop/crawler"
	"snoop/store"
)

// maxBatch bounds the writes committed in one transaction.
const maxBatch = 512

// maxQueuedBytes bounds the bytes (evidence, listing text, URLs) of the
// writes waiting in the journal: when the disk is slower than the crawl,
// writers wait instead of piling pages up in memory.
const maxQueuedBytes = 64 << 20

// batchLinger is how long the journal waits for more writes before it
// commits a small batch: a commit costs a disk sync, so gathering the
// writes of a few more pages is cheaper than syncing for each.
const batchLinger = 20 * time.Millisecond

// journal funnels every write of a sweep — frontier changes and pages — to
// one goroutine that applies them in order, many per transaction. Writers
// never wait for a commit, so fetching goes on while SQLite syncs; when the
// goroutine is busy, the writes that arrive meanwhile share the next commit.
// Because writes are applied in order and each batch is one transaction,
// the database always holds a prefix of the sweep: a URL is done only after
// its page and the links found on it are stored. After a failed commit the
// journal drops every later write and reports the failure.
type journal struct {
	db       *store.DB
	log      *slog.Logger
	ops      chan unit // the writes of a unit always share one transaction
	onCommit func([]store.BatchOp)
	done     chan struct{}
	budget   budget

	mu  sync.Mutex
	err error
}

// unit is writes submitted together, with their size in bytes. A unit
// with flushed set carries no writes: the journal closes flushed once every
// write before it is committed (or dropped after a failure).
type unit struct {
	ops     []store.BatchOp
	size    int64
	flushed chan struct{}
}

func newJournal(db *store.DB, onCommit func([]store.BatchOp)) *journal {
	j := &journal{db: db, ops: make(chan unit, 4*maxBatch), onCommit: onCommit, done: make(chan struct{})}
	j.budget.init(maxQueuedBytes)
	return j
}

// run applies writes until close; ctx should not be cancelled by the
// sweep's interruption, since what was fetched is to be kept.
func (j *journal) run(ctx context.Context) {
	defer close(j.done)
	batch := make([]store.BatchOp, 0, maxBatch)
	linger := time.NewTimer(batchLinger)
	defer linger.Stop()
	var flushed []chan struct{}
	for u := range j.ops {
		batch = append(batch[:0], u.ops...)
		size := u.size
		if u.flushed != nil {
			flushed = append(flushed, u.flushed)
		}
		linger.Reset(batchLinger)
	fill:
		for len(batch) < maxBatch && len(flushed) == 0 {
			select {
			case u, ok := <-j.ops:
				if !ok {
					break fill
				}
				batch = append(batch, u.ops...)
				size += u.size
				if u.flushed != nil {
					flushed = append(flushed, u.flushed)
				}
			case <-linger.C:
				break fill
			}
		}
		if len(batch) > 0 {
			j.apply(ctx, batch)
		}
		clear(batch) // the pages are stored: let their bytes go
		j.budget.release(size)
		for _, c := range flushed {
			close(c)
		}
		flushed = flushed[:0]
	}
}

// busyRetries bounds how long the journal waits for a write lock that
// another process holds: each try waits the store's busy timeout, then
// busyPause.
const (
	busyRetries = 30
	busyPause   = 100 * time.Millisecond
)

// apply commits a batch, unless an earlier one failed. While another
// process holds the database's write lock for longer than the busy timeout
// (a long `snoop export`, say), the batch, which was rolled back whole, is
// tried again.
func (j *journal) apply(ctx context.Context, batch []store.BatchOp) {
	if j.failed() != nil {
		return // drain: later writes must not land after a lost one
	}
	err := j.db.ApplyBatch(ctx, batch)
	for try := 0; store.IsBusy(err) && try < busyRetries; try++ {
		if try == 0 && j.log != nil {
			j.log.Warn("waiting for the database: another process holds its write lock", "writes", len(batch))
		}
		time.Sleep(busyPause)
		err = j.db.ApplyBatch(ctx, batch)
	}
	if err != nil {
		j.mu.Lock()
		j.err = err
		j.mu.Unlock()
		return
	}
	if j.onCommit != nil {
		j.onCommit(batch)
	}
}

// submit queues writes that are committed together, in one transaction;
// it fails once an earlier commit failed. It waits while the writes
// already queued hold maxQueuedBytes.
func (j *journal) submit(ops ...store.BatchOp) error {
	if err := j.failed(); err != nil {
		return fmt.Errorf("%w: %w", crawler.ErrStop, err)
	}
	u := unit{ops: ops, size: opsSize(ops)}
	u.size = j.budget.acquire(u.size)
	j.ops <- u
	return nil
}

// opsSize estimates the memory that writes hold.
func opsSize(ops []store.BatchOp) int64 {
	n := int64(0)
	for _, op := range ops {
		n += 64
		switch {
		case op.Page != nil:
			e := &op.Page.Page.Evidence
			n += int64(len(e.RequestBytes) + len(e.ResponseBytes) + len(op.Page.Page.URL))
			for _, l := range op.Page.Listings {
				n += int64(len(l.URL) + len(l.Text) + 64)
				for k, v := range l.Fields {
					n += int64(len(k) + len(v))
				}
			}
		case op.Push != nil:
			for _, it := range op.Push.Items {
				n += int64(len(it.URL) + 16)
			}
		case op.Touch != nil:
			n += int64(len(op.Touch.Evidence.RequestBytes) + len(op.Touch.Evidence.ResponseBytes))
		case op.Screenshot != nil:
			n += int64(len(op.Screenshot.Shot.PNG))
		}
	}
	return n
}

// budget bounds the bytes held by queued writes.
type budget struct {
	mu   sync.Mutex
	cond *sync.Cond
	used int64
	max  int64
}

func (b *budget) init(max int64) {
	b.max = max
	b.cond = sync.NewCond(&b.mu)
}

// acquire waits until n bytes fit in the budget, takes them and returns
// how many it took: n, or the whole budget for a larger unit (which then
// waits for the queue to empty).
func (b *budget) acquire(n int64) int64 {
	n = min(n, b.max)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
	return n
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (j *journal) failed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// flush waits until every write submitted before it is committed.
func (j *journal) flush() {
	c := make(chan struct{})
	j.ops <- unit{flushed: c}
	<-c
}

// close commits the queued writes and returns the first failure.
func (j *journal) close() error {
	close(j.ops)
	<-j.done
	return j.failed()
}

// journalFrontier is one marketplace's crawl frontier for one sweep. The
// process keeps the state of each URL as a 64-bit hash (so memory grows by a
// few bytes per URL, not by the URL) plus the queue of URLs still to fetch;
// the store keeps the full frontier through the journal, so a sweep stopped
// in any way resumes where it stopped. Claims are not written: a URL that
// was claimed but not done is still queued in the store, and is fetched again
// on resume.
type journalFrontier struct {
	db      *store.DB
	j       *journal
	sweepID int64
	market  string
	seed    maphash.Seed
	resumed bool // the sweep ran before: its frontier is in the store

	mu    sync.Mutex
	state map[uint64]int8
	queue []crawler.FrontierEntry
	head  int
	n     crawler.FrontierCounts
}

const (
	urlQueued int8 = iota + 1
	urlClaimed
	urlDone
)

var _ crawler.Frontier = (*journalFrontier)(nil)

func newJournalFrontier(db *store.DB, j *journal, sweepID int64, market string, resumed bool) *journalFrontier {
	return &journalFrontier{db: db, j: j, sweepID: sweepID, market: market, resumed: resumed, seed: maphash.MakeSeed(), state: map[uint64]int8{}}
}

func (f *journalFrontier) key(url string) uint64 { return maphash.String(f.seed, url) }

// Resume loads the frontier a previous run of this sweep left in the store.
// It writes nothing: the journal never stores a claim, so a URL that was
// in flight is still queued in the store (a claimed row, left by an older
// version, counts as queued too). A new sweep has no frontier to load.
func (f *journalFrontier) Resume(ctx context.Context) (crawler.FrontierCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.resumed {
		return f.n, nil
	}
	err := f.db.FrontierEach(ctx, f.sweepID, f.market, func(it store.FrontierItem, state string) error {
		k := f.key(it.URL)
		if state == store.FrontierQueued || state == store.FrontierClaimed {
			f.state[k] = urlQueued
			f.queue = append(f.queue, crawler.FrontierEntry{URL: it.URL, Depth: it.Depth})
			f.n.Queued++
			return nil
		}
		f.state[k] = urlDone
		f.n.Done++
		return nil
	})
	return f.n, err
}

// Add queues entries not seen before, at most limit of them when limit >= 0.
func (f *journalFrontier) Add(ctx context.Context, entries []crawler.FrontierEntry, limit int) (added, dropped int, err error) {
	f.mu.Lock()
	var items []store.FrontierItem
	var over map[uint64]bool
	for _, e := range entries {
		k := f.key(e.URL)
		if f.state[k] != 0 {
			continue
		}
		if limit >= 0 && added >= limit {
			if over == nil {
				over = map[uint64]bool{}
			}
			if !over[k] {
				over[k] = true
				dropped++
			}
			continue
		}
		f.state[k] = urlQueued
		f.queue = append(f.queue, e)
		f.n.Queued++
		added++
		items = append(items, store.FrontierItem{URL: e.URL, Depth: e.Depth})
	}
	f.mu.Unlock()
	if len(items) == 0 {
		return added, dropped, nil
	}
	return added, dropped, f.j.submit(store.BatchOp{Push: &store.FrontierPushOp{SweepID: f.sweepID, Market: f.market, Items: items}})
}

// Claim hands out the oldest queued URL.
func (f *journalFrontier) Claim(ctx context.Context) (crawler.FrontierEntry, bool, error) {
	if err := f.j.failed(); err != nil {
		return crawler.FrontierEntry{}, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head < len(f.queue) {
		e := f.queue[f.head]
		f.queue[f.head] = crawler.FrontierEntry{}
		f.head++
		if f.head > 1024 && f.head*2 > len(f.queue) {
			f.queue = append([]crawler.FrontierEntry(nil), f.queue[f.head:]...)
			f.head = 0
		}
		k := f.key(e.URL)
		if f.state[k] != urlQueued { // done through a redirect while queued
			continue
		}
		f.state[k] = urlClaimed
		f.n.Queued--
		f.n.Claimed++
		return e, true, nil
	}
	return crawler.FrontierEntry{}, false, nil
}

// Done marks url done, in memory now and in the store after everything
// written before it.
func (f *journalFrontier) Done(ctx context.Context, url string) error {
	if !f.markDone(url) {
		return nil
	}
	return f.j.submit(f.doneOp(url))
}

// markDone marks url done in memory and reports whether it was not done yet.
func (f *journalFrontier) markDone(url string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.key(url)
	switch f.state[k] {
	case urlQueued:
		f.n.Queued--
	case urlClaimed:
		f.n.Claimed--
	case urlDone:
		return false
	}
	f.state[k] = urlDone
	f.n.Done++
	return true
}

// doneOp is the store write that marks url done.
func (f *journalFrontier) doneOp(url string) store.BatchOp {
	return store.BatchOp{Done: &store.FrontierDoneOp{SweepID: f.sweepID, Market: f.market, URL: url, State: store.FrontierDone}}
}
