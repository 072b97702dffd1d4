package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Health statuses of a marketplace.
const (
	HealthOK   = "ok"
	HealthWarn = "warn"
	HealthBad  = "bad"
)

// HealthRecord is a marketplace's health as assessed after one sweep.
type HealthRecord struct {
	Market     string          `json:"market"`
	SweepID    int64           `json:"sweep_id"`
	RecordedAt time.Time       `json:"recorded_at"`
	Status     string          `json:"status"` // HealthOK, HealthWarn or HealthBad
	Report     json.RawMessage `json:"report"` // the assessment, as its producer encodes it
}

// SaveHealth records (or replaces, for a resumed sweep) a marketplace's
// health after a sweep.
func (db *DB) SaveHealth(ctx context.Context, h HealthRecord) error {
	if len(h.Report) == 0 {
		h.Report = json.RawMessage("{}")
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO market_health (market, sweep_id, recorded_at, status, report) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (market, sweep_id) DO UPDATE SET recorded_at = excluded.recorded_at, status = excluded.status, report = excluded.report`,
			h.Market, h.SweepID, formatTime(h.RecordedAt), h.Status, string(h.Report))
		return err
	})
	if err != nil {
		return fmt.Errorf("save health of %s: %w", h.Market, err)
	}
	return nil
}

// HealthHistory returns up to limit health records of market, newest first.
func (db *DB) HealthHistory(ctx context.Context, market string, limit int) ([]HealthRecord, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT market, sweep_id, recorded_at, status, report FROM market_health
		WHERE market = ? ORDER BY sweep_id DESC LIMIT ?`, market, limit)
	if err != nil {
		return nil, fmt.Errorf("health history of %s: %w", market, err)
	}
	return scanHealth(rows)
}

// LatestHealth returns every marketplace's newest health record, by name.
func (db *DB) LatestHealth(ctx context.Context) (map[string]HealthRecord, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT h.market, h.sweep_id, h.recorded_at, h.status, h.report FROM market_health h
		JOIN (SELECT market, MAX(sweep_id) AS sweep_id FROM market_health GROUP BY market) l
		ON l.market = h.market AND l.sweep_id = h.sweep_id`)
	if err != nil {
		return nil, fmt.Errorf("latest health: %w", err)
	}
	hs, err := scanHealth(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]HealthRecord, len(hs))
	for _, h := range hs {
		out[h.Market] = h
	}
	return out, nil
}

func scanHealth(rows *sql.Rows) ([]HealthRecord, error) {
	defer rows.Close()
	var out []HealthRecord
	for rows.Next() {
		var h HealthRecord
		var at sql.NullString
		var report string
		if err := rows.Scan(&h.Market, &h.SweepID, &at, &h.Status, &report); err != nil {
			return nil, fmt.Errorf("health: %w", err)
		}
		var err error
		if h.RecordedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		h.Report = json.RawMessage(report)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	return out, nil
}

// FieldFill counts the listings of a marketplace seen by a sweep and how
// many of them have each main field.
type FieldFill struct {
	Listings, Title, Description, Price, Vendor int
}

// SweepFieldFill counts the fields of the listings of market last seen by
// sweep sweepID.
func (db *DB) SweepFieldFill(ctx context.Context, sweepID int64, market string) (FieldFill, error) {
	var f FieldFill
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(title <> ''), 0), COALESCE(SUM(description <> ''), 0),
			COALESCE(SUM(price <> ''), 0), COALESCE(SUM(vendor <> ''), 0)
		FROM listings WHERE market = ? AND last_sweep_id = ?`, market, sweepID).
		Scan(&f.Listings, &f.Title, &f.Description, &f.Price, &f.Vendor)
	if err != nil {
		return f, fmt.Errorf("field fill of %s: %w", market, err)
	}
	return f, nil
}

// Alert delivery statuses.
const (
	AlertSent   = "sent"
	AlertFailed = "failed"
)

// AlertRecord is one alert delivery to one channel, after its retries.
type AlertRecord struct {
	ID       int64     `json:"id"`
	SentAt   time.Time `json:"sent_at"`
	Event    string    `json:"event"`
	Market   string    `json:"market,omitempty"`
	Channel  string    `json:"channel"`
	Status   string    `json:"status"` // AlertSent or AlertFailed
	Attempts int       `json:"attempts"`
	Error    string    `json:"error,omitempty"`
}

// SaveAlert records an alert delivery.
func (db *DB) SaveAlert(ctx context.Context, a AlertRecord) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO alerts (sent_at, event, market, channel, status, attempts, error) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			formatTime(a.SentAt), a.Event, a.Market, a.Channel, a.Status, a.Attempts, a.Error)
		return err
	})
	if err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	return nil
}

// AlertsSince returns the alert deliveries since t, newest first, at most limit.
func (db *DB) AlertsSince(ctx context.Context, t time.Time, limit int) ([]AlertRecord, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, sent_at, event, market, channel, status, attempts, error FROM alerts
		WHERE sent_at >= ? ORDER BY id DESC LIMIT ?`, formatTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []AlertRecord
	for rows.Next() {
		var a AlertRecord
		var at sql.NullString
		if err := rows.Scan(&a.ID, &at, &a.Event, &a.Market, &a.Channel, &a.Status, &a.Attempts, &a.Error); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		if a.SentAt, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return out, nil
}
