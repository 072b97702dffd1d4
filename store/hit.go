package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"snoop/evidence"
)

// Hit review statuses.
const (
	StatusNew           = "new"
	StatusConfirmed     = "confirmed"
	StatusFalsePositive = "false_positive"
)

// ValidStatus reports whether s is a hit review status.
func ValidStatus(s string) bool {
	switch s {
	case StatusNew, StatusConfirmed, StatusFalsePositive:
		return true
	}
	return false
}

// HitFilter selects hits. Zero fields do not filter.
type HitFilter struct {
	IDs       []int64   // only these hits
	SweepID   int64     // hits with evidence from this sweep (detected in it)
	Since     time.Time // hits detected at or after this time (last detection)
	Market    string    // marketplace name
	Substance string    // canonical substance name, case-insensitive
	Status    string    // new, confirmed or false_positive
	Limit     int       // at most this many; 0 for all
	Offset    int       // skip this many
}

// Hit is a listing the classifier flagged, in the shape of SPEC "Hits".
// Title, Price, Vendor, Text and Description are the listing's current
// content; FirstSeen and LastSeen are the listing's.
type Hit struct {
	ID          int64       `json:"id"`
	Marketplace string      `json:"marketplace"`
	URL         string      `json:"url"`
	Title       string      `json:"title"`
	Price       string      `json:"price"`
	Vendor      string      `json:"vendor"`
	Score       float64     `json:"score"`
	Status      string      `json:"status"`
	Substances  []Substance `json:"substances"`
	RuleVersion string      `json:"rule_version"`
	SweepID     int64       `json:"sweep_id"` // the last sweep that detected it
	FirstSeen   time.Time   `json:"first_seen"`
	LastSeen    time.Time   `json:"last_seen"`
	Evidence    HitEvidence `json:"evidence"` // the latest evidence
	// Screenshot is the latest screenshot of the hit's page, nil if none.
	Screenshot *HitScreenshot `json:"screenshot,omitempty"`

	ListingID   int64  `json:"-"`
	Text        string `json:"-"`
	Description string `json:"-"`
}

// HitEvidence identifies the evidence record behind a hit.
type HitEvidence struct {
	ID           int64  `json:"-"`
	SHA256       string `json:"sha256"`
	WARCRecordID string `json:"warc_record_id"`
}

// Hits returns the hits matching f, ordered by id.
func (db *DB) Hits(ctx context.Context, f HitFilter) ([]Hit, error) {
	hits := []Hit{}
	err := db.HitsEach(ctx, f, func(h Hit) error {
		hits = append(hits, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hits, nil
}

// HitsEach calls fn for each hit matching f, in id order, without holding
// them all in memory. An error from fn stops the iteration and is returned.
// fn may call other DB methods, including writes.
func (db *DB) HitsEach(ctx context.Context, f HitFilter, fn func(Hit) error) error {
	if f.Status != "" && !ValidStatus(f.Status) {
		return fmt.Errorf("hits: invalid status %q", f.Status)
	}
	where, args := []string{"1 = 1"}, []any{}
	if len(f.IDs) > 0 {
		where = append(where, "h.id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.SweepID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM hit_evidence he WHERE he.hit_id = h.id AND he.sweep_id = ?)")
		args = append(args, f.SweepID)
	}
	if !f.Since.IsZero() {
		where = append(where, "h.last_detected >= ?")
		args = append(args, formatTime(f.Since))
	}
	if f.Market != "" {
		where = append(where, "l.market = ?")
		args = append(args, f.Market)
	}
	if f.Substance != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(h.substances) j WHERE lower(json_extract(j.value, '$.name')) = lower(?))")
		args = append(args, f.Substance)
	}
	if f.Status != "" {
		where = append(where, "h.status = ?")
		args = append(args, f.Status)
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	args = append(args, limit, offset)

	rows, err := db.db.QueryContext(ctx, hitSelect+` WHERE `+strings.Join(where, " AND ")+` ORDER BY h.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHit(rows)
		if err != nil {
			return fmt.Errorf("hits: %w", err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	return nil
}

// Hit returns the hit with the given id.
func (db *DB) Hit(ctx context.Context, id int64) (Hit, error) {
	h, err := scanHit(db.db.QueryRowContext(ctx, hitSelect+` WHERE h.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Hit{}, fmt.Errorf("hit %d: %w", id, ErrNotFound)
	} else if err != nil {
		return Hit{}, fmt.Errorf("hit %d: %w", id, err)
	}
	return h, nil
}

const hitSelect = `SELECT h.id, l.market, l.url, l.title, l.price, l.vendor, h.score, h.status, h.substances,
		h.rule_version, h.sweep_id, l.first_seen, l.last_seen, e.id, e.sha256, e.warc_record_id,
		l.id, l.text, l.description, s.sha256, s.taken_at
	FROM hits h
	JOIN listings l ON l.id = h.listing_id
	JOIN evidence e ON e.id = h.last_evidence_id
	LEFT JOIN screenshots s ON s.id = (SELECT id FROM screenshots WHERE hit_id = h.id ORDER BY taken_at DESC, id DESC LIMIT 1)`

type scanner interface{ Scan(dest ...any) error }

func scanHit(s scanner) (Hit, error) {
	var h Hit
	var subs string
	var first, last, shotSum, shotAt sql.NullString
	err := s.Scan(&h.ID, &h.Marketplace, &h.URL, &h.Title, &h.Price, &h.Vendor, &h.Score, &h.Status, &subs,
		&h.RuleVersion, &h.SweepID, &first, &last, &h.Evidence.ID, &h.Evidence.SHA256, &h.Evidence.WARCRecordID,
		&h.ListingID, &h.Text, &h.Description, &shotSum, &shotAt)
	if err != nil {
		return Hit{}, err
	}
	if shotSum.Valid {
		h.Screenshot = &HitScreenshot{SHA256: shotSum.String}
		if h.Screenshot.TakenAt, err = parseTime(shotAt); err != nil {
			return Hit{}, err
		}
	}
	if err := json.Unmarshal([]byte(subs), &h.Substances); err != nil {
		return Hit{}, fmt.Errorf("hit %d substances: %w", h.ID, err)
	}
	if h.Substances == nil {
		h.Substances = []Substance{}
	}
	if h.FirstSeen, err = parseTime(first); err != nil {
		return Hit{}, err
	}
	if h.LastSeen, err = parseTime(last); err != nil {
		return Hit{}, err
	}
	return h, nil
}

// HitEvidence returns every evidence record linked to the hit, oldest first.
func (db *DB) HitEvidence(ctx context.Context, hitID int64) ([]Evidence, error) {
	if err := db.hitExists(ctx, hitID); err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	rows, err := db.db.QueryContext(ctx, evidenceSelect+`
		JOIN hit_evidence he ON he.evidence_id = e.id WHERE he.hit_id = ? ORDER BY e.fetched_at, e.id`, hitID)
	if err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	defer rows.Close()
	evs := []Evidence{}
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hit %d evidence: %w", hitID, err)
	}
	return evs, nil
}

func (db *DB) hitExists(ctx context.Context, id int64) error {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hits WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Evidence returns the evidence record with the given id.
func (db *DB) Evidence(ctx context.Context, id int64) (Evidence, error) {
	e, err := scanEvidence(db.db.QueryRowContext(ctx, evidenceSelect+` WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("evidence %d: %w", id, ErrNotFound)
	} else if err != nil {
		return Evidence{}, fmt.Errorf("evidence %d: %w", id, err)
	}
	return e, nil
}

const evidenceSelect = `SELECT e.id, e.url, e.method, e.status, e.fetched_at, e.request_bytes, e.response_bytes,
		e.sha256, e.remote_addr, e.proxy, e.tls, e.truncated, e.warc_record_id, e.request_record_id,
		e.payload_sha256, e.revisit, COALESCE(e.refers_to, 0)
	FROM evidence e`

func scanEvidence(s scanner) (Evidence, error) {
	var e Evidence
	var fetched, tls sql.NullString
	err := s.Scan(&e.ID, &e.URL, &e.Method, &e.Status, &fetched, &e.RequestBytes, &e.ResponseBytes,
		&e.SHA256, &e.RemoteAddr, &e.Proxy, &tls, &e.Truncated, &e.WARCRecordID, &e.RequestRecordID,
		&e.PayloadSHA256, &e.Revisit, &e.RefersTo)
	if err != nil {
		return Evidence{}, err
	}
	if e.PayloadSHA256 == "" && !e.Revisit { // stored before payload digests were kept
		e.PayloadSHA256, _ = evidence.PayloadSHA256(e.ResponseBytes)
	}
	if e.FetchedAt, err = parseTime(fetched); err != nil {
		return Evidence{}, err
	}
	if tls.Valid {
		e.TLS = json.RawMessage(tls.String)
	}
	return e, nil
}

// Review sets a hit's status (new, confirmed or false_positive), records the
// review with its note and actor, and appends a review audit row, in one
// transaction. A missing hit gives ErrNotFound.
func (db *DB) Review(ctx context.Context, hitID int64, status, note, actor string, now time.Time) error {
	if !ValidStatus(status) {
		return fmt.Errorf("review hit %d: invalid status %q (want new, confirmed or false_positive)", hitID, status)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var prev, market, url string
		err := tx.QueryRowContext(ctx, `SELECT h.status, l.market, l.url FROM hits h JOIN listings l ON l.id = h.listing_id
			WHERE h.id = ?`, hitID).Scan(&prev, &market, &url)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hits SET status = ? WHERE id = ?`, status, hitID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reviews (hit_id, status, note, actor, at) VALUES (?, ?, ?, ?, ?)`,
			hitID, status, note, actor, formatTime(now)); err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, actor, ActionReview, map[string]any{
			"hit_id": hitID, "marketplace": market, "url": url,
			"previous_status": prev, "status": status, "note": note,
		}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("review hit %d: %w", hitID, err)
	}
	return nil
}
