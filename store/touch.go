package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"time"

	"snoop/evidence"
)

// TouchOp records that a page-mode listing page answered 304 Not Modified
// to a conditional request in a sweep: its listing was seen again,
// unchanged. The 304 exchange is kept as evidence, a revisit of the latest
// full capture of the URL, so the sighting is proven like any other.
type TouchOp struct {
	SweepID     int64
	Market, URL string
	SeenAt      time.Time
	// Evidence is the 304 exchange (request and response bytes as sent and
	// received).
	Evidence Evidence
	// Touched receives the number of listings touched (0 or 1) once the
	// batch is committed.
	Touched int
}

// latestCompleteSQL finds the latest complete 200 capture of a URL and
// method (see latestOriginalSQL for the "+?").
const latestCompleteSQL = `SELECT id, payload_sha256 FROM evidence
	WHERE url = +? AND method = +? AND revisit = 0 AND status = 200 AND truncated = 0 ORDER BY id DESC LIMIT 1`

// validatorsSQL reads the latest complete 200 GET response of a URL.
const validatorsSQL = `SELECT response_bytes, encoding FROM evidence
	WHERE url = +? AND method = 'GET' AND revisit = 0 AND status = 200 AND truncated = 0 ORDER BY id DESC LIMIT 1`

// touch keeps op's 304 exchange as a revisit of the URL's latest full
// capture and marks the listing at op.URL, and its hit, as seen in op's
// sweep. Without a stored listing or capture to refer to there is nothing
// to touch.
func (db *DB) touch(ctx context.Context, tx querier, op *TouchOp) error {
	var listingID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM listings WHERE market = ? AND url = ?`, op.Market, op.URL).Scan(&listingID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("touch %s: %w", op.URL, err)
	}
	p := PageRecord{SweepID: op.SweepID, Market: op.Market, URL: op.URL, Status: http.StatusNotModified, FetchedAt: op.SeenAt, Evidence: op.Evidence}
	if _, err := preparePage(&p); err != nil {
		return fmt.Errorf("touch %s: %w", op.URL, err)
	}
	e := p.Evidence
	var origID int64
	var origSum string
	err = tx.QueryRowContext(ctx, latestCompleteSQL, e.URL, e.Method).Scan(&origID, &origSum)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("touch %s: find original: %w", op.URL, err)
	}
	if origSum == "" { // stored before payload digests were kept
		raw, err := storedResponse(ctx, tx, origID)
		if err != nil {
			return fmt.Errorf("touch %s: find original: %w", op.URL, err)
		}
		origSum, _ = evidence.PayloadSHA256(raw)
	}
	e.Revisit, e.RefersTo, e.PayloadSHA256 = true, origID, origSum
	_, evidenceID, err := db.insertPage(ctx, tx, p, e)
	if err != nil {
		return fmt.Errorf("touch %s: %w", op.URL, err)
	}
	seen := formatTime(p.FetchedAt)
	if _, err := tx.ExecContext(ctx, `UPDATE listings SET last_seen = max(last_seen, ?), last_sweep_id = ?, last_evidence_id = ?,
			gone_at = NULL WHERE id = ?`, seen, op.SweepID, evidenceID, listingID); err != nil {
		return fmt.Errorf("touch %s: %w", op.URL, err)
	}
	var hitID int64
	switch err := tx.QueryRowContext(ctx, `SELECT id FROM hits WHERE listing_id = ?`, listingID).Scan(&hitID); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("touch %s: %w", op.URL, err)
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE hits SET sweep_id = ?, last_detected = max(last_detected, ?), last_evidence_id = ?
				WHERE id = ?`, op.SweepID, seen, evidenceID, hitID); err != nil {
			return fmt.Errorf("touch %s: %w", op.URL, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO hit_evidence (hit_id, evidence_id, sweep_id) VALUES (?, ?, ?)`,
			hitID, evidenceID, op.SweepID); err != nil {
			return fmt.Errorf("touch %s: link evidence: %w", op.URL, err)
		}
	}
	op.Touched = 1
	return nil
}

// Validators returns the ETag and Last-Modified of the latest complete 200
// response stored for url, for a conditional request; empty when none.
func (db *DB) Validators(ctx context.Context, url string) (etag, lastModified string, err error) {
	var (
		raw      []byte
		encoding string
	)
	err = db.db.QueryRowContext(ctx, validatorsSQL, url).Scan(&raw, &encoding)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err == nil {
		raw, err = unpack(raw, encoding)
	}
	if err != nil {
		return "", "", fmt.Errorf("validators of %s: %w", url, err)
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	if _, err := tp.ReadLine(); err != nil { // status line
		return "", "", nil
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", "", nil
	}
	return h.Get("Etag"), h.Get("Last-Modified"), nil
}
