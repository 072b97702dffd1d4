package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Statuses of a discovered site.
const (
	DiscoveredNew       = "new"
	DiscoveredAdded     = "added"
	DiscoveredDismissed = "dismissed"
)

// Discovered is a site linked from hit pages that is not a configured
// marketplace.
type Discovered struct {
	Site      string    `json:"site"`
	StartURL  string    `json:"start_url"`
	Market    string    `json:"market"`
	SourceURL string    `json:"source_url"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Sightings int       `json:"sightings"`
	Status    string    `json:"status"`
}

// SaveDiscovered records sightings of sites: a new site is added with
// status new; a known one gets its last_seen and sightings updated (its
// status, and what was seen first, stay).
func (db *DB) SaveDiscovered(ctx context.Context, ds []Discovered) error {
	if len(ds) == 0 {
		return nil
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			_, err := tx.ExecContext(ctx, `INSERT INTO discovered (site, start_url, market, source_url, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (site) DO UPDATE SET last_seen = excluded.last_seen, sightings = sightings + 1`,
				d.Site, d.StartURL, d.Market, d.SourceURL, formatTime(d.LastSeen), formatTime(d.LastSeen))
			if err != nil {
				return fmt.Errorf("%s: %w", d.Site, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save discovered sites: %w", err)
	}
	return nil
}

// DiscoveredSites returns the discovered sites with the given status ("":
// all), most sighted first.
func (db *DB) DiscoveredSites(ctx context.Context, status string) ([]Discovered, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT site, start_url, market, source_url, first_seen, last_seen, sightings, status
		FROM discovered WHERE ? = '' OR status = ? ORDER BY sightings DESC, site`, status, status)
	if err != nil {
		return nil, fmt.Errorf("discovered sites: %w", err)
	}
	defer rows.Close()
	out := []Discovered{}
	for rows.Next() {
		var d Discovered
		var first, last sql.NullString
		if err := rows.Scan(&d.Site, &d.StartURL, &d.Market, &d.SourceURL, &first, &last, &d.Sightings, &d.Status); err != nil {
			return nil, fmt.Errorf("discovered sites: %w", err)
		}
		if d.FirstSeen, err = parseTime(first); err != nil {
			return nil, err
		}
		if d.LastSeen, err = parseTime(last); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("discovered sites: %w", err)
	}
	return out, nil
}

// DiscoveredSite returns one discovered site.
func (db *DB) DiscoveredSite(ctx context.Context, site string) (Discovered, error) {
	all, err := db.DiscoveredSites(ctx, "")
	if err != nil {
		return Discovered{}, err
	}
	for _, d := range all {
		if d.Site == site {
			return d, nil
		}
	}
	return Discovered{}, fmt.Errorf("discovered site %q: %w", site, ErrNotFound)
}

// SetDiscoveredStatus marks a discovered site added or dismissed (or new again).
func (db *DB) SetDiscoveredStatus(ctx context.Context, site, status string) error {
	if status != DiscoveredNew && status != DiscoveredAdded && status != DiscoveredDismissed {
		return fmt.Errorf("discovered site %q: bad status %q", site, status)
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE discovered SET status = ? WHERE site = ?`, status, site)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("discovered site %q: %w", site, err)
	}
	return nil
}
