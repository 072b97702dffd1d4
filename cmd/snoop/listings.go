package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"snoop/export"
	"snoop/store"
)

func runListings(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "listings", "[--market NAME] [--gone] [--format table|jsonl|csv]",
		"List stored listings, hits or not, gone ones included (gone: not found by a sweep that covered\n"+
			"its marketplace). JSON Lines fields: id, marketplace, url, title, description, price, vendor,\n"+
			"first_seen, last_seen, gone, gone_at, hit_id (when a hit).")
	dbPath := dbFlag(fs, "snoop.db")
	market := fs.String("market", "", "only listings of this marketplace")
	gone := fs.Bool("gone", false, "only listings marked gone")
	format := fs.String("format", "table", "output format: table, jsonl or csv")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return usagef("listings: takes no arguments")
	}
	switch *format {
	case "table", "jsonl", "csv":
	default:
		return usagef("listings: --format %q: want table, jsonl or csv", *format)
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := knownMarket(ctx, db, *market); err != nil {
		return err
	}
	f := store.ListingFilter{Market: *market, GoneOnly: *gone}
	switch *format {
	case "jsonl":
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		return db.ListingRowsEach(ctx, f, func(l store.Listing) error { return enc.Encode(l) })
	case "csv":
		w := csv.NewWriter(e.stdout)
		w.Write([]string{"id", "marketplace", "url", "title", "description", "price", "vendor", "first_seen", "last_seen", "gone", "gone_at", "hit_id"})
		err := db.ListingRowsEach(ctx, f, func(l store.Listing) error {
			goneAt, hit := "", ""
			if l.GoneAt != nil {
				goneAt = l.GoneAt.UTC().Format(time.RFC3339Nano)
			}
			if l.HitID != 0 {
				hit = strconv.FormatInt(l.HitID, 10)
			}
			return w.Write([]string{strconv.FormatInt(l.ID, 10), l.Marketplace, l.URL, export.SafeCell(l.Title), export.SafeCell(l.Description),
				export.SafeCell(l.Price), export.SafeCell(l.Vendor), l.FirstSeen.UTC().Format(time.RFC3339Nano), l.LastSeen.UTC().Format(time.RFC3339Nano),
				strconv.FormatBool(l.Gone), goneAt, hit})
		})
		if err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	n := 0
	fmt.Fprintln(tw, "ID\tMARKETPLACE\tHIT\tGONE\tLAST SEEN\tPRICE\tTITLE\tURL")
	err = db.ListingRowsEach(ctx, f, func(l store.Listing) error {
		n++
		hit, goneAt := "", ""
		if l.HitID != 0 {
			hit = strconv.FormatInt(l.HitID, 10)
		}
		if l.GoneAt != nil {
			goneAt = l.GoneAt.UTC().Format(time.DateOnly)
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Marketplace, hit, goneAt,
			l.LastSeen.UTC().Format(time.DateOnly), plainText(clip(l.Price, 16)), plainText(clip(l.Title, 48)), plainText(l.URL))
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(e.stdout, "no listings")
		return nil
	}
	return tw.Flush()
}

// knownMarket reports an error when market is set but names no
// marketplace the database knows.
func knownMarket(ctx context.Context, db *store.DB, market string) error {
	if market == "" {
		return nil
	}
	known, err := db.Markets(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(known, market) {
		return nil
	}
	if len(known) == 0 {
		return fmt.Errorf("unknown marketplace %q: the database has no marketplaces yet (run snoop sweep first)", market)
	}
	return fmt.Errorf("unknown marketplace %q (known: %s)", market, strings.Join(known, ", "))
}
