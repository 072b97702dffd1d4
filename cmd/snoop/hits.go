package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"snoop/export"
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
	fs.Int64Var(&h.sweep, "sweep", 0, "only hits of this sweep ID")
	fs.StringVar(&h.since, "since", "", "only hits detected at or after this time (YYYY-MM-DD or RFC 3339)")
	fs.StringVar(&h.market, "market", "", "only hits on this marketplace")
	fs.StringVar(&h.substance, "substance", "", "only hits naming this substance (canonical name)")
	if withIDs {
		h.export = true
		fs.StringVar(&h.status, "status", "", "pack hits with this status: new, confirmed, false_positive, or any (default: confirmed only)")
	} else {
		fs.StringVar(&h.status, "status", "", "only hits with this status: new, confirmed or false_positive")
	}
	if withIDs {
		fs.Var(&h.ids, "hit", "only this hit ID (repeatable)")
	} else {
		fs.StringVar(&h.class, "class", "", "only hits naming a substance of this class (fentanyl-analogue, nitazene, other-nso, precursor, …)")
		fs.StringVar(&h.text, "q", "", "only hits whose title, description, text, vendor or URL contains this text (any case)")
		fs.StringVar(&h.until, "until", "", "only hits whose listing was last seen before this time (YYYY-MM-DD: before the end of that day)")
		fs.StringVar(&h.sort, "sort", "id", "order: "+strings.Join(store.HitSortKeys(), ", ")+"; prefix - for descending")
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
	fs := newFlagSet(e, "hits", "[--sweep ID] [--since T] [--until T] [--market NAME] [--substance NAME] [--class C] [--status S] [--q TEXT] [--sort KEY] [--format table|jsonl|csv]",
		"List hits, by id unless --sort says otherwise. Times are YYYY-MM-DD or RFC 3339.")
	dbPath := dbFlag(fs, "snoop.db")
	var hf hitFilterFlags
	hf.register(fs, false)
	format := fs.String("format", "table", "output format: table, jsonl or csv")
	if _, err := parseFlags(fs, args); err != nil {
		return err
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
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkMarket(ctx, db, f.Market); err != nil {
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSCORE\tMARKETPLACE\tSUBSTANCES\tTITLE\tPRICE\tURL")
	for _, h := range hits {
		var subs []string
		for _, s := range h.Substances {
			subs = append(subs, s.Name)
		}
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Status, h.Score, h.Marketplace,
			strings.Join(subs, ","), clip(h.Title, 48), clip(h.Price, 16), h.URL)
	}
	tw.Flush()
}

// clip shortens s to at most n runes for table display.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
