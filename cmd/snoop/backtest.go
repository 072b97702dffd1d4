package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"snoop/classify"
	"snoop/store"
)

// backtestResult is what a candidate rule set would change against the
// stored hits.
type backtestResult struct {
	Listings  int
	Kept      int
	Gained    []backtestRow
	Lost      []backtestRow
	Relabeled []backtestRow
}

type backtestRow struct {
	Listing store.StoredListing
	Before  []string
	After   []string
	Score   float64
}

// backtest re-classifies every stored listing with c and compares the
// verdicts with the stored hits. It writes nothing.
func backtest(ctx context.Context, db *store.DB, c *classify.Classifier) (backtestResult, error) {
	var res backtestResult
	err := db.ListingsEach(ctx, func(l store.StoredListing) error {
		res.Listings++
		r := c.Classify(l.Text)
		var before, after []string
		for _, s := range l.Substances {
			before = append(before, s.Name)
		}
		for _, s := range r.Substances {
			after = append(after, s.Name)
		}
		row := backtestRow{Listing: l, Before: before, After: after, Score: r.Score}
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

func runRulesBacktest(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "rules backtest", "[--rules DIR]",
		"Re-classify every stored listing with the given rules and print what would change against\n"+
			"the current hits (new hits, lost hits, changed substances). Writes nothing.")
	dbPath := dbFlag(fs, "snoop.db")
	rulesDir := fs.String("rules", "", "candidate rule directory (default: the embedded rules)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	rs, c, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := backtest(ctx, db, c)
	if err != nil {
		return err
	}
	printBacktest(e.stdout, rs.Version(), res)
	return nil
}

func printBacktest(w io.Writer, version string, res backtestResult) {
	fmt.Fprintf(w, "rules %s against %d stored listings\n", version, res.Listings)
	section := func(title string, rows []backtestRow) {
		fmt.Fprintf(w, "\n%s: %d\n", title, len(rows))
		for _, r := range rows {
			fmt.Fprintf(w, "  %s %s  %q  before=[%s] after=[%s] score=%.2f\n", r.Listing.Market, r.Listing.URL,
				clip(r.Listing.Title, 60), strings.Join(r.Before, ","), strings.Join(r.After, ","), r.Score)
		}
	}
	section("new hits", res.Gained)
	section("lost hits", res.Lost)
	section("changed substances", res.Relabeled)
	fmt.Fprintf(w, "\nkept=%d gained=%d lost=%d changed=%d\n", res.Kept, len(res.Gained), len(res.Lost), len(res.Relabeled))
}
