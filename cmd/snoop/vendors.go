package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"snoop/export"
	"snoop/store"
	"snoop/vendors"
)

// linkVendors returns the sweep hook that extracts the new listings'
// identifiers and relinks vendors once a sweep has finished.
func linkVendors(db *store.DB) func(ctx context.Context, sweepID int64) error {
	return func(ctx context.Context, sweepID int64) error {
		if _, err := vendors.NewService(db, vendors.Options{}).Refresh(ctx); err != nil {
			return fmt.Errorf("link vendors after sweep %d: %w", sweepID, err)
		}
		return nil
	}
}

// vendorError maps the vendor service's codes to exit codes: bad input is
// a usage error (exit 2), the rest fail (exit 1).
func vendorError(err error) error {
	if vendors.ErrorCode(err) == vendors.Invalid {
		return usagef("%v", err)
	}
	return err
}

func runVendors(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "vendors", "[--all] [--market NAME] [--substance NAME] [--status S] [--format table|jsonl|csv]",
		"List vendors: the sellers behind the listings, linked by shared identifiers or by one name on one marketplace.\nBy default only vendors with at least one hit; --all lists every vendor.")
	dbPath := dbFlag(fs, "snoop.db")
	all := fs.Bool("all", false, "every vendor of every stored listing, with hits or not")
	market := fs.String("market", "", "only vendors with a listing on this marketplace")
	substance := fs.String("substance", "", "only vendors with a hit naming this substance (canonical name)")
	status := fs.String("status", "", "only vendors with this status: target, monitor, dismissed or new")
	format := fs.String("format", "table", "output format: table, jsonl or csv")
	relink := fs.Bool("relink", false, "re-read every listing's identifiers and relink before listing")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "table", "jsonl", "csv":
	default:
		return usagef("--format %q: want table, jsonl or csv", *format)
	}
	if *status != "" && !vendors.ValidStatus(vendors.Status(*status)) {
		return usagef("--status %q: want target, monitor, dismissed or new", *status)
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := vendors.NewService(db, vendors.Options{})
	if *relink {
		st, err := svc.Reextract(ctx)
		if err != nil {
			return fmt.Errorf("relink vendors: %w", err)
		}
		fmt.Fprintf(e.stderr, "read %d listing versions, %d identifier sightings; %d vendors, %d identifiers common to many sellers\n",
			st.Versions, st.Sightings, st.Vendors, st.Common)
	}
	vs, err := svc.List(ctx, vendors.Filter{All: *all, Market: *market, Substance: *substance, Status: vendors.Status(*status)})
	if err != nil {
		return vendorError(fmt.Errorf("list vendors: %w", err))
	}
	switch *format {
	case "jsonl":
		return writeVendorsJSONL(e.stdout, vs)
	case "csv":
		return writeVendorsCSV(e.stdout, vs)
	}
	printVendorTable(e.stdout, vs)
	return nil
}

// writeVendorsJSONL writes one vendor a line, in the SPEC's format.
func writeVendorsJSONL(w io.Writer, vs []vendors.Vendor) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

func writeVendorsCSV(w io.Writer, vs []vendors.Vendor) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "status", "hits", "names", "marketplaces", "substances", "identifiers", "listings", "first_seen", "last_seen"})
	for _, v := range vs {
		var ids []string
		for _, i := range v.Identifiers {
			ids = append(ids, i.Kind+":"+i.Value)
		}
		cw.Write([]string{fmt.Sprint(v.ID), string(v.Status), fmt.Sprint(v.Hits), export.SafeCell(strings.Join(v.Names, "; ")),
			strings.Join(v.Marketplaces, "; "), strings.Join(v.Substances, "; "), export.SafeCell(strings.Join(ids, "; ")),
			fmt.Sprint(len(v.Listings)), v.FirstSeen.UTC().Format(time.RFC3339), v.LastSeen.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return cw.Error()
}

func printVendorTable(w io.Writer, vs []vendors.Vendor) {
	if len(vs) == 0 {
		fmt.Fprintln(w, "no vendors (vendors with hits only; --all lists every vendor)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tHITS\tLISTINGS\tNAMES\tMARKETPLACES\tIDENTIFIERS\tSUBSTANCES\tLAST SEEN")
	for _, v := range vs {
		var ids []string
		for _, i := range v.Identifiers {
			ids = append(ids, i.Kind+":"+i.Value)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Status, v.Hits, len(v.Listings),
			termSafe(clip(strings.Join(v.Names, ", "), 32)), clip(strings.Join(v.Marketplaces, ", "), 32),
			termSafe(clip(strings.Join(ids, ", "), 48)), clip(strings.Join(v.Substances, ", "), 32), v.LastSeen.UTC().Format("2006-01-02"))
	}
	tw.Flush()
}
