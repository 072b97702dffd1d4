// Package health judges each marketplace after every sweep, so that
// hundreds of marketplaces can run unattended: it notices a marketplace
// that gives zero listings where it used to give many, a field that is
// suddenly empty on most listings (a selector or template broke), gate
// pages (a CAPTCHA, or an expired session whose cookies need refreshing),
// and errors. Assess is the pure judgement; Monitor records it in the store
// and sends alerts when a marketplace turns bad, and when there are new hits.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"snoop/alert"
	"snoop/config"
	"snoop/store"
	"snoop/sweep"
)

// Sample is what one sweep saw of one marketplace.
type Sample struct {
	Pages    int            `json:"pages"`
	Listings int            `json:"listings"` // listings the crawl extracted
	Errors   int            `json:"errors"`
	Gates    map[string]int `json:"gates,omitempty"` // gate pages by reason
	Failed   string         `json:"failed,omitempty"`
	// Stored counts the stored listings this sweep saw, and Fill the share
	// of them that have each field (title, description, price, vendor).
	Stored int                `json:"stored"`
	Fill   map[string]float64 `json:"fill,omitempty"`
}

// Problem is one thing wrong with a marketplace.
type Problem struct {
	Kind     string `json:"kind"`     // failed, errors, gate, no_listings, listings_dropped, field_empty
	Severity string `json:"severity"` // store.HealthWarn or store.HealthBad
	Message  string `json:"message"`
}

// Report is a marketplace's health after one sweep.
type Report struct {
	Status   string    `json:"status"` // store.HealthOK, HealthWarn or HealthBad
	Sample   Sample    `json:"sample"`
	Problems []Problem `json:"problems,omitempty"`
}

// Thresholds of Assess.
const (
	minTypical  = 5   // a marketplace "used to give many" from this median up
	minFillSize = 5   // fill rates are compared only over this many listings
	wasFilled   = 0.8 // a field filled on this share of listings before...
	nowEmpty    = 0.2 // ...and on at most this share now, broke
)

var fields = []string{"title", "price", "vendor", "description"}

// Assess judges cur against the marketplace's earlier samples (newest
// first; failed sweeps are ignored as a baseline).
func Assess(cur Sample, history []Sample) Report {
	r := Report{Status: store.HealthOK, Sample: cur}
	add := func(kind, sev, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Kind: kind, Severity: sev, Message: fmt.Sprintf(format, args...)})
		if sev == store.HealthBad || r.Status == store.HealthOK {
			r.Status = sev
		}
	}
	if cur.Failed != "" {
		add("failed", store.HealthBad, "the sweep failed: %s", cur.Failed)
	}
	gates := 0
	var reasons []string
	for k, v := range cur.Gates {
		gates += v
		reasons = append(reasons, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(reasons)
	if gates > 0 {
		sev := store.HealthWarn
		if cur.Listings == 0 || gates*2 >= cur.Pages {
			sev = store.HealthBad
		}
		add("gate", sev, "%d gate pages (%s): refresh cookies_file if a session expired, or check the proxy", gates, strings.Join(reasons, ", "))
	}
	if cur.Errors > 0 {
		rate := float64(cur.Errors) / float64(max(cur.Pages+cur.Errors, 1))
		switch {
		case cur.Pages == 0 || rate > 0.5:
			add("errors", store.HealthBad, "%d errors for %d pages fetched", cur.Errors, cur.Pages)
		case rate > 0.1:
			add("errors", store.HealthWarn, "%d errors for %d pages fetched", cur.Errors, cur.Pages)
		}
	}
	var base []Sample
	for _, h := range history {
		if h.Failed == "" && h.Pages > 0 {
			base = append(base, h)
		}
	}
	if len(base) > 0 && cur.Failed == "" {
		typical := median(base, func(s Sample) float64 { return float64(s.Listings) })
		switch {
		case typical >= minTypical && cur.Listings == 0:
			add("no_listings", store.HealthBad, "no listings, where sweeps usually find about %.0f: the site changed its markup or hides its listings", typical)
		case typical >= 2*minTypical && float64(cur.Listings) < typical/4:
			add("listings_dropped", store.HealthWarn, "%d listings, where sweeps usually find about %.0f", cur.Listings, typical)
		}
	}
	if cur.Stored >= minFillSize {
		for _, f := range fields {
			var filled []Sample
			for _, h := range base {
				if h.Stored >= minFillSize {
					filled = append(filled, h)
				}
			}
			if len(filled) == 0 {
				break
			}
			before := median(filled, func(s Sample) float64 { return s.Fill[f] })
			if before >= wasFilled && cur.Fill[f] <= nowEmpty {
				add("field_empty", store.HealthBad, "%s is empty on %.0f%% of %d listings (was filled on %.0f%%): a selector or the page template broke",
					f, 100*(1-cur.Fill[f]), cur.Stored, 100*before)
			}
		}
	}
	return r
}

func median(s []Sample, v func(Sample) float64) float64 {
	xs := make([]float64, len(s))
	for i, x := range s {
		xs[i] = v(x)
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// historyLen is how many earlier sweeps make a marketplace's baseline.
const historyLen = 10

// Monitor records health after every sweep and sends alerts. DB is
// required; a nil Notifier sends nothing.
type Monitor struct {
	DB       *store.DB
	Notifier *alert.Notifier
	Logger   *slog.Logger
}

// AfterSweep records the health of every marketplace of a finished sweep,
// alerts on marketplaces whose health turned bad, and on new hits. Errors
// are logged: they never fail the sweep. An interrupted sweep is not
// judged (it saw part of each marketplace).
func (m *Monitor) AfterSweep(ctx context.Context, res sweep.Result) {
	if res.SweepID == 0 || res.Status == store.SweepInterrupted {
		return
	}
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var bad []alert.Event
	for _, mr := range res.Markets {
		ev, err := m.record(ctx, res, mr)
		if err != nil {
			log.Error("record health", "market", mr.Market, "err", err)
			continue
		}
		if ev != nil {
			bad = append(bad, *ev)
		}
	}
	if m.Notifier == nil {
		return
	}
	if m.Notifier.Config.Enabled(config.EventHealth) {
		for _, ev := range bad {
			m.Notifier.Send(ctx, ev)
		}
	}
	if ev := newHitsEvent(res); ev != nil && m.Notifier.Config.Enabled(config.EventNewHits) {
		m.Notifier.Send(ctx, *ev)
	}
}

// record assesses one marketplace and stores the report. It returns an
// alert when the marketplace is bad and was not bad for the same reasons
// after the sweep before.
func (m *Monitor) record(ctx context.Context, res sweep.Result, mr sweep.MarketResult) (*alert.Event, error) {
	cur := Sample{Pages: mr.Crawl.PagesFetched, Listings: mr.Crawl.Listings, Errors: mr.Crawl.Errors, Gates: mr.Crawl.Gates, Failed: mr.Err}
	fill, err := m.DB.SweepFieldFill(ctx, res.SweepID, mr.Market)
	if err != nil {
		return nil, err
	}
	cur.Stored = fill.Listings
	if fill.Listings > 0 {
		n := float64(fill.Listings)
		cur.Fill = map[string]float64{"title": float64(fill.Title) / n, "description": float64(fill.Description) / n,
			"price": float64(fill.Price) / n, "vendor": float64(fill.Vendor) / n}
	}
	hist, err := m.DB.HealthHistory(ctx, mr.Market, historyLen+1)
	if err != nil {
		return nil, err
	}
	var samples []Sample
	var prev *Report
	for _, h := range hist {
		if h.SweepID >= res.SweepID {
			continue
		}
		var r Report
		if err := json.Unmarshal(h.Report, &r); err != nil {
			continue
		}
		if prev == nil {
			prev = &r
		}
		samples = append(samples, r.Sample)
	}
	rep := Assess(cur, samples)
	raw, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	at := res.Started.Add(res.Elapsed)
	if err := m.DB.SaveHealth(ctx, store.HealthRecord{Market: mr.Market, SweepID: res.SweepID, RecordedAt: at, Status: rep.Status, Report: raw}); err != nil {
		return nil, err
	}
	if rep.Status != store.HealthBad || (prev != nil && prev.Status == store.HealthBad && sameKinds(prev.Problems, rep.Problems)) {
		return nil, nil
	}
	var lines []string
	for _, p := range rep.Problems {
		lines = append(lines, "- "+p.Message)
	}
	return &alert.Event{Kind: config.EventHealth, Market: mr.Market, Time: at,
		Title:   fmt.Sprintf("marketplace %s needs attention", mr.Market),
		Text:    fmt.Sprintf("Sweep %d of %s: %d pages, %d listings.\n%s", res.SweepID, mr.Market, cur.Pages, cur.Listings, strings.Join(lines, "\n")),
		Details: rep}, nil
}

func sameKinds(a, b []Problem) bool {
	key := func(ps []Problem) string {
		var ks []string
		for _, p := range ps {
			if p.Severity == store.HealthBad {
				ks = append(ks, p.Kind+":"+strings.SplitN(p.Message, " ", 2)[0])
			}
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	return key(a) == key(b)
}

// newHitsEvent summarises a sweep's new hits, or nil when there are none.
func newHitsEvent(res sweep.Result) *alert.Event {
	total := 0
	var lines []string
	for _, mr := range res.Markets {
		if mr.NewHits == 0 {
			continue
		}
		total += mr.NewHits
		var subs []string
		for _, s := range mr.SortedSubstances() {
			subs = append(subs, fmt.Sprintf("%s %d", s, mr.HitsBySubstance[s]))
		}
		lines = append(lines, fmt.Sprintf("- %s: %d new (%s)", mr.Market, mr.NewHits, strings.Join(subs, ", ")))
	}
	if total == 0 {
		return nil
	}
	return &alert.Event{Kind: config.EventNewHits, Time: res.Started.Add(res.Elapsed).UTC(),
		Title:   fmt.Sprintf("%d new hits in sweep %d", total, res.SweepID),
		Text:    strings.Join(lines, "\n") + "\nReview them with `snoop hits --status new` or on the dashboard.",
		Details: map[string]any{"sweep_id": res.SweepID, "new_hits": total}}
}

// Compile-time check that the store records alert outcomes.
var _ alert.Recorder = (*store.DB)(nil)
