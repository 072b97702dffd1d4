package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"snoop/internal/benchmarket"
)

// TestApplyBatchAtomic interrupts a batch's transaction part way through
// and checks that nothing of the batch was stored and that the connection
// the batch ran on is usable again.
func TestApplyBatchAtomic(t *testing.T) {
	tables := []string{"pages", "evidence", "listings", "listing_versions", "hits", "hit_evidence", "frontier"}
	for _, tc := range []struct {
		name string
		hook func(cancel context.CancelFunc) func() error
	}{
		{"failing write", func(context.CancelFunc) func() error {
			return func() error { return errors.New("disk on fire") }
		}},
		{"context cancelled", func(cancel context.CancelFunc) func() error {
			return func() error { cancel(); return nil }
		}},
		{"panic", func(context.CancelFunc) func() error {
			return func() error { panic("writer bug") }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			db.db.SetMaxOpenConns(1) // a transaction left open would block every later write
			s := beginSweep(t, db, t0, "shop")
			batch := func() []BatchOp {
				return []BatchOp{
					{Push: &FrontierPushOp{SweepID: s, Market: "shop", Items: []FrontierItem{{URL: "https://shop.test/next", Depth: 1}}}},
					{Page: &PageOp{Page: page(s, "shop", "https://shop.test/", t0, "x"), Listings: []ListingRecord{
						listing("https://shop.test/1", "a", "", hitOf(0.9, "fentanyl")),
						listing("https://shop.test/2", "b", "", hitOf(0.9, "fentanyl")),
						listing("https://shop.test/3", "c", "", nil),
					}}},
					{Done: &FrontierDoneOp{SweepID: s, Market: "shop", URL: "https://shop.test/", State: FrontierDone}},
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			hook := tc.hook(cancel)
			db.testHookAfterListing = func() error {
				if calls++; calls == 2 { // after the first listing and its hit
					return hook()
				}
				return nil
			}
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = errors.New("panicked")
					}
				}()
				return db.ApplyBatch(ctx, batch())
			}()
			if err == nil {
				t.Fatal("ApplyBatch succeeded")
			}
			if calls < 2 {
				t.Fatalf("hook ran %d times, want the transaction interrupted after a listing", calls)
			}
			for _, table := range tables {
				if n := count(t, db, table); n != 0 {
					t.Errorf("%d rows in %s after a failed batch", n, table)
				}
			}
			db.testHookAfterListing = nil
			if err := db.ApplyBatch(context.Background(), batch()); err != nil {
				t.Fatalf("batch after the failure: %v", err)
			}
			if n := count(t, db, "hits"); n != 2 {
				t.Errorf("%d hits after retry, want 2", n)
			}
			if state, err := db.FrontierState(context.Background(), s, "shop", "https://shop.test/"); err != nil || state != FrontierDone {
				t.Errorf("frontier state = %q, %v; want done", state, err)
			}
		})
	}
}

// A batch sets the state of a queued URL and adds, in that state, a URL the
// frontier does not hold (the target of a redirect).
func TestApplyBatchFrontierStates(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	s := beginSweep(t, db, t0, "shop")
	err := db.ApplyBatch(ctx, []BatchOp{
		{Push: &FrontierPushOp{SweepID: s, Market: "shop", Items: []FrontierItem{{URL: "https://shop.test/a", Depth: 2}}}},
		{Done: &FrontierDoneOp{SweepID: s, Market: "shop", URL: "https://shop.test/a", State: FrontierFailed}},
		{Done: &FrontierDoneOp{SweepID: s, Market: "shop", URL: "https://shop.test/b", State: FrontierDone}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = db.FrontierEach(ctx, s, "shop", func(it FrontierItem, state string) error {
		got = append(got, fmt.Sprintf("%s %d %s", it.URL, it.Depth, state))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://shop.test/a 2 failed|https://shop.test/b 0 done"; strings.Join(got, "|") != want {
		t.Errorf("frontier = %q, want %q", got, want)
	}
}

// BenchmarkSweepWrites replays through ApplyBatch the writes of a first
// sweep of the crawl benchmark's fixture (internal/benchmarket) with b.N
// products, as a sweep's journal issues them: for each category page, the
// links found queued and the page done; for each product page, the page
// with its evidence and listing, and the page done; 200 product pages to a
// transaction. One op is one product page and its share of the rest.
//
//	go test ./store -run '^$' -bench SweepWrites -benchtime 10000x
func BenchmarkSweepWrites(b *testing.B) {
	const base, perBatch = "http://127.0.0.1:8080", 200
	db := openTest(b)
	s := beginSweep(b, db, t0, "bench")
	h := benchmarket.Handler(b.N)
	get := func(path string) []byte {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
			rec.Body.Len(), rec.Body.Bytes()))
	}
	done := func(u string) BatchOp {
		return BatchOp{Done: &FrontierDoneOp{SweepID: s, Market: "bench", URL: u, State: FrontierDone}}
	}
	push := func(items ...FrontierItem) BatchOp {
		return BatchOp{Push: &FrontierPushOp{SweepID: s, Market: "bench", Items: items}}
	}
	var batches [][]BatchOp
	ops := []BatchOp{push(FrontierItem{URL: base + "/list/1", Depth: 1}), done(base + "/")}
	for id := 1; id <= b.N; id++ {
		if id%benchmarket.PerPage == 1 {
			list := id/benchmarket.PerPage + 1
			var items []FrontierItem
			for p := id; p < id+benchmarket.PerPage && p <= b.N; p++ {
				items = append(items, FrontierItem{URL: fmt.Sprintf("%s/product/%d", base, p), Depth: list + 1})
			}
			items = append(items, FrontierItem{URL: fmt.Sprintf("%s/list/%d", base, list+1), Depth: list + 1})
			ops = append(ops, push(items...), done(fmt.Sprintf("%s/list/%d", base, list)))
		}
		u := fmt.Sprintf("%s/product/%d", base, id)
		p := PageRecord{SweepID: s, Market: "bench", URL: u, Depth: id/benchmarket.PerPage + 2, Status: 200, FetchedAt: t0.Add(time.Duration(id) * time.Millisecond),
			Evidence: Evidence{
				RequestBytes:  []byte(fmt.Sprintf("GET /product/%d HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept-Encoding: gzip, br\r\n\r\n", id)),
				ResponseBytes: get(fmt.Sprintf("/product/%d", id)),
				RemoteAddr:    "127.0.0.1:8080",
			}}
		l := ListingRecord{URL: u, Fields: map[string]string{"title": fmt.Sprint("Item ", id), "price": "$10.00", "vendor": "vendor1",
			"description": "Good condition, ships within two days."}, Text: fmt.Sprint("Item ", id, "\nGood condition, ships within two days.")}
		if id%50 == 7 {
			l.Hit = hitOf(0.9, "isotonitazene")
		}
		ops = append(ops, BatchOp{Page: &PageOp{Page: p, Listings: []ListingRecord{l}}}, done(u))
		if id%perBatch == 0 || id == b.N {
			batches, ops = append(batches, ops), nil
		}
	}
	b.ResetTimer()
	for _, batch := range batches {
		if err := db.ApplyBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
