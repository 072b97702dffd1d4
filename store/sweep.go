package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sweep statuses.
const (
	SweepRunning     = "running"
	SweepCompleted   = "completed"
	SweepInterrupted = "interrupted"
	SweepFailed      = "failed"
)

// Sweep is one run over one or more marketplaces.
type Sweep struct {
	ID          int64           `json:"id"`
	Markets     []string        `json:"markets"`
	Status      string          `json:"status"` // running, completed, interrupted or failed
	StartedAt   time.Time       `json:"started_at"`
	FinishedAt  time.Time       `json:"finished_at"` // zero while running
	RuleVersion string          `json:"rule_version"`
	Stats       json.RawMessage `json:"stats"` // as given to FinishSweep; null until then
}

// BeginSweep records a new running sweep over markets and appends a
// sweep.begin audit row, in one transaction. It returns the sweep's id.
func (db *DB) BeginSweep(ctx context.Context, markets []string, ruleVersion string, now time.Time) (int64, error) {
	if now.IsZero() {
		return 0, errors.New("begin sweep: zero time")
	}
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sweeps (status, started_at, rule_version) VALUES (?, ?, ?)`,
			SweepRunning, formatTime(now), ruleVersion)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		for i, m := range markets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sweep_markets (sweep_id, position, market) VALUES (?, ?, ?)`, id, i, m); err != nil {
				return fmt.Errorf("market %q: %w", m, err)
			}
		}
		_, err = appendAudit(ctx, tx, db.Actor, ActionSweepBegin, map[string]any{
			"sweep_id": id, "markets": nonNil(markets), "rule_version": ruleVersion,
		}, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("begin sweep: %w", err)
	}
	return id, nil
}

// ResumeSweep sets an interrupted (or still running, after a crash) sweep
// back to running and appends a sweep.resume audit row.
func (db *DB) ResumeSweep(ctx context.Context, id int64, now time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sweeps SET status = ?, finished_at = NULL WHERE id = ? AND status IN (?, ?)`,
			SweepRunning, id, SweepRunning, SweepInterrupted)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("sweep %d is not running or interrupted: %w", id, ErrNotFound)
		}
		_, err = appendAudit(ctx, tx, db.Actor, ActionSweepResume, map[string]any{"sweep_id": id}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("resume sweep %d: %w", id, err)
	}
	return nil
}

// FinishSweep records the end of a sweep with status completed, interrupted
// or failed and its stats (encoded as JSON), and appends a sweep.finish audit
// row, in one transaction.
func (db *DB) FinishSweep(ctx context.Context, id int64, status string, stats any, now time.Time) error {
	switch status {
	case SweepCompleted, SweepInterrupted, SweepFailed:
	default:
		return fmt.Errorf("finish sweep %d: invalid status %q", id, status)
	}
	var statsJSON any // NULL when stats is nil
	if stats != nil {
		b, err := json.Marshal(stats)
		if err != nil {
			return fmt.Errorf("finish sweep %d: encode stats: %w", id, err)
		}
		statsJSON = string(b)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sweeps SET status = ?, finished_at = ?, stats = ? WHERE id = ?`,
			status, formatTime(now), statsJSON, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		_, err = appendAudit(ctx, tx, db.Actor, ActionSweepFinish, map[string]any{"sweep_id": id, "status": status}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish sweep %d: %w", id, err)
	}
	return nil
}

// Sweeps returns every sweep, newest first.
func (db *DB) Sweeps(ctx context.Context) ([]Sweep, error) {
	ss, err := db.findSweeps(ctx, ``)
	if err != nil {
		return nil, fmt.Errorf("sweeps: %w", err)
	}
	return ss, nil
}

// Sweep returns the sweep with the given id.
func (db *DB) Sweep(ctx context.Context, id int64) (Sweep, error) {
	ss, err := db.findSweeps(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Sweep{}, fmt.Errorf("sweep %d: %w", id, err)
	}
	if len(ss) == 0 {
		return Sweep{}, fmt.Errorf("sweep %d: %w", id, ErrNotFound)
	}
	return ss[0], nil
}

// findSweeps returns the sweeps matching the fixed where fragment, newest
// first, with their markets.
func (db *DB) findSweeps(ctx context.Context, where string, args ...any) ([]Sweep, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, status, started_at, finished_at, rule_version, stats,
		(SELECT json_group_array(market) FROM
			(SELECT market FROM sweep_markets m WHERE m.sweep_id = sweeps.id ORDER BY position))
		FROM sweeps `+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ss []Sweep
	for rows.Next() {
		var s Sweep
		var started, finished, stats sql.NullString
		var markets string
		if err := rows.Scan(&s.ID, &s.Status, &started, &finished, &s.RuleVersion, &stats, &markets); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(markets), &s.Markets); err != nil {
			return nil, fmt.Errorf("sweep %d markets: %w", s.ID, err)
		}
		if s.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		if s.FinishedAt, err = parseTime(finished); err != nil {
			return nil, err
		}
		if stats.Valid {
			s.Stats = json.RawMessage(stats.String)
		}
		ss = append(ss, s)
	}
	return ss, rows.Err()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
