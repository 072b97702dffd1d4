package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"snoop/classify"
	"snoop/crawler"
	"snoop/store"
)

// writer is the crawler's sink: it classifies listings on the caller's
// goroutine and hands each page to a single goroutine that writes it to the
// store in one transaction, so concurrent fetches never contend for SQLite.
type writer struct {
	db          *store.DB
	sweepID     int64
	classifier  *classify.Classifier
	ruleVersion string
	log         *slog.Logger
	jobs        chan job

	mu       sync.Mutex
	counts   map[string]*MarketResult
	seenHits map[int64]bool // hits counted so far: a listing shown on several pages counts once
}

type job struct {
	page     *crawler.Page
	listings []store.ListingRecord
	done     chan error
}

var _ crawler.Sink = (*writer)(nil)

func newWriter(db *store.DB, sweepID int64, c *classify.Classifier, ruleVersion string, log *slog.Logger) *writer {
	return &writer{
		db:          db,
		sweepID:     sweepID,
		classifier:  c,
		ruleVersion: ruleVersion,
		log:         log,
		jobs:        make(chan job),
		counts:      make(map[string]*MarketResult),
		seenHits:    make(map[int64]bool),
	}
}

// HandlePage classifies the page's listings and waits until the page, its
// evidence and its listings are stored. Storing is not cancelled with ctx:
// a page that was fetched is kept.
func (w *writer) HandlePage(ctx context.Context, p *crawler.Page) error {
	if p.Gate != "" {
		w.count(p.Market, func(m *MarketResult) { m.GatePages++ })
		w.log.Warn("gate page not stored as evidence", "market", p.Market, "url", p.URL, "reason", p.Gate)
		return nil
	}
	if len(p.Listings) == 0 {
		// Only listing pages are evidence; navigation pages are counted by the crawler.
		return nil
	}
	listings := make([]store.ListingRecord, len(p.Listings))
	for i, l := range p.Listings {
		listings[i] = w.listingRecord(l)
	}
	done := make(chan error, 1)
	w.jobs <- job{page: p, listings: listings, done: done}
	return <-done
}

func (w *writer) listingRecord(l crawler.Listing) store.ListingRecord {
	rec := store.ListingRecord{
		URL:         l.URL,
		Title:       l.Fields["title"],
		Description: l.Fields["description"],
		Price:       l.Fields["price"],
		Vendor:      l.Fields["vendor"],
		Fields:      l.Fields,
		Text:        l.Text,
	}
	res := w.classifier.Classify(l.Text)
	if res.Hit {
		hit := &store.HitRecord{Score: res.Score, RuleVersion: w.ruleVersion}
		for _, s := range res.Substances {
			hit.Substances = append(hit.Substances, store.Substance{
				Name: s.Name, Class: s.Class, Matched: s.Matched, Start: s.Start, End: s.End,
			})
		}
		rec.Hit = hit
	}
	return rec
}

// run writes jobs until close is called.
func (w *writer) run(ctx context.Context) {
	for j := range w.jobs {
		j.done <- w.save(ctx, j)
	}
}

func (w *writer) close() { close(w.jobs) }

func (w *writer) save(ctx context.Context, j job) error {
	p := j.page
	ex := p.Exchange
	if ex == nil {
		ex = &crawler.Exchange{URL: p.URL, Method: "GET", Status: p.Status, FetchedAt: p.FetchedAt}
	}
	ev := store.Evidence{
		URL:           ex.URL,
		Method:        ex.Method,
		Status:        ex.Status,
		FetchedAt:     ex.FetchedAt,
		RequestBytes:  ex.RequestBytes,
		ResponseBytes: ex.ResponseBytes,
		RemoteAddr:    ex.RemoteAddr,
		Proxy:         ex.Proxy,
		TLS:           tlsJSON(ex.TLS),
		Truncated:     ex.Truncated,
	}
	res, err := w.db.SavePage(ctx, store.PageRecord{
		SweepID:   w.sweepID,
		Market:    p.Market,
		URL:       p.URL,
		Depth:     p.Depth,
		Status:    p.Status,
		FetchedAt: p.FetchedAt,
		Evidence:  ev,
	}, j.listings)
	if err != nil {
		w.count(p.Market, func(m *MarketResult) { m.StoreErrors++ })
		w.log.Error("store page", "market", p.Market, "url", p.URL, "err", err)
		return fmt.Errorf("store page %s: %w", p.URL, err)
	}
	w.count(p.Market, func(m *MarketResult) {
		for i, l := range res.Listings {
			if l.New {
				m.NewListings++
			} else if l.Changed {
				m.ChangedListings++
			}
			if l.HitID == 0 || w.seenHits[l.HitID] {
				continue
			}
			w.seenHits[l.HitID] = true
			m.Hits++
			if l.NewHit {
				m.NewHits++
			}
			for _, s := range j.listings[i].Hit.Substances {
				m.HitsBySubstance[strings.ToLower(s.Name)]++
			}
		}
	})
	return nil
}

func (w *writer) count(market string, f func(*MarketResult)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.counts[market]
	if m == nil {
		m = &MarketResult{HitsBySubstance: map[string]int{}}
		w.counts[market] = m
	}
	f(m)
}

// fill copies the writer's counts for r.Market into r.
func (w *writer) fill(r *MarketResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.counts[r.Market]
	if m == nil {
		r.HitsBySubstance = map[string]int{}
		return
	}
	r.NewListings, r.ChangedListings = m.NewListings, m.ChangedListings
	r.Hits, r.NewHits, r.HitsBySubstance = m.Hits, m.NewHits, m.HitsBySubstance
	r.GatePages, r.StoreErrors = m.GatePages, m.StoreErrors
}

// tlsJSON encodes the TLS facts of a fetch for the evidence record.
func tlsJSON(t *crawler.TLSInfo) json.RawMessage {
	if t == nil {
		return nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil
	}
	return b
}
