package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Limits of the triage and selection services, the same for the CLI and
// the workbench.
const (
	// MaxReviewBatch is the most distinct hits one review changes.
	MaxReviewBatch = 5000
	// MaxSelectIDs is the most distinct hit IDs a HitFilter may name (an
	// export of chosen hits, say).
	MaxSelectIDs = 50_000
	// MaxNoteBytes is the longest review note.
	MaxNoteBytes = 4000
)

// ErrInvalid is wrapped by errors caused by what the caller asked for
// (an HTTP 400, a usage error); their text says what to change.
var ErrInvalid = errors.New("invalid request")

// invalidError is an ErrInvalid whose message is only its own text.
type invalidError struct{ msg string }

func (e invalidError) Error() string        { return e.msg }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return invalidError{fmt.Sprintf(format, args...)}
}

// UniqueIDs returns ids without repeats, in first-seen order, refusing an
// ID that is not positive and more than max distinct IDs (what names the
// selection, e.g. "hit", is used in the messages).
func UniqueIDs(ids []int64, max int, what string) ([]int64, error) {
	seen := make(map[int64]bool, min(len(ids), max+1))
	out := make([]int64, 0, min(len(ids), max+1))
	for _, id := range ids {
		if id <= 0 {
			return nil, invalidf("%s ID %d: want a positive number", what, id)
		}
		if seen[id] {
			continue
		}
		if len(out) == max {
			return nil, invalidf("more than %d distinct %s IDs given: at most %d at a time (select fewer, or use a filter)", max, what, max)
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
}

// ReviewHits sets the status of each of ids (new, confirmed or
// false_positive), records one review with note and actor and appends one
// review audit row per distinct hit, all in one transaction: either every
// hit is reviewed or none. Repeated IDs count once; more than
// MaxReviewBatch distinct IDs, an empty selection, a bad status or a note
// longer than MaxNoteBytes give an error wrapping ErrInvalid, and a
// missing hit an error wrapping ErrNotFound. It returns the number of hits
// reviewed.
func (db *DB) ReviewHits(ctx context.Context, ids []int64, status, note, actor string, now time.Time) (int, error) {
	if !ValidStatus(status) {
		return 0, invalidf("status %q: want new, confirmed or false_positive", status)
	}
	if len(note) > MaxNoteBytes {
		return 0, invalidf("note of %d bytes: at most %d", len(note), MaxNoteBytes)
	}
	ids, err := UniqueIDs(ids, MaxReviewBatch, "hit")
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, invalidf("no hits selected")
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if err := reviewHit(ctx, tx, id, status, note, actor, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("review: %w", err)
	}
	return len(ids), nil
}

// reviewHit reviews one hit inside tx.
func reviewHit(ctx context.Context, tx *sql.Tx, hitID int64, status, note, actor string, now time.Time) error {
	var prev, market, url string
	err := tx.QueryRowContext(ctx, `SELECT h.status, l.market, l.url FROM hits h JOIN listings l ON l.id = h.listing_id
		WHERE h.id = ?`, hitID).Scan(&prev, &market, &url)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no hit %d: %w", hitID, ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("hit %d: %w", hitID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hits SET status = ? WHERE id = ?`, status, hitID); err != nil {
		return fmt.Errorf("hit %d: %w", hitID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reviews (hit_id, status, note, actor, at) VALUES (?, ?, ?, ?, ?)`,
		hitID, status, note, actor, formatTime(now)); err != nil {
		return fmt.Errorf("hit %d: %w", hitID, err)
	}
	if _, err := appendAudit(ctx, tx, actor, ActionReview, map[string]any{
		"hit_id": hitID, "marketplace": market, "url": url,
		"previous_status": prev, "status": status, "note": note,
	}, now); err != nil {
		return fmt.Errorf("hit %d: %w", hitID, err)
	}
	return nil
}

// idsJSON returns ids as a JSON array, bound as one parameter and read with
// json_each, so a selection of any size needs one SQL variable.
func idsJSON(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
