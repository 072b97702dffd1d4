package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"snoop/evidence"
)

// Substance is one substance a hit names, as the classifier found it.
type Substance struct {
	Name    string `json:"name"`    // canonical name from the rules, lower case
	Class   string `json:"class"`   // e.g. fentanyl-analogue, nitazene, other-nso, precursor
	Matched string `json:"matched"` // the text as it appeared in the listing
	Start   int    `json:"start"`   // byte span of Matched in the listing text
	End     int    `json:"end"`
}

// Evidence is one HTTP exchange exactly as sent and received.
type Evidence struct {
	ID            int64
	URL, Method   string
	Status        int
	FetchedAt     time.Time
	RequestBytes  []byte // request line, headers and body as sent
	ResponseBytes []byte // status line, headers and body as read from the connection (a revisit: status line and headers only)
	SHA256        string // hex SHA-256 of ResponseBytes; SavePage computes it if empty

	RemoteAddr, Proxy string
	TLS               json.RawMessage // TLS details as JSON; nil for plain http
	Truncated         bool            // body cut at max_body_bytes

	WARCRecordID    string // "urn:uuid:..." of the response (or revisit) record; assigned by SavePage if empty
	RequestRecordID string // "urn:uuid:..." of the request record; assigned by SavePage if empty

	// PayloadSHA256 is the hex SHA-256 of the response's payload: the body
	// with chunked framing removed and content coding kept (see
	// evidence.ReadHTTPResponse), the WARC-Payload-Digest of its record;
	// "" when ResponseBytes are not an HTTP response. SavePage computes
	// it (a value given must match). For a revisit it is the original's.
	PayloadSHA256 string
	// Revisit reports that the payload was identical to the one of the
	// latest earlier capture of the same URL (evidence RefersTo), so only
	// the status line and headers were kept in ResponseBytes. SavePage
	// decides; values given to it are ignored.
	Revisit  bool
	RefersTo int64 // the original's evidence id; 0 unless Revisit

	// packed is ResponseBytes compressed ahead of time by Pack, for the
	// response whose sha256 is packedSum.
	packed    []byte
	packedSum string
}

// PageRecord is one fetched page and its evidence.
type PageRecord struct {
	SweepID     int64
	Market, URL string
	Depth       int
	Status      int
	FetchedAt   time.Time // zero: Evidence.FetchedAt
	Evidence    Evidence
}

// ListingRecord is one listing extracted from a page.
//
// Title, Description, Price and Vendor default to Fields["title"],
// Fields["description"], Fields["price"] and Fields["vendor"].
type ListingRecord struct {
	URL, Title, Description, Price, Vendor string
	Fields                                 map[string]string
	Text                                   string
	ContentHash                            string     // if empty: ContentHash of Fields (with Title, Description, Price and Vendor) and Text
	Hit                                    *HitRecord // nil: not a hit
}

// HitRecord is the classifier's verdict on a listing that is a hit.
type HitRecord struct {
	Score       float64
	RuleVersion string
	Substances  []Substance
}

// SaveResult tells what SavePage wrote.
type SaveResult struct {
	PageID, EvidenceID int64
	// Revisit reports that the evidence was stored as a revisit of an
	// earlier capture (headers only); EvidenceBytes is the size of the
	// request and response bytes stored.
	Revisit       bool
	EvidenceBytes int
	Listings      []ListingResult // in the order given
}

// ListingResult tells what happened to one listing in SavePage.
type ListingResult struct {
	ListingID int64
	New       bool // first time seen
	Changed   bool // seen before with another content hash (a new version was recorded)
	HitID     int64
	NewHit    bool
}

// ContentHash returns the hex SHA-256 identifying a listing's content: over
// the fields in sorted key order, then the text, each part length-prefixed
// so that no two different inputs share an encoding.
func ContentHash(fields map[string]string, text string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	var n []byte
	part := func(s string) { // len(s) ":" s ","
		n = append(strconv.AppendInt(n[:0], int64(len(s)), 10), ':')
		h.Write(n)
		io.WriteString(h, s)
		h.Write(comma)
	}
	for _, k := range keys {
		part(k)
		part(fields[k])
	}
	part(text)
	return hex.EncodeToString(h.Sum(nil))
}

var comma = []byte{','}

// newRecordID returns a WARC record id: "urn:uuid:" and a random (version 4)
// UUID.
func newRecordID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:]), nil
}

// hashFields returns Fields with the named fields set from Title,
// Description, Price and Vendor, so that a caller setting only those still
// gets changes detected.
func (l *ListingRecord) hashFields() map[string]string {
	m := make(map[string]string, len(l.Fields)+4)
	for k, v := range l.Fields {
		m[k] = v
	}
	for k, v := range map[string]string{"title": l.Title, "description": l.Description, "price": l.Price, "vendor": l.Vendor} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// SavePage writes a fetched page, its evidence, its listings and their hits
// in one transaction: either all of it is stored or none.
//
// A response whose payload digest equals the one of the latest non-revisit
// evidence of the same URL and method is stored as a revisit: only its
// status line and headers are kept, with RefersTo naming that evidence, so
// that repeated sweeps of unchanged pages stay small. Truncated or badly
// framed captures, empty payloads and non-HTTP bytes are always kept whole.
//
// Listings are upserted on (market, url): first_seen is kept, last_seen and
// the evidence pointer are updated, gone_at is cleared, and when the content
// hash differs the new content is stored and a listing_versions row added (a
// new listing gets its first version row too). A hit is unique per listing:
// re-detection updates score, substances, rule version, sweep and last
// evidence but keeps the analyst's status; every evidence proving a hit is
// linked in hit_evidence. A listing that is no longer a hit keeps its old
// hit row.
func (db *DB) SavePage(ctx context.Context, p PageRecord, listings []ListingRecord) (SaveResult, error) {
	rc, err := preparePage(&p)
	if err != nil {
		return SaveResult{}, fmt.Errorf("save page %s: %w", p.URL, err)
	}
	prepared := make([]ListingRecord, len(listings))
	for i, l := range listings {
		if err := prepareListing(&l); err != nil {
			return SaveResult{}, fmt.Errorf("save page %s: listing %d %s: %w", p.URL, i, l.URL, err)
		}
		prepared[i] = l
	}
	var res SaveResult
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = db.savePage(ctx, tx, p, rc, prepared)
		return err
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("save page %s: %w", p.URL, err)
	}
	return res, nil
}

// revisitCandidate says whether a page's response may become a revisit.
type revisitCandidate struct {
	ok      bool
	headLen int // length of the status line and headers in ResponseBytes
}

// preparePage validates p and fills its defaults.
func preparePage(p *PageRecord) (revisitCandidate, error) {
	var rc revisitCandidate
	e := &p.Evidence
	if p.SweepID == 0 {
		return rc, errors.New("no sweep id")
	}
	if p.Market == "" || p.URL == "" {
		return rc, errors.New("market and url are required")
	}
	if e.URL == "" {
		e.URL = p.URL
	}
	if e.Method == "" {
		e.Method = "GET"
	}
	if e.Status == 0 {
		e.Status = p.Status
	}
	if p.Status == 0 {
		p.Status = e.Status
	}
	if p.FetchedAt.IsZero() {
		p.FetchedAt = e.FetchedAt
	}
	if e.FetchedAt.IsZero() {
		e.FetchedAt = p.FetchedAt
	}
	if p.FetchedAt.IsZero() {
		return rc, errors.New("no fetch time")
	}
	if got := sha256Hex(e.ResponseBytes); e.SHA256 == "" {
		e.SHA256 = got
	} else if e.SHA256 != got {
		return rc, fmt.Errorf("evidence sha256 %s does not match the response bytes (%s)", e.SHA256, got)
	}
	e.Revisit, e.RefersTo = false, 0
	payload := ""
	if r, err := evidence.ReadHTTPResponse(e.ResponseBytes); err == nil {
		payload = sha256Hex(r.Payload)
		rc.ok = !e.Truncated && !r.Incomplete && !r.BadFraming && len(r.Payload) > 0
		rc.headLen = len(r.Head)
	}
	if e.PayloadSHA256 != "" && e.PayloadSHA256 != payload {
		return rc, fmt.Errorf("evidence payload sha256 %s does not match the response payload (%q)", e.PayloadSHA256, payload)
	}
	e.PayloadSHA256 = payload
	if len(e.TLS) > 0 && !json.Valid(e.TLS) {
		return rc, errors.New("evidence TLS is not valid JSON")
	}
	var err error
	if e.WARCRecordID == "" {
		if e.WARCRecordID, err = newRecordID(); err != nil {
			return rc, err
		}
	}
	if e.RequestRecordID == "" {
		if e.RequestRecordID, err = newRecordID(); err != nil {
			return rc, err
		}
	}
	if e.RequestBytes == nil {
		e.RequestBytes = []byte{}
	}
	if e.ResponseBytes == nil {
		e.ResponseBytes = []byte{}
	}
	return rc, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// latestOriginalSQL finds the latest non-revisit capture of a URL and
// method.
//
// This lookup and the ones of touch and Validators write their parameters
// as "+?", so that the query planner does not read the bound values: when
// it does, SQLite plans the statement again whenever new values are bound,
// and the driver binds values anew on every run, so that each lookup would
// pay for a full parse and plan.
const latestOriginalSQL = `SELECT id, payload_sha256, truncated FROM evidence
	WHERE url = +? AND method = +? AND revisit = 0 ORDER BY id DESC LIMIT 1`

// asRevisit turns e into a revisit when its payload equals the one of the
// latest non-revisit capture of the same URL and method.
func asRevisit(ctx context.Context, tx querier, e *Evidence, rc revisitCandidate) error {
	if !rc.ok {
		return nil
	}
	var (
		origID    int64
		origSum   string
		truncated bool
	)
	err := tx.QueryRowContext(ctx, latestOriginalSQL, e.URL, e.Method).Scan(&origID, &origSum, &truncated)
	if errors.Is(err, sql.ErrNoRows) || truncated {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find original: %w", err)
	}
	if origSum == "" { // stored before payload digests were kept
		raw, err := storedResponse(ctx, tx, origID)
		if err != nil {
			return fmt.Errorf("find original: %w", err)
		}
		var complete bool
		if origSum, complete = evidence.PayloadSHA256(raw); !complete {
			return nil
		}
	}
	if origSum != e.PayloadSHA256 {
		return nil
	}
	e.ResponseBytes = e.ResponseBytes[:rc.headLen:rc.headLen]
	e.SHA256 = sha256Hex(e.ResponseBytes)
	e.Revisit, e.RefersTo = true, origID
	return nil
}

// prepareListing validates l and fills its defaults.
func prepareListing(l *ListingRecord) error {
	if l.URL == "" {
		return errors.New("no url")
	}
	for _, f := range []struct {
		v   *string
		key string
	}{{&l.Title, "title"}, {&l.Description, "description"}, {&l.Price, "price"}, {&l.Vendor, "vendor"}} {
		if *f.v == "" {
			*f.v = l.Fields[f.key]
		}
	}
	if l.ContentHash == "" {
		l.ContentHash = ContentHash(l.hashFields(), l.Text)
	}
	if h := l.Hit; h != nil {
		if math.IsNaN(h.Score) || h.Score < 0 || h.Score > 1 {
			return fmt.Errorf("hit score %v outside 0..1", h.Score)
		}
	}
	return nil
}

// insertPage inserts the page row of p and its evidence e.
func (db *DB) insertPage(ctx context.Context, tx querier, p PageRecord, e Evidence) (pageID, evidenceID int64, err error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO pages (sweep_id, market, url, depth, status, fetched_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.SweepID, p.Market, p.URL, p.Depth, p.Status, formatTime(p.FetchedAt))
	if err != nil {
		return 0, 0, fmt.Errorf("insert page: %w", err)
	}
	if pageID, err = r.LastInsertId(); err != nil {
		return 0, 0, err
	}
	var tlsJSON, refersTo any
	if len(e.TLS) > 0 {
		tlsJSON = string(e.TLS)
	}
	if e.Revisit {
		refersTo = e.RefersTo
	}
	reqBytes, respBytes, encoding := db.packEvidence(e)
	r, err = tx.ExecContext(ctx, `INSERT INTO evidence (page_id, url, method, status, fetched_at, request_bytes, response_bytes,
			sha256, remote_addr, proxy, tls, truncated, warc_record_id, request_record_id, payload_sha256, revisit, refers_to, encoding)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pageID, e.URL, e.Method, e.Status, formatTime(e.FetchedAt), reqBytes, respBytes,
		e.SHA256, e.RemoteAddr, e.Proxy, tlsJSON, e.Truncated, e.WARCRecordID, e.RequestRecordID,
		e.PayloadSHA256, e.Revisit, refersTo, encoding)
	if err != nil {
		return 0, 0, fmt.Errorf("insert evidence: %w", err)
	}
	if evidenceID, err = r.LastInsertId(); err != nil {
		return 0, 0, err
	}
	return pageID, evidenceID, nil
}

func (db *DB) savePage(ctx context.Context, tx querier, p PageRecord, rc revisitCandidate, listings []ListingRecord) (SaveResult, error) {
	var res SaveResult
	e := p.Evidence
	if err := asRevisit(ctx, tx, &e, rc); err != nil {
		return res, err
	}
	var err error
	if res.PageID, res.EvidenceID, err = db.insertPage(ctx, tx, p, e); err != nil {
		return res, err
	}
	res.Revisit, res.EvidenceBytes = e.Revisit, len(e.RequestBytes)+len(e.ResponseBytes)
	for _, l := range listings {
		lr, err := db.saveListing(ctx, tx, p, res.EvidenceID, l)
		if err != nil {
			return res, fmt.Errorf("listing %s: %w", l.URL, err)
		}
		res.Listings = append(res.Listings, lr)
	}
	return res, nil
}

func (db *DB) saveListing(ctx context.Context, tx querier, p PageRecord, evidenceID int64, l ListingRecord) (ListingResult, error) {
	var res ListingResult
	seen := formatTime(p.FetchedAt)
	fields, err := json.Marshal(nonNilMap(l.Fields))
	if err != nil {
		return res, err
	}
	var oldHash string
	err = tx.QueryRowContext(ctx, `SELECT id, content_hash FROM listings WHERE market = ? AND url = ?`, p.Market, l.URL).
		Scan(&res.ListingID, &oldHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r, err := tx.ExecContext(ctx, `INSERT INTO listings (market, url, first_seen, last_seen, first_sweep_id, last_sweep_id,
				last_evidence_id, content_hash, title, description, price, vendor, fields, text)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Market, l.URL, seen, seen, p.SweepID, p.SweepID, evidenceID, l.ContentHash,
			l.Title, l.Description, l.Price, l.Vendor, string(fields), l.Text)
		if err != nil {
			return res, fmt.Errorf("insert: %w", err)
		}
		if res.ListingID, err = r.LastInsertId(); err != nil {
			return res, err
		}
		res.New = true
	case err != nil:
		return res, err
	default:
		res.Changed = oldHash != l.ContentHash
		// last_seen only moves forward (a resumed sweep may store an older fetch).
		if _, err := tx.ExecContext(ctx, `UPDATE listings SET last_seen = max(last_seen, ?), last_sweep_id = ?,
				last_evidence_id = ?, gone_at = NULL WHERE id = ?`,
			seen, p.SweepID, evidenceID, res.ListingID); err != nil {
			return res, fmt.Errorf("update: %w", err)
		}
		if res.Changed {
			if _, err := tx.ExecContext(ctx, `UPDATE listings SET content_hash = ?, title = ?, description = ?, price = ?,
					vendor = ?, fields = ?, text = ? WHERE id = ?`,
				l.ContentHash, l.Title, l.Description, l.Price, l.Vendor, string(fields), l.Text, res.ListingID); err != nil {
				return res, fmt.Errorf("update content: %w", err)
			}
		}
	}
	if res.New || res.Changed {
		packed, err := packVersion(l.Description, l.Fields, l.Text)
		if err != nil {
			return res, fmt.Errorf("insert version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO listing_versions (listing_id, sweep_id, evidence_id, seen_at, content_hash,
				title, price, vendor, packed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			res.ListingID, p.SweepID, evidenceID, seen, l.ContentHash,
			l.Title, l.Price, l.Vendor, packed); err != nil {
			return res, fmt.Errorf("insert version: %w", err)
		}
	}
	if db.testHookAfterListing != nil {
		if err := db.testHookAfterListing(); err != nil {
			return res, err
		}
	}
	if l.Hit != nil {
		if res.HitID, res.NewHit, err = saveHit(ctx, tx, p, evidenceID, res.ListingID, *l.Hit); err != nil {
			return res, fmt.Errorf("hit: %w", err)
		}
	}
	return res, nil
}

func saveHit(ctx context.Context, tx querier, p PageRecord, evidenceID, listingID int64, h HitRecord) (id int64, isNew bool, err error) {
	subs, err := json.Marshal(nonNilSubstances(h.Substances))
	if err != nil {
		return 0, false, err
	}
	seen := formatTime(p.FetchedAt)
	err = tx.QueryRowContext(ctx, `SELECT id FROM hits WHERE listing_id = ?`, listingID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r, err := tx.ExecContext(ctx, `INSERT INTO hits (listing_id, score, substances, rule_version, status, sweep_id,
				first_detected, last_detected, last_evidence_id) VALUES (?, ?, ?, ?, 'new', ?, ?, ?, ?)`,
			listingID, h.Score, string(subs), h.RuleVersion, p.SweepID, seen, seen, evidenceID)
		if err != nil {
			return 0, false, fmt.Errorf("insert: %w", err)
		}
		if id, err = r.LastInsertId(); err != nil {
			return 0, false, err
		}
		isNew = true
	case err != nil:
		return 0, false, err
	default:
		// The status belongs to the analyst and is kept.
		if _, err := tx.ExecContext(ctx, `UPDATE hits SET score = ?, substances = ?, rule_version = ?, sweep_id = ?,
				last_detected = max(last_detected, ?), last_evidence_id = ? WHERE id = ?`,
			h.Score, string(subs), h.RuleVersion, p.SweepID, seen, evidenceID, id); err != nil {
			return 0, false, fmt.Errorf("update: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO hit_evidence (hit_id, evidence_id, sweep_id) VALUES (?, ?, ?)`,
		id, evidenceID, p.SweepID); err != nil {
		return 0, false, fmt.Errorf("link evidence: %w", err)
	}
	return id, isNew, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSubstances(s []Substance) []Substance {
	if s == nil {
		return []Substance{}
	}
	return s
}
