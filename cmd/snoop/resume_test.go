package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"snoop/internal/benchmarket"
	"snoop/store"
)

// slowMarket serves a benchmarket shop whose product pages take a little
// while, and counts how often each product was fetched.
type slowMarket struct {
	*httptest.Server
	products atomic.Int64
	mu       sync.Mutex
	fetches  map[string]int
}

func newSlowMarket(t *testing.T, n int, delay time.Duration) *slowMarket {
	t.Helper()
	m := &slowMarket{fetches: map[string]int{}}
	inner := benchmarket.Handler(n)
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/product/") {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			m.products.Add(1)
			m.mu.Lock()
			m.fetches[r.URL.Path]++
			m.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func benchConfig(t *testing.T, dir, base string, concurrency int) string {
	t.Helper()
	cfg := fmt.Sprintf(`defaults:
  requests_per_second: 1000
  burst: 100
  concurrency: %d
  timeout: 10s
  max_pages: 100000
  max_depth: 1000
marketplaces:
  - name: bench-shop
    start_urls: ["%s/"]
    deny: ['/cart']
    listing:
      url_pattern: '/product/\d+$'
      fields:
        title: "h1"
        description: ".description"
        price: ".price"
        vendor: ".vendor"
`, concurrency, base)
	path := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startChild runs snoop with args in a child process.
func startChild(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SNOOP_CHILD_ARGS="+string(raw))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// storedPages returns the URL paths of the pages with evidence in the
// database at path, read while no sweep runs.
func storedPages(t *testing.T, path string) map[string]bool {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	paths := map[string]bool{}
	err = s.ListingsEach(context.Background(), func(l store.StoredListing) error {
		u, err := url.Parse(l.URL)
		if err != nil {
			return err
		}
		paths[u.Path] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestKillNineMidSweepThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	const products = 400
	market := newSlowMarket(t, products, 3*time.Millisecond)
	dir := t.TempDir()
	cfg := benchConfig(t, dir, market.URL, 4)
	db := filepath.Join(dir, "snoop.db")

	child, out := startChild(t, "sweep", "--db", db, "--config", cfg)
	// Kill it once it is well into the shop (bounded wait).
	deadline := time.Now().Add(30 * time.Second)
	for market.products.Load() < products/3 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("child fetched only %d products in 30s:\n%s", market.products.Load(), out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	fetchedBefore := market.products.Load()
	if fetchedBefore >= products {
		t.Fatalf("the child finished before it was killed (%d products)", fetchedBefore)
	}
	// What the killed sweep had stored must not be fetched again.
	stored := storedPages(t, db)
	if len(stored) == 0 {
		t.Fatal("the killed sweep stored nothing")
	}
	market.mu.Lock()
	fetchCountBefore := maps.Clone(market.fetches)
	market.mu.Unlock()

	// The next sweep resumes the interrupted one.
	ctx := context.Background()
	stdout, stderr, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg)
	if code != 0 {
		t.Fatalf("resumed sweep: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "sweep 1 (resumed) completed") {
		t.Errorf("second run did not resume sweep 1:\n%s", stdout)
	}

	// Nothing stored before the kill was fetched again, except what was in
	// flight (at most the concurrency, plus pages stored but not yet marked done).
	market.mu.Lock()
	refetched := 0
	for path := range stored {
		if market.fetches[path] > fetchCountBefore[path] {
			refetched++
			t.Errorf("%s was stored before the kill and fetched again after the resume", path)
		}
	}
	distinct := len(market.fetches)
	market.mu.Unlock()
	if distinct != products {
		t.Errorf("distinct products fetched = %d, want %d", distinct, products)
	}
	t.Logf("stored before the kill: %d pages of %d fetched; fetched again: %d", len(stored), fetchedBefore, refetched)

	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	listings := map[string]int{}
	err = s.ListingsEach(ctx, func(l store.StoredListing) error {
		listings[l.URL]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listings) != products {
		t.Errorf("stored listings = %d, want %d", len(listings), products)
	}
	for u, n := range listings {
		if n != 1 {
			t.Errorf("listing %s stored %d times", u, n)
		}
	}
	hits, err := s.Hits(ctx, store.HitFilter{})
	if err != nil {
		t.Fatal(err)
	}
	_, offers := benchmarket.Listings(products)
	if len(hits) != offers {
		t.Errorf("hits = %d, want %d", len(hits), offers)
	}
	for _, h := range hits {
		ev, err := s.HitEvidence(ctx, h.ID)
		if err != nil || len(ev) == 0 || h.Evidence.SHA256 == "" {
			t.Errorf("hit %d (%s) has no evidence: %v", h.ID, h.URL, err)
		}
	}
	sw, err := s.Sweep(ctx, 1)
	if err != nil || sw.Status != store.SweepCompleted {
		t.Errorf("sweep 1 = %+v, %v; want completed", sw, err)
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Errorf("audit chain after kill -9: %v", err)
	}
}
