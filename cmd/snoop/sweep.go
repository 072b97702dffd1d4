package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/internal/termsafe"
	"snoop/screenshot"
	"snoop/store"
	"snoop/sweep"
)

func runSweep(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "sweep", "",
		"Sweep the configured marketplaces once, classify every listing and store hits with their evidence.\n"+
			"Ctrl-C stops cleanly and keeps everything fetched so far.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	cfgPath := fs.String("config", "", "marketplace config `FILE` (YAML) (required)")
	var markets stringList
	fs.Var(&markets, "market", "sweep only this marketplace `NAME` (repeatable)")
	rulesDir := fs.String("rules", "", "rule directory `DIR` (default: the embedded rules)")
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
	log := newLogger(progress, level)
	runner := &sweep.Runner{
		DB:             db,
		Classifier:     c,
		RuleVersion:    rs.Version(),
		Logger:         log,
		AfterSweep:     afterSweep(db, cfg, log),
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
	if res.SweepID != 0 {
		if err := printNewHits(ctx, e.stdout, db, *dbPath, res.SweepID); err != nil {
			return err
		}
	}
	if res.Status == "failed" {
		return fmt.Errorf("sweep %d failed for some marketplaces (see the error column)", res.SweepID)
	}
	return nil
}

// hitsPage is how many hits a command prints before pointing to snoop hits.
const hitsPage = 20

// printNewHits prints the hits first detected by the sweep (a page of
// them) and the commands to go on with.
func printNewHits(ctx context.Context, w io.Writer, db *store.DB, dbPath string, sweepID int64) error {
	sw, err := db.Sweep(ctx, sweepID)
	if err != nil {
		return fmt.Errorf("sweep %d: %w", sweepID, err)
	}
	hits, err := db.Hits(ctx, store.HitFilter{SweepID: sweepID})
	if err != nil {
		return fmt.Errorf("list hits of sweep %d: %w", sweepID, err)
	}
	var fresh []store.Hit
	for _, h := range hits {
		if !h.FirstSeen.Before(sw.StartedAt) {
			fresh = append(fresh, h)
		}
	}
	dbArg := ""
	if dbPath != "snoop.db" {
		dbArg = " --db " + shellQuote(dbPath)
	}
	fmt.Fprintf(w, "\nnew hits of sweep %d: %d\n", sweepID, len(fresh))
	if len(fresh) > 0 {
		printHitTable(w, fresh[:min(len(fresh), hitsPage)])
	}
	if len(fresh) > hitsPage {
		fmt.Fprintf(w, "… and %d more: snoop hits%s --sweep %d\n", len(fresh)-hitsPage, dbArg, sweepID)
	}
	fmt.Fprintf(w, "next: snoop hits%s --sweep %d   |   snoop review%s HIT_ID --status confirmed   |   snoop export%s --sweep %d --status confirmed --out case.zip\n",
		dbArg, sweepID, dbArg, dbArg, sweepID)
	return nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(termsafe.Escape(s), "'", `'\''`) + "'"
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
	var t table
	t.add("MARKETPLACE", "PAGES", "LISTINGS", "NEW", "CHANGED", "GONE", "HITS", "NEW HITS", "ERRORS", "SKIPPED", "SUBSTANCES")
	for _, m := range res.Markets {
		var subs []string
		for _, s := range m.SortedSubstances() {
			subs = append(subs, fmt.Sprintf("%s=%d", s, m.HitsBySubstance[s]))
		}
		errs := m.Crawl.Errors
		t.add(termsafe.Escape(m.Market), fmt.Sprint(m.Crawl.PagesFetched), fmt.Sprint(m.Crawl.Listings),
			fmt.Sprint(m.NewListings), fmt.Sprint(m.ChangedListings), fmt.Sprint(m.GoneListings), fmt.Sprint(m.Hits), fmt.Sprint(m.NewHits),
			withKinds(errs, m.Crawl.ErrorsByKind), withKinds(sum(m.Crawl.SkippedByReason), m.Crawl.SkippedByReason),
			termsafe.Escape(strings.Join(subs, " ")))
	}
	t.write(w)
	for _, m := range res.Markets {
		if m.Err != "" {
			fmt.Fprintf(w, "\n%s: %s\n", termsafe.Escape(m.Market), termsafe.Escape(m.Err))
		}
		if n := sum(m.Crawl.ListingURLsRejected); n > 0 {
			fmt.Fprintf(w, "\n%s: %s listing URLs refused and their items left out: outside the marketplace's allow/deny (offsite, deny) or not http(s) (scheme); if they belong to the marketplace, widen its allow\n",
				m.Market, withKinds(n, m.Crawl.ListingURLsRejected))
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
