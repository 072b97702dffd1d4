package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"snoop/classify"
	"snoop/evidence"
	"snoop/store"
)

func runShow(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "show", "HIT_ID [--rules DIR]",
		"Show one hit in the terminal: its fields, the listing text with the matched terms marked [[like this]],\n"+
			"every match and the score arithmetic under the rules, the evidence, the listing's history and the reviews.")
	dbPath := dbFlag(fs, "snoop.db")
	dir := fs.String("rules", "", "rule directory for the context matches (default: the embedded rules)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("show: want exactly one HIT_ID")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("show: HIT_ID %q is not a positive number", pos[0])
	}
	_, c, err := loadRules(*dir)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := db.Hit(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("show: no hit with ID %d in %s (list them with snoop hits)", id, *dbPath)
	} else if err != nil {
		return err
	}
	evs, err := db.HitEvidence(ctx, id)
	if err != nil {
		return err
	}
	history, err := db.ListingHistory(ctx, h.ListingID)
	if err != nil {
		return err
	}
	reviews, err := db.Reviews(ctx, id)
	if err != nil {
		return err
	}
	printHit(e.stdout, h, c, evs, history, reviews)
	return nil
}

// printHit writes a hit for people; every text from the database goes
// through plainText.
func printHit(w io.Writer, h store.Hit, c *classify.Classifier, evs []store.Evidence, history []store.ListingVersion, reviews []store.ReviewRecord) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	p("hit %d  %s  score %.3f\n", h.ID, h.Status, h.Score)
	p("marketplace  %s\n", plainText(h.Marketplace))
	p("url          %s\n", plainText(h.URL))
	p("title        %s\n", plainText(h.Title))
	p("price        %s\n", plainText(h.Price))
	p("vendor       %s\n", plainText(h.Vendor))
	p("first seen   %s\nlast seen    %s\n", ts(h.FirstSeen), ts(h.LastSeen))
	p("rule set     %s (sweep %d)\n", h.RuleVersion, h.SweepID)

	res := c.Analyze(h.Text)
	type mark struct{ start, end int }
	var marks []mark
	for _, s := range h.Substances {
		marks = append(marks, mark{s.Start, s.End})
	}
	for _, m := range res.Matches {
		if m.Kind == "sales" || m.Kind == "exclude" {
			marks = append(marks, mark{m.Start, m.End})
		}
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].start < marks[j].start })
	var text strings.Builder
	pos := 0
	for _, m := range marks {
		if m.start < pos || m.start < 0 || m.end > len(h.Text) || m.start >= m.end {
			continue
		}
		text.WriteString(h.Text[pos:m.start])
		text.WriteString("[[" + h.Text[m.start:m.end] + "]]")
		pos = m.end
	}
	text.WriteString(h.Text[pos:])
	p("\ntext (substances, sales and exclusion contexts marked [[…]]):\n%s\n", indent(plainText(text.String())))

	p("\nsubstances (recorded with the hit):\n")
	for _, s := range h.Substances {
		p("  %-20s %-18s %q at %d-%d\n", s.Name, s.Class, plainText(s.Matched), s.Start, s.End)
	}
	p("\nmatches under the rules %s:\n", res.RuleVersion)
	for _, m := range res.Matches {
		p("  %5d-%-5d %-28s %-12s %+.2f  %q\n", m.Start, m.End, plainText(m.Rule), m.Kind, m.Weight, plainText(h.Text[m.Start:m.End]))
	}
	pt := res.Parts
	p("score        %.3f = base %.2f + sales %.2f (%d kinds) - exclude %.2f (strong %.2f + weak %.2f - shield %.2f + far %.2f), clamped to 0..1\n",
		res.Score, pt.Base, pt.Sales, pt.SalesKinds, pt.Exclude, pt.Strong, pt.Weak, pt.Shield, pt.Far)

	p("\nevidence:\n")
	for _, ev := range evs {
		via := "direct"
		if ev.Proxy != "" {
			via = "proxy " + evidence.RedactProxy(ev.Proxy)
		}
		if ev.RemoteAddr != "" {
			via += ", server " + ev.RemoteAddr
		}
		kind := "response"
		if ev.Revisit {
			kind = fmt.Sprintf("revisit of evidence %d", ev.RefersTo)
		}
		p("  %d  %s  %s %d  %s\n      sha256 %s  %s %s  (%s)\n", ev.ID, ts(ev.FetchedAt), ev.Method, ev.Status, plainText(ev.URL),
			ev.SHA256, kind, ev.WARCRecordID, via)
	}
	if h.Screenshot != nil {
		p("  screenshot taken %s, sha256 %s\n", ts(h.Screenshot.TakenAt), h.Screenshot.SHA256)
	}
	p("\nhistory (%d version(s)):\n", len(history))
	for _, v := range history {
		p("  %s  sweep %d  price %s  %s\n", ts(v.SeenAt), v.SweepID, plainText(v.Price), plainText(clip(v.Title, 60)))
	}
	p("\nreviews:\n")
	if len(reviews) == 0 {
		p("  none\n")
	}
	for _, r := range reviews {
		note := ""
		if r.Note != "" {
			note = "  note: " + plainText(r.Note)
		}
		p("  %s  %s  %s%s\n", ts(r.At), plainText(r.Actor), r.Status, note)
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
