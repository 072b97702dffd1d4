package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PageEvidence is an evidence record with the page it was fetched for.
type PageEvidence struct {
	Evidence
	PageID  int64
	SweepID int64 // the sweep that fetched the page
	Market  string
	Depth   int
}

const pageEvidenceSelect = `SELECT e.id, e.url, e.method, e.status, e.fetched_at, e.request_bytes, e.response_bytes,
		e.sha256, e.remote_addr, e.proxy, e.tls, e.truncated, e.warc_record_id, e.request_record_id,
		e.payload_sha256, e.revisit, COALESCE(e.refers_to, 0), e.encoding, p.id, p.sweep_id, p.market, p.depth
	FROM evidence e JOIN pages p ON p.id = e.page_id`

// PageEvidence returns the evidence record with the given id and its page.
func (db *DB) PageEvidence(ctx context.Context, id int64) (PageEvidence, error) {
	pe, err := scanPageEvidence(db.db.QueryRowContext(ctx, pageEvidenceSelect+` WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return PageEvidence{}, fmt.Errorf("evidence %d: %w", id, ErrNotFound)
	} else if err != nil {
		return PageEvidence{}, fmt.Errorf("evidence %d: %w", id, err)
	}
	return pe, nil
}

// EvidenceEach calls fn for every evidence record of the pages sweep
// sweepID fetched (revisits included, as stored), in id order, loading one
// record at a time so that memory stays flat however large the sweep. An
// error from fn stops the iteration and is returned. fn may call other DB
// methods. A sweep without evidence, or no such sweep, gives no calls.
func (db *DB) EvidenceEach(ctx context.Context, sweepID int64, fn func(PageEvidence) error) error {
	// Only the ids are ordered (SQLite's sorter would otherwise carry
	// every record's bytes); each record is then read by its primary key.
	rows, err := db.db.QueryContext(ctx, `SELECT e.id FROM evidence e JOIN pages p ON p.id = e.page_id
		WHERE p.sweep_id = ? ORDER BY e.id`, sweepID)
	if err != nil {
		return fmt.Errorf("sweep %d evidence: %w", sweepID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("sweep %d evidence: %w", sweepID, err)
		}
		pe, err := db.PageEvidence(ctx, id)
		if err != nil {
			return fmt.Errorf("sweep %d: %w", sweepID, err)
		}
		if err := fn(pe); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sweep %d evidence: %w", sweepID, err)
	}
	return nil
}

func scanPageEvidence(s scanner) (PageEvidence, error) {
	var pe PageEvidence
	e, err := scanEvidence(scanFunc(func(dest ...any) error {
		return s.Scan(append(dest, &pe.PageID, &pe.SweepID, &pe.Market, &pe.Depth)...)
	}))
	if err != nil {
		return PageEvidence{}, err
	}
	pe.Evidence = e
	return pe, nil
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
