package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// StoredListing is a stored listing with its hit, if any, for re-classifying
// (rules backtest).
type StoredListing struct {
	ID                     int64
	Market, URL, Title     string
	Text                   string
	HitID                  int64       // 0 if the listing is not a hit
	Substances             []Substance // the hit's substances; nil if not a hit
	HitStatus, RuleVersion string      // the hit's; "" if not a hit
}

// ListingsEach calls fn for every stored listing, in id order, without
// holding them all in memory. An error from fn stops the iteration and is
// returned.
func (db *DB) ListingsEach(ctx context.Context, fn func(StoredListing) error) error {
	rows, err := db.db.QueryContext(ctx, `SELECT l.id, l.market, l.url, l.title, l.text,
			COALESCE(h.id, 0), h.substances, COALESCE(h.status, ''), COALESCE(h.rule_version, '')
		FROM listings l LEFT JOIN hits h ON h.listing_id = l.id ORDER BY l.id`)
	if err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l StoredListing
		var subs sql.NullString
		if err := rows.Scan(&l.ID, &l.Market, &l.URL, &l.Title, &l.Text, &l.HitID, &subs, &l.HitStatus, &l.RuleVersion); err != nil {
			return fmt.Errorf("listings: %w", err)
		}
		if subs.Valid {
			if err := json.Unmarshal([]byte(subs.String), &l.Substances); err != nil {
				return fmt.Errorf("listing %d substances: %w", l.ID, err)
			}
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	return nil
}

// MarkGone marks as gone (at now) every listing of market that sweep
// sweepID did not see and that is not already gone, and returns how many it
// marked. Call it only after a sweep that covered the whole marketplace. A
// gone listing that is seen again has gone_at cleared by SavePage.
func (db *DB) MarkGone(ctx context.Context, sweepID int64, market string, now time.Time) (int, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE listings SET gone_at = ?
			WHERE market = ? AND last_sweep_id <> ? AND gone_at IS NULL`, formatTime(now), market, sweepID)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark gone %s: %w", market, err)
	}
	return int(n), nil
}

// ListingVersion is one recorded content of a listing.
type ListingVersion struct {
	ID, ListingID, SweepID, EvidenceID int64
	SeenAt                             time.Time // when this content was first seen
	ContentHash                        string
	Title, Description, Price, Vendor  string
	Fields                             map[string]string
	Text                               string
	// Cut is set when ListingHistoryCut cut a text field (Fields is then
	// not loaded).
	Cut bool
}

// ListingHistory returns every version of the listing, oldest first. A
// missing listing gives ErrNotFound.
func (db *DB) ListingHistory(ctx context.Context, listingID int64) ([]ListingVersion, error) {
	return db.listingHistory(ctx, listingID, 0)
}

// listingHistory is ListingHistory with the text fields cut to maxText
// bytes when maxText > 0.
func (db *DB) listingHistory(ctx context.Context, listingID int64, maxText int) ([]ListingVersion, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM listings WHERE id = ?`, listingID).Scan(&n); err != nil {
		return nil, fmt.Errorf("listing %d history: %w", listingID, err)
	} else if n == 0 {
		return nil, fmt.Errorf("listing %d history: %w", listingID, ErrNotFound)
	}
	query, args := `SELECT id, listing_id, sweep_id, evidence_id, seen_at, content_hash,
			title, description, price, vendor, fields, text, packed
		FROM listing_versions WHERE listing_id = ? ORDER BY id`, []any{listingID}
	if maxText > 0 {
		query = `SELECT id, listing_id, sweep_id, evidence_id, seen_at, content_hash,
			COALESCE(CAST(substr(CAST(title AS BLOB), 1, ?) AS TEXT), ''), COALESCE(CAST(substr(CAST(description AS BLOB), 1, ?) AS TEXT), ''), COALESCE(CAST(substr(CAST(price AS BLOB), 1, ?) AS TEXT), ''),
			COALESCE(CAST(substr(CAST(vendor AS BLOB), 1, ?) AS TEXT), ''), '{}', COALESCE(CAST(substr(CAST(text AS BLOB), 1, ?) AS TEXT), ''), packed
		FROM listing_versions WHERE listing_id = ? ORDER BY id`
		n := maxText + 1
		args = []any{n, n, n, n, n, listingID}
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing %d history: %w", listingID, err)
	}
	defer rows.Close()
	var vs []ListingVersion
	for rows.Next() {
		var v ListingVersion
		var seen sql.NullString
		var fields string
		var packed []byte
		if err := rows.Scan(&v.ID, &v.ListingID, &v.SweepID, &v.EvidenceID, &seen, &v.ContentHash,
			&v.Title, &v.Description, &v.Price, &v.Vendor, &fields, &v.Text, &packed); err != nil {
			return nil, fmt.Errorf("listing %d history: %w", listingID, err)
		}
		if packed != nil {
			c, err := unpackVersion(packed)
			if err != nil {
				return nil, fmt.Errorf("listing %d version %d: %w", listingID, v.ID, err)
			}
			v.Description, v.Text = c.Description, c.Text
			b, err := json.Marshal(c.Fields)
			if err != nil {
				return nil, err
			}
			fields = string(b)
		}
		if v.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &v.Fields); err != nil {
			return nil, fmt.Errorf("listing %d version %d fields: %w", listingID, v.ID, err)
		}
		if maxText > 0 {
			for _, p := range []*string{&v.Title, &v.Description, &v.Price, &v.Vendor, &v.Text} {
				if len(*p) > maxText {
					*p, v.Cut = CutUTF8(*p, maxText), true
				}
			}
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %d history: %w", listingID, err)
	}
	return vs, nil
}
