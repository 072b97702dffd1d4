package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/textproto"
	"time"
)

// TouchOp records that a page-mode listing page answered 304 Not Modified
// in a sweep: its listing was seen again, unchanged.
type TouchOp struct {
	SweepID     int64
	Market, URL string
	SeenAt      time.Time
	// Touched receives the number of listings touched once the batch is
	// committed.
	Touched int
}

// touch marks the listing at op.URL as seen in op's sweep.
func touch(ctx context.Context, tx *sql.Tx, op *TouchOp) error {
	r, err := tx.ExecContext(ctx, `UPDATE listings SET last_seen = max(last_seen, ?), last_sweep_id = ?, gone_at = NULL
		WHERE market = ? AND url = ?`,
		formatTime(op.SeenAt), op.SweepID, op.Market, op.URL)
	if err != nil {
		return fmt.Errorf("touch listings of %s: %w", op.URL, err)
	}
	n, err := r.RowsAffected()
	op.Touched = int(n)
	return err
}

// Validators returns the ETag and Last-Modified of the latest complete 200
// response stored for url, for a conditional request; empty when none.
func (db *DB) Validators(ctx context.Context, url string) (etag, lastModified string, err error) {
	var raw []byte
	err = db.db.QueryRowContext(ctx, `SELECT response_bytes FROM evidence
		WHERE url = ? AND method = 'GET' AND revisit = 0 AND status = 200 AND truncated = 0 ORDER BY id DESC LIMIT 1`, url).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
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
