package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"snoop/store"
)

// DefaultLeaseTTL is how long a marketplace stays leased to a sweep that
// stopped renewing its lease (killed, or its host went down) when
// Runner.LeaseTTL is zero. A running sweep renews its leases every quarter
// of it.
const DefaultLeaseTTL = 2 * time.Minute

// leases are the marketplace leases of one run: while they are held, no
// other sweep of these marketplaces starts, in this process or another,
// on this host or another sharing the database.
type leases struct {
	db      *store.DB
	holder  store.LeaseHolder
	markets int
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger

	stop chan struct{}
	done sync.WaitGroup
}

// acquireLeases leases markets to this run, or returns an error wrapping
// store.ErrMarketBusy that names the sweep holding one of them.
func (r *Runner) acquireLeases(ctx context.Context, markets []string, log *slog.Logger) (*leases, error) {
	ttl := r.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("sweep: lease token: %w", err)
	}
	l := &leases{db: r.DB, holder: store.LeaseHolder{Token: hex.EncodeToString(tok[:]), PID: os.Getpid(), Host: host},
		markets: len(markets), ttl: ttl, now: r.now, log: log}
	abandoned := func(ml store.MarketLease) bool {
		return ml.Host == host && ml.PID != os.Getpid() && !processRuns(ml.PID)
	}
	if err := waitBusy(log, func() error { return r.DB.AcquireLeases(ctx, markets, l.holder, r.now(), ttl, abandoned) }); err != nil {
		var busy *store.MarketBusyError
		if errors.As(err, &busy) {
			return nil, fmt.Errorf("sweep: %w", busy)
		}
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return l, nil
}

// processRuns reports whether a process with this pid runs on this host.
func processRuns(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// renewOp is the journal write that extends the leases.
func (l *leases) renewOp(sweepID int64) store.BatchOp {
	now := l.now()
	return store.BatchOp{Lease: &store.LeaseRenewOp{Holder: l.holder.Token, Markets: l.markets, SweepID: sweepID, Now: now, Expires: now.Add(l.ttl)}}
}

// heartbeat records the sweep in the leases and renews them through the
// journal, the sweep's one writer, every quarter of their time to live,
// until stopHeartbeat. A lease found taken by another sweep fails the
// journal, which stops this sweep.
func (l *leases) heartbeat(j *journal, sweepID int64) {
	l.stop = make(chan struct{})
	if err := j.submit(l.renewOp(sweepID)); err != nil {
		return
	}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		t := time.NewTicker(l.ttl / 4)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				if err := j.submit(l.renewOp(0)); err != nil {
					return
				}
			}
		}
	}()
}

// stopHeartbeat stops the renewals; the leases stay held until release.
func (l *leases) stopHeartbeat() {
	if l.stop != nil {
		close(l.stop)
		l.done.Wait()
		l.stop = nil
	}
}

// release drops the leases.
func (l *leases) release(ctx context.Context) {
	l.stopHeartbeat()
	if err := waitBusy(l.log, func() error { return l.db.ReleaseLeases(ctx, l.holder.Token) }); err != nil {
		l.log.Error("release marketplace leases; they end by themselves", "err", err, "ttl", l.ttl)
	}
}
