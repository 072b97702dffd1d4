package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutoSweepListingsJSONL sweeps a shop with listing: auto and reads
// its listings back as JSON Lines: one row per listing however many URLs
// reach it.
func TestAutoSweepListingsJSONL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><body><h1>Shop</h1><ul>
<li><a href="/p/iso?utm_source=x">Iso</a></li><li><a href="/cat/opioids/p/iso">Iso again</a></li><li><a href="/p/meto">Meto</a></li>
<li><a href="/about">About</a></li></ul></body></html>`)
		case "/p/iso", "/cat/opioids/p/iso":
			fmt.Fprint(w, `<html><head><link rel="canonical" href="/p/iso"></head><body><main><h1>Isotonitazene 5g</h1>
<span class="price">€ 250,00</span><div class="description">Pure powder, stealth shipping.</div><p>Seller: <b>IsoKing</b></p></main></body></html>`)
		case "/p/meto":
			fmt.Fprint(w, `<html><body><main><h1>Metonitazene 1g</h1><span class="price">$90</span><div class="description">In stock.</div><p>Seller: <b>MetoLab</b></p></main></body></html>`)
		case "/about":
			fmt.Fprint(w, `<html><body><h1>About us</h1><p>Shipping $10.00</p></body></html>`)
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "snoop.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`defaults:
  requests_per_second: 100
  burst: 10
  robots: ignore
marketplaces:
  - name: shop
    start_urls: ["%s/"]
    listing: auto
`, srv.URL)), 0o600)
	db := filepath.Join(dir, "snoop.db")
	ctx := context.Background()
	if out, errOut, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg); code != 0 {
		t.Fatalf("sweep exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := runCmd(t, ctx, "listings", "--db", db, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("listings exit %d: %s", code, errOut)
	}
	type row struct {
		ID          int64   `json:"id"`
		Marketplace string  `json:"marketplace"`
		URL         string  `json:"url"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Price       string  `json:"price"`
		Vendor      string  `json:"vendor"`
		Gone        bool    `json:"gone"`
		GoneAt      *string `json:"gone_at"`
		FirstSeen   string  `json:"first_seen"`
	}
	var rows []row
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 {
		t.Fatalf("%d listings, want 2:\n%s", len(rows), out)
	}
	want := map[string][3]string{
		srv.URL + "/p/iso":  {"Isotonitazene 5g", "250.00 EUR", "IsoKing"},
		srv.URL + "/p/meto": {"Metonitazene 1g", "90 USD", "MetoLab"},
	}
	for _, r := range rows {
		w, ok := want[r.URL]
		if !ok || r.Title != w[0] || r.Price != w[1] || r.Vendor != w[2] || r.Marketplace != "shop" || r.Gone || r.GoneAt != nil || r.FirstSeen == "" {
			t.Errorf("row %+v", r)
		}
	}
	table, _, code := runCmd(t, ctx, "listings", "--db", db, "--market", "shop")
	if code != 0 || !strings.Contains(table, "Isotonitazene 5g") {
		t.Errorf("table exit %d:\n%s", code, table)
	}
}
