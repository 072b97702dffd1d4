// Package triage is the one place the command line (snoop review) and the
// workbench (review forms and API) go through to review hits, so the two
// cannot drift apart: the statuses, the note limit, the batch limit and
// that a batch is one transaction are the same for both.
package triage

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"snoop/store"
)

// Limits of a review, the store's own.
const (
	MaxNote  = store.MaxNoteBytes   // bytes
	MaxBatch = store.MaxReviewBatch // distinct hits in one review
)

// ErrInvalid is wrapped by every error caused by bad input (exit 2, HTTP
// 400); store.ErrNotFound is wrapped when a hit does not exist.
var ErrInvalid = store.ErrInvalid

// Service reviews hits.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the review service of db; now nil means time.Now.
func New(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}
}

// Review sets the status of every hit in ids, with the note and the actor
// recorded in the audit log, in one transaction: all of them or none.
// Repeated IDs count once. It returns the number of distinct hits reviewed.
func (s *Service) Review(ctx context.Context, ids []int64, status, note, actor string) (int, error) {
	if !utf8.ValidString(note) {
		return 0, fmt.Errorf("%w: note is not valid UTF-8", ErrInvalid)
	}
	return s.db.ReviewHits(ctx, ids, status, note, actor, s.now().UTC())
}
