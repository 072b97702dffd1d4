package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"snoop/export"
	"strconv"
	"text/tabwriter"
	"time"

	"snoop/store"
)

func runListings(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "listings", "[--market NAME] [--gone] [--format table|jsonl|csv]",
		"List stored listings, hits or not, oldest first. Gone listings (no longer on their\n"+
			"marketplace) are included and marked; --gone lists only them.")
	dbPath := dbFlag(fs, "snoop.db")
	market := fs.String("market", "", "only listings of this marketplace")
	gone := fs.Bool("gone", false, "only listings that are gone")
	format := fs.String("format", "table", "output format: table, jsonl or csv")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "table", "jsonl", "csv":
	default:
		return usagef("--format %q: want table, jsonl or csv", *format)
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	f := store.ListingFilter{Market: *market, GoneOnly: *gone}
	switch *format {
	case "jsonl":
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		return db.EachListing(ctx, f, func(l store.Listing) error { return enc.Encode(l) })
	case "csv":
		w := csv.NewWriter(e.stdout)
		w.Write([]string{"id", "marketplace", "url", "title", "description", "price", "vendor", "hit", "first_seen", "last_seen", "gone", "gone_at"})
		err := db.EachListing(ctx, f, func(l store.Listing) error {
			goneAt := ""
			if l.GoneAt != nil {
				goneAt = l.GoneAt.Format(time.RFC3339)
			}
			return w.Write([]string{strconv.FormatInt(l.ID, 10), l.Market, l.URL, export.SafeCell(l.Title), export.SafeCell(l.Description), export.SafeCell(l.Price),
				export.SafeCell(l.Vendor), strconv.FormatBool(l.Hit), l.FirstSeen.Format(time.RFC3339), l.LastSeen.Format(time.RFC3339),
				strconv.FormatBool(l.Gone), goneAt})
		})
		w.Flush()
		if err != nil {
			return err
		}
		return w.Error()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMARKETPLACE\tTITLE\tPRICE\tVENDOR\tHIT\tLAST SEEN\tURL")
	n := 0
	err = db.EachListing(ctx, f, func(l store.Listing) error {
		n++
		hit := ""
		if l.Hit {
			hit = "hit"
		}
		last := l.LastSeen.Format("2006-01-02 15:04")
		if l.Gone {
			last = "gone " + l.GoneAt.Format("2006-01-02")
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Market, clipText(l.Title, 50), l.Price, clipText(l.Vendor, 20), hit, last, l.URL)
		return err
	})
	tw.Flush()
	if err == nil {
		fmt.Fprintf(e.stderr, "%d listings\n", n)
	}
	return err
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
