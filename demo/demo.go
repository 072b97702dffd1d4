// Package demo runs snoop's built-in demo marketplaces: small, realistic web
// sites served on 127.0.0.1 at random free ports, so that `snoop demo` and
// end-to-end tests can sweep something real with no network.
//
// Three sites are served, each from templates and listing data embedded in
// the binary (sites/<name>/):
//
//   - demo-shop: a clearnet-style web shop swept in page mode. Paginated
//     categories link to product pages /product/{id} whose h1, .description,
//     .price and .vendor are the listing fields. /cart and /login exist but the
//     generated config denies them; robots.txt disallows /admin.
//   - demo-board: a classifieds board swept in item mode. Paginated section
//     pages /c/{slug}?page=N hold article.ad elements (.title, .text, .price,
//     .seller and a.permalink to /ad/{id}); /news is a news section.
//   - demo-forum: a Tor-market-style vendor forum swept in page mode. Boards
//     list threads /thread/{id}; vendors have profiles at /vendor/{name}.
//
// Most listings are ordinary goods; some offer fentanyl, its analogues,
// nitazenes, other novel synthetic opioids or fentanyl precursors (some
// disguised by leetspeak, homoglyphs, spacing or another language); some are
// decoys that name those substances without offering them (test strips,
// naloxone, news, harm reduction, a textbook, a job ad). Listing texts are
// sales-listing style only. [Sites.Listings] labels every listing so tests can
// measure recall and precision of a sweep of the demo.
//
// One shop listing deliberately carries a hostile HTML payload (a script
// element and an img with onerror) rendered unescaped, as a fixture for
// evidence-safety tests; see [Sites.Hostile].
package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// content holds the templates and listing data of every demo site.
//
//go:embed sites
var content embed.FS

// Kind says what a demo listing is, as ground truth for scoring a sweep.
type Kind string

// Listing kinds.
const (
	// Ordinary is a listing that offers ordinary goods (or drugs that are not
	// novel synthetic opioids); it must not be a hit.
	Ordinary Kind = "ordinary"
	// Offer is a listing that offers an NSO or a controlled fentanyl
	// precursor; it must be a hit.
	Offer Kind = "offer"
	// Decoy is a listing that names an NSO without offering it (test strips,
	// naloxone, news, harm reduction, books, jobs); it must not be a hit.
	Decoy Kind = "decoy"
)

// Listing is the ground truth for one demo listing.
type Listing struct {
	Market string // marketplace name, as in ConfigYAML
	URL    string // absolute URL the crawler reports for the listing
	Title  string // title as served (for decoys and offers alike)
	Kind   Kind
	// Substances are the canonical (lower-case) names of the substances an
	// Offer offers; empty for other kinds.
	Substances []string
}

// Sites is a set of running demo marketplaces. Its zero value is not usable;
// call Start. Close it when done; cancelling Start's context also closes it.
type Sites struct {
	markets   []*market
	closeOnce sync.Once
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
}

// market is one running demo site.
type market struct {
	site site
	base string // "http://127.0.0.1:port"
	srv  *http.Server

	mu       sync.Mutex
	requests map[string]int // request count per URL path
}

// site is what each demo marketplace provides.
type site interface {
	name() string
	handler() http.Handler
	stanza() stanza
	listings() []item
	listingPath(it item) string
}

// Start starts every demo marketplace on 127.0.0.1 at a random free port and
// returns once all of them accept connections. The sites stop when Close is
// called or ctx is cancelled.
func Start(ctx context.Context) (*Sites, error) {
	shop, err := newShop(content)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	board, err := newBoard(content)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	forum, err := newForum(content)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s := &Sites{done: make(chan struct{})}
	for _, st := range []site{shop, board, forum} {
		if err := s.serve(st); err != nil {
			s.Close()
			return nil, fmt.Errorf("demo: start %s: %w", st.name(), err)
		}
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// serve listens on a random loopback port and serves st there.
func (s *Sites) serve(st site) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	m := &market{
		site:     st,
		base:     "http://" + ln.Addr().String(),
		requests: make(map[string]int),
	}
	m.srv = &http.Server{
		Handler:           m.count(st.handler()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	s.markets = append(s.markets, m)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = m.srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	return nil
}

// count wraps h to record how often each path was requested.
func (m *market) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests[r.URL.Path]++
		m.mu.Unlock()
		w.Header().Set("Server", "demo-"+m.site.name())
		h.ServeHTTP(w, r)
	})
}

// Close stops every site, closing its listener and waiting for its server
// goroutine to return. It is safe to call more than once.
func (s *Sites) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, m := range s.markets {
			if err := m.srv.Shutdown(ctx); err != nil {
				_ = m.srv.Close()
			}
		}
		s.wg.Wait()
	})
}

// URLs returns the base URL ("http://127.0.0.1:PORT") of each site by
// marketplace name.
func (s *Sites) URLs() map[string]string {
	out := make(map[string]string, len(s.markets))
	for _, m := range s.markets {
		out[m.site.name()] = m.base
	}
	return out
}

// Requests returns how many requests the named marketplace has served for
// path (e.g. "/cart", "/admin"), so tests can check that denied and
// robots-disallowed URLs were never fetched. Unknown names count 0.
func (s *Sites) Requests(market, path string) int {
	for _, m := range s.markets {
		if m.site.name() == market {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.requests[path]
		}
	}
	return 0
}

// Listings returns the ground truth for every listing of every site, ordered
// by marketplace and URL.
func (s *Sites) Listings() []Listing {
	var out []Listing
	for _, m := range s.markets {
		for _, it := range m.site.listings() {
			l := Listing{
				Market: m.site.name(),
				URL:    m.base + m.site.listingPath(it),
				Title:  it.Title,
				Kind:   it.Kind,
			}
			if it.Kind == Offer {
				l.Substances = append([]string(nil), it.Substances...)
			}
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Market != out[j].Market {
			return out[i].Market < out[j].Market
		}
		return out[i].URL < out[j].URL
	})
	return out
}

// Expected returns the listings a perfect sweep reports as hits: every Offer.
func (s *Sites) Expected() []Listing {
	var out []Listing
	for _, l := range s.Listings() {
		if l.Kind == Offer {
			out = append(out, l)
		}
	}
	return out
}

// Hostile returns the URL of the listing whose description carries the raw
// HTML payload `<script>alert(1)</script><img src=x onerror=alert(1)>` and
// whose title contains the same img markup as (escaped) text. Evidence
// viewers and reports must never execute either.
func (s *Sites) Hostile() string {
	for _, m := range s.markets {
		for _, it := range m.site.listings() {
			if it.Hostile {
				return m.base + m.site.listingPath(it)
			}
		}
	}
	return ""
}

// ConfigYAML returns a marketplace config in the documented format with one
// marketplace per running site, tuned for a fast local sweep.
func (s *Sites) ConfigYAML() []byte {
	var b strings.Builder
	b.WriteString(`# snoop demo marketplaces, generated by the running demo (127.0.0.1, random ports).
defaults:
  user_agent: "Mozilla/5.0 (compatible; snoop-demo)"
  requests_per_second: 50
  burst: 10
  concurrency: 4
  timeout: 10s
  max_pages: 500
  max_depth: 8
  max_body_bytes: 10485760
  robots: respect
  proxy: ""
marketplaces:
`)
	for _, m := range s.markets {
		m.site.stanza().write(&b, m.site.name(), m.base)
	}
	return []byte(b.String())
}

// stanza is the site-specific part of a marketplace entry.
type stanza struct {
	deny       []string
	follow     []string
	urlPattern string
	item       string
	fields     [][2]string // name, selector; in config order
}

// write appends the marketplace entry for a site named name at base to b.
func (st stanza) write(b *strings.Builder, name, base string) {
	fmt.Fprintf(b, "  - name: %s\n", name)
	fmt.Fprintf(b, "    start_urls: [%s]\n", yamlQuote(base+"/"))
	fmt.Fprintf(b, "    allow: [%s]\n", yamlQuote("^"+regexp.QuoteMeta(base)+"/"))
	fmt.Fprintf(b, "    deny: [%s]\n", yamlList(st.deny))
	fmt.Fprintf(b, "    follow: [%s]\n", yamlList(st.follow))
	b.WriteString("    listing:\n")
	if st.urlPattern != "" {
		fmt.Fprintf(b, "      url_pattern: %s\n", yamlQuote(st.urlPattern))
	}
	if st.item != "" {
		fmt.Fprintf(b, "      item: %s\n", yamlQuote(st.item))
	}
	b.WriteString("      fields:\n")
	for _, f := range st.fields {
		fmt.Fprintf(b, "        %s: %s\n", f[0], yamlQuote(f[1]))
	}
	b.WriteString("    schedule: \"@every 1h\"\n")
}

// yamlQuote returns s as a single-quoted YAML scalar.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// yamlList returns ss as the inside of a YAML flow sequence.
func yamlList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = yamlQuote(s)
	}
	return strings.Join(q, ", ")
}

// errNotFound is returned by data look-ups for unknown IDs and slugs.
var errNotFound = errors.New("not found")

// atoiPage parses a ?page= value; anything invalid is page 1.
func atoiPage(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return n
}
