package vendors

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"snoop/store"
)

// normName folds a seller name for comparison: case, width and spacing
// are ignored. Names that identify no one ("anonymous", "guest") fold to
// "".
func normName(s string) string {
	s = strings.ToLower(strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
	}), " "))
	if genericNames[s] {
		return ""
	}
	return s
}

// genericNames are what sites show when a seller has no name of their own.
var genericNames = map[string]bool{
	"anonymous": true, "anon": true, "unknown": true, "guest": true, "n/a": true, "na": true, "-": true,
	"seller": true, "vendor": true, "private seller": true, "user": true, "member": true, "deleted": true,
	"[deleted]": true, "admin": true, "none": true,
}

// keyStats counts, for one identifier on one marketplace, who shows it.
type keyStats struct {
	named    int // distinct seller names showing it
	units    int // sellers showing it: names, and listings without a name
	listings int // listings showing it
	chrome   int // of those, listings where it is only in the page around the listing, not in its own fields
}

// marketStats counts a marketplace's sellers and listings.
type marketStats struct {
	named, units, listings int
}

// commonRule decides whether an identifier is shared by many unrelated
// sellers of one marketplace (its support contact, escrow address, footer
// e-mail). It is common when
//
//   - four or more seller names show it;
//   - three or more names show it and they are at least 30% of the
//     marketplace's names;
//   - three or more sellers (names or unnamed listings) show it, they are
//     at least 30% of the marketplace's sellers, and on most of its
//     listings it stands only in the page around the listing (a site
//     template), not in the listing's own text; or
//   - two or more sellers show it on every one of at least three listings
//     of the marketplace.
//
// A seller posting many unnamed ads with their own phone number on a
// classifieds site is thereby not mistaken for the site.
func commonRule(k keyStats, m marketStats) bool {
	share := func(n, of int) bool { return of > 0 && float64(n) >= math.Ceil(0.3*float64(of)) }
	switch {
	case k.named >= 4:
		return true
	case k.named >= 3 && share(k.named, m.named):
		return true
	case k.units >= 3 && share(k.units, m.units) && 2*k.chrome >= k.listings:
		return true
	case k.units >= 2 && k.listings == m.listings && m.listings >= 3:
		return true
	}
	return false
}

// linkInput is what clustering works from.
type linkInput struct {
	Listings  []store.VendorListing
	Sightings []store.Sighting
	Decisions []store.VendorDecision // active ones (not superseded)
}

// linkResult is the outcome of clustering.
type linkResult struct {
	Clusters [][]int64 // listing ids, each sorted; clusters sorted by first id
	Commons  []store.CommonIdentifier
	common   map[string]bool // link keys
}

// sellerUnit names the seller of a listing for counting: its folded name,
// or the listing itself when it shows none.
func sellerUnit(l store.VendorListing) string {
	if n := normName(l.Vendor); n != "" {
		return "name:" + n
	}
	return fmt.Sprintf("listing:%d", l.ID)
}

// findCommons applies commonRule to every identifier on every marketplace.
func findCommons(listings []store.VendorListing, sightings []store.Sighting) ([]store.CommonIdentifier, map[string]bool) {
	byID := map[int64]store.VendorListing{}
	markets := map[string]*marketStats{}
	seenUnit := map[string]bool{}
	for _, l := range listings {
		byID[l.ID] = l
		m := markets[l.Market]
		if m == nil {
			m = &marketStats{}
			markets[l.Market] = m
		}
		m.listings++
		u := l.Market + "\x00" + sellerUnit(l)
		if !seenUnit[u] {
			seenUnit[u] = true
			m.units++
			if normName(l.Vendor) != "" {
				m.named++
			}
		}
	}
	type mk struct{ market, key string }
	units := map[mk]map[string]bool{}
	inFields := map[mk]map[int64]bool{}
	lists := map[mk]map[int64]bool{}
	for _, s := range sightings {
		l, ok := byID[s.ListingID]
		if !ok {
			continue
		}
		k := mk{l.Market, s.LinkKey}
		if units[k] == nil {
			units[k], lists[k], inFields[k] = map[string]bool{}, map[int64]bool{}, map[int64]bool{}
		}
		units[k][sellerUnit(l)] = true
		lists[k][l.ID] = true
		if s.Source != "page" && s.Source != "vendor-page" {
			inFields[k][l.ID] = true
		}
	}
	var out []store.CommonIdentifier
	keys := map[string]bool{}
	for k, us := range units {
		st := keyStats{units: len(us), listings: len(lists[k]), chrome: len(lists[k]) - len(inFields[k])}
		for u := range us {
			if strings.HasPrefix(u, "name:") {
				st.named++
			}
		}
		if commonRule(st, *markets[k.market]) {
			out = append(out, store.CommonIdentifier{LinkKey: k.key, Market: k.market, Sellers: st.units, Listings: st.listings})
			keys[k.key] = true
		}
	}
	slices.SortFunc(out, func(a, b store.CommonIdentifier) int {
		return cmp.Or(cmp.Compare(a.Market, b.Market), cmp.Compare(a.LinkKey, b.LinkKey))
	})
	return out, keys
}

// unionFind with split constraints: each component carries, per split
// decision, which of its sides it holds; two components holding opposite
// sides of one split are never joined.
type unionFind struct {
	parent map[int64]int64
	sides  map[int64]map[int64]uint8 // root -> split id -> side bits
}

func newUnionFind(ids []int64) *unionFind {
	u := &unionFind{parent: map[int64]int64{}, sides: map[int64]map[int64]uint8{}}
	for _, id := range ids {
		u.parent[id] = id
	}
	return u
}

func (u *unionFind) find(x int64) int64 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union joins a and b unless a split keeps them apart (force ignores
// splits); it reports whether they are now one.
func (u *unionFind) union(a, b int64, force bool) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return true
	}
	if !force {
		for d, sa := range u.sides[ra] {
			sb := u.sides[rb][d]
			if (sa&1 != 0 && sb&2 != 0) || (sa&2 != 0 && sb&1 != 0) {
				return false
			}
		}
	}
	if ra > rb {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	if u.sides[rb] != nil {
		if u.sides[ra] == nil {
			u.sides[ra] = map[int64]uint8{}
		}
		for d, s := range u.sides[rb] {
			u.sides[ra][d] |= s
		}
		delete(u.sides, rb)
	}
	return true
}

// cluster links listings into vendors.
func cluster(in linkInput) linkResult {
	ids := make([]int64, 0, len(in.Listings))
	exists := map[int64]bool{}
	for _, l := range in.Listings {
		ids = append(ids, l.ID)
		exists[l.ID] = true
	}
	u := newUnionFind(ids)
	for _, d := range in.Decisions {
		if d.Action != "split" {
			continue
		}
		for side, ls := range [][]int64{d.Side0, d.Side1} {
			for _, l := range ls {
				if !exists[l] {
					continue
				}
				r := u.find(l)
				if u.sides[r] == nil {
					u.sides[r] = map[int64]uint8{}
				}
				u.sides[r][d.ID] |= 1 << side
			}
		}
	}
	// Analysts' merges first: they hold against everything.
	for _, d := range in.Decisions {
		if d.Action != "merge" {
			continue
		}
		all := append(slices.Clone(d.Side0), d.Side1...)
		var first int64
		for _, l := range all {
			if !exists[l] {
				continue
			}
			if first == 0 {
				first = l
				continue
			}
			u.union(first, l, true)
		}
	}
	commons, common := findCommons(in.Listings, in.Sightings)
	// Shared identifiers, in a fixed order.
	byKey := map[string][]int64{}
	for _, s := range in.Sightings {
		if common[s.LinkKey] || !exists[s.ListingID] {
			continue
		}
		ls := byKey[s.LinkKey]
		if len(ls) == 0 || ls[len(ls)-1] != s.ListingID {
			byKey[s.LinkKey] = append(ls, s.ListingID)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ls := byKey[k]
		for _, l := range ls[1:] {
			u.union(ls[0], l, false)
		}
	}
	// The same name on the same marketplace.
	byName := map[string]int64{}
	for _, l := range in.Listings {
		n := normName(l.Vendor)
		if n == "" {
			continue
		}
		k := l.Market + "\x00" + n
		if first, ok := byName[k]; ok {
			u.union(first, l.ID, false)
		} else {
			byName[k] = l.ID
		}
	}
	groups := map[int64][]int64{}
	for _, id := range ids {
		r := u.find(id)
		groups[r] = append(groups[r], id)
	}
	var clusters [][]int64
	for _, g := range groups {
		slices.Sort(g)
		clusters = append(clusters, g)
	}
	slices.SortFunc(clusters, func(a, b []int64) int { return cmp.Compare(a[0], b[0]) })
	return linkResult{Clusters: clusters, Commons: commons, common: common}
}

// assignIDs gives each cluster a stable vendor id: the existing vendor
// holding most of its listings (ties: the lower id), unless a larger
// cluster claims that vendor first; otherwise 0 (a new vendor). Vendors
// whose listings went elsewhere are reported as absorbed by the cluster
// that took most of them.
func assignIDs(clusters [][]int64, current map[int64]int64) []store.VendorCluster {
	order := make([]int, len(clusters))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(clusters[b]), len(clusters[a])) })
	taken := map[int64]bool{}
	out := make([]store.VendorCluster, len(clusters))
	for _, i := range order {
		count := map[int64]int{}
		for _, l := range clusters[i] {
			if v := current[l]; v != 0 {
				count[v]++
			}
		}
		var best int64
		for v, n := range count {
			if taken[v] {
				continue
			}
			if best == 0 || n > count[best] || n == count[best] && v < best {
				best = v
			}
		}
		if best != 0 {
			taken[best] = true
		}
		out[i] = store.VendorCluster{ID: best, Listings: clusters[i]}
		for v := range count {
			if v != best {
				out[i].Absorbed = append(out[i].Absorbed, v)
			}
		}
		slices.Sort(out[i].Absorbed)
	}
	// A vendor is absorbed only if no cluster kept it.
	for i := range out {
		out[i].Absorbed = slices.DeleteFunc(out[i].Absorbed, func(v int64) bool { return taken[v] })
	}
	return out
}
