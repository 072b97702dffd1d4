package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// hitQueryFixture stores four hits that differ in every field the hit
// filters and sort keys look at, and returns their ids in creation order.
func hitQueryFixture(t *testing.T, db *DB) (h1, h2, h3, h4 int64) {
	t.Helper()
	ctx := context.Background()
	s := beginSweep(t, db, t0, "shop", "board")
	hit := func(score float64, subs ...Substance) *HitRecord {
		return &HitRecord{Score: score, RuleVersion: "sha256:rules", Substances: subs}
	}
	sub := func(name, class string) Substance {
		return Substance{Name: name, Class: class, Matched: name, End: len(name)}
	}
	save := func(market string, l ListingRecord, at time.Time) int64 {
		t.Helper()
		return savePage(t, db, page(s, market, l.URL, at, l.URL), l).Listings[0].HitID
	}
	l1 := ListingRecord{URL: "https://shop.test/a", Title: "Beta Iso 100%", Description: "pure", Vendor: "ChemLab",
		Text: "isotonitazene 1g", Hit: hit(0.5, sub("isotonitazene", "nitazene"))}
	h1 = save("shop", l1, t0)
	h2 = save("board", ListingRecord{URL: "https://board.test/b_2", Title: "alpha carfentanil", Description: "Ships WORLDWIDE",
		Vendor: "vend_x", Text: "carfentanil", Hit: hit(0.9, sub("carfentanil", "fentanyl-analogue"))}, t0.Add(time.Hour))
	h3 = save("shop", ListingRecord{URL: "https://shop.test/c", Title: "gamma", Description: "Метонитазен * [опт]", Vendor: `Back\slash`,
		Text: "metonitazene and ANPP", Hit: hit(0.7, sub("metonitazene", "nitazene"), sub("anpp", "precursor"))}, t0.Add(2*time.Hour))
	h4 = save("shop", ListingRecord{URL: "https://shop.test/d", Title: "Delta", Text: "protonitazene 50%",
		Hit: hit(0.7, sub("protonitazene", "nitazene"))}, t0.Add(3*time.Hour))
	// h1's listing is seen again last: first seen first, last seen last.
	if got := save("shop", l1, t0.Add(4*time.Hour)); got != h1 {
		t.Fatalf("re-detected hit = %d, want %d", got, h1)
	}
	if err := db.Review(ctx, h2, StatusConfirmed, "", "alice", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Review(ctx, h4, StatusFalsePositive, "", "alice", t0); err != nil {
		t.Fatal(err)
	}
	return h1, h2, h3, h4
}

func TestHitsQuery(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	h1, h2, h3, h4 := hitQueryFixture(t, db)
	ids := func(ids ...int64) []int64 { return ids }

	for _, tc := range []struct {
		name string
		f    HitFilter
		want []int64
	}{
		{"class", HitFilter{Class: "nitazene"}, ids(h1, h3, h4)},
		{"class case", HitFilter{Class: "PRECURSOR"}, ids(h3)},
		{"class other", HitFilter{Class: "fentanyl-analogue"}, ids(h2)},
		{"class none", HitFilter{Class: "nitaz"}, ids()},
		{"text in title", HitFilter{Text: "delta"}, ids(h4)},
		{"text in description", HitFilter{Text: "worldwide"}, ids(h2)},
		{"text in text", HitFilter{Text: "anpp"}, ids(h3)},
		{"text in vendor", HitFilter{Text: "CHEMLAB"}, ids(h1)},
		{"text in url", HitFilter{Text: "shop.test/c"}, ids(h3)},
		{"text in several", HitFilter{Text: "tazene"}, ids(h1, h3, h4)},
		{"text percent literal", HitFilter{Text: "100%"}, ids(h1)},
		{"text percent not wildcard", HitFilter{Text: "t%n"}, ids()},
		{"text underscore literal", HitFilter{Text: "b_2"}, ids(h2)},
		{"text underscore not wildcard", HitFilter{Text: "a_I"}, ids()},
		{"text backslash literal", HitFilter{Text: `k\s`}, ids(h3)},
		{"text non-ASCII ignores case", HitFilter{Text: "мЕТОНИТАЗЕН"}, ids(h3)},
		{"text non-ASCII with glob characters", HitFilter{Text: "Н * [О"}, ids(h3)},
		{"text non-ASCII star not wildcard", HitFilter{Text: "м*н"}, ids()},
		{"text non-ASCII question mark not wildcard", HitFilter{Text: "М?т"}, ids()},
		{"text quote", HitFilter{Text: `' OR 1=1 --`}, ids()},
		{"until", HitFilter{Until: t0.Add(2 * time.Hour)}, ids(h2)},
		{"until exclusive", HitFilter{Until: t0.Add(3 * time.Hour)}, ids(h2, h3)},
		{"until after all", HitFilter{Until: t0.Add(5 * time.Hour)}, ids(h1, h2, h3, h4)},
		{"sort default", HitFilter{}, ids(h1, h2, h3, h4)},
		{"sort id", HitFilter{Sort: "id"}, ids(h1, h2, h3, h4)},
		{"sort -id", HitFilter{Sort: "-id"}, ids(h4, h3, h2, h1)},
		{"sort score, ties by id", HitFilter{Sort: "score"}, ids(h1, h3, h4, h2)},
		{"sort -score, ties by id descending", HitFilter{Sort: "-score"}, ids(h2, h4, h3, h1)},
		{"sort first_seen", HitFilter{Sort: "first_seen"}, ids(h1, h2, h3, h4)},
		{"sort -first_seen", HitFilter{Sort: "-first_seen"}, ids(h4, h3, h2, h1)},
		{"sort last_seen", HitFilter{Sort: "last_seen"}, ids(h2, h3, h4, h1)},
		{"sort -last_seen", HitFilter{Sort: "-last_seen"}, ids(h1, h4, h3, h2)},
		{"sort marketplace", HitFilter{Sort: "marketplace"}, ids(h2, h1, h3, h4)},
		{"sort -marketplace", HitFilter{Sort: "-marketplace"}, ids(h4, h3, h1, h2)},
		{"sort status", HitFilter{Sort: "status"}, ids(h2, h4, h1, h3)},
		{"sort -status", HitFilter{Sort: "-status"}, ids(h3, h1, h4, h2)},
		{"sort title ignores case", HitFilter{Sort: "title"}, ids(h2, h1, h4, h3)},
		{"sort -title", HitFilter{Sort: "-title"}, ids(h3, h4, h1, h2)},
		{"sorted page", HitFilter{Sort: "-score", Limit: 2, Offset: 1}, ids(h4, h3)},
		{"sorted page past the end", HitFilter{Sort: "title", Limit: 2, Offset: 4}, ids()},
		{"offset without limit", HitFilter{Sort: "-id", Offset: 3}, ids(h1)},
		{"combined", HitFilter{Class: "nitazene", Text: "tazene", Status: StatusNew, Sort: "-last_seen"}, ids(h1, h3)},
		{"combined with until", HitFilter{Market: "shop", Until: t0.Add(4 * time.Hour), Sort: "-score"}, ids(h4, h3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := db.Hits(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, h := range hits {
				got = append(got, h.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Hits = %v, want %v", got, tc.want)
			}

			// CountHits counts every match, whatever the page.
			all := tc.f
			all.Limit, all.Offset = 0, 0
			allHits, err := db.Hits(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			n, err := db.CountHits(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(allHits) {
				t.Errorf("CountHits = %d, want %d", n, len(allHits))
			}
		})
	}

	for _, f := range []HitFilter{{Sort: "bogus"}, {Sort: "--id"}, {Sort: "-"}, {Sort: "id DESC"}, {Sort: "score; DROP TABLE hits"}, {Status: "bogus"}} {
		t.Run(fmt.Sprintf("bad filter %+q%+q", f.Sort, f.Status), func(t *testing.T) {
			if _, err := db.Hits(ctx, f); err == nil {
				t.Error("Hits succeeded")
			}
			if _, err := db.CountHits(ctx, f); err == nil {
				t.Error("CountHits succeeded")
			}
		})
	}
	for _, key := range HitSortKeys() {
		for _, s := range []string{key, "-" + key} {
			if _, err := hitOrder(s); err != nil {
				t.Errorf("hitOrder(%q): %v", s, err)
			}
		}
	}
}

// TestHitsQueryPlan checks that the web UI's default listing (a status
// filter, newest first, one page) walks an index instead of sorting.
func TestHitsQueryPlan(t *testing.T) {
	db := openTest(t)
	hitQueryFixture(t, db)
	for _, f := range []HitFilter{
		{Status: StatusNew, Sort: "-id", Limit: 50},
		{Sort: "-id", Limit: 50},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			q, args, err := f.query()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.db.Query(`EXPLAIN QUERY PLAN `+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan sorts:\n%s", text)
			}
			if f.Status != "" && !strings.Contains(text, "USING INDEX hits_status (status=?)") {
				t.Errorf("plan does not use hits_status:\n%s", text)
			}
		})
	}
}
