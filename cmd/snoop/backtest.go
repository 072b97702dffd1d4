package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"snoop/backtest"
)

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
	res, err := backtest.Run(ctx, db, c)
	if err != nil {
		return err
	}
	printBacktest(e.stdout, rs.Version(), res)
	return nil
}

func printBacktest(w io.Writer, version string, res backtest.Result) {
	fmt.Fprintf(w, "rules %s against %d stored listings\n", version, res.Listings)
	section := func(title string, rows []backtest.Row) {
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
