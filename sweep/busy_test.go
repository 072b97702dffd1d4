package sweep

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"snoop/config"
	"snoop/store"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Many marketplaces start at once against a slow server while another
// process keeps the database's write lock busy, with a short busy timeout
// and a small connection pool so that the test stays fast. No marketplace
// fails because the database is busy: a sweep's marketplaces write nothing
// when they start (a new sweep has no frontier to requeue), every write goes
// through the sweep's one writer, and that writer waits for a lock another
// process holds instead of giving up.
func TestManyMarketsBusyDatabase(t *testing.T) {
	const markets, products = 120, 2
	firstRequest := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(firstRequest) })
		time.Sleep(30 * time.Millisecond) // slow
		if strings.HasSuffix(r.URL.Path, "/") {
			for i := 1; i <= products; i++ {
				fmt.Fprintf(w, `<a href="p/%d">%d</a> `, i, i)
			}
			return
		}
		fmt.Fprintf(w, `<html><body><h1>Oak table %s</h1></body></html>`, r.URL.Path)
	}))
	defer srv.Close()
	var y strings.Builder
	fmt.Fprintf(&y, "defaults:\n  requests_per_second: 1000\n  burst: 1000\n  robots: ignore\nmarketplaces:\n")
	for i := range markets {
		fmt.Fprintf(&y, "  - name: m%d\n    start_urls: [\"%s/m%d/\"]\n    allow: ['^%s/m%d/']\n    listing:\n      url_pattern: '/p/\\d+$'\n      fields: {title: h1}\n",
			i, srv.URL, i, srv.URL, i)
	}
	cfg, err := config.Parse("many.yaml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "snoop.db")
	db, err := store.OpenWith(context.Background(), path, store.Options{BusyTimeout: 100 * time.Millisecond, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, _ := testRunner(t)
	r.DB = db
	var logs syncBuffer
	r.Logger = slog.New(slog.NewTextHandler(&logs, nil))

	// The other process, from the first request on (the sweep has begun,
	// its marketplaces are starting): write transactions that hold the lock
	// for 40 ms each, back to back, for about a second.
	u := url.URL{Scheme: "file", Path: path, RawQuery: "_busy_timeout=5000&_txlock=immediate"}
	other, err := sql.Open("sqlite3", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	busy := make(chan error, 1)
	go func() {
		<-firstRequest
		for range 25 {
			tx, err := other.Begin()
			if err != nil {
				busy <- err
				return
			}
			if _, err := tx.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (-1, 'busy', '') ON CONFLICT DO NOTHING`); err != nil {
				tx.Rollback()
				busy <- err
				return
			}
			time.Sleep(40 * time.Millisecond)
			if err := tx.Rollback(); err != nil {
				busy <- err
				return
			}
		}
		busy <- nil
	}()
	res, err := r.Run(context.Background(), cfg.Marketplaces)
	if berr := <-busy; berr != nil {
		t.Fatalf("the busy writer: %v", berr)
	}
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	failed := 0
	for _, m := range res.Markets {
		if m.Err != "" {
			failed++
			if failed <= 3 {
				t.Errorf("%s failed: %s", m.Market, m.Err)
			}
		}
	}
	if failed > 0 || res.Status != store.SweepCompleted {
		t.Fatalf("%d of %d marketplaces failed; sweep %s", failed, markets, res.Status)
	}
	n, err := countListingsT(db)
	if err != nil || n != markets*products {
		t.Errorf("listings stored = %d (%v), want %d", n, err, markets*products)
	}
	if strings.Contains(logs.String(), "database is locked") {
		t.Errorf("the log says the database was locked:\n%s", logs.String())
	}
}

func countListingsT(db *store.DB) (int, error) {
	n := 0
	err := db.ListingsEach(context.Background(), func(store.StoredListing) error { n++; return nil })
	return n, err
}
