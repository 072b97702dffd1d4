// Package fleet serves many small marketplaces on loopback, one per port, for
// benchmarks of sweeps over thousands of marketplaces. Each marketplace has a
// home page linking to Listings product pages; every Offer-th product offers
// an opioid. Answers come late: after a fixed delay (Fast), or after uneven
// delays with bursts of slowness (Slow), as a loaded machine or onion services
// answer. Everything is bounded: ports, pages and delays.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Mode is how late a fleet answers.
type Mode string

// Modes.
const (
	// Fast answers every request after Options.Delay.
	Fast Mode = "fast"
	// Slow answers after delays between 0 and 4×Options.Delay, chosen per
	// request from its marketplace, path and arrival time, with about one
	// second in five of each marketplace's time in a burst where answers
	// take 8×Options.Delay.
	Slow Mode = "slow"
)

// Options describe a fleet. Zero values take the defaults in brackets.
type Options struct {
	Markets  int           // marketplaces, one port each [2000]
	Listings int           // product pages per marketplace [5]
	Delay    time.Duration // base answer delay [200ms]
	Mode     Mode          // [Fast]
}

// MaxMarkets bounds Options.Markets: each marketplace holds a port and its
// connections.
const MaxMarkets = 5000

// Fleet is a running set of marketplaces.
type Fleet struct {
	opts    Options
	servers []*http.Server
	urls    []string
	wg      sync.WaitGroup
}

// Start listens on Markets ports of 127.0.0.1 and serves them.
func Start(opts Options) (*Fleet, error) {
	if opts.Markets == 0 {
		opts.Markets = 2000
	}
	if opts.Markets < 0 || opts.Markets > MaxMarkets {
		return nil, fmt.Errorf("fleet: %d marketplaces, want 1 to %d", opts.Markets, MaxMarkets)
	}
	if opts.Listings <= 0 {
		opts.Listings = 5
	}
	if opts.Delay <= 0 {
		opts.Delay = 200 * time.Millisecond
	}
	if opts.Mode == "" {
		opts.Mode = Fast
	}
	if opts.Mode != Fast && opts.Mode != Slow {
		return nil, fmt.Errorf("fleet: unknown mode %q (want fast or slow)", opts.Mode)
	}
	f := &Fleet{opts: opts}
	for i := range opts.Markets {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("fleet: marketplace %d: %w", i, err)
		}
		srv := &http.Server{Handler: f.handler(i), ReadHeaderTimeout: 30 * time.Second}
		f.servers = append(f.servers, srv)
		f.urls = append(f.urls, "http://"+ln.Addr().String()+"/")
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			srv.Serve(ln)
		}()
	}
	return f, nil
}

// URLs returns the home page of each marketplace.
func (f *Fleet) URLs() []string { return f.urls }

// Pages returns the pages of one marketplace: the home page and its products.
func (f *Fleet) Pages() int { return 1 + f.opts.Listings }

// Listings returns the product pages of one marketplace.
func (f *Fleet) Listings() int { return f.opts.Listings }

// Close stops every server.
func (f *Fleet) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range f.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	f.wg.Wait()
	return errors.Join(errs...)
}

func (f *Fleet) handler(market int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		f.wait(r, market)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><head><title>Shop %d</title></head><body><ul>", market)
		for i := 1; i <= f.opts.Listings; i++ {
			fmt.Fprintf(w, `<li><a href="/p/%d">%s</a></li>`, i, title(market, i))
		}
		fmt.Fprint(w, "</ul></body></html>")
	})
	mux.HandleFunc("GET /p/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 1 || id > f.opts.Listings {
			http.NotFound(w, r)
			return
		}
		f.wait(r, market)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><body><a href="/">home</a><h1>%s</h1>
<div class="d">%s</div><span class="price">$%d</span></body></html>`, title(market, id), title(market, id), description(market, id), 10+id)
	})
	return mux
}

// wait delays an answer as the mode says, or until the client gives up.
func (f *Fleet) wait(r *http.Request, market int) {
	d := f.opts.Delay
	if f.opts.Mode == Slow {
		now := time.Now()
		h := fnv.New64a()
		fmt.Fprintf(h, "%d %s %d", market, r.URL.Path, now.UnixNano())
		v := h.Sum64()
		d = time.Duration(v % uint64(4*f.opts.Delay+1))
		// Bursts: one second in five of each marketplace's clock is slow.
		if (now.Unix()+int64(market))%5 == 0 {
			d = 8 * f.opts.Delay
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

var goods = []string{"Oak side table", "Trail running shoes", "Espresso grinder", "Wool scarf", "Cast iron pan"}

func isOffer(market, id int) bool { return (market+id)%5 == 0 }

func title(market, id int) string {
	if isOffer(market, id) {
		return fmt.Sprintf("Isotonitazene powder, lot %d-%d", market, id)
	}
	return fmt.Sprintf("%s #%d-%d", goods[(market+id)%len(goods)], market, id)
}

func description(market, id int) string {
	if isOffer(market, id) {
		return "High purity, lab tested. Stealth shipping worldwide, pay in BTC or XMR, escrow accepted."
	}
	return "Good condition, ships within two days. Returns accepted within 30 days."
}

// Offers reports how many listings of the fleet offer an opioid.
func (f *Fleet) Offers() int {
	n := 0
	for m := range f.opts.Markets {
		for id := 1; id <= f.opts.Listings; id++ {
			if isOffer(m, id) {
				n++
			}
		}
	}
	return n
}
