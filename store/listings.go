package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Listing is a stored listing, hit or not, in the shape of the documented
// `snoop listings` format.
type Listing struct {
	ID          int64      `json:"id"`
	Marketplace string     `json:"marketplace"`
	URL         string     `json:"url"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Price       string     `json:"price"`
	Vendor      string     `json:"vendor"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	Gone        bool       `json:"gone"`
	GoneAt      *time.Time `json:"gone_at"`
	HitID       int64      `json:"hit_id,omitempty"` // 0 when the listing is not a hit
}

// ListingFilter selects listings. Zero fields do not filter.
type ListingFilter struct {
	Market   string // marketplace name
	GoneOnly bool   // only listings marked gone
}

// ListingRowsEach calls fn for every listing matching f, gone ones
// included, in id order, without holding them all in memory.
func (db *DB) ListingRowsEach(ctx context.Context, f ListingFilter, fn func(Listing) error) error {
	where, args := "1 = 1", []any{}
	if f.Market != "" {
		where += " AND l.market = ?"
		args = append(args, f.Market)
	}
	if f.GoneOnly {
		where += " AND l.gone_at IS NOT NULL"
	}
	rows, err := db.db.QueryContext(ctx, `SELECT l.id, l.market, l.url, l.title, l.description, l.price, l.vendor,
			l.first_seen, l.last_seen, l.gone_at, COALESCE(h.id, 0)
		FROM listings l LEFT JOIN hits h ON h.listing_id = l.id WHERE `+where+` ORDER BY l.id`, args...)
	if err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Listing
		var first, last, gone sql.NullString
		if err := rows.Scan(&l.ID, &l.Marketplace, &l.URL, &l.Title, &l.Description, &l.Price, &l.Vendor,
			&first, &last, &gone, &l.HitID); err != nil {
			return fmt.Errorf("listings: %w", err)
		}
		if l.FirstSeen, err = parseTime(first); err != nil {
			return fmt.Errorf("listing %d: %w", l.ID, err)
		}
		if l.LastSeen, err = parseTime(last); err != nil {
			return fmt.Errorf("listing %d: %w", l.ID, err)
		}
		if gone.Valid {
			t, err := parseTime(gone)
			if err != nil {
				return fmt.Errorf("listing %d: %w", l.ID, err)
			}
			l.Gone, l.GoneAt = true, &t
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

// Markets returns the names of the marketplaces with stored listings or
// sweeps, sorted.
func (db *DB) Markets(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT market FROM listings UNION SELECT market FROM sweep_markets ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("markets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("markets: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AdjacentHits returns the ids of the hits just before and after id (by
// id), each 0 when there is none; with status set, only hits of that
// status count, for stepping through the ones still to triage.
func (db *DB) AdjacentHits(ctx context.Context, id int64, status string) (prev, next int64, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(id) FROM hits WHERE id < ?1 AND (?2 = '' OR status = ?2)), 0),
		COALESCE((SELECT MIN(id) FROM hits WHERE id > ?1 AND (?2 = '' OR status = ?2)), 0)`, id, status).Scan(&prev, &next)
	if err != nil {
		return 0, 0, fmt.Errorf("hits next to %d: %w", id, err)
	}
	return prev, next, nil
}
