package sweep

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"snoop/classify"
	"snoop/config"
	"snoop/crawler"
	"snoop/store"
)

// writer is the crawler's sink: it classifies listings on the caller's
// goroutine and hands each page, with its evidence and listings, to the
// sweep's journal, which stores it in order with the frontier changes.
type writer struct {
	sweepID     int64
	classifier  *classify.Classifier
	ruleVersion string
	journal     *journal
	archiveAll  map[string]bool          // marketplaces whose every page is kept as evidence
	shotMarkets map[string]config.Market // marketplaces whose new hits get a screenshot
	shots       *shots                   // nil: no screenshots
	frontierMu  sync.Mutex
	frontiers   map[string]*journalFrontier // of the marketplaces being swept
	log         *slog.Logger
	// classifying bounds the listings classified at once to the CPUs: the
	// work is CPU-bound, and each classification holds memory that grows
	// with the listing's text.
	classifying chan struct{}

	mu       sync.Mutex
	counts   map[string]*MarketResult
	seenHits map[int64]bool    // hits counted so far: a listing shown on several pages counts once
	kind     map[string]string // marketplace -> site kind, for the classifier's prior
}

var _ crawler.Sink = (*writer)(nil)

func newWriter(sweepID int64, c *classify.Classifier, ruleVersion string, log *slog.Logger) *writer {
	return &writer{
		sweepID:     sweepID,
		classifier:  c,
		ruleVersion: ruleVersion,
		log:         log,
		archiveAll:  map[string]bool{},
		shotMarkets: map[string]config.Market{},
		frontiers:   map[string]*journalFrontier{},
		counts:      make(map[string]*MarketResult),
		seenHits:    make(map[int64]bool),
		classifying: make(chan struct{}, runtime.GOMAXPROCS(0)),
		kind:        map[string]string{},
	}
}

// HandlePage classifies the page's listings and queues the page for
// storing. Gate pages (CAPTCHA, login walls, DDoS interstitials) are counted
// and never stored as evidence.
func (w *writer) HandlePage(ctx context.Context, p *crawler.Page) error {
	if p.Gate != "" {
		w.count(p.Market, func(m *MarketResult) { m.GatePages++ })
		w.log.Warn("gate page not stored as evidence", "market", p.Market, "url", p.URL, "reason", p.Gate)
		return nil
	}
	if p.NotModified {
		rec := w.pageRecord(p)
		return w.journal.submit(append([]store.BatchOp{{Touch: &store.TouchOp{
			SweepID: w.sweepID, Market: p.Market, URL: p.URL, SeenAt: p.FetchedAt, Evidence: rec.Evidence,
		}}}, w.frontierDone(p)...)...)
	}
	if len(p.Listings) == 0 && !w.archiveAll[p.Market] {
		return nil // only listing pages are evidence unless the marketplace archives all pages
	}
	listings := make([]store.ListingRecord, len(p.Listings))
	for i, l := range p.Listings {
		listings[i] = w.listingRecord(l, w.kind[p.Market])
	}
	rec := w.pageRecord(p)
	if err := store.ValidatePage(&rec, listings); err != nil {
		// Rejected alone: the rest of its group commit and of the sweep go on.
		w.count(p.Market, func(m *MarketResult) { m.RejectedPages++ })
		w.log.Error("page rejected, not stored", "market", p.Market, "url", p.URL, "err", err)
		if done := w.frontierDone(p); len(done) > 0 {
			return w.journal.submit(done...) // not fetched again: it would be refused again
		}
		return nil
	}
	rec.Evidence.Pack() // compressed here, in parallel, not in the single writer
	return w.journal.submit(append([]store.BatchOp{{Page: &store.PageOp{Page: rec, Listings: listings}}}, w.frontierDone(p)...)...)
}

// frontierDone marks the page's frontier URLs (the URL claimed and, after
// redirects, the final one) done in the transaction that stores the page:
// a page that was stored is never fetched again on resume.
func (w *writer) frontierDone(p *crawler.Page) []store.BatchOp {
	urls := []string{p.URL}
	first := p.Exchange
	if len(p.Redirects) > 0 {
		first = p.Redirects[0]
	}
	if first != nil {
		if u, err := crawler.Canonicalize(first.URL); err == nil && u != p.URL {
			urls = append(urls, u)
		}
	}
	w.frontierMu.Lock()
	f := w.frontiers[p.Market]
	w.frontierMu.Unlock()
	ops := make([]store.BatchOp, 0, len(urls))
	for _, u := range urls {
		if f != nil && !f.markDone(u) {
			continue
		}
		ops = append(ops, store.BatchOp{Done: &store.FrontierDoneOp{SweepID: w.sweepID, Market: p.Market, URL: u, State: store.FrontierDone}})
	}
	return ops
}

// setFrontier sets the frontier of a marketplace being swept; nil drops it.
func (w *writer) setFrontier(market string, f *journalFrontier) {
	w.frontierMu.Lock()
	defer w.frontierMu.Unlock()
	if f == nil {
		delete(w.frontiers, market)
		return
	}
	w.frontiers[market] = f
}

func (w *writer) pageRecord(p *crawler.Page) store.PageRecord {
	ex := p.Exchange
	if ex == nil {
		ex = &crawler.Exchange{URL: p.URL, Method: "GET", Status: p.Status, FetchedAt: p.FetchedAt}
	}
	return store.PageRecord{
		SweepID:   w.sweepID,
		Market:    p.Market,
		URL:       p.URL,
		Depth:     p.Depth,
		Status:    p.Status,
		FetchedAt: p.FetchedAt,
		Evidence: store.Evidence{
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
		},
	}
}

func (w *writer) listingRecord(l crawler.Listing, kind string) store.ListingRecord {
	rec := store.ListingRecord{
		URL:         l.URL,
		Title:       l.Fields["title"],
		Description: l.Fields["description"],
		Price:       l.Fields["price"],
		Vendor:      l.Fields["vendor"],
		Fields:      l.Fields,
		Text:        l.Text,
	}
	w.classifying <- struct{}{}
	res := w.classifier.ClassifyAs(l.Text, kind)
	<-w.classifying
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

// committed counts what a committed batch stored.
func (w *writer) committed(ops []store.BatchOp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, op := range ops {
		if op.Page == nil {
			continue
		}
		m := w.market(op.Page.Page.Market)
		for i, l := range op.Page.Result.Listings {
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
				if mk, ok := w.shotMarkets[op.Page.Page.Market]; ok && w.shots != nil {
					u := op.Page.Listings[i].URL
					// The crawler gives listings in-scope URLs only; a browser
					// must never be sent anywhere else, so check again.
					if why := crawler.Scope(mk, u); why != "" {
						w.log.Warn("screenshot refused: the listing URL is outside the marketplace", "market", mk.Name, "url", u, "reason", why)
					} else {
						m.Screenshots++
						w.shots.enqueue(shotJob{hitID: l.HitID, evidenceID: op.Page.Result.EvidenceID, url: u, market: mk.Name})
					}
				}
			}
			for _, s := range op.Page.Listings[i].Hit.Substances {
				m.HitsBySubstance[strings.ToLower(s.Name)]++
			}
		}
	}
}

func (w *writer) count(market string, f func(*MarketResult)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.market(market))
}

// market returns the counts of a marketplace; w.mu must be held.
func (w *writer) market(name string) *MarketResult {
	m := w.counts[name]
	if m == nil {
		m = &MarketResult{HitsBySubstance: map[string]int{}}
		w.counts[name] = m
	}
	return m
}

// hits returns the number of hits stored so far on a marketplace.
func (w *writer) hits(market string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.market(market).Hits
}

// fill copies the writer's counts for r.Market into r.
func (w *writer) fill(r *MarketResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.market(r.Market)
	r.NewListings, r.ChangedListings = m.NewListings, m.ChangedListings
	r.Hits, r.NewHits, r.HitsBySubstance = m.Hits, m.NewHits, m.HitsBySubstance
	r.GatePages, r.Screenshots = m.GatePages, m.Screenshots
	r.RejectedPages = m.RejectedPages
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
