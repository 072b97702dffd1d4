// Package schedule runs each marketplace's sweeps on its `schedule` (a
// 5-field cron expression or a descriptor such as "@every 6h" or
// "@hourly", parsed by github.com/robfig/cron/v3) for `snoop serve`.
//
// The scheduler guarantees that:
//   - one marketplace never has two sweeps running at once: a slot that comes
//     while its sweep runs is skipped, and the next slot is computed from the
//     time the sweep finished;
//   - at most MaxParallel marketplaces are swept at once; due marketplaces
//     wait in a first-come queue;
//   - each scheduled start is delayed by a random jitter in [0, MaxJitter),
//     so marketplaces on the same cron line do not all start together;
//   - after a restart, a marketplace whose slot passed while the program was
//     down (or whose last sweep was interrupted, or that was never swept)
//     is swept once at start, not once per missed slot;
//   - Reload swaps the configuration without stopping running sweeps: they
//     finish with the configuration they started with;
//   - when the context given to Start ends, running sweeps are cancelled
//     (the sweep records them as interrupted, to be resumed by the next
//     run) and Wait returns once they have all returned.
//
// Time is injected (Options.Now and Options.AfterFunc) so that tests drive
// the scheduler with a fake clock and never sleep.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"snoop/config"
)

// Errors reported by SweepNow.
var (
	ErrUnknownMarket = errors.New("no such marketplace")
	ErrRunning       = errors.New("a sweep of this marketplace is already running")
	ErrStopped       = errors.New("scheduler is not running")
)

// LastRun is the latest sweep of a marketplace as recorded in the store.
type LastRun struct {
	Started time.Time
	Status  string // running, completed, interrupted or failed
}

// Options configure a Scheduler. Sweep is required.
type Options struct {
	// Sweep runs one sweep of m and returns its sweep ID. It must return
	// soon after ctx is cancelled.
	Sweep func(ctx context.Context, m config.Market) (int64, error)
	// LastRuns returns the latest sweep of each marketplace, for catch-up
	// after a restart. Nil means no marketplace was ever swept.
	LastRuns func(ctx context.Context) (map[string]LastRun, error)
	// MaxParallel bounds how many marketplaces are swept at once; 0 means 2.
	MaxParallel int
	// MaxJitter is the upper bound of the random delay added to every
	// scheduled start; 0 means none.
	MaxJitter time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// AfterFunc calls f in its own goroutine after d and returns a function
	// that cancels the call; nil means time.AfterFunc. Fake clocks may call
	// f from their own Advance method.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Jitter returns a random duration in [0, max); nil means uniform.
	Jitter func(max time.Duration) time.Duration
	// Logger receives scheduling events; nil discards them.
	Logger *slog.Logger
}

// MarketStatus is what the scheduler knows about one marketplace.
type MarketStatus struct {
	Name         string    `json:"name"`
	Schedule     string    `json:"schedule"`          // as configured; "" means manual only
	Running      bool      `json:"running"`           // a sweep runs now
	Queued       bool      `json:"queued"`            // due, waiting for a free slot
	Next         time.Time `json:"next_run,omitzero"` // next scheduled start (jitter included)
	LastStarted  time.Time `json:"last_started,omitzero"`
	LastFinished time.Time `json:"last_finished,omitzero"`
	LastSweepID  int64     `json:"last_sweep_id,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	Removed      bool      `json:"removed,omitempty"` // gone from the config; its running sweep finishes
}

// Scheduler runs marketplace sweeps on their schedules. It is safe for
// concurrent use.
type Scheduler struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // from Start; nil before
	stopped bool
	entries map[string]*entry
	order   []string // names in config order
	queue   []*entry
	active  int
	gen     uint64 // identifies the armed timer; stale fires are ignored
	stop    func() bool
	wg      sync.WaitGroup

	// onRunDone, if set (by tests), is called after a finished run has been
	// accounted for.
	onRunDone func(name string)
}

type entry struct {
	market   config.Market
	sched    cron.Schedule // nil: manual only
	next     time.Time     // zero: not scheduled (manual only, queued or running)
	queued   bool
	running  bool
	removed  bool
	started  time.Time
	finished time.Time
	sweepID  int64
	lastErr  string
}

// New returns a scheduler for markets; it does nothing until Start. It
// fails, naming every marketplace, if a schedule does not parse.
func New(markets []config.Market, opts Options) (*Scheduler, error) {
	if opts.Sweep == nil {
		return nil, errors.New("schedule: Options.Sweep is required")
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if opts.Jitter == nil {
		opts.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{opts: opts, log: log, entries: map[string]*entry{}}
	scheds, err := parseAll(markets)
	if err != nil {
		return nil, err
	}
	for _, m := range markets {
		s.entries[m.Name] = &entry{market: m, sched: scheds[m.Name]}
		s.order = append(s.order, m.Name)
	}
	return s, nil
}

// Parse parses a marketplace schedule: five cron fields (minute hour
// day-of-month month day-of-week) or a descriptor such as "@every 6h",
// "@hourly" or "@daily". The empty string means no schedule (nil).
func Parse(spec string) (cron.Schedule, error) {
	if spec == "" {
		return nil, nil
	}
	sc, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return sc, nil
}

func parseAll(markets []config.Market) (map[string]cron.Schedule, error) {
	out := map[string]cron.Schedule{}
	var errs []error
	for _, m := range markets {
		sc, err := Parse(m.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("marketplace %s: %w", m.Name, err))
			continue
		}
		if _, dup := out[m.Name]; dup {
			errs = append(errs, fmt.Errorf("marketplace %s: listed twice", m.Name))
		}
		out[m.Name] = sc
	}
	return out, errors.Join(errs...)
}

// Start loads the last runs, plans every marketplace's next start (catching
// up one missed run), and starts the timer. Sweeps run with ctx; when it
// ends, they are cancelled and no new sweep starts.
func (s *Scheduler) Start(ctx context.Context) error {
	last, err := s.lastRuns(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return errors.New("schedule: already started")
	}
	s.ctx = ctx
	now := s.opts.Now()
	for _, name := range s.order {
		s.plan(s.entries[name], last[name], now)
	}
	s.arm(now)
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stopped = true
		s.queue = nil
		if s.stop != nil {
			s.stop()
		}
		s.log.Info("scheduler stopping", "running", s.active)
	}()
	return nil
}

// Wait blocks until the context given to Start has ended and every running
// sweep has returned.
func (s *Scheduler) Wait() {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil {
		return
	}
	<-ctx.Done()
	s.mu.Lock() // the stop goroutine may still be setting stopped
	s.stopped = true
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Scheduler) lastRuns(ctx context.Context) (map[string]LastRun, error) {
	if s.opts.LastRuns == nil {
		return nil, nil
	}
	last, err := s.opts.LastRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedule: last runs: %w", err)
	}
	return last, nil
}

// plan sets e's next start from its last run: a slot missed while the
// program was down, an interrupted last sweep, or no sweep at all means
// one run now.
func (s *Scheduler) plan(e *entry, last LastRun, now time.Time) {
	if e.started.IsZero() {
		e.started = last.Started
	}
	if e.sched == nil || e.running || e.queued {
		e.next = time.Time{}
		return
	}
	switch {
	case last.Started.IsZero():
		e.next = now.Add(s.jitter())
		s.log.Info("never swept: sweeping now", "market", e.market.Name)
	case last.Status == "running" || last.Status == "interrupted":
		e.next = now.Add(s.jitter())
		s.log.Info("last sweep did not finish: resuming now", "market", e.market.Name, "last", last.Started)
	default:
		slot := e.sched.Next(last.Started)
		if !slot.After(now) {
			e.next = now.Add(s.jitter())
			s.log.Info("missed a scheduled sweep: catching up now", "market", e.market.Name, "missed", slot)
			return
		}
		e.next = slot.Add(s.jitter())
	}
}

func (s *Scheduler) jitter() time.Duration {
	if s.opts.MaxJitter <= 0 {
		return 0
	}
	return s.opts.Jitter(s.opts.MaxJitter)
}

// arm sets the timer for the earliest planned start. Called with mu held.
func (s *Scheduler) arm(now time.Time) {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	if s.halted() {
		return
	}
	var earliest time.Time
	for _, e := range s.entries {
		if e.next.IsZero() || e.running || e.queued || e.removed {
			continue
		}
		if earliest.IsZero() || e.next.Before(earliest) {
			earliest = e.next
		}
	}
	if earliest.IsZero() {
		return
	}
	s.gen++
	gen := s.gen
	s.stop = s.opts.AfterFunc(max(earliest.Sub(now), 0), func() { s.fire(gen) })
}

// fire queues every marketplace whose start has come and starts what the
// parallelism bound allows.
func (s *Scheduler) fire(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen || s.halted() {
		return
	}
	now := s.opts.Now()
	for _, name := range s.order {
		e := s.entries[name]
		if e.next.IsZero() || e.next.After(now) || e.running || e.queued || e.removed {
			continue
		}
		e.next = time.Time{}
		e.queued = true
		s.queue = append(s.queue, e)
	}
	s.dispatch(now)
	s.arm(now)
}

// halted reports whether the scheduler is not (or no longer) running.
// Called with mu held.
func (s *Scheduler) halted() bool {
	return s.ctx == nil || s.stopped || s.ctx.Err() != nil
}

// dispatch starts queued sweeps while slots are free. Called with mu held.
func (s *Scheduler) dispatch(now time.Time) {
	for !s.halted() && s.active < s.opts.MaxParallel && len(s.queue) > 0 {
		e := s.queue[0]
		s.queue = s.queue[1:]
		e.queued = false
		if e.removed {
			continue
		}
		e.running = true
		e.started = now
		s.active++
		s.wg.Add(1)
		go s.run(s.ctx, e, e.market)
	}
}

func (s *Scheduler) run(ctx context.Context, e *entry, m config.Market) {
	defer s.wg.Done()
	s.log.Info("sweep starting", "market", m.Name)
	id, err := s.opts.Sweep(ctx, m)
	if err != nil {
		s.log.Warn("sweep ended with an error", "market", m.Name, "sweep", id, "err", err)
	} else {
		s.log.Info("sweep finished", "market", m.Name, "sweep", id)
	}

	s.mu.Lock()
	now := s.opts.Now()
	e.running = false
	e.finished = now
	e.sweepID = id
	e.lastErr = ""
	if err != nil {
		e.lastErr = err.Error()
	}
	s.active--
	switch {
	case e.removed:
		delete(s.entries, m.Name)
		s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == m.Name })
	case e.sched != nil && !e.queued:
		e.next = e.sched.Next(now).Add(s.jitter())
	}
	s.dispatch(now)
	s.arm(now)
	hook := s.onRunDone
	s.mu.Unlock()
	if hook != nil {
		hook(m.Name)
	}
}

// SweepNow queues a sweep of the named marketplace at once (it starts when
// the parallelism bound allows). It reports ErrUnknownMarket, ErrRunning if
// the marketplace is being swept, or ErrStopped; queueing a marketplace
// that is already queued does nothing.
func (s *Scheduler) SweepNow(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	switch {
	case !ok || e.removed:
		return fmt.Errorf("sweep %s: %w", name, ErrUnknownMarket)
	case s.halted():
		return fmt.Errorf("sweep %s: %w", name, ErrStopped)
	case e.running:
		return fmt.Errorf("sweep %s: %w", name, ErrRunning)
	case e.queued:
		return nil
	}
	s.log.Info("sweep requested", "market", name)
	e.queued = true
	s.queue = append(s.queue, e)
	now := s.opts.Now()
	s.dispatch(now)
	s.arm(now)
	return nil
}

// Reload replaces the marketplaces. Running sweeps go on with the
// configuration they started with; a marketplace removed from the config
// disappears when its sweep ends. New marketplaces are planned as at Start
// (catching up a missed run); marketplaces whose schedule changed get their
// next start from the new schedule. If any schedule does not parse, nothing
// changes and the error names every bad one.
func (s *Scheduler) Reload(ctx context.Context, markets []config.Market) error {
	scheds, err := parseAll(markets)
	if err != nil {
		return err
	}
	last, err := s.lastRuns(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	keep := map[string]bool{}
	var order []string
	for _, m := range markets {
		keep[m.Name] = true
		order = append(order, m.Name)
		e, ok := s.entries[m.Name]
		if !ok {
			e = &entry{market: m, sched: scheds[m.Name]}
			s.entries[m.Name] = e
			if s.ctx != nil {
				s.plan(e, last[m.Name], now)
			}
			continue
		}
		e.removed = false
		changed := e.market.Schedule != m.Schedule
		e.market = m
		e.sched = scheds[m.Name]
		if changed && !e.running && !e.queued {
			e.next = time.Time{}
			if e.sched != nil {
				e.next = e.sched.Next(now).Add(s.jitter())
			}
		}
	}
	for name, e := range s.entries {
		if keep[name] {
			continue
		}
		if e.running {
			e.removed = true
			order = append(order, name)
			continue
		}
		delete(s.entries, name)
	}
	var queue []*entry
	for _, e := range s.queue {
		if keep[e.market.Name] {
			queue = append(queue, e)
		} else {
			e.queued = false
		}
	}
	s.queue = queue
	s.order = order
	s.log.Info("configuration reloaded", "marketplaces", len(markets))
	s.arm(now)
	return nil
}

// Status reports every marketplace in config order (marketplaces removed by
// a reload while their sweep runs come last).
func (s *Scheduler) Status() []MarketStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MarketStatus, 0, len(s.order))
	for _, name := range s.order {
		e, ok := s.entries[name]
		if !ok {
			continue
		}
		out = append(out, MarketStatus{
			Name:         name,
			Schedule:     e.market.Schedule,
			Running:      e.running,
			Queued:       e.queued,
			Next:         e.next,
			LastStarted:  e.started,
			LastFinished: e.finished,
			LastSweepID:  e.sweepID,
			LastError:    e.lastErr,
			Removed:      e.removed,
		})
	}
	return out
}

// Market returns the current configuration of the named marketplace.
func (s *Scheduler) Market(name string) (config.Market, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	if !ok || e.removed {
		return config.Market{}, false
	}
	return e.market, true
}
