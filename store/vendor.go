package store

// This file keeps what the vendor service (package vendors) works from and
// decides: identifier sightings, vendor clusters with their triage status,
// analysts' merge and split decisions, and the identifiers found to be
// shared by many sellers. Its tables are created by
// migrations/0130_vendors.sql. The rules (what links, what is common, how
// decisions combine) live in package vendors.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Audit actions of the vendor service.
const (
	ActionVendorStatus = "vendor.status"
	ActionVendorMerge  = "vendor.merge"
	ActionVendorSplit  = "vendor.split"
)

// Sighting is one identifier found in a listing: where (the evidence
// record, the source field and the byte span) and as what.
type Sighting struct {
	ListingID  int64     `json:"listing_id"`
	EvidenceID int64     `json:"evidence_id"`
	Kind       string    `json:"kind"`
	Value      string    `json:"value"`
	LinkKey    string    `json:"-"`
	Source     string    `json:"source"`
	Start      int       `json:"start"`
	End        int       `json:"end"`
	Raw        string    `json:"raw"`
	SeenAt     time.Time `json:"seen_at"`
}

// VersionText is one recorded content of a listing, with what identifier
// extraction needs to know about it.
type VersionText struct {
	VersionID, ListingID, EvidenceID int64
	Market, URL                      string
	SeenAt                           time.Time
	Title, Description, Price        string
	Vendor, Text                     string
	Fields                           map[string]string
	// PageListings is how many listings were taken from the page of
	// EvidenceID: 1 means the page is this listing's own.
	PageListings int
}

// VersionsAfter returns up to limit listing versions with an id above
// after, in id order.
func (db *DB) VersionsAfter(ctx context.Context, after int64, limit int) ([]VersionText, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT v.id, v.listing_id, v.evidence_id, l.market, l.url, v.seen_at,
			v.title, v.description, v.price, v.vendor, v.text, v.fields,
			(SELECT COUNT(DISTINCT listing_id) FROM listing_versions w WHERE w.evidence_id = v.evidence_id)
		FROM listing_versions v JOIN listings l ON l.id = v.listing_id
		WHERE v.id > ? ORDER BY v.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	defer rows.Close()
	var out []VersionText
	for rows.Next() {
		var v VersionText
		var seen sql.NullString
		var fields string
		if err := rows.Scan(&v.VersionID, &v.ListingID, &v.EvidenceID, &v.Market, &v.URL, &seen,
			&v.Title, &v.Description, &v.Price, &v.Vendor, &v.Text, &fields, &v.PageListings); err != nil {
			return nil, fmt.Errorf("listing versions: %w", err)
		}
		if v.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &v.Fields); err != nil {
			return nil, fmt.Errorf("listing version %d fields: %w", v.VersionID, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ExtractedThrough returns the id of the last listing version whose
// identifiers were extracted.
func (db *DB) ExtractedThrough(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT extracted_through FROM vendor_state WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("vendor state: %w", err)
	}
	return n, nil
}

// LatestVersion returns the id of the newest listing version (0 if none).
func (db *DB) LatestVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM listing_versions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("latest listing version: %w", err)
	}
	return n, nil
}

// SaveSightings stores sightings (duplicates of stored ones are skipped)
// and records that versions up to through were extracted, in one
// transaction.
func (db *DB) SaveSightings(ctx context.Context, sightings []Sighting, through int64) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO identifier_sightings
			(listing_id, evidence_id, kind, value, link_key, source, start, end, raw, seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range sightings {
			if _, err := stmt.ExecContext(ctx, s.ListingID, s.EvidenceID, s.Kind, s.Value, s.LinkKey, s.Source,
				s.Start, s.End, s.Raw, formatTime(s.SeenAt)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE vendor_state SET extracted_through = MAX(extracted_through, ?) WHERE id = 1`, through)
		return err
	})
	if err != nil {
		return fmt.Errorf("save identifier sightings: %w", err)
	}
	return nil
}

// Sightings returns the stored sightings of the given listings (all
// listings when ids is empty), ordered by listing, evidence and position.
func (db *DB) Sightings(ctx context.Context, ids []int64) ([]Sighting, error) {
	q := `SELECT listing_id, evidence_id, kind, value, link_key, source, start, end, raw, seen_at FROM identifier_sightings`
	var args []any
	if len(ids) > 0 {
		q += ` WHERE listing_id IN (SELECT value FROM json_each(?))`
		b, _ := json.Marshal(ids)
		args = append(args, string(b))
	}
	q += ` ORDER BY listing_id, evidence_id, source, start`
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("identifier sightings: %w", err)
	}
	defer rows.Close()
	var out []Sighting
	for rows.Next() {
		var s Sighting
		var seen sql.NullString
		if err := rows.Scan(&s.ListingID, &s.EvidenceID, &s.Kind, &s.Value, &s.LinkKey, &s.Source, &s.Start, &s.End, &s.Raw, &seen); err != nil {
			return nil, fmt.Errorf("identifier sightings: %w", err)
		}
		if s.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// VendorListing is a stored listing as the vendor service sees it.
type VendorListing struct {
	ID                  int64
	Market, URL, Title  string
	Price, Vendor       string
	FirstSeen, LastSeen time.Time
	GoneAt              time.Time // zero while live
	HitID               int64     // 0 if not a hit
	HitStatus           string
	Score               float64
	Substances          []Substance
	FirstDetected       time.Time
	LastDetected        time.Time
	LastEvidenceID      int64
	VendorID            int64 // 0 before the first relink
}

// VendorListings returns every stored listing (or only those of ids),
// in id order.
func (db *DB) VendorListings(ctx context.Context, ids []int64) ([]VendorListing, error) {
	q := `SELECT l.id, l.market, l.url, l.title, l.price, l.vendor, l.first_seen, l.last_seen, l.gone_at,
			COALESCE(h.id, 0), COALESCE(h.status, ''), COALESCE(h.score, 0), COALESCE(h.substances, '[]'),
			h.first_detected, h.last_detected, l.last_evidence_id, COALESCE(vl.vendor_id, 0)
		FROM listings l LEFT JOIN hits h ON h.listing_id = l.id
		LEFT JOIN vendor_listings vl ON vl.listing_id = l.id`
	var args []any
	if ids != nil {
		b, _ := json.Marshal(ids)
		q += ` WHERE l.id IN (SELECT value FROM json_each(?))`
		args = append(args, string(b))
	}
	q += ` ORDER BY l.id`
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("vendor listings: %w", err)
	}
	defer rows.Close()
	var out []VendorListing
	for rows.Next() {
		var l VendorListing
		var first, last, gone, fd, ld sql.NullString
		var subs string
		if err := rows.Scan(&l.ID, &l.Market, &l.URL, &l.Title, &l.Price, &l.Vendor, &first, &last, &gone,
			&l.HitID, &l.HitStatus, &l.Score, &subs, &fd, &ld, &l.LastEvidenceID, &l.VendorID); err != nil {
			return nil, fmt.Errorf("vendor listings: %w", err)
		}
		for _, p := range []struct {
			dst *time.Time
			src sql.NullString
		}{{&l.FirstSeen, first}, {&l.LastSeen, last}, {&l.GoneAt, gone}, {&l.FirstDetected, fd}, {&l.LastDetected, ld}} {
			if *p.dst, err = parseTime(p.src); err != nil {
				return nil, err
			}
		}
		if err := json.Unmarshal([]byte(subs), &l.Substances); err != nil {
			return nil, fmt.Errorf("listing %d substances: %w", l.ID, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// VendorRow is a vendor's own record: its triage.
type VendorRow struct {
	ID         int64
	Status     string
	Note       string
	StatusBy   string
	StatusAt   time.Time
	CreatedAt  time.Time
	MergedInto int64
}

// VendorRows returns every vendor record, by id.
func (db *DB) VendorRows(ctx context.Context) ([]VendorRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, status, note, status_by, status_at, created_at, COALESCE(merged_into, 0) FROM vendors ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("vendors: %w", err)
	}
	defer rows.Close()
	var out []VendorRow
	for rows.Next() {
		var v VendorRow
		var sat, cat sql.NullString
		if err := rows.Scan(&v.ID, &v.Status, &v.Note, &v.StatusBy, &sat, &cat, &v.MergedInto); err != nil {
			return nil, fmt.Errorf("vendors: %w", err)
		}
		if v.StatusAt, err = parseTime(sat); err != nil {
			return nil, err
		}
		if v.CreatedAt, err = parseTime(cat); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VendorCluster is one vendor after a relink: its id (0 for a new
// vendor) and listings. Absorbed names vendors whose listings all went to
// this one.
type VendorCluster struct {
	ID       int64
	Listings []int64
	Absorbed []int64
}

// CommonIdentifier is an identifier shown by many unrelated sellers of a
// marketplace.
type CommonIdentifier struct {
	LinkKey  string `json:"link_key"`
	Market   string `json:"marketplace"`
	Sellers  int    `json:"sellers"`
	Listings int    `json:"listings"`
}

// ApplyVendorClusters replaces the listing-to-vendor assignment with
// clusters (creating vendors for those with ID 0, whose new ids it
// returns in order) and the common identifiers with commons, in one
// transaction.
func (db *DB) ApplyVendorClusters(ctx context.Context, clusters []VendorCluster, commons []CommonIdentifier, now time.Time) ([]int64, error) {
	ids := make([]int64, len(clusters))
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM vendor_listings`); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO vendor_listings (listing_id, vendor_id) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i, c := range clusters {
			id := c.ID
			if id == 0 {
				r, err := tx.ExecContext(ctx, `INSERT INTO vendors (created_at) VALUES (?)`, formatTime(now))
				if err != nil {
					return err
				}
				if id, err = r.LastInsertId(); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE vendors SET merged_into = NULL WHERE id = ?`, id); err != nil {
				return err
			}
			ids[i] = id
			for _, l := range c.Listings {
				if _, err := ins.ExecContext(ctx, l, id); err != nil {
					return err
				}
			}
			for _, a := range c.Absorbed {
				if a != id {
					if _, err := tx.ExecContext(ctx, `UPDATE vendors SET merged_into = ? WHERE id = ?`, id, a); err != nil {
						return err
					}
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM common_identifiers`); err != nil {
			return err
		}
		for _, c := range commons {
			if _, err := tx.ExecContext(ctx, `INSERT INTO common_identifiers (link_key, market, sellers, listings) VALUES (?, ?, ?, ?)`,
				c.LinkKey, c.Market, c.Sellers, c.Listings); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE vendor_state SET linked_at = ? WHERE id = 1`, formatTime(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply vendor clusters: %w", err)
	}
	return ids, nil
}

// CommonIdentifiers returns the identifiers found common at the last
// relink.
func (db *DB) CommonIdentifiers(ctx context.Context) ([]CommonIdentifier, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT link_key, market, sellers, listings FROM common_identifiers ORDER BY market, link_key`)
	if err != nil {
		return nil, fmt.Errorf("common identifiers: %w", err)
	}
	defer rows.Close()
	var out []CommonIdentifier
	for rows.Next() {
		var c CommonIdentifier
		if err := rows.Scan(&c.LinkKey, &c.Market, &c.Sellers, &c.Listings); err != nil {
			return nil, fmt.Errorf("common identifiers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// VendorDecision is an analyst's merge or split.
type VendorDecision struct {
	ID           int64     `json:"id"`
	Action       string    `json:"action"` // merge or split
	Actor        string    `json:"actor"`
	At           time.Time `json:"at"`
	Note         string    `json:"note"`
	Side0, Side1 []int64   `json:"-"` // listing ids
	SupersededBy int64     `json:"superseded_by,omitempty"`
}

// VendorDecisions returns every decision, oldest first.
func (db *DB) VendorDecisions(ctx context.Context) ([]VendorDecision, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, action, actor, at, note, COALESCE(superseded_by, 0) FROM vendor_decisions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("vendor decisions: %w", err)
	}
	var out []VendorDecision
	idx := map[int64]int{}
	for rows.Next() {
		var d VendorDecision
		var at sql.NullString
		if err := rows.Scan(&d.ID, &d.Action, &d.Actor, &at, &d.Note, &d.SupersededBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("vendor decisions: %w", err)
		}
		if d.At, err = parseTime(at); err != nil {
			rows.Close()
			return nil, err
		}
		idx[d.ID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vendor decisions: %w", err)
	}
	lrows, err := db.db.QueryContext(ctx, `SELECT decision_id, listing_id, side FROM vendor_decision_listings ORDER BY decision_id, listing_id`)
	if err != nil {
		return nil, fmt.Errorf("vendor decisions: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var did, lid int64
		var side int
		if err := lrows.Scan(&did, &lid, &side); err != nil {
			return nil, fmt.Errorf("vendor decisions: %w", err)
		}
		i, ok := idx[did]
		if !ok {
			continue
		}
		if side == 0 {
			out[i].Side0 = append(out[i].Side0, lid)
		} else {
			out[i].Side1 = append(out[i].Side1, lid)
		}
	}
	return out, lrows.Err()
}

// AddVendorDecision records d (its ID, Actor and At are set from the
// arguments), marks the decisions in supersedes as superseded by it and
// appends audit (the action and details) to the audit log, in one
// transaction. It returns the new decision's id.
func (db *DB) AddVendorDecision(ctx context.Context, d VendorDecision, supersedes []int64, auditAction string, auditDetails map[string]any) (int64, error) {
	var id int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO vendor_decisions (action, actor, at, note) VALUES (?, ?, ?, ?)`,
			d.Action, d.Actor, formatTime(d.At), d.Note)
		if err != nil {
			return err
		}
		if id, err = r.LastInsertId(); err != nil {
			return err
		}
		for side, ls := range [][]int64{d.Side0, d.Side1} {
			for _, l := range ls {
				if _, err := tx.ExecContext(ctx, `INSERT INTO vendor_decision_listings (decision_id, listing_id, side) VALUES (?, ?, ?)`,
					id, l, side); err != nil {
					return err
				}
			}
		}
		for _, s := range supersedes {
			if _, err := tx.ExecContext(ctx, `UPDATE vendor_decisions SET superseded_by = ? WHERE id = ? AND superseded_by IS NULL`, id, s); err != nil {
				return err
			}
		}
		auditDetails["decision"] = id
		_, err = appendAudit(ctx, tx, d.Actor, auditAction, auditDetails, d.At)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record vendor %s: %w", d.Action, err)
	}
	return id, nil
}

// SetVendorStatus records a vendor's triage status and note and appends
// it to the audit log, in one transaction. A missing vendor gives
// ErrNotFound.
func (db *DB) SetVendorStatus(ctx context.Context, id int64, status, note, actor string, now time.Time, details map[string]any) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE vendors SET status = ?, note = ?, status_by = ?, status_at = ? WHERE id = ?`,
			status, note, actor, formatTime(now), id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = appendAudit(ctx, tx, actor, ActionVendorStatus, details, now)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("vendor %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("vendor %d status: %w", id, err)
	}
	return nil
}

// PricePoint is a listing's price as recorded in one version.
type PricePoint struct {
	ListingID  int64     `json:"listing_id"`
	SeenAt     time.Time `json:"seen_at"`
	Price      string    `json:"price"`
	EvidenceID int64     `json:"evidence_id"`
}

// PriceHistory returns the price of each version of the listings, oldest
// first, leaving out versions whose price did not change.
func (db *DB) PriceHistory(ctx context.Context, ids []int64) ([]PricePoint, error) {
	b, _ := json.Marshal(ids)
	rows, err := db.db.QueryContext(ctx, `SELECT listing_id, seen_at, price, evidence_id FROM listing_versions
		WHERE listing_id IN (SELECT value FROM json_each(?)) ORDER BY listing_id, id`, string(b))
	if err != nil {
		return nil, fmt.Errorf("price history: %w", err)
	}
	defer rows.Close()
	var out []PricePoint
	last := map[int64]string{}
	for rows.Next() {
		var p PricePoint
		var seen sql.NullString
		if err := rows.Scan(&p.ListingID, &seen, &p.Price, &p.EvidenceID); err != nil {
			return nil, fmt.Errorf("price history: %w", err)
		}
		if p.SeenAt, err = parseTime(seen); err != nil {
			return nil, err
		}
		if prev, ok := last[p.ListingID]; ok && prev == p.Price {
			continue
		}
		last[p.ListingID] = p.Price
		out = append(out, p)
	}
	return out, rows.Err()
}

// VendorOfListing returns the vendor id of a listing, 0 if none yet.
func (db *DB) VendorOfListing(ctx context.Context, listingID int64) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, `SELECT vendor_id FROM vendor_listings WHERE listing_id = ?`, listingID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("vendor of listing %d: %w", listingID, err)
	}
	return id, nil
}

// LatestCapture returns the id of the latest full GET capture of url (a
// later revisit has the same payload), or 0 if the crawl never fetched it.
func (db *DB) LatestCapture(ctx context.Context, url string) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, `SELECT id FROM evidence WHERE url = ? AND method = 'GET' AND revisit = 0 AND status < 400
		ORDER BY id DESC LIMIT 1`, url).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("latest capture of %s: %w", url, err)
	}
	return id, nil
}

// ResetExtraction forgets every identifier sighting so that the next
// extraction reads every listing version again (after an upgrade that
// reads identifiers better). Vendors, their statuses and analysts'
// decisions are kept.
func (db *DB) ResetExtraction(ctx context.Context) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identifier_sightings`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE vendor_state SET extracted_through = 0 WHERE id = 1`)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset identifier extraction: %w", err)
	}
	return nil
}
