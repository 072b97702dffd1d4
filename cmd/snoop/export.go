package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"time"

	"snoop/export"
	"snoop/store"
)

func runExport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "export", "",
		"Write a case package: the selected hits with their evidence, a report (report.html, and report.pdf\n"+
			"when Chromium is installed), the custody log and checksums. Without --status only confirmed hits\n"+
			"are packed; --status any packs hits of every status.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	out := fs.String("out", "", "path of the zip `FILE.zip` to write; it must not exist (required)")
	caseName := fs.String("case", "", "case `NAME` recorded in the package (default: snoop-case-TIME)")
	signKey := fs.String("sign-key", "", "ed25519 private key `FILE` (from snoop keygen) to sign manifest.json with")
	tsa := fs.String("tsa", os.Getenv("SNOOP_TSA_URL"), "RFC 3161 time-stamp authority `URL` to time-stamp manifest.json (default $SNOOP_TSA_URL)")
	var hf hitFilterFlags
	hf.register(fs, true)
	var vf vendorExportFlags
	vf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return usagef("export: --out is required")
	}
	f, err := hf.filter()
	if err != nil {
		return err
	}
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
	}
	if vf.wanted() {
		return exportVendors(ctx, e, *dbPath, *out, *caseName, *signKey, *tsa, analyst, f, vf)
	}
	var key ed25519.PrivateKey
	if *signKey != "" {
		if key, err = export.LoadPrivateKey(*signKey); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	db, err := openDBAs(ctx, *dbPath, analyst, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := knownMarket(ctx, db, f.Market); err != nil {
		return err
	}
	sum, err := writeCase(ctx, db, *out, *caseName, f, key, *tsa)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "packed %s\n", sum.Selection)
	if !sum.PDF {
		fmt.Fprintf(e.stderr, "note: no report.pdf made: %s (report.html holds the same report)\n", sum.NoPDF)
	}
	if *tsa == "" {
		fmt.Fprintln(e.stderr, "note: no trusted time stamp (set --tsa URL or SNOOP_TSA_URL to have manifest.json time-stamped by an RFC 3161 authority)")
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s, %d bytes\n", sum.Path, describeCase(sum), sum.Bytes)
	return nil
}

// describeCase says what a case package holds, counting the files as
// snoop verify and unzip -l do.
func describeCase(sum export.Summary) string {
	return fmt.Sprintf("%d hits, %d files in the zip (%d of them listed with their sha256 in manifest.json)", sum.Hits, sum.Files, sum.Listed)
}

// writeCase exports the hits matching f to path with the default rules'
// version recorded.
func writeCase(ctx context.Context, db *store.DB, path, caseName string, f store.HitFilter, key ed25519.PrivateKey, tsaURL string) (export.Summary, error) {
	rs, c, err := loadRules("")
	if err != nil {
		return export.Summary{}, err
	}
	sum, err := export.Write(ctx, db, path, export.Options{
		Case:        caseName,
		Filter:      f,
		SignKey:     key,
		ToolVersion: buildInfo().Version,
		RuleVersion: rs.Version(),
		Classifier:  c,
		PDF:         export.ChromiumPDF{},
		Actor:       db.Actor,
		TSAURL:      tsaURL,
		Now:         func() time.Time { return time.Now().UTC() },
	})
	return sum, err // names path
}
