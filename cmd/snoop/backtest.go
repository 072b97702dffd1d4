package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"snoop/backtest"
	"snoop/internal/termsafe"
)

func runRulesBacktest(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "rules backtest", "",
		"Re-classify every stored listing with the given rules and print what would change against\n"+
			"the current hits (new hits, lost hits, changed substances). Writes nothing. Ctrl-C or SIGTERM\n"+
			"stops it at once.")
	dbPath := dbFlag(fs, "snoop.db")
	rulesDir := fs.String("rules", "", "candidate rule directory `DIR` (default: the embedded rules)")
	timeout := fs.Duration("timeout", backtest.DefaultTimeout, "stop after this long")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("rules backtest: --timeout must be positive")
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
	res, err := backtest.RunWith(ctx, db, c, backtest.Options{Timeout: *timeout})
	if err != nil {
		return err
	}
	printBacktest(e.stdout, rs.Version(), res)
	return nil
}

func printBacktest(w io.Writer, version string, res backtest.Result) {
	fmt.Fprintf(w, "rules %s against %d stored listings\n", version, res.Listings)
	section := func(title string, rows []backtest.Row, total int) {
		fmt.Fprintf(w, "\n%s: %d\n", title, total)
		for _, r := range rows {
			fmt.Fprintf(w, "  %s %s  \"%s\"  before=[%s] after=[%s] score=%.2f\n", termsafe.Escape(r.Listing.Market), termsafe.Escape(r.Listing.URL),
				clip(r.Listing.Title, 60), termsafe.Escape(strings.Join(r.Before, ",")), termsafe.Escape(strings.Join(r.After, ",")), r.Score)
		}
		if total > len(rows) {
			fmt.Fprintf(w, "  … and %d more\n", total-len(rows))
		}
	}
	section("new hits", res.Gained, res.GainedTotal)
	section("lost hits", res.Lost, res.LostTotal)
	section("changed substances", res.Relabeled, res.RelabeledTotal)
	if res.Cut > 0 {
		fmt.Fprintf(w, "\nnote: %d listings were classified on their first %d bytes only\n", res.Cut, backtest.DefaultMaxTextBytes)
	}
	fmt.Fprintf(w, "\nkept=%d gained=%d lost=%d changed=%d\n", res.Kept, res.GainedTotal, res.LostTotal, res.RelabeledTotal)
}
