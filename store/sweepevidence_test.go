package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEvidenceEach(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	body := strings.Repeat("<p>isotonitazene 1g</p>\n", 100)
	// Two sweeps interleave their pages; the second re-fetches page 0
	// unchanged (a revisit of the first sweep's capture).
	s1 := beginSweep(t, db, t0, "shop")
	s2 := beginSweep(t, db, t0, "board")
	want := map[int64][]int64{}
	save := func(s int64, market, u string, at time.Time) {
		t.Helper()
		p := wirePage(s, u, at, body+u, at.Format(time.RFC1123))
		p.Market = market
		res := savePage(t, db, p, listing(u, "x", "", nil))
		want[s] = append(want[s], res.EvidenceID)
	}
	for i := range 3 {
		save(s1, "shop", fmt.Sprintf("https://shop.test/%d", i), t0)
		save(s2, "board", fmt.Sprintf("https://board.test/%d", i), t0)
	}
	save(s2, "shop", "https://shop.test/0", t0.Add(time.Hour))
	empty := beginSweep(t, db, t0, "shop")

	for _, tc := range []struct {
		name  string
		sweep int64
		want  []int64
	}{
		{"first sweep", s1, want[s1]},
		{"second sweep with a revisit", s2, want[s2]},
		{"sweep without pages", empty, nil},
		{"no such sweep", 999, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			err := db.EvidenceEach(ctx, tc.sweep, func(pe PageEvidence) error {
				got = append(got, pe.ID)
				if pe.SweepID != tc.sweep {
					t.Errorf("evidence %d: sweep %d, want %d", pe.ID, pe.SweepID, tc.sweep)
				}
				// The embedded Evidence is the one Evidence returns.
				e, err := db.Evidence(ctx, pe.ID)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(pe.Evidence, e) {
					t.Errorf("evidence %d: %+v, Evidence gives %+v", pe.ID, pe.Evidence, e)
				}
				if pe.PageID == 0 || pe.Market == "" || pe.Depth != 1 {
					t.Errorf("evidence %d: page %d market %q depth %d", pe.ID, pe.PageID, pe.Market, pe.Depth)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("evidence ids = %v, want %v", got, tc.want)
			}
		})
	}

	last := want[s2][len(want[s2])-1]
	rv, err := db.PageEvidence(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	if !rv.Revisit || rv.RefersTo != want[s1][0] || rv.Market != "shop" || rv.SweepID != s2 {
		t.Errorf("revisit = %+v", rv)
	}
	if _, err := db.PageEvidence(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("PageEvidence(999) = %v, want ErrNotFound", err)
	}

	stop := errors.New("stop")
	n := 0
	err = db.EvidenceEach(ctx, s1, func(PageEvidence) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("EvidenceEach err = %v after %d calls, want stop after 2", err, n)
	}
}
