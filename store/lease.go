package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrMarketBusy is returned (wrapped in a *MarketBusyError) when a
// marketplace is leased by another running sweep.
var ErrMarketBusy = errors.New("marketplace is being swept")

// ErrLeaseLost is returned when a sweep renews leases that it no longer
// holds: they expired and another sweep took them.
var ErrLeaseLost = errors.New("marketplace lease lost")

// MarketLease is a running sweep's claim on one marketplace: no other sweep
// of that marketplace may start until it is released or expires.
type MarketLease struct {
	Market   string
	Holder   string // random token of the run holding it
	SweepID  int64  // 0 until the sweep has begun
	PID      int
	Host     string
	Acquired time.Time
	Renewed  time.Time
	Expires  time.Time
}

// LeaseHolder identifies the run that takes leases.
type LeaseHolder struct {
	Token string // unique per run
	PID   int
	Host  string
}

// MarketBusyError reports the lease that kept a sweep from starting.
type MarketBusyError struct {
	Lease MarketLease
}

func (e *MarketBusyError) Error() string {
	l := e.Lease
	sweep := ""
	if l.SweepID != 0 {
		sweep = fmt.Sprintf(" (sweep %d)", l.SweepID)
	}
	return fmt.Sprintf("marketplace %s is being swept by pid %d on host %s since %s%s; wait for it to finish or stop it (an abandoned lease ends at %s)",
		l.Market, l.PID, l.Host, l.Acquired.UTC().Format(time.RFC3339), sweep, l.Expires.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrMarketBusy) hold.
func (e *MarketBusyError) Unwrap() error { return ErrMarketBusy }

// AcquireLeases takes the lease of every marketplace in markets for h until
// now+ttl, in one transaction: all of them or none. A lease held by another
// run is taken over only when it has expired, or when abandoned reports that
// its holder is gone (a process of this host that no longer runs); otherwise
// AcquireLeases returns a *MarketBusyError naming the holder.
func (db *DB) AcquireLeases(ctx context.Context, markets []string, h LeaseHolder, now time.Time, ttl time.Duration, abandoned func(MarketLease) bool) error {
	if h.Token == "" || ttl <= 0 {
		return errors.New("acquire leases: holder token and ttl are required")
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, m := range markets {
			l, ok, err := leaseOf(ctx, tx, m)
			if err != nil {
				return err
			}
			if ok && l.Holder != h.Token && l.Expires.After(now) && (abandoned == nil || !abandoned(l)) {
				return &MarketBusyError{Lease: l}
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO market_leases (market, holder, sweep_id, pid, host, acquired_at, renewed_at, expires_at)
				VALUES (?, ?, NULL, ?, ?, ?, ?, ?)
				ON CONFLICT (market) DO UPDATE SET holder = excluded.holder, sweep_id = NULL, pid = excluded.pid,
					host = excluded.host, acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at,
					expires_at = excluded.expires_at`,
				m, h.Token, h.PID, h.Host, formatTime(now), formatTime(now), formatTime(now.Add(ttl)))
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acquire leases: %w", err)
	}
	return nil
}

// leaseOf returns the lease of market, if any.
func leaseOf(ctx context.Context, q querier, market string) (MarketLease, bool, error) {
	l := MarketLease{Market: market}
	var sweepID sql.NullInt64
	var acquired, renewed, expires sql.NullString
	err := q.QueryRowContext(ctx, `SELECT holder, sweep_id, pid, host, acquired_at, renewed_at, expires_at
		FROM market_leases WHERE market = ?`, market).Scan(&l.Holder, &sweepID, &l.PID, &l.Host, &acquired, &renewed, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return MarketLease{}, false, nil
	} else if err != nil {
		return MarketLease{}, false, fmt.Errorf("lease of %s: %w", market, err)
	}
	l.SweepID = sweepID.Int64
	if l.Acquired, err = parseTime(acquired); err != nil {
		return MarketLease{}, false, err
	}
	if l.Renewed, err = parseTime(renewed); err != nil {
		return MarketLease{}, false, err
	}
	if l.Expires, err = parseTime(expires); err != nil {
		return MarketLease{}, false, err
	}
	return l, true, nil
}

// Lease returns the lease of market; ok is false when it has none.
func (db *DB) Lease(ctx context.Context, market string) (l MarketLease, ok bool, err error) {
	return leaseOf(ctx, db.db, market)
}

// LeaseRenewOp extends the leases of a run (see ApplyBatch): every one of
// its Markets must still be held by Holder, or the batch fails with
// ErrLeaseLost. A non-zero SweepID is recorded in the leases.
type LeaseRenewOp struct {
	Holder  string
	Markets int // how many leases the holder took
	SweepID int64
	Now     time.Time
	Expires time.Time
}

// renewLeases applies a LeaseRenewOp in a transaction.
func renewLeases(ctx context.Context, q querier, op *LeaseRenewOp) error {
	r, err := q.ExecContext(ctx, `UPDATE market_leases SET renewed_at = ?, expires_at = ?,
		sweep_id = CASE WHEN ? = 0 THEN sweep_id ELSE ? END WHERE holder = ?`,
		formatTime(op.Now), formatTime(op.Expires), op.SweepID, op.SweepID, op.Holder)
	if err != nil {
		return fmt.Errorf("renew leases: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("renew leases: %w", err)
	}
	if int(n) != op.Markets {
		return fmt.Errorf("renew leases: %d of %d held: %w", n, op.Markets, ErrLeaseLost)
	}
	return nil
}

// ReleaseLeases drops every lease held by holder.
func (db *DB) ReleaseLeases(ctx context.Context, holder string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM market_leases WHERE holder = ?`, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}
