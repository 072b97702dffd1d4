package sweep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSweepPassesMarketplaceKind sweeps a listing whose title is a bare
// substance name: on a marketplace declared `kind: market` it is a hit,
// on the default kind (shop) it is not, so the kind reaches the
// classifier.
func TestSweepPassesMarketplaceKind(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/p/1">1</a></body></html>`)
	})
	mux.HandleFunc("/p/1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h1>Carfentanil</h1><div class="d"></div></body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		extra string
		hits  int
	}{
		{"    kind: market\n", 1},
		{"", 0},
		{"    kind: forum\n", 0},
	} {
		r, _ := testRunner(t)
		res, err := r.Run(context.Background(), shopMarkets(t, srv.URL, tc.extra))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Markets[0].Hits; got != tc.hits {
			t.Errorf("%q: hits = %d, want %d", tc.extra, got, tc.hits)
		}
	}
}
