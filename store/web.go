package store

// This file holds what `snoop serve` needs beyond the sweep and triage
// records: accounts, sessions, "last looked" marks, and the read-only
// aggregates the analyst workbench shows (latest run per marketplace, hits
// per substance class per day, review history). Its tables are created by
// migrations/0050_web.sql.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PutUser creates the account name with the given password hash, or
// replaces the hash of an existing account. Replacing a password ends the
// account's sessions.
func (db *DB) PutUser(ctx context.Context, name, passwordHash string, now time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		ts := formatTime(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
			name, passwordHash, ts, ts); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("put user %s: %w", name, err)
	}
	return nil
}

// PasswordHash returns the stored password hash of the account name, or
// an error wrapping ErrNotFound.
func (db *DB) PasswordHash(ctx context.Context, name string) (string, error) {
	var h string
	err := db.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = ?`, name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("user %s: %w", name, err)
	}
	return h, nil
}

// UserCount reports how many accounts exist.
func (db *DB) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// Session is a signed-in browser session. Only a hash of the session token
// (the cookie value) is stored.
type Session struct {
	TokenHash string
	User      string
	CSRF      string // the session's anti-CSRF token
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores s and deletes expired sessions.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(s.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			s.TokenHash, s.User, s.CSRF, formatTime(s.CreatedAt), formatTime(s.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session for %s: %w", s.User, err)
	}
	return nil
}

// SessionByToken returns the session whose token hash is tokenHash if it
// has not expired at now, or an error wrapping ErrNotFound.
func (db *DB) SessionByToken(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var (
		s                  Session
		created, expiresAt sql.NullString
	)
	err := db.db.QueryRowContext(ctx, `SELECT token_hash, user_name, csrf, created_at, expires_at FROM sessions
		WHERE token_hash = ? AND expires_at > ?`, tokenHash, formatTime(now)).Scan(&s.TokenHash, &s.User, &s.CSRF, &created, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return Session{}, err
	}
	if s.ExpiresAt, err = parseTime(expiresAt); err != nil {
		return Session{}, err
	}
	return s, nil
}

// DeleteSession ends the session whose token hash is tokenHash, if any.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// LastLook returns when user last marked the hits as looked at; the zero
// time if never.
func (db *DB) LastLook(ctx context.Context, user string) (time.Time, error) {
	var at sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT at FROM last_looks WHERE user_name = ?`, user).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last look of %s: %w", user, err)
	}
	return parseTime(at)
}

// SetLastLook records that user looked at the hits at t.
func (db *DB) SetLastLook(ctx context.Context, user string, t time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO last_looks (user_name, at) VALUES (?, ?)
			ON CONFLICT (user_name) DO UPDATE SET at = excluded.at`, user, formatTime(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("set last look of %s: %w", user, err)
	}
	return nil
}

// HitIDsDetectedSince returns the IDs of hits first detected after since,
// in ID order.
func (db *DB) HitIDsDetectedSince(ctx context.Context, since time.Time) ([]int64, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM hits WHERE first_detected > ? ORDER BY id`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("new hits: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("new hits: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("new hits: %w", err)
	}
	return ids, nil
}

// ClassCount is the number of hits of one substance class first detected
// on one day (UTC).
type ClassCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Class string `json:"class"`
	Hits  int    `json:"hits"`
}

// ClassCounts counts hits per substance class per day of first detection,
// for hits first detected at or after since, ordered by day then class. A
// hit naming two classes counts once for each.
func (db *DB) ClassCounts(ctx context.Context, since time.Time) ([]ClassCount, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT substr(h.first_detected, 1, 10) AS day,
			COALESCE(json_extract(s.value, '$.class'), '') AS class, COUNT(DISTINCT h.id)
		FROM hits h, json_each(h.substances) s
		WHERE h.first_detected >= ?
		GROUP BY day, class ORDER BY day, class`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("class counts: %w", err)
	}
	defer rows.Close()
	var out []ClassCount
	for rows.Next() {
		var c ClassCount
		if err := rows.Scan(&c.Day, &c.Class, &c.Hits); err != nil {
			return nil, fmt.Errorf("class counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("class counts: %w", err)
	}
	return out, nil
}

// MarketRun is the latest sweep that included one marketplace.
type MarketRun struct {
	Market     string
	SweepID    int64
	Status     string
	StartedAt  time.Time
	FinishedAt time.Time
	Stats      json.RawMessage // the whole sweep's stats, nil while running
}

// MarketRuns returns, for every marketplace that was ever swept, its latest
// sweep, ordered by marketplace name.
func (db *DB) MarketRuns(ctx context.Context) ([]MarketRun, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT m.market, s.id, s.status, s.started_at, s.finished_at, s.stats
		FROM (SELECT market, MAX(sweep_id) AS sweep_id FROM sweep_markets GROUP BY market) m
		JOIN sweeps s ON s.id = m.sweep_id
		ORDER BY m.market`)
	if err != nil {
		return nil, fmt.Errorf("market runs: %w", err)
	}
	defer rows.Close()
	var out []MarketRun
	for rows.Next() {
		var (
			r                 MarketRun
			started, finished sql.NullString
			stats             sql.NullString
		)
		if err := rows.Scan(&r.Market, &r.SweepID, &r.Status, &started, &finished, &stats); err != nil {
			return nil, fmt.Errorf("market runs: %w", err)
		}
		if r.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		if r.FinishedAt, err = parseTime(finished); err != nil {
			return nil, err
		}
		if stats.Valid && stats.String != "" {
			r.Stats = json.RawMessage(stats.String)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market runs: %w", err)
	}
	return out, nil
}

// ReviewRecord is one triage decision on a hit.
type ReviewRecord struct {
	Status string    `json:"status"`
	Note   string    `json:"note"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
}

// Reviews returns the triage decisions on a hit, oldest first.
func (db *DB) Reviews(ctx context.Context, hitID int64) ([]ReviewRecord, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT status, note, actor, at FROM reviews WHERE hit_id = ? ORDER BY id`, hitID)
	if err != nil {
		return nil, fmt.Errorf("hit %d reviews: %w", hitID, err)
	}
	defer rows.Close()
	var out []ReviewRecord
	for rows.Next() {
		var (
			r  ReviewRecord
			at sql.NullString
		)
		if err := rows.Scan(&r.Status, &r.Note, &r.Actor, &at); err != nil {
			return nil, fmt.Errorf("hit %d reviews: %w", hitID, err)
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hit %d reviews: %w", hitID, err)
	}
	return out, nil
}

// ListingHistoryCut is ListingHistory for display: each version's title,
// description, price, vendor and text are read as at most maxText bytes
// (cut at a UTF-8 boundary, ListingVersion.Cut set) and Fields is not
// loaded, so a listing with huge versions costs little memory.
func (db *DB) ListingHistoryCut(ctx context.Context, listingID int64, maxText int) ([]ListingVersion, error) {
	return db.listingHistory(ctx, listingID, max(maxText, 1))
}

// EvidenceInfo is an evidence record without its request and response
// bytes (both nil), with the size of the response.
type EvidenceInfo struct {
	Evidence
	Size int // bytes of ResponseBytes as stored
}

// HitEvidenceInfo returns the evidence records linked to the hit, oldest
// first, as HitEvidence does but without their bytes, so that listing a
// hit's many captures costs little memory. A missing hit gives
// ErrNotFound.
func (db *DB) HitEvidenceInfo(ctx context.Context, hitID int64) ([]EvidenceInfo, error) {
	if err := db.hitExists(ctx, hitID); err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT e.id, e.url, e.method, e.status, e.fetched_at, length(e.response_bytes),
			e.sha256, e.remote_addr, e.proxy, e.truncated, e.warc_record_id, e.request_record_id,
			e.payload_sha256, e.revisit, COALESCE(e.refers_to, 0),
			CASE WHEN e.encoding = 'zstd' THEN e.response_bytes END
		FROM evidence e JOIN hit_evidence he ON he.evidence_id = e.id WHERE he.hit_id = ? ORDER BY e.fetched_at, e.id`, hitID)
	if err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	defer rows.Close()
	out := []EvidenceInfo{}
	for rows.Next() {
		var (
			e       EvidenceInfo
			fetched sql.NullString
			head    []byte
		)
		if err := rows.Scan(&e.ID, &e.URL, &e.Method, &e.Status, &fetched, &e.Size, &e.SHA256, &e.RemoteAddr, &e.Proxy,
			&e.Truncated, &e.WARCRecordID, &e.RequestRecordID, &e.PayloadSHA256, &e.Revisit, &e.RefersTo, &head); err != nil {
			return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
		}
		if head != nil {
			// A compressed record's size is that of the exact bytes
			// received, counted by decompressing as a stream.
			if e.Size, err = unpackedSize(head); err != nil {
				return nil, fmt.Errorf("hit %d evidence %d: %w", hitID, e.ID, err)
			}
		}
		if e.FetchedAt, err = parseTime(fetched); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	return out, nil
}
