package web

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"snoop/store"
)

// addPagedHits stores n more nitazene hits titled "Paged listing NN" in a
// new sweep and returns their ids in creation order.
func addPagedHits(t *testing.T, f *fixture, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	sweep, err := f.db.BeginSweep(ctx, []string{"shop"}, f.rulesV, testNow.Add(-15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		u := fmt.Sprintf("http://shop.test/paged/%d", i)
		title := fmt.Sprintf("Paged listing %02d isotonitazene", i)
		res, err := f.db.SavePage(ctx, store.PageRecord{SweepID: sweep, Market: "shop", URL: u, Status: 200,
			Evidence: store.Evidence{FetchedAt: testNow.Add(-10 * time.Minute), RequestBytes: []byte("GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n"),
				ResponseBytes: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>" + title + "</h1>")}},
			[]store.ListingRecord{{URL: u, Title: title, Text: title, Hit: &store.HitRecord{
				Score: float64(i%10) / 10, RuleVersion: f.rulesV,
				Substances: []store.Substance{{Name: "isotonitazene", Class: "nitazene", Matched: "isotonitazene", Start: 18, End: 31}},
			}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Listings[0].HitID)
	}
	return ids
}

// TestHitsPaging pages through more hits than fit on one page, in the API
// and in the HTML hits list, and checks that every hit comes exactly once,
// in order, with the total of all pages.
func TestHitsPaging(t *testing.T) {
	f := newFixture(t, nil)
	extra := addPagedHits(t, f, 2*perPage+7)
	all := append(slices.Clone(f.hits), extra...)

	t.Run("api newest first", func(t *testing.T) {
		var got []int64
		for offset := 0; ; offset += 40 {
			w := f.do(t, req{path: fmt.Sprintf("/api/hits?status=new&sort=-id&limit=40&offset=%d", offset)})
			if w.Code != 200 {
				t.Fatalf("offset %d: status = %d: %s", offset, w.Code, w.Body)
			}
			if total := w.Header().Get("X-Total-Count"); total != strconv.Itoa(len(all)) {
				t.Fatalf("offset %d: X-Total-Count = %q, want %d", offset, total, len(all))
			}
			page := decode[[]store.Hit](t, w)
			if len(page) == 0 {
				break
			}
			if len(page) > 40 {
				t.Fatalf("offset %d: %d hits on a page of 40", offset, len(page))
			}
			for _, h := range page {
				got = append(got, h.ID)
			}
		}
		want := slices.Clone(all)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("paged ids = %v\nwant %v", got, want)
		}
	})

	t.Run("api sorted by score with a filter", func(t *testing.T) {
		var got []store.Hit
		for offset := 0; offset < len(extra)+10; offset += 25 {
			w := f.do(t, req{path: fmt.Sprintf("/api/hits?q=PAGED&sort=-score&limit=25&offset=%d", offset)})
			if total := w.Header().Get("X-Total-Count"); total != strconv.Itoa(len(extra)) {
				t.Fatalf("offset %d: X-Total-Count = %q, want %d", offset, total, len(extra))
			}
			got = append(got, decode[[]store.Hit](t, w)...)
		}
		if len(got) != len(extra) {
			t.Fatalf("got %d hits, want %d", len(got), len(extra))
		}
		seen := map[int64]bool{}
		for i, h := range got {
			if seen[h.ID] {
				t.Errorf("hit %d listed twice", h.ID)
			}
			seen[h.ID] = true
			if i > 0 {
				prev := got[i-1]
				if prev.Score < h.Score || prev.Score == h.Score && prev.ID < h.ID {
					t.Errorf("hit %d (%.1f) after hit %d (%.1f): not by score then id, descending", h.ID, h.Score, prev.ID, prev.Score)
				}
			}
		}
	})

	t.Run("html pages", func(t *testing.T) {
		pick := regexp.MustCompile(`id="pick-(\d+)"`)
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next"[^>]*>`)
		total := regexp.MustCompile(`id="hit-total">(\d+)<`)
		var got []int64
		pages := 0
		for path := "/hits?class=nitazene"; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			w := f.do(t, req{path: path})
			if w.Code != 200 {
				t.Fatalf("GET %s = %d", path, w.Code)
			}
			body := w.Body.String()
			wantTotal := len(extra) + 2 // the fixture's two nitazene hits
			if m := total.FindStringSubmatch(body); m == nil || m[1] != strconv.Itoa(wantTotal) {
				t.Fatalf("GET %s: total = %v, want %d", path, m, wantTotal)
			}
			n := 0
			for _, m := range pick.FindAllStringSubmatch(body, -1) {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				got = append(got, id)
				n++
			}
			if n > perPage {
				t.Fatalf("GET %s: %d hits on one page", path, n)
			}
			path = ""
			if m := next.FindStringSubmatch(body); m != nil {
				path = html.UnescapeString(m[1])
			}
		}
		if pages != 3 {
			t.Errorf("followed %d pages, want 3", pages)
		}
		var want []int64
		for _, id := range all {
			if id != f.hits[1] { // the carfentanil hit is a fentanyl analogue
				want = append(want, id)
			}
		}
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("listed ids = %v\nwant %v", got, want)
		}
	})
}
