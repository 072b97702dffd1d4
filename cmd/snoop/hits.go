package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"snoop/export"
	"snoop/internal/termsafe"
	"snoop/store"
)

// hitFilterFlags registers the hit selection flags shared by hits and export.
type hitFilterFlags struct {
	sweep     int64
	since     string
	market    string
	substance string
	status    string
	ids       int64List
	export    bool // --status any is allowed, and "" means confirmed
	class     string
	text      string
	until     string
	sort      string
}

func (h *hitFilterFlags) register(fs *flag.FlagSet, withIDs bool) {
	fs.Int64Var(&h.sweep, "sweep", 0, "only hits of this sweep `ID`")
	fs.StringVar(&h.since, "since", "", "only hits detected at or after this `TIME` (YYYY-MM-DD or RFC 3339)")
	fs.StringVar(&h.market, "market", "", "only hits on this marketplace `NAME`")
	fs.StringVar(&h.substance, "substance", "", "only hits naming this substance (canonical `NAME`)")
	if withIDs {
		h.export = true
		fs.StringVar(&h.status, "status", "", "pack hits with this `STATUS`: new, confirmed, false_positive, or any (default: confirmed only)")
	} else {
		fs.StringVar(&h.status, "status", "", "only hits with this `STATUS`: new, confirmed or false_positive")
	}
	if withIDs {
		fs.Var(&h.ids, "hit", "only this hit `ID` (repeatable)")
	} else {
		fs.StringVar(&h.class, "class", "", "only hits naming a substance of this `CLASS` (fentanyl-analogue, nitazene, other-nso, precursor, counterfeit-pill, …)")
		fs.StringVar(&h.text, "q", "", "only hits whose title, description, text, vendor or URL contains this `TEXT` (any case)")
		fs.StringVar(&h.until, "until", "", "only hits whose listing was last seen before this `TIME` (YYYY-MM-DD: before the end of that day)")
		fs.StringVar(&h.sort, "sort", "id", "order `KEY`: "+strings.Join(store.HitSortKeys(), ", ")+"; prefix - for descending")
	}
}

func (h *hitFilterFlags) filter() (store.HitFilter, error) {
	since, err := parseDate("since", h.since, false)
	if err != nil {
		return store.HitFilter{}, err
	}
	until, err := parseDate("until", h.until, true)
	if err != nil {
		return store.HitFilter{}, err
	}
	if key := strings.TrimPrefix(h.sort, "-"); h.sort != "" && !slices.Contains(store.HitSortKeys(), key) {
		return store.HitFilter{}, usagef("--sort %q: want one of %s, prefix - for descending", h.sort, strings.Join(store.HitSortKeys(), ", "))
	}
	if h.export && h.status == export.StatusAny {
		// the export service packs every status
	} else if h.status != "" && !store.ValidStatus(h.status) {
		return store.HitFilter{}, usagef("--status %q: want new, confirmed or false_positive", h.status)
	}
	return store.HitFilter{
		IDs:       h.ids,
		SweepID:   h.sweep,
		Since:     since,
		Market:    h.market,
		Substance: strings.ToLower(h.substance),
		Status:    h.status,
		Class:     h.class,
		Text:      h.text,
		Until:     until,
		Sort:      h.sort,
	}, nil
}

func runHits(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "hits", "",
		"List hits, by id unless --sort says otherwise. Times are YYYY-MM-DD or RFC 3339.")
	dbPath := dbFlag(fs, "snoop.db")
	var hf hitFilterFlags
	hf.register(fs, false)
	format := fs.String("format", "table", "output format: `table|jsonl|csv`")
	rawCSV := fs.Bool("raw-csv", false, "with --format csv: write every cell exactly as stored; by default a cell a spreadsheet would run as a formula gets a ' before it")
	near := fs.Bool("near-miss", false, "list the stored listings that are not hits but score within the rules' near-miss margin below the threshold (table or jsonl)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *near {
		return runNearMisses(ctx, e, *dbPath, hf.market, *format)
	}
	f, err := hf.filter()
	if err != nil {
		return err
	}
	switch *format {
	case "table", "jsonl", "csv":
	default:
		return usagef("--format %q: want table, jsonl or csv", *format)
	}
	if *rawCSV && *format != "csv" {
		return usagef("--raw-csv goes with --format csv")
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := knownMarket(ctx, db, f.Market); err != nil {
		return err
	}
	hits, err := db.Hits(ctx, f)
	if err != nil {
		return fmt.Errorf("list hits: %w", err)
	}
	switch *format {
	case "jsonl":
		return export.WriteJSONL(e.stdout, hits)
	case "csv":
		if *rawCSV {
			return export.WriteRawCSV(e.stdout, hits)
		}
		return export.WriteCSV(e.stdout, hits)
	}
	printHitTable(e.stdout, hits)
	return nil
}

// printHitTable writes hits as an aligned table for people.
func printHitTable(w io.Writer, hits []store.Hit) {
	if len(hits) == 0 {
		fmt.Fprintln(w, "no hits")
		return
	}
	var t table
	t.add("ID", "STATUS", "SCORE", "MARKETPLACE", "SUBSTANCES", "TITLE", "PRICE", "URL")
	for _, h := range hits {
		var subs []string
		for _, s := range h.Substances {
			subs = append(subs, s.Name)
		}
		t.add(fmt.Sprint(h.ID), termsafe.Escape(h.Status), fmt.Sprintf("%.2f", h.Score), termsafe.Escape(h.Marketplace),
			termsafe.Escape(strings.Join(subs, ",")), clip(h.Title, 48), clip(h.Price, 16), termsafe.Escape(h.URL))
	}
	t.write(w)
}
