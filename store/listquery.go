package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Listing is a stored listing in the shape of the documented `snoop
// listings` format.
type Listing struct {
	ID          int64             `json:"id"`
	Market      string            `json:"marketplace"`
	URL         string            `json:"url"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Price       string            `json:"price"`
	Vendor      string            `json:"vendor"`
	Fields      map[string]string `json:"fields"`
	Hit         bool              `json:"hit"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	Gone        bool              `json:"gone"`
	GoneAt      *time.Time        `json:"gone_at"` // null while the listing is live
}

// ListingFilter selects stored listings; the zero value selects all.
type ListingFilter struct {
	Market   string
	GoneOnly bool
}

// EachListing calls fn for each listing the filter selects, in id order,
// without holding them all in memory.
func (db *DB) EachListing(ctx context.Context, f ListingFilter, fn func(Listing) error) error {
	q := `SELECT l.id, l.market, l.url, l.title, l.description, l.price, l.vendor, l.fields,
			l.first_seen, l.last_seen, l.gone_at, h.id IS NOT NULL
		FROM listings l LEFT JOIN hits h ON h.listing_id = l.id WHERE 1 = 1`
	var args []any
	if f.Market != "" {
		q += ` AND l.market = ?`
		args = append(args, f.Market)
	}
	if f.GoneOnly {
		q += ` AND l.gone_at IS NOT NULL`
	}
	rows, err := db.db.QueryContext(ctx, q+` ORDER BY l.id`, args...)
	if err != nil {
		return fmt.Errorf("listings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Listing
		var fields string
		var first, last, gone sql.NullString
		if err := rows.Scan(&l.ID, &l.Market, &l.URL, &l.Title, &l.Description, &l.Price, &l.Vendor, &fields,
			&first, &last, &gone, &l.Hit); err != nil {
			return fmt.Errorf("listings: %w", err)
		}
		if err := json.Unmarshal([]byte(fields), &l.Fields); err != nil {
			return fmt.Errorf("listing %d fields: %w", l.ID, err)
		}
		if l.FirstSeen, err = parseTime(first); err != nil {
			return err
		}
		if l.LastSeen, err = parseTime(last); err != nil {
			return err
		}
		if gone.Valid {
			t, err := parseTime(gone)
			if err != nil {
				return err
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
