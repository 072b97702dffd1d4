package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"snoop/export"
	"snoop/vendors"
)

func runReport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "report", "--since DURATION|RFC3339 [--out DIR]",
		"Write the intelligence report: a profile of every vendor with new or changed hits in the period\n(first detected, a new version of the listing, or gone), as report.html and report.json in DIR.")
	dbPath := dbFlag(fs, "snoop.db")
	sinceFlag := fs.String("since", "", "start of the period: a duration back from now (7d, 36h) or an RFC 3339 time")
	out := fs.String("out", "", "directory to write report.html and report.json to (default snoop-report-DATE)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	now := time.Now().UTC()
	since, err := parsePeriod(*sinceFlag, now)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = "snoop-report-" + now.Format("20060102")
	}
	for _, name := range []string{"report.html", "report.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("report: %s already exists; choose another --out", filepath.Join(dir, name))
		}
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := vendors.NewService(db, vendors.Options{})
	vs, err := svc.List(ctx, vendors.Filter{ChangedSince: since})
	if err != nil {
		return vendorError(fmt.Errorf("report: %w", err))
	}
	profiles := make([]vendors.Profile, 0, len(vs))
	for _, v := range vs {
		p, err := svc.Get(ctx, v.ID)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		profiles = append(profiles, p)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var html bytes.Buffer
	title := fmt.Sprintf("snoop intelligence report: vendors with new or changed hits since %s", since.Format("2006-01-02 15:04Z"))
	if err := export.WriteVendorReport(&html, title, now, profiles); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	js, err := json.MarshalIndent(map[string]any{
		"generated_at": now, "since": since, "tool_version": version, "vendors": profiles,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "report.html"), html.Bytes()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "report.json"), append(js, '\n')); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d vendors with new or changed hits since %s\n", dir, len(profiles), since.Format(time.RFC3339))
	return nil
}

// parsePeriod reads --since: a duration back from now ("7d", "36h",
// "90m") or an RFC 3339 time.
func parsePeriod(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, usagef("report: --since is required (e.g. --since 7d)")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("--since %q: want a duration such as 7d or 36h, or an RFC 3339 time", s)
}
