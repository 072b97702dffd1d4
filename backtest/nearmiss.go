package backtest

import (
	"context"
	"fmt"

	"snoop/classify"
	"snoop/store"
)

// NearMiss is one stored listing that is not a hit but that the rules
// call a near miss: it names a substance and scores within the near-miss
// margin below the threshold (classify.Classifier.NearMiss).
type NearMiss struct {
	ListingID   int64           `json:"listing_id"`
	Marketplace string          `json:"marketplace"`
	URL         string          `json:"url"`
	Title       string          `json:"title"`
	Score       float64         `json:"score"`
	Substances  []NearSubstance `json:"substances"`
	RuleVersion string          `json:"rule_version"`
	NearMiss    bool            `json:"near_miss"` // always true: tells a near miss from a hit in mixed output
}

// NearSubstance is a substance a near miss names.
type NearSubstance struct {
	Name    string `json:"name"`
	Class   string `json:"class"`
	Matched string `json:"matched"`
}

// NearMisses re-classifies every stored listing that is not a hit with c
// (with the default site kind: the kind is not stored) and returns the
// near misses in listing order, only those of market when it is not
// empty.
func NearMisses(ctx context.Context, db *store.DB, c *classify.Classifier, market string) ([]NearMiss, error) {
	out := []NearMiss{}
	err := db.ListingsEach(ctx, func(l store.StoredListing) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if l.HitID != 0 || (market != "" && l.Market != market) {
			return nil
		}
		r := c.Classify(l.Text)
		if !c.NearMiss(r) {
			return nil
		}
		nm := NearMiss{ListingID: l.ID, Marketplace: l.Market, URL: l.URL, Title: l.Title, Score: r.Score,
			RuleVersion: r.RuleVersion, NearMiss: true, Substances: []NearSubstance{}}
		for _, s := range r.Substances {
			nm.Substances = append(nm.Substances, NearSubstance{Name: s.Name, Class: s.Class, Matched: s.Matched})
		}
		out = append(out, nm)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("near misses: %w", err)
	}
	return out, nil
}
