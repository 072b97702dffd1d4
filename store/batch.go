package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// BatchOp is one write of a sweep: exactly one of its fields is set.
type BatchOp struct {
	// Push queues frontier URLs (ignoring URLs the frontier already holds).
	Push *FrontierPushOp
	// Done sets the state of one frontier URL (added if unknown).
	Done *FrontierDoneOp
	// Page saves a page with its evidence and listings, as SavePage does.
	Page *PageOp
	// Touch records a 304 Not Modified answer for a listing page.
	Touch *TouchOp
	// Lease renews the marketplace leases of the sweep's run.
	Lease *LeaseRenewOp
	// Screenshot stores a hit's screenshot, as SaveScreenshot does.
	Screenshot *ScreenshotOp
}

// ScreenshotOp stores Shot; ID receives its id once the batch is committed.
type ScreenshotOp struct {
	Shot Screenshot
	ID   int64
}

// IsBusy reports whether err says that another connection (another
// process) held the database's write lock for longer than the busy
// timeout: "database is locked". The write may be tried again.
func IsBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// FrontierPushOp queues Items in the frontier of a sweep's marketplace.
type FrontierPushOp struct {
	SweepID int64
	Market  string
	Items   []FrontierItem
}

// FrontierDoneOp sets URL's frontier state (done, failed or queued).
type FrontierDoneOp struct {
	SweepID     int64
	Market, URL string
	State       string
}

// PageOp saves Page and Listings; Result receives what SavePage would
// return once the batch is committed.
type PageOp struct {
	Page     PageRecord
	Listings []ListingRecord
	Result   SaveResult
}

// ApplyBatch applies ops in order in one transaction: all of them or none.
// A sweep funnels its writes through ApplyBatch so that one commit covers
// many pages and frontier changes, and so that the database always holds a
// prefix of the sweep's writes: a page's frontier URL is never done before
// the page and the links found on it are stored.
func (db *DB) ApplyBatch(ctx context.Context, ops []BatchOp) error {
	rcs := make([]revisitCandidate, len(ops))
	for i := range ops {
		op := &ops[i]
		switch {
		case op.Page != nil:
			var err error
			if rcs[i], err = preparePage(&op.Page.Page); err != nil {
				return fmt.Errorf("save page %s: %w", op.Page.Page.URL, err)
			}
			for j := range op.Page.Listings {
				l := &op.Page.Listings[j]
				if err := prepareListing(l); err != nil {
					return fmt.Errorf("save page %s: listing %d %s: %w", op.Page.Page.URL, j, l.URL, err)
				}
			}
		case op.Done != nil:
			switch op.Done.State {
			case FrontierDone, FrontierFailed, FrontierQueued:
			default:
				return fmt.Errorf("frontier %s: invalid state %q", op.Done.URL, op.Done.State)
			}
		case op.Screenshot != nil:
			if err := db.checkScreenshot(&op.Screenshot.Shot); err != nil {
				return err
			}
		case op.Push != nil, op.Touch != nil, op.Lease != nil:
		default:
			return fmt.Errorf("batch op %d: nothing to do", i)
		}
	}
	now := formatTime(db.Now())
	err := db.withConnTx(ctx, func(tx querier) error {
		var push, done *sql.Stmt
		defer func() {
			if push != nil {
				push.Close()
			}
			if done != nil {
				done.Close()
			}
		}()
		for i := range ops {
			op := &ops[i]
			var err error
			switch {
			case op.Page != nil:
				op.Page.Result, err = db.savePage(ctx, tx, op.Page.Page, rcs[i], op.Page.Listings)
				if err != nil {
					return fmt.Errorf("save page %s: %w", op.Page.Page.URL, err)
				}
			case op.Push != nil:
				if push == nil {
					if push, err = tx.PrepareContext(ctx, frontierPushSQL); err != nil {
						return err
					}
				}
				for _, it := range op.Push.Items {
					if _, err := push.ExecContext(ctx, op.Push.SweepID, op.Push.Market, it.URL, it.Depth, now); err != nil {
						return fmt.Errorf("frontier push %s: %w", it.URL, err)
					}
				}
			case op.Touch != nil:
				if err := db.touch(ctx, tx, op.Touch); err != nil {
					return err
				}
			case op.Lease != nil:
				if err := renewLeases(ctx, tx, op.Lease); err != nil {
					return err
				}
			case op.Screenshot != nil:
				if op.Screenshot.ID, err = db.saveScreenshot(ctx, tx, op.Screenshot.Shot); err != nil {
					return fmt.Errorf("save screenshot of hit %d: %w", op.Screenshot.Shot.HitID, err)
				}
			case op.Done != nil:
				if done == nil {
					if done, err = tx.PrepareContext(ctx, frontierSetSQL); err != nil {
						return err
					}
				}
				if _, err := done.ExecContext(ctx, op.Done.SweepID, op.Done.Market, op.Done.URL, op.Done.State, now); err != nil {
					return fmt.Errorf("frontier %s: %w", op.Done.URL, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply batch of %d writes: %w", len(ops), err)
	}
	return nil
}

// FrontierEach calls fn for every URL in the frontier of a sweep's
// marketplace, oldest first, with its state.
func (db *DB) FrontierEach(ctx context.Context, sweepID int64, market string, fn func(it FrontierItem, state string) error) error {
	rows, err := db.db.QueryContext(ctx, `SELECT url, depth, state FROM frontier WHERE sweep_id = ? AND market = ? ORDER BY id`, sweepID, market)
	if err != nil {
		return fmt.Errorf("read frontier: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it FrontierItem
		var state string
		if err := rows.Scan(&it.URL, &it.Depth, &state); err != nil {
			return fmt.Errorf("read frontier: %w", err)
		}
		if err := fn(it, state); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read frontier: %w", err)
	}
	return nil
}
