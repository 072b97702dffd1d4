package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"snoop/config"
	"snoop/crawler"
	"snoop/demo"
	"snoop/export"
	"snoop/internal/termsafe"
	"snoop/store"
	"snoop/sweep"
)

func runDemo(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "demo", "",
		"Start the built-in demo marketplaces on 127.0.0.1, sweep them with the default rules,\n"+
			"print the hits and write a case package. Needs no network.")
	dbPath := dbFlag(fs, "snoop-demo.db")
	who := analystFlag(fs)
	out := fs.String("out", "snoop-demo-case.zip", "path of the case package `FILE.zip` to write (an earlier demo's is replaced)")
	screenshots := fs.Bool("screenshots", false, "take a screenshot of each hit's page with headless Chromium")
	serveUI := fs.Bool("serve", false, "after the sweep, keep the demo marketplaces running and serve the analyst workbench on --addr")
	addr := fs.String("addr", "127.0.0.1:8080", "with --serve: `ADDRESS` of the workbench")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	sites, err := demo.Start(ctx)
	if err != nil {
		return fmt.Errorf("demo: start marketplaces: %w", err)
	}
	defer sites.Close()
	cfg, err := config.Parse("demo.yaml", sites.ConfigYAML())
	if err != nil {
		return fmt.Errorf("demo: built-in config: %w", err)
	}
	rs, c, err := loadRules("")
	if err != nil {
		return err
	}
	// The demo marketplaces listen on new ports each run, so their listings
	// have new URLs: each run starts a fresh demo database and package
	// rather than duplicate every hit.
	if err := freshDemoDB(ctx, e, *dbPath, cfg); err != nil {
		return err
	}
	if err := freshDemoPackage(e, *out); err != nil {
		return err
	}
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
	}
	db, err := openDBAs(ctx, *dbPath, analyst, true)
	if err != nil {
		return err
	}
	defer db.Close()

	for _, m := range cfg.Marketplaces {
		fmt.Fprintf(e.stderr, "demo marketplace %s at %s\n", m.Name, termsafe.Escape(m.StartURLs[0]))
	}
	progress := newProgressLine(e.stderr)
	runner := &sweep.Runner{
		DB:          db,
		Classifier:  c,
		RuleVersion: rs.Version(),
		Logger:      newLogger(progress, slog.LevelWarn),
		Progress:    progress.update,
		AfterSweep:  afterSweep(db, cfg, newLogger(progress, slog.LevelWarn)),
	}
	if *screenshots {
		runner.Screenshots, runner.AllScreenshots = startScreenshots, true
	}
	res, err := runner.Run(ctx, cfg.Marketplaces)
	progress.finish()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	printSweepSummary(e.stdout, res)

	hits, err := db.Hits(ctx, store.HitFilter{SweepID: res.SweepID})
	if err != nil {
		return fmt.Errorf("demo: list hits: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nhits of sweep %d:\n", res.SweepID)
	printHitTable(e.stdout, hits)
	if len(hits) == 0 {
		return errors.New("demo: the sweep found no hits; the demo marketplaces or rules are broken")
	}

	// The demo's hits are unreviewed, so it packs every status explicitly,
	// as `snoop export --status any --sweep N` does.
	sum, err := writeCase(ctx, db, *out, demoCase, store.HitFilter{SweepID: res.SweepID, Status: export.StatusAny}, nil, "")
	if err != nil {
		return err
	}
	if _, err := export.Verify(sum.Path, nil); err != nil {
		return fmt.Errorf("demo: case package failed verification: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nwrote case package %s: %s; %s, as snoop export --status any; verified. Database: %s\n", sum.Path, describeCase(sum), sum.Selection, *dbPath)
	if !sum.PDF {
		fmt.Fprintf(e.stdout, "no report.pdf made: %s\n", sum.NoPDF)
	}
	if !*serveUI {
		fmt.Fprintf(e.stdout, "next: snoop hits --db %s   |   snoop verify %s   |   snoop demo --serve\n", *dbPath, sum.Path)
		return nil
	}
	fmt.Fprintf(e.stdout, "\nserving the workbench on http://%s/ (Ctrl-C to stop); the demo marketplaces are swept again on their schedules\n", *addr)
	runner.Logger = newLogger(e.stderr, slog.LevelInfo)
	runner.Progress = nil
	runner.Limiter = &crawler.Limiters{}
	return serveDemo(ctx, e, db, cfg, runner, *addr)
}

// demoCase is the case name of the demo's package.
const demoCase = "snoop demo"

// freshDemoDB removes the database at path when it holds sweeps of the
// demo marketplaces only (an earlier demo run), and refuses one that holds
// sweeps of any other marketplace. A database without sweeps is kept.
func freshDemoDB(ctx context.Context, e env, path string, cfg *config.Config) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	db, err := openDB(ctx, path)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", path, err)
	}
	runs, err := db.MarketRuns(ctx)
	db.Close()
	if err != nil {
		return fmt.Errorf("demo: %s: %w", path, err)
	}
	if len(runs) == 0 {
		return nil
	}
	for _, r := range runs {
		if _, ok := cfg.Market(r.Market); !ok {
			return fmt.Errorf("demo: %s holds sweeps of marketplace %q: it is not a demo database; give the demo its own --db", path, r.Market)
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("demo: replace the earlier demo database: %w", err)
		}
	}
	fmt.Fprintf(e.stderr, "demo: starting a fresh demo database %s (the earlier demo run's is replaced: its marketplaces had other ports)\n", path)
	return nil
}

// freshDemoPackage removes the case package at path when it is an earlier
// demo's, and refuses any other file there.
func freshDemoPackage(e env, path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	m, err := export.ReadManifest(path)
	if err != nil || m.Case != demoCase {
		return fmt.Errorf("demo: %s exists and is not an earlier demo's case package: refusing to overwrite it; give another --out", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("demo: replace the earlier demo package: %w", err)
	}
	fmt.Fprintf(e.stderr, "demo: replacing the earlier demo case package %s\n", path)
	return nil
}
