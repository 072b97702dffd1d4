package main

import (
	"context"
	"fmt"
	"strconv"

	"snoop/classify"
	"snoop/store"
)

// reviewExamples turns every triaged hit of the database into a labelled
// example for "snoop rules test --reviews": a hit an analyst confirmed is
// a positive with its substances, one marked a false positive a negative.
// Hits not yet reviewed are left out. The listing's marketplace kind is
// not stored, so the examples take the default kind.
func reviewExamples(ctx context.Context, db *store.DB) ([]classify.Example, error) {
	var out []classify.Example
	err := db.ListingsEach(ctx, func(l store.StoredListing) error {
		var label string
		switch l.HitStatus {
		case store.StatusConfirmed:
			label = "positive"
		case store.StatusFalsePositive:
			label = "negative"
		default:
			return nil
		}
		// The stored text is what the sweep classified (title and
		// description); the title alone for a listing stored without it.
		e := classify.Example{ID: "hit-" + strconv.FormatInt(l.HitID, 10), Text: l.Text, Label: label, Substances: []string{}}
		if e.Text == "" {
			e.Text = l.Title
		}
		if label == "positive" {
			for _, s := range l.Substances {
				e.Substances = append(e.Substances, s.Name)
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reviewed hits: %w", err)
	}
	return out, nil
}
