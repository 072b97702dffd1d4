package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"snoop/classify"
	"snoop/store"
)

// nearMiss is one stored listing that is not a hit but scores within the
// rules' near-miss margin below the threshold.
type nearMiss struct {
	ListingID   int64           `json:"listing_id"`
	Marketplace string          `json:"marketplace"`
	URL         string          `json:"url"`
	Title       string          `json:"title"`
	Score       float64         `json:"score"`
	Substances  []nearSubstance `json:"substances"`
	RuleVersion string          `json:"rule_version"`
	NearMiss    bool            `json:"near_miss"`
}

type nearSubstance struct {
	Name    string `json:"name"`
	Class   string `json:"class"`
	Matched string `json:"matched"`
}

// nearMisses re-classifies every stored listing that is not a hit with c
// and returns those c calls near misses, in listing order, keeping those
// of market when market is not empty.
func nearMisses(ctx context.Context, db *store.DB, c *classify.Classifier, market string) ([]nearMiss, error) {
	var out []nearMiss
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
		nm := nearMiss{ListingID: l.ID, Marketplace: l.Market, URL: l.URL, Title: l.Title, Score: r.Score,
			RuleVersion: r.RuleVersion, NearMiss: true, Substances: []nearSubstance{}}
		for _, s := range r.Substances {
			nm.Substances = append(nm.Substances, nearSubstance{Name: s.Name, Class: s.Class, Matched: s.Matched})
		}
		out = append(out, nm)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("near misses: %w", err)
	}
	return out, nil
}

// writeNearMisses prints near misses as a table or JSON Lines.
func writeNearMisses(w io.Writer, nms []nearMiss, format string) error {
	if format == "jsonl" {
		enc := json.NewEncoder(w)
		for _, nm := range nms {
			if err := enc.Encode(nm); err != nil {
				return err
			}
		}
		return nil
	}
	if len(nms) == 0 {
		fmt.Fprintln(w, "no near misses")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LISTING\tSCORE\tMARKETPLACE\tSUBSTANCES\tTITLE\tURL")
	for _, nm := range nms {
		var subs []string
		for _, s := range nm.Substances {
			subs = append(subs, s.Name)
		}
		fmt.Fprintf(tw, "%d\t%.2f\t%s\t%s\t%s\t%s\n", nm.ListingID, nm.Score, nm.Marketplace,
			strings.Join(subs, ","), clip(nm.Title, 48), nm.URL)
	}
	return tw.Flush()
}

// runNearMisses is "snoop hits --near-miss": the near misses of the
// stored listings under the embedded rules.
func runNearMisses(ctx context.Context, e env, dbPath, market, format string) error {
	if format != "table" && format != "jsonl" {
		return usagef("hits --near-miss: --format %q: want table or jsonl", format)
	}
	_, c, err := loadRules("")
	if err != nil {
		return err
	}
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	nms, err := nearMisses(ctx, db, c, market)
	if err != nil {
		return err
	}
	return writeNearMisses(e.stdout, nms, format)
}
