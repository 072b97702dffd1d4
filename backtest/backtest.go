// Package backtest measures what a candidate rule set would change: it
// re-classifies every stored listing and compares the verdicts with the
// stored hits (hits gained, hits lost, substances relabelled). It writes
// nothing, so it is safe to run against a live database.
package backtest

import (
	"context"
	"fmt"
	"strings"

	"snoop/classify"
	"snoop/store"
)

// Result is what a candidate rule set would change against the stored hits.
type Result struct {
	Listings  int   // listings re-classified
	Kept      int   // hits that stay hits
	Gained    []Row // listings that would become hits
	Lost      []Row // hits that would no longer be hits
	Relabeled []Row // hits that stay hits with other substances
}

// Row is one listing whose verdict would change.
type Row struct {
	Listing store.StoredListing
	Before  []string // substances of the stored hit
	After   []string // substances found by the candidate rules
	Score   float64  // the candidate rules' score
}

// Run re-classifies every stored listing with c and compares the verdicts
// with the stored hits.
func Run(ctx context.Context, db *store.DB, c *classify.Classifier) (Result, error) {
	var res Result
	err := db.ListingsEach(ctx, func(l store.StoredListing) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		res.Listings++
		r := c.Classify(l.Text)
		var before, after []string
		for _, s := range l.Substances {
			before = append(before, s.Name)
		}
		for _, s := range r.Substances {
			after = append(after, s.Name)
		}
		row := Row{Listing: l, Before: before, After: after, Score: r.Score}
		switch {
		case l.HitID == 0 && r.Hit:
			res.Gained = append(res.Gained, row)
		case l.HitID != 0 && !r.Hit:
			res.Lost = append(res.Lost, row)
		case l.HitID != 0 && r.Hit:
			res.Kept++
			if strings.Join(before, ",") != strings.Join(after, ",") {
				res.Relabeled = append(res.Relabeled, row)
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("backtest: read listings: %w", err)
	}
	return res, nil
}
