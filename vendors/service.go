package vendors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"snoop/evidence"
	"snoop/identify"
	"snoop/store"
)

// Service is the vendor service: identifier extraction, linking, and the
// vendor triage rules. The command line and the workbench both call it.
type Service struct {
	db  *store.DB
	now func() time.Time
	log *slog.Logger
}

// Options configure a Service. Zero values are documented per field.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// NewService returns the vendor service of db.
func NewService(db *store.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, now: opts.Now, log: opts.Logger}
}

// extractBatch is how many listing versions are read per round.
const extractBatch = 500

// maxPageBytes bounds the decoded page read for identifiers.
const maxPageBytes = 8 << 20

// RefreshStats tells what Refresh did.
type RefreshStats struct {
	Versions  int // listing versions read
	Sightings int // identifier sightings stored
	Vendors   int // vendors after linking
	Common    int // identifiers found common to many sellers
}

// Refresh extracts the identifiers of every listing version not read yet
// (listing fields and, when the page holds that listing alone, the page)
// and relinks all listings into vendors. It is run after each sweep and
// by the vendor commands; running it again without new listings changes
// nothing.
func (s *Service) Refresh(ctx context.Context) (RefreshStats, error) {
	var st RefreshStats
	after, err := s.db.ExtractedThrough(ctx)
	if err != nil {
		return st, err
	}
	sellerPages := map[string][]store.Sighting{}
	for {
		vs, err := s.db.VersionsAfter(ctx, after, extractBatch)
		if err != nil {
			return st, err
		}
		if len(vs) == 0 {
			break
		}
		var found []store.Sighting
		for _, v := range vs {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			found = append(found, versionSightings(v)...)
			if v.PageListings == 1 {
				body, err := s.pageBody(ctx, v.EvidenceID)
				if err != nil {
					s.log.Warn("vendor identifiers: page not read", "listing", v.ListingID, "evidence", v.EvidenceID, "err", err)
				} else if body != nil {
					found = append(found, pageSightings(v, body)...)
					more, err := s.sellerPageSightings(ctx, v, body, sellerPages)
					if err != nil {
						return st, err
					}
					found = append(found, more...)
				}
			}
			after = v.VersionID
		}
		if err := s.db.SaveSightings(ctx, found, after); err != nil {
			return st, err
		}
		st.Versions += len(vs)
		st.Sightings += len(found)
		s.log.Info("vendor identifiers extracted", "versions", st.Versions, "sightings", st.Sightings)
	}
	n, common, err := s.relink(ctx)
	st.Vendors, st.Common = n, common
	return st, err
}

// sellerPageSightings returns the identifiers on the seller's own page
// that a listing's page links to (see sellerLinks), if the crawl fetched
// it, as sightings of the listing with source "vendor-page" and the
// seller page's evidence record. cache keeps each page's identifiers for
// the other listings linking to it.
func (s *Service) sellerPageSightings(ctx context.Context, v store.VersionText, body []byte, cache map[string][]store.Sighting) ([]store.Sighting, error) {
	var out []store.Sighting
	for _, u := range sellerLinks(body, v.URL, v.Vendor) {
		ss, ok := cache[u]
		if !ok {
			id, err := s.db.LatestCapture(ctx, u)
			if err != nil {
				return nil, err
			}
			if id != 0 {
				pb, err := s.pageBody(ctx, id)
				if err != nil {
					s.log.Warn("vendor identifiers: seller page not read", "url", u, "evidence", id, "err", err)
				} else if pb != nil {
					pv := v
					pv.EvidenceID, pv.URL = id, u
					ss = pageSightings(pv, pb)
					for i := range ss {
						ss[i].Source = "vendor-page"
					}
				}
			}
			cache[u] = ss
		}
		for _, x := range ss {
			x.ListingID, x.SeenAt = v.ListingID, v.SeenAt
			out = append(out, x)
		}
	}
	return out, nil
}

// Reextract reads the identifiers of every stored listing version again,
// from scratch, and relinks. Vendor ids, statuses and analysts' merges
// and splits are kept.
func (s *Service) Reextract(ctx context.Context) (RefreshStats, error) {
	if err := s.db.ResetExtraction(ctx); err != nil {
		return RefreshStats{}, err
	}
	return s.Refresh(ctx)
}

// pageBody returns the decoded HTML payload of an evidence record (a
// revisit's original), or nil if it is not HTML.
func (s *Service) pageBody(ctx context.Context, evidenceID int64) ([]byte, error) {
	ev, err := s.db.Evidence(ctx, evidenceID)
	if err != nil {
		return nil, err
	}
	if ev.Revisit {
		if ev, err = s.db.Evidence(ctx, ev.RefersTo); err != nil {
			return nil, err
		}
	}
	d, err := evidence.DecodeHTTPResponse(ev.ResponseBytes, maxPageBytes)
	if err != nil && d == nil {
		return nil, err
	}
	if d.ContentType != "" && !strings.Contains(d.ContentType, "html") && !strings.HasPrefix(d.ContentType, "text/") {
		return nil, nil
	}
	return d.Body, nil
}

// relink clusters every listing and stores the result.
func (s *Service) relink(ctx context.Context) (vendors, common int, err error) {
	listings, err := s.db.VendorListings(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	sightings, err := s.db.Sightings(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	decisions, err := s.activeDecisions(ctx)
	if err != nil {
		return 0, 0, err
	}
	res := cluster(linkInput{Listings: listings, Sightings: sightings, Decisions: decisions})
	current := map[int64]int64{}
	for _, l := range listings {
		current[l.ID] = l.VendorID
	}
	assigned := assignIDs(res.Clusters, current)
	if _, err := s.db.ApplyVendorClusters(ctx, assigned, res.Commons, s.now().UTC()); err != nil {
		return 0, 0, err
	}
	return len(assigned), len(res.Commons), nil
}

func (s *Service) activeDecisions(ctx context.Context) ([]store.VendorDecision, error) {
	all, err := s.db.VendorDecisions(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d store.VendorDecision) bool { return d.SupersededBy != 0 }), nil
}

// ensure refreshes when listing versions were stored since the last
// extraction (or nothing was ever linked).
func (s *Service) ensure(ctx context.Context) error {
	through, err := s.db.ExtractedThrough(ctx)
	if err != nil {
		return err
	}
	latest, err := s.db.LatestVersion(ctx)
	if err != nil {
		return err
	}
	if latest > through {
		_, err = s.Refresh(ctx)
	}
	return err
}

// world is one consistent read of everything vendors are built from.
type world struct {
	listings  []store.VendorListing
	byVendor  map[int64][]store.VendorListing
	sightings map[int64][]store.Sighting // by listing
	common    map[string]bool
	commons   []store.CommonIdentifier
	rows      map[int64]store.VendorRow
}

func (s *Service) load(ctx context.Context) (*world, error) {
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	w := &world{byVendor: map[int64][]store.VendorListing{}, sightings: map[int64][]store.Sighting{},
		common: map[string]bool{}, rows: map[int64]store.VendorRow{}}
	var err error
	if w.listings, err = s.db.VendorListings(ctx, nil); err != nil {
		return nil, err
	}
	for _, l := range w.listings {
		w.byVendor[l.VendorID] = append(w.byVendor[l.VendorID], l)
	}
	ss, err := s.db.Sightings(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, x := range ss {
		w.sightings[x.ListingID] = append(w.sightings[x.ListingID], x)
	}
	if w.commons, err = s.db.CommonIdentifiers(ctx); err != nil {
		return nil, err
	}
	for _, c := range w.commons {
		w.common[c.LinkKey] = true
	}
	rows, err := s.db.VendorRows(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		w.rows[r.ID] = r
	}
	return w, nil
}

// isHit reports whether a listing counts as a hit: flagged and not
// dismissed as a false positive.
func isHit(l store.VendorListing) bool {
	return l.HitID != 0 && l.HitStatus != store.StatusFalsePositive
}

// kindOrder sorts identifiers as the SPEC lists their kinds.
func kindOrder(k string) int {
	if i := slices.Index(identify.Kinds(), identify.Kind(k)); i >= 0 {
		return i
	}
	return len(identify.Kinds())
}

// vendor builds the Vendor of id from w.
func (w *world) vendor(id int64) Vendor {
	ls := w.byVendor[id]
	row := w.rows[id]
	v := Vendor{ID: id, Status: Status(row.Status), Note: row.Note,
		Names: []string{}, Marketplaces: []string{}, Identifiers: []Identifier{}, Listings: []Listing{}, Substances: []string{}}
	if v.Status == "" {
		v.Status = StatusNew
	}
	seenName, seenMarket, seenID, seenSub := map[string]bool{}, map[string]bool{}, map[Identifier]bool{}, map[string]bool{}
	for _, l := range ls {
		if n := strings.TrimSpace(l.Vendor); n != "" && !seenName[strings.ToLower(n)] {
			seenName[strings.ToLower(n)] = true
			v.Names = append(v.Names, n)
		}
		if !seenMarket[l.Market] {
			seenMarket[l.Market] = true
			v.Marketplaces = append(v.Marketplaces, l.Market)
		}
		li := Listing{ID: l.ID, URL: l.URL, Marketplace: l.Market, Hit: isHit(l), Gone: !l.GoneAt.IsZero(),
			Title: l.Title, Name: l.Vendor, Price: l.Price, FirstSeen: l.FirstSeen, LastSeen: l.LastSeen, GoneAt: l.GoneAt}
		if l.HitID != 0 {
			li.HitID, li.HitStatus = l.HitID, l.HitStatus
			for _, sub := range l.Substances {
				if !slices.Contains(li.Substances, sub.Name) {
					li.Substances = append(li.Substances, sub.Name)
				}
			}
		}
		if li.Hit {
			v.Hits++
			for _, sub := range li.Substances {
				if !seenSub[sub] {
					seenSub[sub] = true
					v.Substances = append(v.Substances, sub)
				}
			}
		}
		v.Listings = append(v.Listings, li)
		if v.FirstSeen.IsZero() || l.FirstSeen.Before(v.FirstSeen) {
			v.FirstSeen = l.FirstSeen
		}
		if l.LastSeen.After(v.LastSeen) {
			v.LastSeen = l.LastSeen
		}
		for _, x := range w.sightings[l.ID] {
			idf := Identifier{Kind: x.Kind, Value: x.Value}
			if w.common[x.LinkKey] || seenID[idf] {
				continue
			}
			seenID[idf] = true
			v.Identifiers = append(v.Identifiers, idf)
		}
	}
	slices.Sort(v.Marketplaces)
	slices.Sort(v.Substances)
	slices.SortFunc(v.Identifiers, func(a, b Identifier) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Value, b.Value))
	})
	return v
}

// List returns the vendors f selects, most hits first, then the most
// recently seen.
func (s *Service) List(ctx context.Context, f Filter) ([]Vendor, error) {
	if f.Status != "" && !ValidStatus(f.Status) {
		return nil, Errorf(Invalid, "status %q: want target, monitor, dismissed or new", f.Status)
	}
	w, err := s.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("list vendors: %w", err)
	}
	var changed map[int64]bool
	if !f.ChangedSince.IsZero() {
		if changed, err = s.changedSince(ctx, w, f.ChangedSince); err != nil {
			return nil, err
		}
	}
	var out []Vendor
	for id := range w.byVendor {
		if id == 0 {
			continue
		}
		if len(f.IDs) > 0 && !slices.Contains(f.IDs, id) {
			continue
		}
		v := w.vendor(id)
		if !f.All && len(f.IDs) == 0 && v.Hits == 0 {
			continue
		}
		if f.Market != "" && !slices.Contains(v.Marketplaces, f.Market) {
			continue
		}
		if f.Substance != "" && !slices.Contains(v.Substances, strings.ToLower(f.Substance)) {
			continue
		}
		if f.Status != "" && v.Status != f.Status {
			continue
		}
		if changed != nil && !slices.ContainsFunc(v.Listings, func(l Listing) bool { return changed[l.ID] }) {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Vendor) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// changedSince returns the hit listings first detected, changed (a new
// version) or gone at or after since.
func (s *Service) changedSince(ctx context.Context, w *world, since time.Time) (map[int64]bool, error) {
	out := map[int64]bool{}
	var hitIDs []int64
	for _, l := range w.listings {
		if !isHit(l) {
			continue
		}
		hitIDs = append(hitIDs, l.ID)
		if !l.FirstDetected.Before(since) || !l.GoneAt.IsZero() && !l.GoneAt.Before(since) {
			out[l.ID] = true
		}
	}
	prices, err := s.db.PriceHistory(ctx, hitIDs)
	if err != nil {
		return nil, err
	}
	first := map[int64]bool{}
	for _, p := range prices {
		if first[p.ListingID] && !p.SeenAt.Before(since) {
			out[p.ListingID] = true
		}
		first[p.ListingID] = true
	}
	return out, nil
}

// resolve follows merged_into to the vendor that holds id's listings now.
func (w *world) resolve(id int64) (int64, error) {
	for range 64 {
		r, ok := w.rows[id]
		if !ok {
			return 0, Errorf(NotFound, "no vendor with ID %d (list them with snoop vendors --all)", id)
		}
		if r.MergedInto == 0 {
			if len(w.byVendor[id]) == 0 {
				return 0, Errorf(NotFound, "vendor %d has no listings any more", id)
			}
			return id, nil
		}
		id = r.MergedInto
	}
	return 0, Errorf(NotFound, "vendor %d: merge chain too long", id)
}

// Get returns the profile of vendor id. A vendor merged into another
// gives the other's profile, with MergedVendor naming id.
func (s *Service) Get(ctx context.Context, id int64) (Profile, error) {
	w, err := s.load(ctx)
	if err != nil {
		return Profile{}, fmt.Errorf("vendor %d: %w", id, err)
	}
	rid, err := w.resolve(id)
	if err != nil {
		return Profile{}, err
	}
	p := Profile{Vendor: w.vendor(rid), Links: []Link{}, Suggestions: []Suggestion{}, Sightings: []IdentifierSightings{},
		Common: []store.CommonIdentifier{}, Timeline: []Event{}, Decisions: []store.VendorDecision{}}
	if rid != id {
		p.MergedVendor = []int64{id}
	}
	row := w.rows[rid]
	p.StatusBy, p.StatusAt = row.StatusBy, row.StatusAt
	ls := w.byVendor[rid]
	ids := make([]int64, len(ls))
	inVendor := map[int64]bool{}
	for i, l := range ls {
		ids[i] = l.ID
		inVendor[l.ID] = true
	}
	p.Links = w.links(ls)
	p.Suggestions = w.suggestions(rid, ls)
	// Sightings per identifier, and the common ones.
	idx := map[Identifier]int{}
	commonSeen := map[string]bool{}
	for _, l := range ls {
		for _, x := range w.sightings[l.ID] {
			if w.common[x.LinkKey] {
				commonSeen[x.LinkKey] = true
				continue
			}
			idf := Identifier{Kind: x.Kind, Value: x.Value}
			i, ok := idx[idf]
			if !ok {
				i = len(p.Sightings)
				idx[idf] = i
				p.Sightings = append(p.Sightings, IdentifierSightings{Identifier: idf})
			}
			p.Sightings[i].Seen = append(p.Sightings[i].Seen, x)
		}
	}
	slices.SortFunc(p.Sightings, func(a, b IdentifierSightings) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Value, b.Value))
	})
	for _, c := range w.commons {
		if commonSeen[c.LinkKey] {
			p.Common = append(p.Common, c)
		}
	}
	if p.Prices, err = s.db.PriceHistory(ctx, ids); err != nil {
		return Profile{}, err
	}
	p.Timeline = timeline(ls, p.Prices)
	decisions, err := s.db.VendorDecisions(ctx)
	if err != nil {
		return Profile{}, err
	}
	for _, d := range decisions {
		if slices.ContainsFunc(d.Side0, func(l int64) bool { return inVendor[l] }) ||
			slices.ContainsFunc(d.Side1, func(l int64) bool { return inVendor[l] }) {
			p.Decisions = append(p.Decisions, d)
			if d.Action == "merge" && d.SupersededBy == 0 {
				var ls []int64
				for _, l := range append(slices.Clone(d.Side0), d.Side1...) {
					if inVendor[l] {
						ls = append(ls, l)
					}
				}
				slices.Sort(ls)
				text := fmt.Sprintf("%s merged listings %s into one vendor on %s", d.Actor, joinIDs(ls), d.At.UTC().Format("2006-01-02"))
				if d.Note != "" {
					text += ": " + d.Note
				}
				p.Links = append(p.Links, Link{Reason: "analyst", Decision: d.ID, Listings: ls, Text: text + "."})
			}
		}
	}
	return p, nil
}

// links explains why ls are one vendor.
func (w *world) links(ls []store.VendorListing) []Link {
	var out []Link
	type keyInfo struct {
		idf      Identifier
		listings []int64
		evidence []int64
	}
	keys := map[string]*keyInfo{}
	var order []string
	market := map[int64]string{}
	for _, l := range ls {
		market[l.ID] = l.Market
		for _, x := range w.sightings[l.ID] {
			if w.common[x.LinkKey] {
				continue
			}
			k := keys[x.LinkKey]
			if k == nil {
				k = &keyInfo{idf: Identifier{Kind: x.Kind, Value: x.Value}}
				keys[x.LinkKey] = k
				order = append(order, x.LinkKey)
			}
			if !slices.Contains(k.listings, l.ID) {
				k.listings = append(k.listings, l.ID)
			}
			if !slices.Contains(k.evidence, x.EvidenceID) {
				k.evidence = append(k.evidence, x.EvidenceID)
			}
		}
	}
	slices.Sort(order)
	for _, key := range order {
		k := keys[key]
		if len(k.listings) < 2 {
			continue
		}
		slices.Sort(k.evidence)
		idf := k.idf
		var markets []string
		for _, l := range k.listings {
			if !slices.Contains(markets, market[l]) {
				markets = append(markets, market[l])
			}
		}
		slices.Sort(markets)
		out = append(out, Link{Reason: "identifier", Identifier: &idf, Listings: k.listings, Evidence: k.evidence,
			Text: fmt.Sprintf("Listings %s (on %s) all show %s %s; seen in evidence records %s.",
				joinIDs(k.listings), strings.Join(markets, ", "), kindName(idf.Kind), idf.Value, joinIDs(k.evidence))})
	}
	byName := map[string][]int64{}
	var names []string
	display := map[string]string{}
	capture := map[int64]int64{} // listing -> its latest capture, which shows the name
	for _, l := range ls {
		capture[l.ID] = l.LastEvidenceID
		n := normName(l.Vendor)
		if n == "" {
			continue
		}
		k := l.Market + "\x00" + n
		if _, ok := byName[k]; !ok {
			names = append(names, k)
			display[k] = strings.TrimSpace(l.Vendor)
		}
		byName[k] = append(byName[k], l.ID)
	}
	slices.Sort(names)
	for _, k := range names {
		if len(byName[k]) < 2 {
			continue
		}
		m, _, _ := strings.Cut(k, "\x00")
		var evs []int64
		for _, l := range byName[k] {
			if e := capture[l]; e != 0 && !slices.Contains(evs, e) {
				evs = append(evs, e)
			}
		}
		slices.Sort(evs)
		out = append(out, Link{Reason: "name", Name: display[k], Marketplace: m, Listings: byName[k], Evidence: evs,
			Text: fmt.Sprintf("Listings %s are sold under the same seller name %q on %s; seen in evidence records %s.",
				joinIDs(byName[k]), display[k], m, joinIDs(evs))})
	}
	return out
}

// suggestions lists vendors on other marketplaces using one of the names
// of ls.
func (w *world) suggestions(id int64, ls []store.VendorListing) []Suggestion {
	mine := map[string]map[string]bool{} // folded name -> markets
	for _, l := range ls {
		if n := normName(l.Vendor); n != "" {
			if mine[n] == nil {
				mine[n] = map[string]bool{}
			}
			mine[n][l.Market] = true
		}
	}
	var out []Suggestion
	seen := map[string]bool{}
	for _, l := range w.listings {
		if l.VendorID == id || l.VendorID == 0 {
			continue
		}
		n := normName(l.Vendor)
		ms, ok := mine[n]
		if !ok || ms[l.Market] {
			continue
		}
		k := fmt.Sprintf("%d\x00%s", l.VendorID, l.Market)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Suggestion{VendorID: l.VendorID, Name: strings.TrimSpace(l.Vendor), Marketplace: l.Market,
			Reason: fmt.Sprintf("same seller name %q on %s, but no shared identifier: a name alone does not link across marketplaces",
				strings.TrimSpace(l.Vendor), l.Market)})
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(a.VendorID, b.VendorID), cmp.Compare(a.Marketplace, b.Marketplace))
	})
	return out
}

// timeline lists the dated events of listings ls.
func timeline(ls []store.VendorListing, prices []store.PricePoint) []Event {
	var out []Event
	for _, l := range ls {
		out = append(out, Event{At: l.FirstSeen, Kind: "listed", ListingID: l.ID,
			Text: fmt.Sprintf("listing %d first seen on %s: %s", l.ID, l.Market, l.Title)})
		if l.HitID != 0 && !l.FirstDetected.IsZero() {
			out = append(out, Event{At: l.FirstDetected, Kind: "hit", ListingID: l.ID,
				Text: fmt.Sprintf("hit %d detected (%s)", l.HitID, l.HitStatus)})
		}
		if !l.GoneAt.IsZero() {
			out = append(out, Event{At: l.GoneAt, Kind: "gone", ListingID: l.ID,
				Text: fmt.Sprintf("listing %d gone from %s", l.ID, l.Market)})
		}
	}
	first := map[int64]bool{}
	for _, p := range prices {
		if first[p.ListingID] {
			out = append(out, Event{At: p.SeenAt, Kind: "price", ListingID: p.ListingID,
				Text: fmt.Sprintf("listing %d price now %s", p.ListingID, p.Price)})
		}
		first[p.ListingID] = true
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.At.Compare(b.At) })
	return out
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// kindName is an identifier kind in words.
func kindName(k string) string {
	switch k {
	case "email":
		return "the e-mail address"
	case "phone":
		return "the phone number"
	case "website":
		return "the website"
	case "pgp":
		return "the PGP key"
	case "btc", "eth", "ltc", "trx", "xmr":
		return "the " + strings.ToUpper(k) + " address"
	case "jabber":
		return "the Jabber address"
	}
	return "the " + cases(k) + " handle"
}

func cases(k string) string {
	switch k {
	case "whatsapp":
		return "WhatsApp"
	case "wechat":
		return "WeChat"
	}
	r, n := utf8.DecodeRuneInString(k)
	return strings.ToUpper(string(r)) + k[n:]
}

// checkNote enforces the note limit.
func checkNote(note string) error {
	if len(note) > MaxNote {
		return Errorf(Invalid, "note is %d bytes, longer than %d", len(note), MaxNote)
	}
	if !utf8.ValidString(note) {
		return Errorf(Invalid, "note is not valid UTF-8")
	}
	return nil
}

// SetStatus records vendor id's triage status with a note, in the audit
// log.
func (s *Service) SetStatus(ctx context.Context, id int64, status Status, note, actor string) error {
	if !ValidStatus(status) {
		return Errorf(Invalid, "status %q: want target, monitor, dismissed or new", status)
	}
	if err := checkNote(note); err != nil {
		return err
	}
	w, err := s.load(ctx)
	if err != nil {
		return err
	}
	rid, err := w.resolve(id)
	if err != nil {
		return err
	}
	v := w.vendor(rid)
	details := map[string]any{"vendor": rid, "status": status, "note": note, "previous": w.rows[rid].Status,
		"listings": listingIDs(v.Listings)}
	if err := s.db.SetVendorStatus(ctx, rid, string(status), note, actor, s.now().UTC(), details); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(NotFound, "no vendor with ID %d", id)
		}
		return err
	}
	return nil
}

func listingIDs(ls []Listing) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

// Merge puts the listings of the vendors ids together as one vendor, for
// good (later sweeps keep them together), and returns its id. The merge
// is audit-logged.
func (s *Service) Merge(ctx context.Context, ids []int64, note, actor string) (int64, error) {
	if len(ids) < 2 {
		return 0, Errorf(Invalid, "merge needs at least two vendor IDs")
	}
	if err := checkNote(note); err != nil {
		return 0, err
	}
	w, err := s.load(ctx)
	if err != nil {
		return 0, err
	}
	var side0, side1 []int64
	var resolved []int64
	for i, id := range ids {
		rid, err := w.resolve(id)
		if err != nil {
			return 0, err
		}
		if slices.Contains(resolved, rid) {
			return 0, Errorf(Conflict, "vendor %d is already vendor %d", id, rid)
		}
		resolved = append(resolved, rid)
		for _, l := range w.byVendor[rid] {
			if i == 0 {
				side0 = append(side0, l.ID)
			} else {
				side1 = append(side1, l.ID)
			}
		}
	}
	all := map[int64]bool{}
	for _, l := range append(slices.Clone(side0), side1...) {
		all[l] = true
	}
	decisions, err := s.activeDecisions(ctx)
	if err != nil {
		return 0, err
	}
	var supersede []int64
	for _, d := range decisions {
		if d.Action == "split" && slices.ContainsFunc(d.Side0, func(l int64) bool { return all[l] }) &&
			slices.ContainsFunc(d.Side1, func(l int64) bool { return all[l] }) {
			supersede = append(supersede, d.ID)
		}
	}
	d := store.VendorDecision{Action: "merge", Actor: actor, At: s.now().UTC(), Note: note, Side0: side0, Side1: side1}
	details := map[string]any{"vendors": resolved, "listings": append(slices.Clone(side0), side1...), "note": note, "supersedes": supersede}
	if _, err := s.db.AddVendorDecision(ctx, d, supersede, store.ActionVendorMerge, details); err != nil {
		return 0, err
	}
	if _, _, err := s.relink(ctx); err != nil {
		return 0, err
	}
	return s.db.VendorOfListing(ctx, side0[0])
}

// Split takes listings out of vendor id into a vendor of their own, for
// good (later sweeps keep them apart), and returns the new vendor's id.
// The split is audit-logged.
func (s *Service) Split(ctx context.Context, id int64, listings []int64, note, actor string) (int64, error) {
	if len(listings) == 0 {
		return 0, Errorf(Invalid, "split needs the listing IDs to take out")
	}
	if err := checkNote(note); err != nil {
		return 0, err
	}
	w, err := s.load(ctx)
	if err != nil {
		return 0, err
	}
	rid, err := w.resolve(id)
	if err != nil {
		return 0, err
	}
	out := map[int64]bool{}
	for _, l := range listings {
		out[l] = true
	}
	var side0, side1 []int64
	for _, l := range w.byVendor[rid] {
		if out[l.ID] {
			side1 = append(side1, l.ID)
			delete(out, l.ID)
		} else {
			side0 = append(side0, l.ID)
		}
	}
	if len(out) > 0 {
		var missing []int64
		for l := range out {
			missing = append(missing, l)
		}
		slices.Sort(missing)
		return 0, Errorf(Invalid, "listings %s are not vendor %d's", joinIDs(missing), rid)
	}
	if len(side0) == 0 {
		return 0, Errorf(Invalid, "split would take every listing of vendor %d; name only the listings to take out", rid)
	}
	in0, in1 := map[int64]bool{}, map[int64]bool{}
	for _, l := range side0 {
		in0[l] = true
	}
	for _, l := range side1 {
		in1[l] = true
	}
	decisions, err := s.activeDecisions(ctx)
	if err != nil {
		return 0, err
	}
	var supersede []int64
	for _, d := range decisions {
		members := append(slices.Clone(d.Side0), d.Side1...)
		if d.Action == "merge" && slices.ContainsFunc(members, func(l int64) bool { return in0[l] }) &&
			slices.ContainsFunc(members, func(l int64) bool { return in1[l] }) {
			supersede = append(supersede, d.ID)
		}
	}
	d := store.VendorDecision{Action: "split", Actor: actor, At: s.now().UTC(), Note: note, Side0: side0, Side1: side1}
	details := map[string]any{"vendor": rid, "kept": side0, "split_off": side1, "note": note, "supersedes": supersede}
	if _, err := s.db.AddVendorDecision(ctx, d, supersede, store.ActionVendorSplit, details); err != nil {
		return 0, err
	}
	if _, _, err := s.relink(ctx); err != nil {
		return 0, err
	}
	return s.db.VendorOfListing(ctx, side1[0])
}

// VendorOfListing returns the vendor of a listing (0 if it has none yet).
func (s *Service) VendorOfListing(ctx context.Context, listingID int64) (int64, error) {
	if err := s.ensure(ctx); err != nil {
		return 0, err
	}
	return s.db.VendorOfListing(ctx, listingID)
}

// Restrict returns p cut down to the listings in keep: their identifiers,
// links among them, hits and substances. Shared exports of a hit
// selection use it so that nothing beyond the selection leaves.
func Restrict(p Profile, keep map[int64]bool) Profile {
	q := p
	q.Listings, q.Sightings, q.Links, q.Identifiers, q.Substances, q.Marketplaces = nil, nil, nil, []Identifier{}, []string{}, []string{}
	q.Hits = 0
	q.Prices = nil
	for _, l := range p.Listings {
		if !keep[l.ID] {
			continue
		}
		q.Listings = append(q.Listings, l)
		if !slices.Contains(q.Marketplaces, l.Marketplace) {
			q.Marketplaces = append(q.Marketplaces, l.Marketplace)
		}
		if l.Hit {
			q.Hits++
			for _, s := range l.Substances {
				if !slices.Contains(q.Substances, s) {
					q.Substances = append(q.Substances, s)
				}
			}
		}
	}
	for _, s := range p.Sightings {
		var seen []store.Sighting
		for _, x := range s.Seen {
			if keep[x.ListingID] {
				seen = append(seen, x)
			}
		}
		if len(seen) > 0 {
			q.Sightings = append(q.Sightings, IdentifierSightings{Identifier: s.Identifier, Seen: seen})
			q.Identifiers = append(q.Identifiers, s.Identifier)
		}
	}
	for _, k := range p.Links {
		var ls []int64
		for _, l := range k.Listings {
			if keep[l] {
				ls = append(ls, l)
			}
		}
		if len(ls) >= 2 {
			k.Listings = ls
			q.Links = append(q.Links, k)
		}
	}
	for _, pp := range p.Prices {
		if keep[pp.ListingID] {
			q.Prices = append(q.Prices, pp)
		}
	}
	q.Timeline = nil
	for _, ev := range p.Timeline {
		if keep[ev.ListingID] {
			q.Timeline = append(q.Timeline, ev)
		}
	}
	q.Suggestions = nil
	slices.Sort(q.Marketplaces)
	slices.Sort(q.Substances)
	return q
}
