package crawler

import (
	"context"
	"sync"
)

// Frontier is the set of URLs that one sweep of one marketplace has discovered.
// Sweep uses it instead of Colly's visited set and queue, so that a sweep can be
// resumed after a crash: Colly marks a URL visited before fetching it, which would
// lose the URLs in flight.
//
// Every URL (in the canonical form of Canonicalize) is in exactly one state:
//
//	queued  - discovered, waiting to be fetched
//	claimed - handed to a worker; fetch in progress (or interrupted)
//	done    - finished: fetched and handed to the Sink, skipped, or failed for good
//
// Transitions: (new) -Add-> queued -Claim-> claimed -Done-> done, and
// claimed -Resume-> queued. A URL is never added twice: Add ignores URLs known in
// any state, so a done URL is never refetched in the same sweep. When the Sink
// fails for a page, Sweep leaves its URL claimed so that a resumed sweep fetches it
// again.
//
// An implementation is scoped to one sweep of one marketplace (the store keys its
// rows by sweep ID and marketplace name) and must be safe for concurrent use.
// Sweep calls Resume once before anything else. Methods return errors only for
// storage failures; Sweep then stops with that error.
type Frontier interface {
	// Resume moves every claimed URL back to queued (work that was in flight when a
	// previous run stopped) and reports the resulting counts.
	Resume(ctx context.Context) (FrontierCounts, error)
	// Add queues, in order, each entry whose URL the frontier does not hold in any
	// state, and stops adding once limit entries were added (limit < 0: no limit).
	// It returns how many entries it added and how many unknown entries it left
	// out because of the limit. An URL repeated within entries counts once.
	Add(ctx context.Context, entries []FrontierEntry, limit int) (added, dropped int, err error)
	// Claim moves the oldest queued URL to claimed and returns it. ok is false when
	// no URL is queued.
	Claim(ctx context.Context) (e FrontierEntry, ok bool, err error)
	// Done marks url done, adding it in that state when it is unknown (the target
	// of a redirect, so it is not fetched again).
	Done(ctx context.Context, url string) error
}

// FrontierEntry is one URL of a Frontier.
type FrontierEntry struct {
	URL   string // canonical
	Depth int    // link distance from a start URL
}

// FrontierCounts are the numbers of URLs in each state.
type FrontierCounts struct{ Queued, Claimed, Done int }

// MemFrontier is an in-memory Frontier, used by Sweep when Options.Frontier is
// nil. Its zero value is ready to use. It does not survive the process.
type MemFrontier struct {
	mu    sync.Mutex
	state map[string]memState
	queue []FrontierEntry // queued entries in order; claimed ones are removed
	head  int
	n     FrontierCounts
}

type memState struct {
	s     int8 // stateQueued, stateClaimed or stateDone
	depth int
}

const (
	stateQueued int8 = iota + 1
	stateClaimed
	stateDone
)

var _ Frontier = (*MemFrontier)(nil)

// Resume moves claimed URLs back to queued.
func (f *MemFrontier) Resume(ctx context.Context) (FrontierCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for u, st := range f.state {
		if st.s == stateClaimed {
			f.state[u] = memState{stateQueued, st.depth}
			f.queue = append(f.queue, FrontierEntry{URL: u, Depth: st.depth})
			f.n.Claimed--
			f.n.Queued++
		}
	}
	return f.n, nil
}

// Add queues unknown entries, at most limit of them when limit >= 0.
func (f *MemFrontier) Add(ctx context.Context, entries []FrontierEntry, limit int) (added, dropped int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		f.state = map[string]memState{}
	}
	var over map[string]bool
	for _, e := range entries {
		if _, ok := f.state[e.URL]; ok {
			continue
		}
		if limit >= 0 && added >= limit {
			if over == nil {
				over = map[string]bool{}
			}
			if !over[e.URL] {
				over[e.URL] = true
				dropped++
			}
			continue
		}
		f.state[e.URL] = memState{stateQueued, e.Depth}
		f.queue = append(f.queue, e)
		f.n.Queued++
		added++
	}
	return added, dropped, nil
}

// Claim returns the oldest queued entry.
func (f *MemFrontier) Claim(ctx context.Context) (FrontierEntry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head < len(f.queue) {
		e := f.queue[f.head]
		f.queue[f.head] = FrontierEntry{}
		f.head++
		if f.head > 1024 && f.head*2 > len(f.queue) {
			f.queue = append([]FrontierEntry(nil), f.queue[f.head:]...)
			f.head = 0
		}
		if f.state[e.URL].s != stateQueued { // marked done by a redirect while queued
			continue
		}
		f.state[e.URL] = memState{stateClaimed, e.Depth}
		f.n.Queued--
		f.n.Claimed++
		return e, true, nil
	}
	return FrontierEntry{}, false, nil
}

// Done marks url done.
func (f *MemFrontier) Done(ctx context.Context, url string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		f.state = map[string]memState{}
	}
	st := f.state[url]
	switch st.s {
	case stateQueued:
		f.n.Queued--
	case stateClaimed:
		f.n.Claimed--
	case stateDone:
		return nil
	}
	f.state[url] = memState{stateDone, st.depth}
	f.n.Done++
	return nil
}

// Counts returns the numbers of URLs in each state.
func (f *MemFrontier) Counts() FrontierCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
