package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"snoop/vendors"
)

func runVendor(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "merge":
			return runVendorMerge(ctx, e, args[1:])
		case "split":
			return runVendorSplit(ctx, e, args[1:])
		}
	}
	fs := newFlagSet(e, "vendor", "ID [--status target|monitor|dismissed|new --note TEXT] [--format text|json]\n       snoop vendor merge ID ID... [--note TEXT]\n       snoop vendor split ID --listing LISTING_ID... [--note TEXT]",
		"Show one vendor's profile: names, identifiers and where each was seen, marketplaces, listings, why they are linked,\nprice history and activity. --status records a triage decision (audit-logged). merge and split correct the linking\nfor good: later sweeps keep the decision.")
	dbPath := dbFlag(fs, "snoop.db")
	status := fs.String("status", "", "set the vendor's triage status: target, monitor, dismissed or new")
	note := fs.String("note", "", "reason for the status")
	analyst := analystFlag(fs)
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("vendor: want exactly one vendor ID")
	}
	id, err := parseVendorID(pos[0])
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: want text or json", *format)
	}
	if *note != "" && *status == "" {
		return usagef("vendor: --note goes with --status")
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := vendors.NewService(db, vendors.Options{})
	if *status != "" {
		who, err := resolveAnalyst(*analyst)
		if err != nil {
			return err
		}
		if err := svc.SetStatus(ctx, id, vendors.Status(*status), *note, who); err != nil {
			return vendorError(fmt.Errorf("vendor %d: %w", id, err))
		}
		fmt.Fprintf(e.stdout, "vendor %d marked %s\n", id, *status)
		return nil
	}
	p, err := svc.Get(ctx, id)
	if err != nil {
		return vendorError(err)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	printProfile(e.stdout, p)
	return nil
}

func parseVendorID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("vendor ID %q is not a positive number", s)
	}
	return id, nil
}

func runVendorMerge(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "vendor merge", "ID ID... [--note TEXT]",
		"Put the listings of these vendors together as one vendor, for good. Recorded in the audit log.")
	dbPath := dbFlag(fs, "snoop.db")
	note := fs.String("note", "", "reason for the merge")
	analyst := analystFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		fs.Usage()
		return usagef("vendor merge: want two or more vendor IDs")
	}
	var ids []int64
	for _, p := range pos {
		id, err := parseVendorID(p)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	who, err := resolveAnalyst(*analyst)
	if err != nil {
		return err
	}
	id, err := vendors.NewService(db, vendors.Options{}).Merge(ctx, ids, *note, who)
	if err != nil {
		return vendorError(fmt.Errorf("vendor merge: %w", err))
	}
	fmt.Fprintf(e.stdout, "merged into vendor %d\n", id)
	return nil
}

func runVendorSplit(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "vendor split", "ID --listing LISTING_ID... [--note TEXT]",
		"Take listings out of a vendor into a vendor of their own, for good. Recorded in the audit log.")
	dbPath := dbFlag(fs, "snoop.db")
	note := fs.String("note", "", "reason for the split")
	analyst := analystFlag(fs)
	var listings int64List
	fs.Var(&listings, "listing", "a listing to take out (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(listings) == 0 {
		fs.Usage()
		return usagef("vendor split: want one vendor ID and at least one --listing")
	}
	id, err := parseVendorID(pos[0])
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	who, err := resolveAnalyst(*analyst)
	if err != nil {
		return err
	}
	nid, err := vendors.NewService(db, vendors.Options{}).Split(ctx, id, listings, *note, who)
	if err != nil {
		return vendorError(fmt.Errorf("vendor split: %w", err))
	}
	fmt.Fprintf(e.stdout, "listings %v are now vendor %d\n", []int64(listings), nid)
	return nil
}

// printProfile writes a vendor's profile for people.
func printProfile(w io.Writer, p vendors.Profile) {
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	fmt.Fprintf(w, "vendor %d  status %s", p.ID, p.Status)
	if p.StatusBy != "" {
		fmt.Fprintf(w, " (by %s, %s)", p.StatusBy, day(p.StatusAt))
	}
	fmt.Fprintln(w)
	if p.Note != "" {
		fmt.Fprintf(w, "note: %s\n", termSafe(p.Note))
	}
	for _, m := range p.MergedVendor {
		fmt.Fprintf(w, "(vendor %d was merged into this one)\n", m)
	}
	fmt.Fprintf(w, "names:        %s\n", termSafe(strings.Join(p.Names, ", ")))
	fmt.Fprintf(w, "marketplaces: %s\n", strings.Join(p.Marketplaces, ", "))
	fmt.Fprintf(w, "substances:   %s\n", strings.Join(p.Substances, ", "))
	fmt.Fprintf(w, "hits:         %d of %d listings\n", p.Hits, len(p.Listings))
	fmt.Fprintf(w, "active:       %s .. %s\n", day(p.FirstSeen), day(p.LastSeen))

	fmt.Fprintln(w, "\nidentifiers (where seen: listing/evidence record/field bytes):")
	for _, s := range p.Sightings {
		var where []string
		for _, x := range s.Seen {
			where = append(where, fmt.Sprintf("%d/%d/%s %d-%d", x.ListingID, x.EvidenceID, x.Source, x.Start, x.End))
		}
		fmt.Fprintf(w, "  %-9s %s\n            %s\n", s.Kind, termSafe(s.Value), clip(strings.Join(where, ", "), 200))
	}
	if len(p.Common) > 0 {
		fmt.Fprintln(w, "\nshared by many sellers of a marketplace, so linking nothing:")
		for _, c := range p.Common {
			fmt.Fprintf(w, "  %s on %s (%d sellers, %d listings)\n", c.LinkKey, c.Market, c.Sellers, c.Listings)
		}
	}
	fmt.Fprintln(w, "\nwhy these listings are one seller:")
	if len(p.Links) == 0 {
		fmt.Fprintln(w, "  (one listing)")
	}
	for _, l := range p.Links {
		fmt.Fprintf(w, "  - %s\n", termSafe(l.Text))
	}
	for _, s := range p.Suggestions {
		fmt.Fprintf(w, "  ? vendor %d: %s\n", s.VendorID, termSafe(s.Reason))
	}

	fmt.Fprintln(w, "\nlistings:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tMARKETPLACE\tNAME\tHIT\tSTATE\tSUBSTANCES\tPRICE\tTITLE\tURL")
	for _, l := range p.Listings {
		state := "live"
		if l.Gone {
			state = "gone " + day(l.GoneAt)
		}
		hit := "-"
		if l.HitID != 0 {
			hit = fmt.Sprintf("%d (%s)", l.HitID, l.HitStatus)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Marketplace, termSafe(clip(l.Name, 20)), hit, state,
			strings.Join(l.Substances, ","), termSafe(clip(l.Price, 14)), termSafe(clip(l.Title, 40)), termSafe(l.URL))
	}
	tw.Flush()
	if len(p.Prices) > 0 {
		fmt.Fprintln(w, "\nprice history:")
		for _, pp := range p.Prices {
			fmt.Fprintf(w, "  %s  listing %d  %s\n", day(pp.SeenAt), pp.ListingID, termSafe(pp.Price))
		}
	}
	fmt.Fprintln(w, "\nactivity:")
	for _, ev := range p.Timeline {
		fmt.Fprintf(w, "  %s  %-6s %s\n", day(ev.At), ev.Kind, termSafe(clip(ev.Text, 100)))
	}
	if len(p.Decisions) > 0 {
		fmt.Fprintln(w, "\nanalyst decisions:")
		for _, d := range p.Decisions {
			sup := ""
			if d.SupersededBy != 0 {
				sup = fmt.Sprintf(" (superseded by %d)", d.SupersededBy)
			}
			fmt.Fprintf(w, "  %d %s by %s at %s%s: %s\n", d.ID, d.Action, d.Actor, day(d.At), sup, termSafe(d.Note))
		}
	}
}

// termSafe replaces control characters (escape sequences from a hostile
// page could otherwise drive the analyst's terminal) with U+FFFD.
func termSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return '\uFFFD'
		}
		return r
	}, s)
}
