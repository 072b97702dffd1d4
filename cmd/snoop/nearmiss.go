package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"snoop/backtest"
)

// writeNearMisses prints near misses as a table or JSON Lines.
func writeNearMisses(w io.Writer, nms []backtest.NearMiss, format string) error {
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
	nms, err := backtest.NearMisses(ctx, db, c, market)
	if err != nil {
		return err
	}
	return writeNearMisses(e.stdout, nms, format)
}
