package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/screenshot"
	"snoop/sweep"
)

func runSweep(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "sweep", "--config FILE [--market NAME]... [--rules DIR] [--screenshots]",
		"Sweep the configured marketplaces once, classify every listing and store hits with their evidence.\n"+
			"Ctrl-C stops cleanly and keeps everything fetched so far.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	cfgPath := fs.String("config", "", "marketplace config file (YAML)")
	var markets stringList
	fs.Var(&markets, "market", "sweep only this marketplace (repeatable)")
	rulesDir := fs.String("rules", "", "rule directory (default: the embedded rules)")
	screenshots := fs.Bool("screenshots", false, "take a screenshot of each hit's page with headless Chromium")
	verbose := fs.Bool("v", false, "log every page")
	fresh := fs.Bool("fresh", false, "start a new sweep even if an interrupted one of the same marketplaces can be resumed")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fs.Usage()
		return usagef("sweep: --config is required")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	selected, err := selectMarkets(cfg, markets)
	if err != nil {
		return err
	}
	rs, c, err := loadRules(*rulesDir)
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

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	progress := newProgressLine(e.stderr)
	runner := &sweep.Runner{
		DB:             db,
		Classifier:     c,
		RuleVersion:    rs.Version(),
		Logger:         newLogger(progress, level),
		Progress:       progress.update,
		Fresh:          *fresh,
		Screenshots:    startScreenshots,
		AllScreenshots: *screenshots,
	}
	res, err := runner.Run(ctx, selected)
	progress.finish()
	if res.SweepID != 0 {
		printSweepSummary(e.stdout, res)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("sweep %d interrupted: everything fetched so far is stored; run the same command again to resume it", res.SweepID)
		}
		return err
	}
	if res.Status == "failed" {
		return fmt.Errorf("sweep %d failed for some marketplaces (see the error column)", res.SweepID)
	}
	return nil
}

// startScreenshots starts a headless Chromium for screenshots of a
// marketplace's hit pages, with the marketplace's session: proxy, user
// agent, headers and cookies.
func startScreenshots(ctx context.Context, m config.Market) (sweep.Shooter, error) {
	opts := screenshot.Options{Proxy: m.Proxy, UserAgent: m.UserAgent, Headers: m.Headers}
	if m.CookiesFile != "" {
		cookies, err := crawler.ReadCookies(m.CookiesFile, time.Now())
		if err != nil {
			return nil, fmt.Errorf("screenshots of %s: %w", m.Name, err)
		}
		for _, c := range cookies {
			opts.Cookies = append(opts.Cookies, screenshot.Cookie{URL: c.URL, Cookie: c.Cookie})
		}
	}
	return screenshot.New(ctx, opts)
}

// selectMarkets returns the marketplaces named, each once, or all of them.
func selectMarkets(cfg *config.Config, names []string) ([]config.Market, error) {
	if len(names) == 0 {
		return cfg.Marketplaces, nil
	}
	var out []config.Market
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue // --market x --market x sweeps x once
		}
		seen[n] = true
		m, ok := cfg.Market(n)
		if !ok {
			known := make([]string, len(cfg.Marketplaces))
			for i, m := range cfg.Marketplaces {
				known[i] = m.Name
			}
			return nil, usagef("--market %q: no such marketplace in %s (have: %s)", n, cfg.File, strings.Join(known, ", "))
		}
		out = append(out, m)
	}
	return out, nil
}

// printSweepSummary writes the end-of-sweep table.
func printSweepSummary(w io.Writer, res sweep.Result) {
	secs := res.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Pages()) / secs
	}
	resumed := ""
	if res.Resumed {
		resumed = " (resumed)"
	}
	fmt.Fprintf(w, "sweep %d%s %s in %s (%d pages, %.1f pages/s)\n\n", res.SweepID, resumed, res.Status,
		res.Elapsed.Round(time.Millisecond), res.Pages(), rate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MARKETPLACE\tPAGES\tLISTINGS\tNEW\tCHANGED\tGONE\tHITS\tNEW HITS\tERRORS\tSKIPPED\tSUBSTANCES")
	for _, m := range res.Markets {
		var subs []string
		for _, s := range m.SortedSubstances() {
			subs = append(subs, fmt.Sprintf("%s=%d", s, m.HitsBySubstance[s]))
		}
		errs := m.Crawl.Errors
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", m.Market, m.Crawl.PagesFetched, m.Crawl.Listings,
			m.NewListings, m.ChangedListings, m.GoneListings, m.Hits, m.NewHits,
			withKinds(errs, m.Crawl.ErrorsByKind), withKinds(sum(m.Crawl.SkippedByReason), m.Crawl.SkippedByReason),
			strings.Join(subs, " "))
	}
	tw.Flush()
	for _, m := range res.Markets {
		if m.Err != "" {
			fmt.Fprintf(w, "\n%s: %s\n", m.Market, m.Err)
		}
		if m.RejectedPages > 0 {
			fmt.Fprintf(w, "\n%s: %d pages were invalid and not stored (see the log); the rest of the sweep was kept\n", m.Market, m.RejectedPages)
		}
		if m.GoneNotChecked != "" {
			fmt.Fprintf(w, "\n%s: no listing marked gone, the sweep did not cover every page: %s\n", m.Market, m.GoneNotChecked)
		}
		if m.GatePages > 0 {
			fmt.Fprintf(w, "\n%s: %d gate pages (CAPTCHA, login or DDoS protection) were not stored; refresh the session cookies (cookies_file) and sweep again\n", m.Market, m.GatePages)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// withKinds formats a total with its breakdown, e.g. "3 (timeout=2 http_5xx=1)".
func withKinds(total int, kinds map[string]int) string {
	if total == 0 {
		return "0"
	}
	var parts []string
	for _, k := range sortedKeys(kinds) {
		if kinds[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, kinds[k]))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprint(total)
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, " "))
}

// progressLine shows one live line per sweep on a terminal and stays
// silent otherwise (logs go through slog then). Log lines written through
// it clear the progress line first.
type progressLine struct {
	w        io.Writer
	terminal bool

	mu      sync.Mutex
	markets map[string]sweep.Progress
	last    time.Time
	shown   bool
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, terminal: isTerminal(w), markets: map[string]sweep.Progress{}}
}

// Write lets the progress line act as the log's writer.
func (p *progressLine) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	return p.w.Write(b)
}

func (p *progressLine) update(pr sweep.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.markets[pr.Market] = pr
	if !p.terminal || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	var parts []string
	for _, name := range sortedKeys(p.markets) {
		m := p.markets[name]
		parts = append(parts, fmt.Sprintf("%s: %d pages (%.1f/s), %d queued, %d listings, %d hits, %d errors",
			name, m.Pages, m.Rate, m.Queued, m.Listings, m.Hits, m.Errors))
	}
	line := strings.Join(parts, " | ")
	if len(line) > 200 {
		line = line[:200]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.shown = true
}

func (p *progressLine) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *progressLine) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
