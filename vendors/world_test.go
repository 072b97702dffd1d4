package vendors_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"snoop/store"
	"snoop/vendors"
	"snoop/vendors/vendortest"
)

// scores are the measures the linking must reach on a world.
type scores struct {
	bcubedP, bcubedR       float64
	crossP, crossR         float64
	extractP, extractR     float64
	trapLinks              []string
	trapsShared            int // trap identifiers found on two or more sellers' listings
	fromSellerPages        int // sightings read from sellers' own pages
	listings, sellers, got int
}

func (s scores) String() string {
	return fmt.Sprintf("listings %d, sellers %d, vendors %d; B-cubed P %.4f R %.4f; cross-market links P %.4f R %.4f; extraction P %.4f R %.4f",
		s.listings, s.sellers, s.got, s.bcubedP, s.bcubedR, s.crossP, s.crossR, s.extractP, s.extractR)
}

// openWorld builds the world of seed in a new database and links it.
func openWorld(t testing.TB, seed uint64) (*store.DB, *vendors.Service, vendortest.Truth) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "world.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	truth, err := vendortest.Build(ctx, db, seed, time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	svc := vendors.NewService(db, vendors.Options{})
	if _, err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return db, svc, truth
}

// measure scores the service's vendors against truth.
func measure(t testing.TB, db *store.DB, svc *vendors.Service, truth vendortest.Truth) scores {
	t.Helper()
	ctx := context.Background()
	vs, err := svc.List(ctx, vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pred := map[string]int64{} // url -> vendor
	for _, v := range vs {
		for _, l := range v.Listings {
			pred[l.URL] = v.ID
		}
	}
	var s scores
	s.got = len(vs)
	sellers := map[int]bool{}
	var urls []string
	for u, seller := range truth.Seller {
		urls = append(urls, u)
		sellers[seller] = true
		if pred[u] == 0 {
			t.Errorf("listing %s has no vendor", u)
		}
	}
	s.listings, s.sellers = len(urls), len(sellers)
	// B-cubed.
	for _, u := range urls {
		var both, inPred, inTrue int
		for _, o := range urls {
			sp, st := pred[o] == pred[u], truth.Seller[o] == truth.Seller[u]
			if sp {
				inPred++
			}
			if st {
				inTrue++
			}
			if sp && st {
				both++
			}
		}
		s.bcubedP += float64(both) / float64(inPred)
		s.bcubedR += float64(both) / float64(inTrue)
	}
	s.bcubedP /= float64(len(urls))
	s.bcubedR /= float64(len(urls))
	// Cross-marketplace pairs.
	var tp, fp, fn int
	for i, a := range urls {
		for _, b := range urls[i+1:] {
			if truth.Market[a] == truth.Market[b] {
				continue
			}
			sp, st := pred[a] == pred[b], truth.Seller[a] == truth.Seller[b]
			switch {
			case sp && st:
				tp++
			case sp:
				fp++
			case st:
				fn++
			}
		}
	}
	s.crossP = ratio(tp, tp+fp)
	s.crossR = ratio(tp, tp+fn)
	// Extraction, per listing and identifier.
	listings, err := db.VendorListings(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	urlOf := map[int64]string{}
	for _, l := range listings {
		urlOf[l.ID] = l.URL
	}
	sightings, err := db.Sightings(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]map[string]bool{}
	for _, x := range sightings {
		if x.Source == "vendor-page" {
			s.fromSellerPages++
		}
		u := urlOf[x.ListingID]
		if found[u] == nil {
			found[u] = map[string]bool{}
		}
		found[u][x.LinkKey] = true
	}
	var etp, efp, efn int
	for _, u := range urls {
		for k := range found[u] {
			if truth.Identifiers[u][k] {
				etp++
			} else {
				efp++
				t.Logf("extracted but not planted on %s: %s", u, k)
			}
		}
		for k := range truth.Identifiers[u] {
			if !found[u][k] {
				efn++
				t.Logf("planted but not extracted on %s: %s", u, k)
			}
		}
	}
	s.extractP, s.extractR = ratio(etp, etp+efp), ratio(etp, etp+efn)
	// Traps: a trap identifier must be found common, and no vendor may
	// hold two sellers that share only traps.
	commons, err := db.CommonIdentifiers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	common := map[string]bool{}
	for _, c := range commons {
		common[c.LinkKey] = true
	}
	for k := range truth.Traps {
		seenOn := map[int]bool{}
		for _, u := range urls {
			if found[u][k] {
				seenOn[truth.Seller[u]] = true
			}
		}
		if len(seenOn) > 1 {
			s.trapsShared++
			if !common[k] {
				s.trapLinks = append(s.trapLinks, k)
			}
		}
	}
	for _, v := range vs {
		owners := map[int]bool{}
		for _, l := range v.Listings {
			owners[truth.Seller[l.URL]] = true
		}
		if len(owners) > 1 {
			p, err := svc.Get(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range p.Links {
				t.Logf("vendor %d mixes sellers %v: %s", v.ID, owners, l.Text)
			}
		}
	}
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestWorld measures linking on worlds of several seeds against the goals:
// B-cubed precision >= 0.98 and recall >= 0.95, the same for
// cross-marketplace links and for identifier extraction, and no trap
// linking two sellers.
func TestWorld(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			db, svc, truth := openWorld(t, seed)
			s := measure(t, db, svc, truth)
			t.Log(s)
			for _, c := range []struct {
				name      string
				got, goal float64
			}{
				{"B-cubed precision", s.bcubedP, 0.98}, {"B-cubed recall", s.bcubedR, 0.95},
				{"cross-market precision", s.crossP, 0.98}, {"cross-market recall", s.crossR, 0.95},
				{"extraction precision", s.extractP, 0.98}, {"extraction recall", s.extractR, 0.95},
			} {
				if c.got < c.goal {
					t.Errorf("%s = %.4f, want >= %.2f", c.name, c.got, c.goal)
				}
			}
			if s.fromSellerPages == 0 {
				t.Error("no identifier was read from a seller's own page")
			}
			if s.trapsShared < 10 {
				t.Errorf("only %d trap identifiers are shared by sellers: the world tests too little", s.trapsShared)
			}
			if len(s.trapLinks) > 0 {
				t.Errorf("trap identifiers shared by sellers and not found common: %v", s.trapLinks)
			}
		})
	}
}
