// Package sweep runs one sweep of a set of marketplaces: it crawls each
// marketplace with the crawler, classifies every listing with the rules,
// and stores pages, evidence, listings and hits through a single writer.
//
// A sweep is the unit the analyst sees: it has an ID in the store, a status
// (completed, interrupted or failed) and per-marketplace statistics. Pages
// already fetched when a sweep is interrupted are always stored.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"snoop/classify"
	"snoop/config"
	"snoop/crawler"
	"snoop/store"
)

// Runner runs sweeps. Its zero value is not usable: DB and Classifier are
// required.
type Runner struct {
	DB          *store.DB
	Classifier  *classify.Classifier
	RuleVersion string
	Logger      *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Progress, if set, receives running counts of each marketplace.
	Progress func(Progress)
	// Limiter paces requests per host across every marketplace this runner
	// sweeps, in this and concurrent runs; nil means one limiter per run.
	Limiter crawler.HostLimiter
	// Fresh starts a new sweep even when an interrupted sweep of the same
	// marketplaces could be resumed.
	Fresh bool
	// Screenshots starts the browsers that render new hits' pages; nil
	// means no screenshots. Which marketplaces get them is decided by their
	// screenshots setting, or by AllScreenshots.
	Screenshots NewShooterFunc
	// AllScreenshots takes screenshots on every marketplace (sweep --screenshots).
	AllScreenshots bool
	// LeaseTTL is how long the marketplaces of a sweep that stopped without
	// releasing them (kill -9) stay leased; zero means DefaultLeaseTTL. A
	// running sweep renews its leases; one of a process of this host that
	// no longer runs is taken over at once.
	LeaseTTL time.Duration
	// AfterSweep, if set, is called with the result of every sweep once it
	// is recorded (vendor linking, marketplace health, alerts). It cannot
	// fail the sweep.
	AfterSweep func(ctx context.Context, res Result)
}

// Progress is the running state of one marketplace in a sweep: the
// crawler's counts and the hits stored so far.
type Progress struct {
	crawler.Progress
	Hits int
}

// MarketResult is the outcome of one marketplace within a sweep.
type MarketResult struct {
	Market          string         `json:"market"`
	Crawl           crawler.Stats  `json:"crawl"`
	NewListings     int            `json:"new_listings"`
	ChangedListings int            `json:"changed_listings"`
	GoneListings    int            `json:"gone_listings"`
	Hits            int            `json:"hits"`
	NewHits         int            `json:"new_hits"`
	HitsBySubstance map[string]int `json:"hits_by_substance"`
	GatePages       int            `json:"gate_pages"`
	Screenshots     int            `json:"screenshots"`
	Err             string         `json:"error,omitempty"`

	// GoneNotChecked says why no listing was marked gone: the crawl did not
	// cover every page where a listing could be (limits, trap guards,
	// failures, gates, or a sweep that did not complete); "" when it did.
	GoneNotChecked string `json:"gone_not_checked,omitempty"`
	// RejectedPages counts pages the store refused as invalid; each was
	// rejected alone and logged, and the sweep went on.
	RejectedPages int `json:"rejected_pages,omitempty"`
}

// Result is the outcome of a sweep.
type Result struct {
	SweepID int64          `json:"sweep_id"`
	Resumed bool           `json:"resumed"`
	Status  string         `json:"status"`
	Markets []MarketResult `json:"markets"`
	Started time.Time      `json:"started"`
	Elapsed time.Duration  `json:"elapsed_ns"`
}

// Pages reports the number of pages fetched over all marketplaces.
func (r Result) Pages() int {
	n := 0
	for _, m := range r.Markets {
		n += m.Crawl.PagesFetched
	}
	return n
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run sweeps the given marketplaces concurrently and returns when all of
// them have finished or ctx is cancelled. On cancellation every page already
// fetched is stored, the sweep is recorded as interrupted, and the returned
// error wraps ctx.Err().
func (r *Runner) Run(ctx context.Context, markets []config.Market) (Result, error) {
	if r.DB == nil || r.Classifier == nil {
		return Result{}, errors.New("sweep: runner needs a store and a classifier")
	}
	if len(markets) == 0 {
		return Result{}, errors.New("sweep: no marketplaces to sweep")
	}
	names := make([]string, len(markets))
	for i, m := range markets {
		if slices.Contains(names[:i], m.Name) {
			return Result{}, fmt.Errorf("sweep: marketplace %s given twice", m.Name)
		}
		names[i] = m.Name
	}
	started := r.now()
	// The sweep's bookkeeping must survive the cancellation that ends it.
	bg := context.WithoutCancel(ctx)
	// One sweep at a time per marketplace: take them all, or start nothing.
	leases, err := r.acquireLeases(bg, names, r.logger())
	if err != nil {
		return Result{}, err
	}
	defer leases.release(bg)
	id, resumed, lock, err := r.begin(bg, names, started)
	if err != nil {
		return Result{}, err
	}
	defer lock.release()
	log := r.logger().With("sweep", id)
	log.Info("sweep started", "markets", names, "rule_version", r.RuleVersion, "resumed", resumed)

	w := newWriter(id, r.Classifier, r.RuleVersion, log)
	w.journal = newJournal(r.DB, w.committed)
	w.journal.log = log
	go w.journal.run(bg)
	leases.heartbeat(w.journal, id)
	for _, m := range markets {
		w.archiveAll[m.Name] = m.Archive == config.ArchiveAll
		w.kind[m.Name] = m.Kind
		if r.Screenshots != nil && (r.AllScreenshots || m.Screenshots) {
			w.shotMarkets[m.Name] = m
		}
	}
	limiter := r.Limiter
	if limiter == nil {
		limiter = &crawler.Limiters{}
	}
	if len(w.shotMarkets) > 0 {
		w.shots = newShots(w.journal, r.Screenshots, w.shotMarkets, limiter, log)
		go w.shots.run(ctx)
	}

	results := make([]MarketResult, len(markets))
	var wg sync.WaitGroup
	transports := &crawler.Transports{}
	defer transports.Close()
	for i, m := range markets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A marketplace's state exists while it is swept: its frontier
			// (and, in the crawler, its collector and parsers) is made when
			// its turn comes and dropped when it ends.
			f := newJournalFrontier(r.DB, w.journal, id, m.Name, resumed)
			w.setFrontier(m.Name, f)
			defer w.setFrontier(m.Name, nil)
			results[i] = r.sweepMarket(ctx, w, m, crawler.Options{
				Logger:     log.With("market", m.Name),
				Progress:   r.progress(w),
				Now:        r.Now,
				Limiter:    limiter,
				Transports: transports,
				Frontier:   f,
				Validators: r.validators(bg, m, log),
			})
		}()
	}
	wg.Wait()
	if w.shots != nil {
		// Pages committed from here on ask for no more screenshots; the
		// screenshots queued are stored through the journal, which must
		// stay open until they are.
		w.journal.flush()
		taken, failed, skipped := w.shots.close()
		log.Info("screenshots", "taken", taken, "failed", failed, "skipped", skipped)
	}
	leases.stopHeartbeat()
	storeErr := w.journal.close()

	status := "completed"
	for i := range results {
		w.fill(&results[i])
		if results[i].Err != "" {
			status = "failed"
		}
	}
	if storeErr != nil || ctx.Err() != nil {
		// Resumable: everything stored before the failure or the stop is
		// kept, and the next sweep of these marketplaces goes on from there.
		status = "interrupted"
	}
	switch {
	case errors.Is(storeErr, store.ErrLeaseLost):
		log.Error("this sweep stopped renewing its marketplace leases for longer than their time to live and another sweep took them over; this one stops, what it stored is kept", "err", storeErr)
	case storeErr != nil:
		log.Error("storing the sweep failed (is the disk full?); what was stored before is kept and the next sweep resumes from there", "err", storeErr)
	}
	for i, m := range markets {
		if status != "completed" {
			results[i].GoneNotChecked = "the sweep did not complete"
			continue
		}
		why := uncovered(results[i].Crawl, results[i].RejectedPages)
		if why != "" {
			results[i].GoneNotChecked = why
			log.Info("listings not checked for gone: the crawl did not cover the marketplace", "market", m.Name, "why", why)
			continue
		}
		var n int
		err := waitBusy(log, func() (err error) { n, err = r.DB.MarkGone(bg, id, m.Name, r.now()); return err })
		if err != nil {
			log.Error("mark gone listings", "market", m.Name, "err", err)
			continue
		}
		results[i].GoneListings = n
	}
	res := Result{SweepID: id, Resumed: resumed, Status: status, Markets: results, Started: started, Elapsed: r.now().Sub(started)}
	if err := waitBusy(log, func() error { return r.DB.FinishSweep(bg, id, status, res, r.now()) }); err != nil {
		return res, fmt.Errorf("sweep %d: finish: %w", id, err)
	}
	log.Info("sweep finished", "status", status, "pages", res.Pages(), "elapsed", res.Elapsed)
	if r.AfterSweep != nil {
		r.AfterSweep(bg, res)
	}
	if storeErr != nil {
		return res, fmt.Errorf("sweep %d: store: %w", id, storeErr)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("sweep %d interrupted: %w", id, err)
	}
	return res, nil
}

// waitBusy runs a write of the sweep's own bookkeeping (begin, finish,
// leases), trying it again while another process holds the database's
// write lock for longer than the busy timeout, as the journal does.
func waitBusy(log *slog.Logger, write func() error) error {
	err := write()
	for try := 0; store.IsBusy(err) && try < busyRetries; try++ {
		if try == 0 {
			log.Warn("waiting for the database: another process holds its write lock")
		}
		time.Sleep(busyPause)
		err = write()
	}
	return err
}

// begin starts a new sweep, or resumes the newest unfinished sweep of the
// same marketplaces that no other process is running, and locks it.
func (r *Runner) begin(ctx context.Context, markets []string, now time.Time) (id int64, resumed bool, lock *sweepLock, err error) {
	if !r.Fresh {
		s, l, ok, err := resumable(ctx, r.DB, markets)
		if err != nil {
			return 0, false, nil, err
		}
		if ok {
			if err := waitBusy(r.logger(), func() error { return r.DB.ResumeSweep(ctx, s.ID, now) }); err != nil {
				l.release()
				return 0, false, nil, fmt.Errorf("sweep: %w", err)
			}
			return s.ID, true, l, nil
		}
	}
	err = waitBusy(r.logger(), func() (err error) { id, err = r.DB.BeginSweep(ctx, markets, r.RuleVersion, now); return err })
	if err != nil {
		return 0, false, nil, fmt.Errorf("sweep: begin: %w", err)
	}
	l, ok, err := lockSweep(r.DB.Path, id)
	if err != nil {
		return 0, false, nil, err
	}
	if !ok {
		return 0, false, nil, fmt.Errorf("sweep %d: locked by another process", id)
	}
	return id, false, l, nil
}

// progress adds the hits stored so far to the crawler's counts.
func (r *Runner) progress(w *writer) func(crawler.Progress) {
	if r.Progress == nil {
		return nil
	}
	return func(p crawler.Progress) {
		r.Progress(Progress{Progress: p, Hits: w.hits(p.Market)})
	}
}

// validators returns the ETag and Last-Modified stored for a listing page
// of m, so that an unchanged page is answered 304 and not stored again.
// Only page-mode listing pages get them: a 304 page has no links to follow.
func (r *Runner) validators(ctx context.Context, m config.Market, log *slog.Logger) func(string) (string, string) {
	if m.Listing.URLPattern == nil {
		return nil
	}
	if seen, err := r.DB.HasListings(ctx, m.Name); err == nil && !seen {
		return nil // nothing stored yet: no page of this marketplace can be unchanged
	}
	return func(u string) (string, string) {
		if !m.Listing.URLPattern.MatchString(u) {
			return "", ""
		}
		etag, lastModified, err := r.DB.Validators(ctx, u)
		if err != nil {
			log.Warn("conditional request skipped", "url", u, "err", err)
		}
		return etag, lastModified
	}
}

func (r *Runner) sweepMarket(ctx context.Context, w *writer, m config.Market, opts crawler.Options) MarketResult {
	res := MarketResult{Market: m.Name}
	stats, err := crawler.Sweep(ctx, m, w, opts)
	res.Crawl = stats
	if err != nil && ctx.Err() == nil {
		res.Err = err.Error()
		opts.Logger.Error("crawl failed", "err", err)
	}
	return res
}

// SortedSubstances returns the substances of m's hits ordered by count,
// then name.
func (m MarketResult) SortedSubstances() []string {
	names := make([]string, 0, len(m.HitsBySubstance))
	for n := range m.HitsBySubstance {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := m.HitsBySubstance[names[i]], m.HitsBySubstance[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}
