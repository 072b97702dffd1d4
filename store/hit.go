package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

// HitFilter selects, orders and pages hits. Zero fields do not filter.
type HitFilter struct {
	IDs       []int64   // only these hits (at most MaxSelectIDs distinct)
	SweepID   int64     // hits with evidence from this sweep (detected in it)
	Since     time.Time // hits detected at or after this time (last detection)
	Until     time.Time // hits whose listing was last seen before this time
	Market    string    // marketplace name
	Substance string    // canonical substance name, case-insensitive
	Class     string    // substance class (e.g. nitazene), case-insensitive
	Status    string    // new, confirmed or false_positive
	// Text keeps hits whose listing title, description, text, vendor or URL
	// contains it, ignoring case (SQL LIKE, or GLOB with case sets when
	// Text has non-ASCII letters); every character of Text, %, _ and \
	// included, matches itself.
	Text string
	// Sort orders the hits by one of HitSortKeys, ascending, or descending
	// with a "-" prefix ("-score"); ties are broken by id in the same
	// direction. "" means "id".
	Sort   string
	Limit  int // at most this many; 0 for all
	Offset int // skip this many
	// MaxText, if positive, cuts each hit's Title, Price, Vendor, Text and
	// Description to at most MaxText bytes (at a UTF-8 boundary) in the
	// database, so that a hostile listing costs no more memory than that;
	// Hit.Cut reports a cut. 0 loads them whole.
	MaxText int
}

// HitSortKeys returns the keys HitFilter.Sort accepts (without "-").
func HitSortKeys() []string {
	return []string{"id", "score", "first_seen", "last_seen", "marketplace", "status", "title"}
}

// hitOrder maps a HitFilter.Sort value to a fixed ORDER BY clause.
func hitOrder(key string) (string, error) {
	switch key {
	case "", "id":
		return "h.id", nil
	case "-id":
		return "h.id DESC", nil
	case "score":
		return "h.score, h.id", nil
	case "-score":
		return "h.score DESC, h.id DESC", nil
	case "first_seen":
		return "l.first_seen, h.id", nil
	case "-first_seen":
		return "l.first_seen DESC, h.id DESC", nil
	case "last_seen":
		return "l.last_seen, h.id", nil
	case "-last_seen":
		return "l.last_seen DESC, h.id DESC", nil
	case "marketplace":
		return "l.market, h.id", nil
	case "-marketplace":
		return "l.market DESC, h.id DESC", nil
	case "status":
		return "h.status, h.id", nil
	case "-status":
		return "h.status DESC, h.id DESC", nil
	case "title":
		return "lower(l.title), h.id", nil
	case "-title":
		return "lower(l.title) DESC, h.id DESC", nil
	}
	return "", fmt.Errorf("invalid sort %q (want one of %s, prefix - for descending)", key, strings.Join(HitSortKeys(), ", "))
}

// where returns f's conditions on hits h joined with listings l, and their
// arguments.
func (f HitFilter) where() (string, []any, error) {
	if f.Status != "" && !ValidStatus(f.Status) {
		return "", nil, fmt.Errorf("invalid status %q", f.Status)
	}
	where, args := []string{"1 = 1"}, []any{}
	if len(f.IDs) > 0 {
		ids, err := UniqueIDs(f.IDs, MaxSelectIDs, "hit")
		if err != nil {
			return "", nil, err
		}
		where = append(where, "h.id IN (SELECT value FROM json_each(?))")
		args = append(args, idsJSON(ids))
	}
	if f.SweepID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM hit_evidence he WHERE he.hit_id = h.id AND he.sweep_id = ?)")
		args = append(args, f.SweepID)
	}
	if !f.Since.IsZero() {
		where = append(where, "h.last_detected >= ?")
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "l.last_seen < ?")
		args = append(args, formatTime(f.Until))
	}
	if f.Market != "" {
		where = append(where, "l.market = ?")
		args = append(args, f.Market)
	}
	if f.Substance != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(h.substances) j WHERE lower(json_extract(j.value, '$.name')) = lower(?))")
		args = append(args, f.Substance)
	}
	if f.Class != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(h.substances) j WHERE lower(json_extract(j.value, '$.class')) = lower(?))")
		args = append(args, f.Class)
	}
	if f.Status != "" {
		where = append(where, "h.status = ?")
		args = append(args, f.Status)
	}
	if f.Text != "" {
		if pat, ok := globFold(f.Text); ok {
			where = append(where, `(l.title GLOB ? OR l.description GLOB ? OR l.text GLOB ? OR l.vendor GLOB ? OR l.url GLOB ?)`)
			args = append(args, pat, pat, pat, pat, pat)
		} else {
			where = append(where, `(l.title LIKE ? ESCAPE '\' OR l.description LIKE ? ESCAPE '\' OR l.text LIKE ? ESCAPE '\'
				OR l.vendor LIKE ? ESCAPE '\' OR l.url LIKE ? ESCAPE '\')`)
			pat := "%" + likeEscaper.Replace(f.Text) + "%"
			args = append(args, pat, pat, pat, pat, pat)
		}
	}
	return strings.Join(where, " AND "), args, nil
}

// likeEscaper escapes LIKE's wildcards (and its escape character, \).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// globFold returns a GLOB pattern matching text anywhere, ignoring case,
// for a text with letters outside ASCII (SQLite's LIKE folds ASCII letters
// only): each cased letter becomes a set of its case variants ("и" becomes
// "[иИ]") and GLOB's special characters match themselves. ok is false when
// LIKE does the job.
func globFold(text string) (pattern string, ok bool) {
	for _, r := range text {
		if r >= utf8.RuneSelf && unicode.SimpleFold(r) != r {
			ok = true
			break
		}
	}
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('*')
	for _, r := range text {
		switch {
		case r == '*' || r == '?' || r == '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		case unicode.SimpleFold(r) != r:
			b.WriteByte('[')
			for f := r; ; {
				b.WriteRune(f)
				if f = unicode.SimpleFold(f); f == r {
					break
				}
			}
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('*')
	return b.String(), true
}

// Hit is a listing the classifier flagged, in the shape of the documented hits format.
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
	// Cut is set when HitFilter.MaxText cut a text field; the full bytes
	// are in the database and the evidence.
	Cut bool `json:"-"`
}

// HitEvidence identifies the evidence record behind a hit.
type HitEvidence struct {
	ID           int64  `json:"-"`
	SHA256       string `json:"sha256"`
	WARCRecordID string `json:"warc_record_id"`
}

// Hits returns the hits matching f, in f's order (by id by default).
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

// HitsEach calls fn for each hit matching f, in f's order (by id by
// default), without holding them all in memory. An error from fn stops the
// iteration and is returned. fn may call other DB methods, including writes.
func (db *DB) HitsEach(ctx context.Context, f HitFilter, fn func(Hit) error) error {
	query, args, err := f.query()
	if err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHit(rows)
		if err != nil {
			return fmt.Errorf("hits: %w", err)
		}
		h.cutText(f.MaxText)
		if err := fn(h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("hits: %w", err)
	}
	return nil
}

// query returns the SELECT of the hits matching f, in f's order, and its
// arguments.
func (f HitFilter) query() (string, []any, error) {
	where, args, err := f.where()
	if err != nil {
		return "", nil, err
	}
	order, err := hitOrder(f.Sort)
	if err != nil {
		return "", nil, err
	}
	limit, offset := limitOffset(f.Limit, f.Offset)
	sel, selArgs := hitSelectCut(f.MaxText)
	args = append(append(selArgs, args...), limit, offset)
	if f.Limit > 0 {
		// One page: order and cut the matching ids first, reading only the
		// columns the filter and order need, then load the page's rows.
		return sel + ` WHERE h.id IN (SELECT h.id FROM hits h JOIN listings l ON l.id = h.listing_id
			WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?) ORDER BY ` + order, args, nil
	}
	return sel + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`, args, nil
}

// CountHits returns how many hits match f, ignoring its Sort, Limit and
// Offset: the total behind one page of Hits.
func (db *DB) CountHits(ctx context.Context, f HitFilter) (int, error) {
	if _, err := hitOrder(f.Sort); err != nil {
		return 0, fmt.Errorf("count hits: %w", err)
	}
	where, args, err := f.where()
	if err != nil {
		return 0, fmt.Errorf("count hits: %w", err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hits h JOIN listings l ON l.id = h.listing_id WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count hits: %w", err)
	}
	return n, nil
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
	` + hitFrom

// hitSelectCutCols are hitSelect's columns with the free-text fields read
// as at most ? bytes each (see HitFilter.MaxText).
const hitSelectCutCols = `SELECT h.id, l.market, l.url, COALESCE(CAST(substr(CAST(l.title AS BLOB), 1, ?) AS TEXT), ''),
		COALESCE(CAST(substr(CAST(l.price AS BLOB), 1, ?) AS TEXT), ''), COALESCE(CAST(substr(CAST(l.vendor AS BLOB), 1, ?) AS TEXT), ''), h.score, h.status, h.substances,
		h.rule_version, h.sweep_id, l.first_seen, l.last_seen, e.id, e.sha256, e.warc_record_id,
		l.id, COALESCE(CAST(substr(CAST(l.text AS BLOB), 1, ?) AS TEXT), ''), COALESCE(CAST(substr(CAST(l.description AS BLOB), 1, ?) AS TEXT), ''), s.sha256, s.taken_at
	`

// hitSelectCut returns the SELECT (up to WHERE) of hits with text fields
// cut past maxText bytes, and its arguments; maxText <= 0 cuts nothing.
// One byte more than maxText is read, so cutText can tell a cut.
func hitSelectCut(maxText int) (string, []any) {
	if maxText <= 0 {
		return hitSelect, []any{}
	}
	n := maxText + 1
	return hitSelectCutCols + hitFrom, []any{n, n, n, n, n}
}

// cutText cuts h's text fields to maxText bytes, at a UTF-8 boundary,
// setting h.Cut when any was longer.
func (h *Hit) cutText(maxText int) {
	if maxText <= 0 {
		return
	}
	for _, p := range []*string{&h.Title, &h.Price, &h.Vendor, &h.Text, &h.Description} {
		if len(*p) > maxText {
			*p = CutUTF8(*p, maxText)
			h.Cut = true
		}
	}
}

// CutUTF8 returns the longest prefix of s of at most n bytes that does not
// end inside a UTF-8 sequence.
func CutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

const hitFrom = `FROM hits h
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
		e.payload_sha256, e.revisit, COALESCE(e.refers_to, 0), e.encoding
	FROM evidence e`

func scanEvidence(s scanner) (Evidence, error) {
	var e Evidence
	var fetched, tls sql.NullString
	var encoding string
	err := s.Scan(&e.ID, &e.URL, &e.Method, &e.Status, &fetched, &e.RequestBytes, &e.ResponseBytes,
		&e.SHA256, &e.RemoteAddr, &e.Proxy, &tls, &e.Truncated, &e.WARCRecordID, &e.RequestRecordID,
		&e.PayloadSHA256, &e.Revisit, &e.RefersTo, &encoding)
	if err != nil {
		return Evidence{}, err
	}
	if e.RequestBytes, err = unpack(e.RequestBytes, encoding); err != nil {
		return Evidence{}, fmt.Errorf("evidence %d request: %w", e.ID, err)
	}
	if e.ResponseBytes, err = unpack(e.ResponseBytes, encoding); err != nil {
		return Evidence{}, fmt.Errorf("evidence %d response: %w", e.ID, err)
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
// transaction: ReviewHits of one hit. A missing hit gives ErrNotFound.
func (db *DB) Review(ctx context.Context, hitID int64, status, note, actor string, now time.Time) error {
	_, err := db.ReviewHits(ctx, []int64{hitID}, status, note, actor, now)
	return err
}
