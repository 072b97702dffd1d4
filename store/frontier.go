package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Frontier URL states. A URL is queued when discovered, claimed when handed
// to the crawler, and done or failed when it has been dealt with. Claimed
// URLs left behind by a crash go back to queued with FrontierRequeueClaimed.
const (
	FrontierQueued  = "queued"
	FrontierClaimed = "claimed"
	FrontierDone    = "done"
	FrontierFailed  = "failed"
)

// The statements that queue a frontier URL (keeping one already known in any
// state) and that set a URL's state (adding it at depth 0 if unknown), shared
// by the Frontier* methods and ApplyBatch.
const (
	frontierPushSQL = `INSERT INTO frontier (sweep_id, market, url, depth, state, updated_at)
		VALUES (?, ?, ?, ?, 'queued', ?) ON CONFLICT (sweep_id, market, url) DO NOTHING`
	frontierSetSQL = `INSERT INTO frontier (sweep_id, market, url, depth, state, updated_at)
		VALUES (?, ?, ?, 0, ?, ?)
		ON CONFLICT (sweep_id, market, url) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`
)

// FrontierItem is a URL to crawl and its link depth from the start URLs.
type FrontierItem struct {
	URL   string
	Depth int
}

// FrontierPush queues items for a sweep's marketplace, in order, ignoring URLs
// that are already in its frontier in any state, and stops once limit URLs
// were added (limit < 0: no limit). It returns how many URLs it added and how
// many new ones it left out because of the limit.
func (db *DB) FrontierPush(ctx context.Context, sweepID int64, market string, items []FrontierItem, limit int) (added, dropped int, err error) {
	if len(items) == 0 {
		return 0, 0, nil
	}
	now := formatTime(db.Now())
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		added, dropped = 0, 0
		insert, err := tx.PrepareContext(ctx, frontierPushSQL)
		if err != nil {
			return err
		}
		defer insert.Close()
		known, err := tx.PrepareContext(ctx, `SELECT 1 FROM frontier WHERE sweep_id = ? AND market = ? AND url = ?`)
		if err != nil {
			return err
		}
		defer known.Close()
		seen := make(map[string]bool, len(items))
		for _, it := range items {
			if seen[it.URL] {
				continue
			}
			seen[it.URL] = true
			if limit >= 0 && added >= limit {
				var one int
				switch err := known.QueryRowContext(ctx, sweepID, market, it.URL).Scan(&one); {
				case errors.Is(err, sql.ErrNoRows):
					dropped++
				case err != nil:
					return fmt.Errorf("%s: %w", it.URL, err)
				}
				continue
			}
			r, err := insert.ExecContext(ctx, sweepID, market, it.URL, it.Depth, now)
			if err != nil {
				return fmt.Errorf("%s: %w", it.URL, err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("frontier push: %w", err)
	}
	return added, dropped, nil
}

// FrontierClaim moves up to n queued URLs of a sweep's marketplace, oldest
// first, to claimed and returns them. It returns no items when nothing is
// queued.
func (db *DB) FrontierClaim(ctx context.Context, sweepID int64, market string, n int) ([]FrontierItem, error) {
	if n <= 0 {
		return nil, nil
	}
	var items []FrontierItem
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, url, depth FROM frontier
			WHERE sweep_id = ? AND market = ? AND state = 'queued' ORDER BY id LIMIT ?`, sweepID, market, n)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id int64
			var it FrontierItem
			if err := rows.Scan(&id, &it.URL, &it.Depth); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		args := append([]any{formatTime(db.Now())}, ids...)
		_, err = tx.ExecContext(ctx, `UPDATE frontier SET state = 'claimed', attempts = attempts + 1, updated_at = ?
			WHERE id IN (`+placeholders(len(ids))+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("frontier claim: %w", err)
	}
	return items, nil
}

// FrontierDone sets the state of a URL in a sweep's frontier: done or
// failed when it has been dealt with, or queued to retry it. A URL not yet in
// the frontier (the target of a redirect) is added in that state at depth 0.
func (db *DB) FrontierDone(ctx context.Context, sweepID int64, market, url, state string) error {
	switch state {
	case FrontierDone, FrontierFailed, FrontierQueued:
	default:
		return fmt.Errorf("frontier %s: invalid state %q (want done, failed or queued)", url, state)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, frontierSetSQL, sweepID, market, url, state, formatTime(db.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("frontier %s: %w", url, err)
	}
	return nil
}

// FrontierState returns the state of a URL in a sweep's frontier, or
// ErrNotFound if it was never pushed.
func (db *DB) FrontierState(ctx context.Context, sweepID int64, market, url string) (string, error) {
	var state string
	err := db.db.QueryRowContext(ctx, `SELECT state FROM frontier WHERE sweep_id = ? AND market = ? AND url = ?`,
		sweepID, market, url).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("frontier %s: %w", url, ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("frontier %s: %w", url, err)
	}
	return state, nil
}

// FrontierRequeueClaimed puts every claimed URL of a sweep's marketplace back
// to queued (URLs in flight when a sweep stopped) and returns how many.
func (db *DB) FrontierRequeueClaimed(ctx context.Context, sweepID int64, market string) (int, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE frontier SET state = 'queued', updated_at = ?
			WHERE sweep_id = ? AND market = ? AND state = 'claimed'`, formatTime(db.Now()), sweepID, market)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("frontier requeue: %w", err)
	}
	return int(n), nil
}

// FrontierCounts returns the number of URLs in each state (queued, claimed,
// done, failed; every key present) of a sweep's marketplace.
func (db *DB) FrontierCounts(ctx context.Context, sweepID int64, market string) (map[string]int, error) {
	counts := map[string]int{FrontierQueued: 0, FrontierClaimed: 0, FrontierDone: 0, FrontierFailed: 0}
	rows, err := db.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM frontier WHERE sweep_id = ? AND market = ? GROUP BY state`,
		sweepID, market)
	if err != nil {
		return nil, fmt.Errorf("frontier counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("frontier counts: %w", err)
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("frontier counts: %w", err)
	}
	return counts, nil
}

// UnfinishedSweep returns the latest sweep whose status is running or
// interrupted, to be resumed; ok is false when there is none.
func (db *DB) UnfinishedSweep(ctx context.Context) (s Sweep, ok bool, err error) {
	ss, err := db.findSweeps(ctx, `WHERE status IN (?, ?)`, SweepRunning, SweepInterrupted)
	if err != nil {
		return Sweep{}, false, fmt.Errorf("unfinished sweep: %w", err)
	}
	if len(ss) == 0 {
		return Sweep{}, false, nil
	}
	return ss[0], true, nil
}
