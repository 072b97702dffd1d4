package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/PuerkitoBio/goquery"

	"snoop/autolist"
	"snoop/config"
	"snoop/crawler"
)

func runMarkets(ctx context.Context, e env, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: snoop markets check --config FILE [--market NAME]... [--pages N]")
		fmt.Fprintln(w, "       snoop markets import FILE --config FILE [--dry-run]")
		fmt.Fprintln(w, "")
		fmt.Fprintln(w, "check:  fetch a few pages of each marketplace and show what it would take as listings")
		fmt.Fprintln(w, "import: add marketplaces in auto mode from a URL list or a CSV (name,url,kind,proxy,schedule)")
	}
	if len(args) == 0 {
		usage(e.stderr)
		return usagef("markets: give check or import")
	}
	switch args[0] {
	case "check":
		return runMarketsCheck(ctx, e, args[1:])
	case "import":
		return runMarketsImport(ctx, e, args[1:])
	case "help", "-h", "--help", "-help":
		usage(e.stdout)
		return nil
	}
	usage(e.stderr)
	return usagef("markets: unknown subcommand %q (want check or import)", args[0])
}

// checkedPage is one page fetched by markets check.
type checkedPage struct {
	seq      int
	url      string
	status   int
	gate     string
	listings []crawler.Listing
	skip     string // why autolist took no listing ("" if unknown or some were taken)
	template string
}

func runMarketsCheck(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "markets check", "--config FILE [--market NAME]... [--pages N]",
		"Fetch a few pages of each marketplace (or the named ones), with the same rate limits, robots.txt\n"+
			"and proxy as a sweep, and show the listings a sweep would take, with their fields.\n"+
			"Nothing is stored.")
	cfgPath := fs.String("config", "", "marketplace config file (YAML)")
	var markets stringList
	fs.Var(&markets, "market", "check only this marketplace (repeatable)")
	pages := fs.Int("pages", 10, "pages to fetch per marketplace (1-200)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fs.Usage()
		return usagef("markets check: --config is required")
	}
	if *pages < 1 || *pages > 200 {
		return usagef("markets check: --pages must be between 1 and 200, got %d", *pages)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	selected, err := selectMarkets(cfg, markets)
	if err != nil {
		return err
	}
	limiter := &crawler.Limiters{}
	empty := 0
	for _, m := range selected {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("markets check: %w", err)
		}
		n, err := checkMarket(ctx, e.stdout, m, *pages, limiter)
		if err != nil {
			fmt.Fprintf(e.stdout, "  error: %v\n", err)
		}
		if n == 0 {
			empty++
		}
		fmt.Fprintln(e.stdout)
	}
	if empty > 0 {
		return fmt.Errorf("markets check: %d of %d marketplaces gave no listing in their first %d pages", empty, len(selected), *pages)
	}
	return nil
}

// checkMarket fetches up to pages pages of m and prints what it found; it
// returns the number of listings.
func checkMarket(ctx context.Context, w io.Writer, m config.Market, pages int, limiter crawler.HostLimiter) (int, error) {
	m.MaxPages = pages
	mode := "no listing rule"
	switch {
	case m.Listing.Auto && m.Listing.Template != "":
		mode = "auto, template " + m.Listing.Template
	case m.Listing.Auto:
		mode = "auto"
	case m.Listing.URLPattern != nil:
		mode = "page mode, url_pattern " + m.Listing.URLPattern.String()
	case m.Listing.Item != "":
		mode = "item mode, item " + m.Listing.Item
	}
	fmt.Fprintf(w, "== %s (%s)\n", m.Name, mode)
	var mu sync.Mutex
	var got []checkedPage
	sink := crawler.SinkFunc(func(_ context.Context, p *crawler.Page) error {
		cp := checkedPage{url: p.URL, status: p.Status, gate: p.Gate, listings: p.Listings}
		if m.Listing.Auto && p.Gate == "" && len(p.Body) > 0 {
			if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body)); err == nil {
				if u, err := url.Parse(p.URL); err == nil {
					res := autolist.Extract(doc, u, autolist.Options{Template: m.Listing.Template, Kind: m.Listing.Kind})
					cp.skip, cp.template = res.Skip, res.Template
				}
			}
		}
		mu.Lock()
		cp.seq = len(got)
		got = append(got, cp)
		mu.Unlock()
		return nil
	})
	st, err := crawler.Sweep(ctx, m, sink, crawler.Options{Limiter: limiter})
	sort.Slice(got, func(i, j int) bool { return got[i].seq < got[j].seq })
	templates := map[string]int{}
	n := 0
	for _, p := range got {
		if p.template != "" {
			templates[p.template]++
		}
		switch {
		case p.gate != "":
			fmt.Fprintf(w, "  page %s: gate (%s): refresh cookies_file or check the proxy\n", p.url, p.gate)
		case len(p.listings) == 0 && p.skip != "":
			fmt.Fprintf(w, "  page %s: no listing (%s page)\n", p.url, p.skip)
		case len(p.listings) == 0:
			fmt.Fprintf(w, "  page %s: no listing (status %d)\n", p.url, p.status)
		default:
			fmt.Fprintf(w, "  page %s: %d listing(s)\n", p.url, len(p.listings))
			for _, l := range p.listings {
				n++
				printListing(w, l)
			}
		}
	}
	var tnames []string
	for t := range templates {
		tnames = append(tnames, t)
	}
	sort.Strings(tnames)
	fmt.Fprintf(w, "  summary: %d pages, %d listings, %d errors", st.PagesFetched, n, st.Errors)
	if len(tnames) > 0 {
		fmt.Fprintf(w, ", platform: %s", strings.Join(tnames, ", "))
	}
	fmt.Fprintln(w)
	if n == 0 && err == nil {
		fmt.Fprintf(w, "  hint: no listing in the first %d pages; try --pages 50, or give start_urls that link to listings\n", pages)
	}
	return n, err
}

func printListing(w io.Writer, l crawler.Listing) {
	fmt.Fprintf(w, "    - url:         %s\n", l.URL)
	keys := []string{"title", "price", "vendor", "description"}
	for k := range l.Fields {
		if !slices.Contains(keys, k) && k != "url" && k != "currency" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys[4:])
	for _, k := range keys {
		v := l.Fields[k]
		if v == "" {
			v = "(none)"
		}
		if len(v) > 100 {
			v = v[:97] + "..."
		}
		fmt.Fprintf(w, "      %-12s %s\n", k+":", v)
	}
}

// importRow is one marketplace read from an import file.
type importRow struct {
	line int
	config.NewMarket
}

func runMarketsImport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "markets import", "FILE --config FILE [--dry-run]",
		"Add marketplaces in auto mode (listing: auto) to the config file, keeping its comments and order.\n"+
			"FILE is a list of URLs, one a line, or a CSV with the columns name,url,kind,proxy,schedule\n"+
			"(a header row names them in any order; only url is required). Duplicates of marketplaces\n"+
			"already configured, or of earlier lines, and bad URLs are reported and left out.")
	cfgPath := fs.String("config", "", "marketplace config file (YAML) to add to")
	dry := fs.Bool("dry-run", false, "report what would be added without writing the config file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *cfgPath == "" || len(pos) != 1 {
		fs.Usage()
		return usagef("markets import: give one FILE and --config")
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("markets import: %w", err)
	}
	data, err := os.ReadFile(*cfgPath)
	if err != nil {
		return fmt.Errorf("markets import: %w", err)
	}
	cfg, err := config.Parse(*cfgPath, data)
	if err != nil {
		return fmt.Errorf("markets import: fix the config first:\n%w", err)
	}
	rows, problems := readImportFile(pos[0], src)
	added, more := planImport(pos[0], cfg, rows)
	problems = append(problems, more...)
	for _, p := range problems {
		fmt.Fprintln(e.stderr, p)
	}
	if len(added) > 0 {
		ms := make([]config.NewMarket, len(added))
		for i, r := range added {
			ms[i] = r.NewMarket
		}
		out, err := config.AppendMarkets(data, ms)
		if err != nil {
			return fmt.Errorf("markets import: %w", err)
		}
		if _, err := config.Parse(*cfgPath, out); err != nil {
			return fmt.Errorf("markets import: the new config would not load, nothing written:\n%w", err)
		}
		if !*dry {
			if err := writeFileAtomic(*cfgPath, out); err != nil {
				return fmt.Errorf("markets import: %w", err)
			}
		}
	}
	verb := "added"
	if *dry {
		verb = "would add"
	}
	for _, r := range added {
		fmt.Fprintf(e.stdout, "%s %s (%s)\n", verb, r.Name, r.URL)
	}
	fmt.Fprintf(e.stdout, "%s %d marketplaces to %s; %d lines left out\n", verb, len(added), *cfgPath, len(problems))
	bad := 0
	for _, p := range problems {
		if !strings.Contains(p, "duplicate") {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("markets import: %d lines of %s could not be imported (see above)", bad, pos[0])
	}
	return nil
}

var importColumns = []string{"name", "url", "kind", "proxy", "schedule"}

// readImportFile reads a URL list or a CSV. Problems read "FILE:LINE: what".
func readImportFile(name string, src []byte) ([]importRow, []string) {
	var rows []importRow
	var problems []string
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	isCSV := false
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			isCSV = strings.Contains(t, ",")
			break
		}
	}
	if !isCSV {
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			rows = append(rows, importRow{line: i + 1, NewMarket: config.NewMarket{URL: t}})
		}
		return rows, problems
	}
	r := csv.NewReader(bytes.NewReader(src))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	cols := importColumns
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v", name, line, err))
			continue
		}
		if first {
			first = false
			if slices.ContainsFunc(rec, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "url") }) {
				cols = nil
				for _, h := range rec {
					cols = append(cols, strings.ToLower(strings.TrimSpace(h)))
				}
				for _, c := range cols {
					if !slices.Contains(importColumns, c) {
						problems = append(problems, fmt.Sprintf("%s:%d: unknown column %q ignored (have: %s)", name, line, c, strings.Join(importColumns, ", ")))
					}
				}
				continue
			}
		}
		row := importRow{line: line}
		if len(rec) > len(cols) {
			problems = append(problems, fmt.Sprintf("%s:%d: %d columns, want at most %d (%s)", name, line, len(rec), len(cols), strings.Join(cols, ",")))
			continue
		}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch cols[i] {
			case "name":
				row.Name = v
			case "url":
				row.URL = v
			case "kind":
				row.Kind = v
			case "proxy":
				row.Proxy = v
			case "schedule":
				row.Schedule = v
			}
		}
		rows = append(rows, row)
	}
	return rows, problems
}

var nameCleanRE = regexp.MustCompile(`[^a-z0-9-]+`)

// planImport checks each row against the config and earlier rows, names it,
// and returns the rows to add with the problems of the others.
func planImport(file string, cfg *config.Config, rows []importRow) ([]importRow, []string) {
	var problems []string
	names := map[string]bool{}
	seen := map[string]string{} // site key -> where it is
	for _, m := range cfg.Marketplaces {
		names[m.Name] = true
		for _, u := range m.StartURLs {
			if k, err := siteKey(u); err == nil {
				seen[k] = "marketplace " + m.Name
			}
		}
	}
	var out []importRow
	for _, r := range rows {
		where := fmt.Sprintf("%s:%d", file, r.line)
		if r.URL == "" {
			problems = append(problems, where+": no url")
			continue
		}
		k, err := siteKey(r.URL)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: bad URL %q: %v", where, r.URL, err))
			continue
		}
		if prev, dup := seen[k]; dup {
			problems = append(problems, fmt.Sprintf("%s: duplicate of %s: %s", where, prev, r.URL))
			continue
		}
		if r.Name == "" {
			r.Name = nameFor(r.URL, names)
		} else if names[r.Name] {
			problems = append(problems, fmt.Sprintf("%s: name %q is already taken", where, r.Name))
			continue
		}
		// Validate the entry alone, so that its errors point at its line.
		one, _ := config.AppendMarkets([]byte("marketplaces:\n"), []config.NewMarket{r.NewMarket})
		if _, err := config.Parse(where, one); err != nil {
			var list config.ErrorList
			msg := err.Error()
			if errors.As(err, &list) && len(list) > 0 {
				msg = list[0].Key + ": " + list[0].Msg
			}
			problems = append(problems, fmt.Sprintf("%s: %s", where, strings.TrimPrefix(msg, "marketplaces[0].")))
			continue
		}
		names[r.Name] = true
		seen[k] = fmt.Sprintf("line %d", r.line)
		out = append(out, r)
	}
	return out, problems
}

// siteKey identifies a start URL for duplicate checks: host without www.,
// path without a trailing slash, and the query.
func siteKey(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", errors.New("does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("not an http(s) URL")
	}
	if u.Hostname() == "" {
		return "", errors.New("no host")
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	return host + strings.TrimSuffix(u.EscapedPath(), "/") + "?" + u.RawQuery, nil
}

// nameFor derives an unused marketplace name from a URL's host.
func nameFor(raw string, taken map[string]bool) string {
	u, _ := url.Parse(raw)
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if ch, ok := strings.CutPrefix(strings.ToLower(u.Path), "/s/"); ok && (host == "t.me" || host == "telegram.me") && strings.Trim(ch, "/") != "" {
		host = "tg." + strings.Trim(ch, "/") // a channel preview: name it for the channel
	}
	if strings.HasSuffix(host, ".onion") && len(host) > 22 {
		host = host[:16] + "-onion"
	}
	base := strings.Trim(nameCleanRE.ReplaceAllString(strings.ReplaceAll(host, ".", "-"), "-"), "-")
	if base == "" {
		base = "market"
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// writeFileAtomic replaces path with data through a synced temporary file in
// the same directory, keeping the file's permissions.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
