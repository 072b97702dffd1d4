package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"snoop/config"
	"snoop/crawler"
	"snoop/demo"
	"snoop/export"
	"snoop/store"
	"snoop/sweep"
)

func runDemo(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "demo", "[--db FILE] [--out FILE.zip]",
		"Start the built-in demo marketplaces on 127.0.0.1, sweep them with the default rules,\n"+
			"print the hits and write a case package. Needs no network.")
	dbPath := dbFlag(fs, "snoop-demo.db")
	who := analystFlag(fs)
	out := fs.String("out", "snoop-demo-case.zip", "path of the case package to write")
	screenshots := fs.Bool("screenshots", false, "take a screenshot of each hit's page with headless Chromium")
	serveUI := fs.Bool("serve", false, "after the sweep, keep the demo marketplaces running and serve the analyst workbench on --addr")
	addr := fs.String("addr", "127.0.0.1:8080", "with --serve: address of the workbench")
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
		fmt.Fprintf(e.stderr, "demo marketplace %s at %s\n", m.Name, m.StartURLs[0])
	}
	progress := newProgressLine(e.stderr)
	runner := &sweep.Runner{
		DB:          db,
		Classifier:  c,
		RuleVersion: rs.Version(),
		Logger:      newLogger(progress, slog.LevelWarn),
		Progress:    progress.update,
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
	sum, err := writeCase(ctx, db, *out, "snoop demo", store.HitFilter{SweepID: res.SweepID, Status: export.StatusAny}, nil, "")
	if err != nil {
		return err
	}
	if _, err := export.Verify(sum.Path, nil); err != nil {
		return fmt.Errorf("demo: case package failed verification: %w", err)
	}
	fmt.Fprintf(e.stdout, "\nwrote case package %s (%d hits, %d files; %s, as snoop export --status any); verified. Database: %s\n", sum.Path, sum.Hits, sum.Files, sum.Selection, *dbPath)
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
