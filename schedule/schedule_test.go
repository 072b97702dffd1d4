package schedule

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"snoop/config"
)

// fakeClock is a manual clock: time moves only in Advance, which runs the
// callbacks of every timer that came due, in deadline order, on the
// caller's goroutine. So when Advance returns, the scheduler has done all
// it had to do up to the new time, and tests need no sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock forward by d, firing due timers (including ones
// armed by the callbacks) at their own deadlines.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var live []*fakeTimer
		for _, t := range c.timers {
			if !t.stopped {
				live = append(live, t)
			}
		}
		sort.SliceStable(live, func(i, j int) bool { return live[i].at.Before(live[j].at) })
		c.timers = live
		if len(live) == 0 || live[0].at.After(end) {
			c.now = end
			c.mu.Unlock()
			return
		}
		t := live[0]
		t.stopped = true
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.mu.Unlock()
		t.f()
	}
}

// fakeSweeps records sweep starts and lets the test decide when each sweep
// returns.
type fakeSweeps struct {
	started chan string
	mu      sync.Mutex
	release map[string]chan error
	ctxs    map[string]context.Context
	nextID  int64
}

func newFakeSweeps() *fakeSweeps {
	return &fakeSweeps{started: make(chan string, 100), release: map[string]chan error{}, ctxs: map[string]context.Context{}}
}

func (f *fakeSweeps) sweep(ctx context.Context, m config.Market) (int64, error) {
	f.mu.Lock()
	ch := make(chan error, 1)
	f.release[m.Name] = ch
	f.ctxs[m.Name] = ctx
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	f.started <- m.Name
	select {
	case err := <-ch:
		return id, err
	case <-ctx.Done():
		return id, ctx.Err()
	}
}

// finish makes the running sweep of name return err.
func (f *fakeSweeps) finish(t *testing.T, name string, err error) {
	t.Helper()
	f.mu.Lock()
	ch := f.release[name]
	f.mu.Unlock()
	if ch == nil {
		t.Fatalf("no sweep of %s to finish", name)
	}
	ch <- err
}

const wait = 5 * time.Second

// expectStarts waits for exactly the named sweeps to start (in any order).
func (f *fakeSweeps) expectStarts(t *testing.T, names ...string) {
	t.Helper()
	want := map[string]int{}
	for _, n := range names {
		want[n]++
	}
	for range names {
		select {
		case n := <-f.started:
			if want[n] == 0 {
				t.Fatalf("sweep of %s started; want only %v", n, names)
			}
			want[n]--
		case <-time.After(wait):
			t.Fatalf("timed out waiting for sweeps of %v", names)
		}
	}
}

// expectNoStart checks that no sweep has started. Sweeps are started by
// the scheduler under its lock before Advance or SweepNow returns, and the
// fake sends on a buffered channel first thing, so a short look suffices.
func (f *fakeSweeps) expectNoStart(t *testing.T) {
	t.Helper()
	select {
	case n := <-f.started:
		t.Fatalf("unexpected sweep of %s", n)
	default:
	}
}

type harness struct {
	t      *testing.T
	clock  *fakeClock
	sweeps *fakeSweeps
	s      *Scheduler
	done   chan string
	cancel context.CancelFunc
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday, 10:00 UTC

func market(name, schedule string) config.Market {
	return config.Market{Name: name, Settings: config.Settings{Schedule: schedule}}
}

func newHarness(t *testing.T, markets []config.Market, last map[string]LastRun, tweak func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(t0), sweeps: newFakeSweeps(), done: make(chan string, 100)}
	opts := Options{
		Sweep:       h.sweeps.sweep,
		LastRuns:    func(context.Context) (map[string]LastRun, error) { return last, nil },
		MaxParallel: 2,
		Now:         h.clock.Now,
		AfterFunc:   h.clock.AfterFunc,
	}
	if tweak != nil {
		tweak(&opts)
	}
	s, err := New(markets, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.onRunDone = func(name string) { h.done <- name }
	h.s = s
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		s.Wait()
	})
	return h
}

// finish ends name's sweep and waits until the scheduler has accounted for it.
func (h *harness) finish(name string, err error) {
	h.t.Helper()
	h.sweeps.finish(h.t, name, err)
	select {
	case n := <-h.done:
		if n != name {
			h.t.Fatalf("run of %s finished, want %s", n, name)
		}
	case <-time.After(wait):
		h.t.Fatalf("timed out waiting for the run of %s to be accounted for", name)
	}
}

func (h *harness) status(name string) MarketStatus {
	h.t.Helper()
	for _, st := range h.s.Status() {
		if st.Name == name {
			return st
		}
	}
	h.t.Fatalf("no status for %s", name)
	return MarketStatus{}
}

// recent says every marketplace was last swept, completed, at t0.
func recent(names ...string) map[string]LastRun {
	m := map[string]LastRun{}
	for _, n := range names {
		m[n] = LastRun{Started: t0, Status: "completed"}
	}
	return m
}

func TestCronScheduleWithJitter(t *testing.T) {
	h := newHarness(t, []config.Market{market("shop", "0 */6 * * *")}, recent("shop"), func(o *Options) {
		o.MaxJitter = time.Minute
		o.Jitter = func(max time.Duration) time.Duration { return 30 * time.Second }
	})
	wantNext := time.Date(2026, 3, 2, 12, 0, 30, 0, time.UTC)
	if got := h.status("shop").Next; !got.Equal(wantNext) {
		t.Fatalf("next = %v, want %v", got, wantNext)
	}
	h.clock.Advance(2*time.Hour + 29*time.Second)
	h.sweeps.expectNoStart(t)
	h.clock.Advance(time.Second)
	h.sweeps.expectStarts(t, "shop")
	if st := h.status("shop"); !st.Running || !st.Next.IsZero() || !st.LastStarted.Equal(wantNext) {
		t.Fatalf("status while running = %+v", st)
	}
	h.clock.Advance(10 * time.Minute)
	h.finish("shop", nil)
	st := h.status("shop")
	if st.Running || st.LastSweepID != 1 || st.LastError != "" {
		t.Fatalf("status after run = %+v", st)
	}
	if want := time.Date(2026, 3, 2, 18, 0, 30, 0, time.UTC); !st.Next.Equal(want) {
		t.Fatalf("next after run = %v, want %v", st.Next, want)
	}
}

func TestNeverTwoRunsOfOneMarketplace(t *testing.T) {
	h := newHarness(t, []config.Market{market("shop", "@every 1h")}, recent("shop"), nil)
	h.clock.Advance(time.Hour)
	h.sweeps.expectStarts(t, "shop")
	// The sweep outlasts three slots: none of them starts a second run.
	h.clock.Advance(3*time.Hour + 30*time.Minute)
	h.sweeps.expectNoStart(t)
	if err := h.s.SweepNow("shop"); !errors.Is(err, ErrRunning) {
		t.Fatalf("SweepNow while running: got %v, want ErrRunning", err)
	}
	h.finish("shop", errors.New("boom"))
	st := h.status("shop")
	if st.LastError != "boom" {
		t.Errorf("last error = %q, want boom", st.LastError)
	}
	// @every counts from the end of the previous run.
	if want := t0.Add(5*time.Hour + 30*time.Minute); !st.Next.Equal(want) {
		t.Fatalf("next = %v, want %v", st.Next, want)
	}
	h.clock.Advance(time.Hour)
	h.sweeps.expectStarts(t, "shop")
}

func TestParallelismBound(t *testing.T) {
	ms := []config.Market{market("a", "@every 1h"), market("b", "@every 1h"), market("c", "@every 1h")}
	h := newHarness(t, ms, recent("a", "b", "c"), func(o *Options) { o.MaxParallel = 2 })
	h.clock.Advance(time.Hour)
	h.sweeps.expectStarts(t, "a", "b")
	h.sweeps.expectNoStart(t)
	if st := h.status("c"); !st.Queued || st.Running {
		t.Fatalf("c = %+v, want queued", st)
	}
	h.finish("b", nil)
	h.sweeps.expectStarts(t, "c")
	h.finish("a", nil)
	h.finish("c", nil)
	h.sweeps.expectNoStart(t)
}

func TestCatchUpAfterRestart(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		last     LastRun
		runNow   bool
		next     time.Time // when !runNow
	}{
		{"missed many slots: one run", "0 */6 * * *", LastRun{Started: t0.Add(-72 * time.Hour), Status: "completed"}, true, time.Time{}},
		{"missed one slot", "@every 6h", LastRun{Started: t0.Add(-7 * time.Hour), Status: "failed"}, true, time.Time{}},
		{"not yet due", "@every 6h", LastRun{Started: t0.Add(-time.Hour), Status: "completed"}, false, t0.Add(5 * time.Hour)},
		{"interrupted: resume", "@every 6h", LastRun{Started: t0.Add(-time.Hour), Status: "interrupted"}, true, time.Time{}},
		{"crashed while running: resume", "@daily", LastRun{Started: t0.Add(-time.Minute), Status: "running"}, true, time.Time{}},
		{"never swept", "@daily", LastRun{}, true, time.Time{}},
		{"manual only", "", LastRun{}, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, []config.Market{market("shop", tt.schedule)}, map[string]LastRun{"shop": tt.last}, nil)
			h.clock.Advance(0)
			if !tt.runNow {
				h.sweeps.expectNoStart(t)
				if got := h.status("shop").Next; !got.Equal(tt.next) {
					t.Fatalf("next = %v, want %v", got, tt.next)
				}
				return
			}
			h.sweeps.expectStarts(t, "shop")
			h.finish("shop", nil)
			h.sweeps.expectNoStart(t) // exactly one catch-up run
			if got := h.status("shop").Next; !got.After(t0) {
				t.Fatalf("next after catch-up = %v, want after %v", got, t0)
			}
		})
	}
}

func TestSweepNow(t *testing.T) {
	h := newHarness(t, []config.Market{market("shop", ""), market("board", "@daily")}, recent("board"), func(o *Options) { o.MaxParallel = 1 })
	if err := h.s.SweepNow("nope"); !errors.Is(err, ErrUnknownMarket) {
		t.Fatalf("SweepNow(nope) = %v, want ErrUnknownMarket", err)
	}
	if err := h.s.SweepNow("shop"); err != nil {
		t.Fatal(err)
	}
	h.sweeps.expectStarts(t, "shop")
	// With one slot taken, a second request waits in the queue.
	if err := h.s.SweepNow("board"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SweepNow("board"); err != nil {
		t.Fatalf("SweepNow of a queued marketplace: %v", err)
	}
	h.sweeps.expectNoStart(t)
	h.finish("shop", nil)
	h.sweeps.expectStarts(t, "board")
	if st := h.status("shop"); !st.Next.IsZero() {
		t.Errorf("manual-only marketplace got a next run: %v", st.Next)
	}
	h.finish("board", nil)
	h.sweeps.expectNoStart(t)
}

func TestReloadKeepsRunningSweep(t *testing.T) {
	h := newHarness(t, []config.Market{market("a", "@every 1h"), market("b", "@every 1h")}, recent("a", "b"), func(o *Options) { o.MaxParallel = 1 })
	h.clock.Advance(time.Hour)
	h.sweeps.expectStarts(t, "a")
	h.sweeps.mu.Lock()
	runCtx := h.sweeps.ctxs["a"]
	h.sweeps.mu.Unlock()

	t.Run("bad schedule changes nothing", func(t *testing.T) {
		err := h.s.Reload(context.Background(), []config.Market{market("c", "every tuesday")})
		if err == nil {
			t.Fatal("Reload with a bad schedule succeeded")
		}
		if got := len(h.s.Status()); got != 2 {
			t.Fatalf("%d marketplaces after failed reload, want 2", got)
		}
	})

	// a is removed and b's schedule changes while a runs; c is new.
	err := h.s.Reload(context.Background(), []config.Market{market("b", "@every 2h"), market("c", "@every 3h")})
	if err != nil {
		t.Fatal(err)
	}
	if runCtx.Err() != nil {
		t.Fatal("reload cancelled the running sweep")
	}
	if st := h.status("a"); !st.Running || !st.Removed {
		t.Fatalf("a after reload = %+v, want running and removed", st)
	}
	if err := h.s.SweepNow("a"); !errors.Is(err, ErrUnknownMarket) {
		t.Fatalf("SweepNow(removed) = %v, want ErrUnknownMarket", err)
	}
	// b was queued behind a: it stays queued and runs when a is done.
	h.finish("a", nil)
	h.sweeps.expectStarts(t, "b")
	for _, st := range h.s.Status() {
		if st.Name == "a" {
			t.Fatalf("a still listed after its sweep ended: %+v", st)
		}
	}
	// c is new and was never swept (per the store): it is due at once and
	// waits for the one slot, which b holds.
	if got, want := h.status("c").Next, t0.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("c next = %v, want %v", got, want)
	}
	h.clock.Advance(0)
	h.sweeps.expectNoStart(t)
	h.finish("b", nil)
	h.sweeps.expectStarts(t, "c")
	if got, want := h.status("b").Next, t0.Add(3*time.Hour); !got.Equal(want) {
		t.Fatalf("b next = %v, want %v (new schedule from the end of its run)", got, want)
	}
	h.finish("c", nil)
}

func TestGracefulStop(t *testing.T) {
	h := newHarness(t, []config.Market{market("a", "@every 1h"), market("b", "@every 1h"), market("c", "@every 1h")}, recent("a", "b", "c"),
		func(o *Options) { o.MaxParallel = 2 })
	h.clock.Advance(time.Hour)
	h.sweeps.expectStarts(t, "a", "b")
	h.cancel()
	waited := make(chan struct{})
	go func() {
		h.s.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(wait):
		t.Fatal("Wait did not return after cancel")
	}
	// The running sweeps saw the cancellation; the queued one never started.
	h.sweeps.mu.Lock()
	for _, n := range []string{"a", "b"} {
		if h.sweeps.ctxs[n].Err() == nil {
			t.Errorf("sweep %s not cancelled", n)
		}
	}
	h.sweeps.mu.Unlock()
	h.sweeps.expectNoStart(t)
	h.clock.Advance(24 * time.Hour)
	h.sweeps.expectNoStart(t)
	if err := h.s.SweepNow("a"); !errors.Is(err, ErrStopped) {
		t.Fatalf("SweepNow after stop = %v, want ErrStopped", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"0 */6 * * *", true}, {"@every 6h", true}, {"@hourly", true}, {"", true},
		{"* * * * * *", false}, {"@every", false}, {"61 * * * *", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := Parse(tt.spec)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok=%v", tt.spec, err, tt.ok)
			}
		})
	}
	if _, err := New([]config.Market{market("a", "bad"), market("b", "also bad")}, Options{Sweep: newFakeSweeps().sweep}); err == nil {
		t.Fatal("New accepted bad schedules")
	}
}
