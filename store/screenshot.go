package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ActionScreenshot is the audit-log action of a stored screenshot.
const ActionScreenshot = "screenshot"

// Screenshot is a rendered image of a hit's page.
type Screenshot struct {
	ID         int64
	HitID      int64
	EvidenceID int64 // the capture the page was rendered from; 0 if unknown
	URL        string
	TakenAt    time.Time
	PNG        []byte
	SHA256     string // hex SHA-256 of PNG
}

// HitScreenshot identifies a hit's latest screenshot.
type HitScreenshot struct {
	SHA256  string    `json:"sha256"`
	TakenAt time.Time `json:"taken_at"`
}

// SaveScreenshot stores s and appends a screenshot audit row, in one
// transaction, and returns the new id. SHA256 is computed when empty and
// must match PNG otherwise; URL defaults to the hit's listing URL and
// TakenAt to the store's clock.
func (db *DB) SaveScreenshot(ctx context.Context, s Screenshot) (int64, error) {
	if err := db.checkScreenshot(&s); err != nil {
		return 0, err
	}
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.saveScreenshot(ctx, tx, s)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save screenshot of hit %d: %w", s.HitID, err)
	}
	return id, nil
}

// checkScreenshot fills in a screenshot's hash and time, and checks them.
func (db *DB) checkScreenshot(s *Screenshot) error {
	if len(s.PNG) == 0 {
		return fmt.Errorf("save screenshot of hit %d: no image", s.HitID)
	}
	if got := sha256Hex(s.PNG); s.SHA256 == "" {
		s.SHA256 = got
	} else if s.SHA256 != got {
		return fmt.Errorf("save screenshot of hit %d: sha256 %s does not match the image (%s)", s.HitID, s.SHA256, got)
	}
	if s.TakenAt.IsZero() {
		s.TakenAt = db.Now()
	}
	return nil
}

// saveScreenshot stores a checked screenshot and its audit row in a
// transaction.
func (db *DB) saveScreenshot(ctx context.Context, tx querier, s Screenshot) (int64, error) {
	var id int64
	err := func() error {
		var listingURL string
		err := tx.QueryRowContext(ctx, `SELECT l.url FROM hits h JOIN listings l ON l.id = h.listing_id WHERE h.id = ?`, s.HitID).Scan(&listingURL)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if s.URL == "" {
			s.URL = listingURL
		}
		var evidenceID any
		if s.EvidenceID != 0 {
			evidenceID = s.EvidenceID
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO screenshots (hit_id, evidence_id, url, taken_at, png, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
			s.HitID, evidenceID, s.URL, formatTime(s.TakenAt), s.PNG, s.SHA256)
		if err != nil {
			return err
		}
		if id, err = r.LastInsertId(); err != nil {
			return err
		}
		details := map[string]any{"hit_id": s.HitID, "screenshot_id": id, "url": s.URL, "sha256": s.SHA256, "bytes": len(s.PNG)}
		if s.EvidenceID != 0 {
			details["evidence_id"] = s.EvidenceID
		}
		_, err = appendAudit(ctx, tx, db.Actor, ActionScreenshot, details, s.TakenAt)
		return err
	}()
	return id, err
}

// LatestScreenshot returns the hit's most recently taken screenshot, or an
// error wrapping ErrNotFound when it has none.
func (db *DB) LatestScreenshot(ctx context.Context, hitID int64) (Screenshot, error) {
	var (
		s       Screenshot
		ev      sql.NullInt64
		takenAt sql.NullString
	)
	err := db.db.QueryRowContext(ctx, `SELECT id, hit_id, evidence_id, url, taken_at, png, sha256 FROM screenshots
		WHERE hit_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1`, hitID).
		Scan(&s.ID, &s.HitID, &ev, &s.URL, &takenAt, &s.PNG, &s.SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return Screenshot{}, fmt.Errorf("screenshot of hit %d: %w", hitID, ErrNotFound)
	} else if err != nil {
		return Screenshot{}, fmt.Errorf("screenshot of hit %d: %w", hitID, err)
	}
	s.EvidenceID = ev.Int64
	if s.TakenAt, err = parseTime(takenAt); err != nil {
		return Screenshot{}, fmt.Errorf("screenshot of hit %d: %w", hitID, err)
	}
	return s, nil
}
