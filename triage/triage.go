// Package triage is the one place where the rules of hit review live: the
// statuses, the note limit, the batch limit and that a batch is one
// transaction. The command line (snoop review) and the workbench (review
// forms and API) both call it, so they cannot drift apart.
package triage

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"snoop/store"
)

// Limits of a review.
const (
	MaxNote  = 4000 // bytes
	MaxBatch = 1000 // hits in one review
)

// ErrInvalid is wrapped by every error caused by bad input (exit 2, HTTP
// 400); store.ErrNotFound is wrapped when a hit does not exist.
var ErrInvalid = errors.New("invalid review")

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
func (s *Service) Review(ctx context.Context, ids []int64, status, note, actor string) error {
	switch {
	case !store.ValidStatus(status):
		return fmt.Errorf("%w: status %q: want new, confirmed or false_positive", ErrInvalid, status)
	case len(ids) == 0:
		return fmt.Errorf("%w: no hits selected", ErrInvalid)
	case len(ids) > MaxBatch:
		return fmt.Errorf("%w: %d hits selected, at most %d at once", ErrInvalid, len(ids), MaxBatch)
	case len(note) > MaxNote:
		return fmt.Errorf("%w: note is %d bytes, longer than %d", ErrInvalid, len(note), MaxNote)
	case !utf8.ValidString(note):
		return fmt.Errorf("%w: note is not valid UTF-8", ErrInvalid)
	}
	seen := map[int64]bool{}
	var unique []int64
	for _, id := range ids {
		if id <= 0 {
			return fmt.Errorf("%w: hit ID %d is not a positive number", ErrInvalid, id)
		}
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	return s.db.ReviewHits(ctx, unique, status, note, actor, s.now().UTC())
}
