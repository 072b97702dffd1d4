package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReviewHits sets the status of every hit in ids, records each review with
// its note and actor and appends a review audit row for each, all in one
// transaction: either every hit is reviewed or none is. A missing hit gives
// an error wrapping ErrNotFound that names it.
func (db *DB) ReviewHits(ctx context.Context, ids []int64, status, note, actor string, now time.Time) error {
	if !ValidStatus(status) {
		return fmt.Errorf("review hits: invalid status %q (want new, confirmed or false_positive)", status)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var prev, market, url string
			err := tx.QueryRowContext(ctx, `SELECT h.status, l.market, l.url FROM hits h JOIN listings l ON l.id = h.listing_id
				WHERE h.id = ?`, id).Scan(&prev, &market, &url)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("hit %d: %w", id, ErrNotFound)
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE hits SET status = ? WHERE id = ?`, status, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reviews (hit_id, status, note, actor, at) VALUES (?, ?, ?, ?, ?)`,
				id, status, note, actor, formatTime(now)); err != nil {
				return err
			}
			if _, err := appendAudit(ctx, tx, actor, ActionReview, map[string]any{
				"hit_id": id, "marketplace": market, "url": url,
				"previous_status": prev, "status": status, "note": note,
			}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("review hits: %w", err)
	}
	return nil
}
