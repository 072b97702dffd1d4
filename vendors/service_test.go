package vendors_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"snoop/store"
	"snoop/vendors"
)

// resweep stores one more sighting of a listing (a new sweep, a new
// version of its text) so that the vendors are relinked from scratch.
func resweep(t *testing.T, db *store.DB, url, market, vendor, text string) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 9, 10, 0, 0, 0, time.UTC)
	id, err := db.BeginSweep(ctx, []string{market}, "sha256:world", at)
	if err != nil {
		t.Fatal(err)
	}
	body := "<html><body><h1>again</h1><p>" + text + "</p></body></html>"
	_, err = db.SavePage(ctx, store.PageRecord{SweepID: id, Market: market, URL: url, Status: 200, FetchedAt: at,
		Evidence: store.Evidence{URL: url, Method: "GET", Status: 200, FetchedAt: at, RequestBytes: []byte("GET / HTTP/1.1\r\n\r\n"),
			ResponseBytes: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body)}},
		[]store.ListingRecord{{URL: url, Title: "again", Description: text, Vendor: vendor, Text: "again\n" + text}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishSweep(ctx, id, store.SweepCompleted, nil, at); err != nil {
		t.Fatal(err)
	}
}

func vendorOfURL(t *testing.T, svc *vendors.Service, url string) vendors.Vendor {
	t.Helper()
	vs, err := svc.List(context.Background(), vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, l := range v.Listings {
			if l.URL == url {
				return v
			}
		}
	}
	t.Fatalf("no vendor holds %s", url)
	return vendors.Vendor{}
}

func TestMergeAndSplitSurviveSweeps(t *testing.T) {
	ctx := context.Background()
	db, svc, _ := openWorld(t, 1)
	vs, err := svc.List(ctx, vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	// Split: the vendor with most listings loses one.
	big := vs[0]
	for _, v := range vs {
		if len(v.Listings) > len(big.Listings) {
			big = v
		}
	}
	off := big.Listings[len(big.Listings)-1]
	newID, err := svc.Split(ctx, big.ID, []int64{off.ID}, "different seller, same template", "ana")
	if err != nil {
		t.Fatal(err)
	}
	if newID == big.ID || newID == 0 {
		t.Fatalf("split gave vendor %d, want a new one (old %d)", newID, big.ID)
	}
	// Merge: two single-marketplace vendors.
	var a, b vendors.Vendor
	for _, v := range vs {
		if v.ID == big.ID {
			continue
		}
		if a.ID == 0 {
			a = v
		} else if b.ID == 0 {
			b = v
		}
	}
	merged, err := svc.Merge(ctx, []int64{a.ID, b.ID}, "same courier tracking numbers", "ana")
	if err != nil {
		t.Fatal(err)
	}
	// A later sweep: the split-off listing shows the big vendor's first
	// identifier again, and a listing of b changes its text.
	p, err := svc.Get(ctx, big.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sightings) == 0 {
		t.Fatal("big vendor has no identifiers")
	}
	shared := p.Sightings[0].Seen[0].Raw
	resweep(t, db, off.URL, off.Marketplace, off.Name, "still here "+shared)
	resweep(t, db, b.Listings[0].URL, b.Listings[0].Marketplace, b.Listings[0].Name, "new price list")
	if _, err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := vendorOfURL(t, svc, off.URL); got.ID != newID {
		t.Errorf("after a sweep the split-off listing is with vendor %d, want %d", got.ID, newID)
	}
	if got := vendorOfURL(t, svc, big.Listings[0].URL); got.ID != big.ID {
		t.Errorf("after a sweep the big vendor's listing is with vendor %d, want %d", got.ID, big.ID)
	}
	if ga, gb := vendorOfURL(t, svc, a.Listings[0].URL), vendorOfURL(t, svc, b.Listings[0].URL); ga.ID != merged || gb.ID != merged {
		t.Errorf("after a sweep merged listings are with vendors %d and %d, want %d", ga.ID, gb.ID, merged)
	}
	// The merged-away vendor's ID leads to the merged vendor.
	other := a.ID
	if other == merged {
		other = b.ID
	}
	mp, err := svc.Get(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if mp.ID != merged || !slices.Contains(mp.MergedVendor, other) {
		t.Errorf("Get(%d) = vendor %d (merged %v), want %d", other, mp.ID, mp.MergedVendor, merged)
	}
	if !slices.ContainsFunc(mp.Links, func(l vendors.Link) bool { return l.Reason == "analyst" }) {
		t.Error("merged vendor's profile names no analyst decision")
	}
	// A merge after the split puts them back together.
	back, err := svc.Merge(ctx, []int64{big.ID, newID}, "split was wrong", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got := vendorOfURL(t, svc, off.URL); got.ID != back {
		t.Errorf("after merging back the listing is with vendor %d, want %d", got.ID, back)
	}
	entries, err := db.AuditEntries(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "vendor.") {
			actions = append(actions, e.Action+"/"+e.Actor)
		}
	}
	if want := []string{"vendor.split/ana", "vendor.merge/ana", "vendor.merge/bob"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	db, svc, _ := openWorld(t, 2)
	vs, err := svc.List(ctx, vendors.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	id := vs[0].ID
	if err := svc.SetStatus(ctx, id, vendors.StatusTarget, "priority: ships carfentanil", "ana"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status vendors.Status
		note   string
		code   vendors.Code
	}{
		{"arrested", "", vendors.Invalid},
		{vendors.StatusMonitor, strings.Repeat("x", vendors.MaxNote+1), vendors.Invalid},
	} {
		if err := svc.SetStatus(ctx, id, c.status, c.note, "ana"); vendors.ErrorCode(err) != c.code {
			t.Errorf("SetStatus(%q, %d-byte note) = %v, want code %s", c.status, len(c.note), err, c.code)
		}
	}
	if err := svc.SetStatus(ctx, 999999, vendors.StatusTarget, "", "ana"); vendors.ErrorCode(err) != vendors.NotFound {
		t.Errorf("SetStatus(missing) = %v, want not_found", err)
	}
	got, err := svc.List(ctx, vendors.Filter{Status: vendors.StatusTarget})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != id || got[0].Note != "priority: ships carfentanil" {
		t.Errorf("targets = %+v, want vendor %d with its note", got, id)
	}
	entries, _ := db.AuditEntries(ctx, time.Time{})
	last := entries[len(entries)-1]
	if last.Action != store.ActionVendorStatus || !strings.Contains(string(last.Details), `"status":"target"`) {
		t.Errorf("last audit row = %s %s", last.Action, last.Details)
	}
}

func TestProfileExplains(t *testing.T) {
	ctx := context.Background()
	_, svc, truth := openWorld(t, 3)
	vs, err := svc.List(ctx, vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var sawCross, sawSuggestion, sawCommon bool
	for _, v := range vs {
		p, err := svc.Get(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Listings) > 1 && len(p.Links) == 0 {
			t.Errorf("vendor %d has %d listings and no link explaining them", v.ID, len(p.Listings))
		}
		for _, l := range p.Links {
			if l.Reason == "identifier" && len(l.Evidence) == 0 {
				t.Errorf("vendor %d: identifier link without evidence records: %+v", v.ID, l)
			}
			if l.Reason == "identifier" && len(v.Marketplaces) > 1 {
				sawCross = true
			}
		}
		for _, s := range p.Suggestions {
			if slices.Contains(truth.NameCollisions, s.Name) {
				sawSuggestion = true
			}
		}
		if len(p.Common) > 0 {
			sawCommon = true
		}
		for _, sg := range p.Sightings {
			for _, x := range sg.Seen {
				if x.EvidenceID == 0 || x.End <= x.Start {
					t.Errorf("vendor %d: sighting without evidence or span: %+v", v.ID, x)
				}
			}
		}
		b, _ := json.Marshal(v)
		for _, k := range []string{`"id"`, `"names"`, `"marketplaces"`, `"identifiers"`, `"listings"`, `"hits"`, `"substances"`, `"status"`, `"first_seen"`, `"last_seen"`} {
			if !strings.Contains(string(b), k) {
				t.Errorf("vendor JSON lacks %s: %s", k, b)
			}
		}
	}
	if !sawCross || !sawSuggestion || !sawCommon {
		t.Errorf("cross-market link %v, name suggestion %v, common identifiers %v: want all", sawCross, sawSuggestion, sawCommon)
	}
}

func TestReextractKeepsVendors(t *testing.T) {
	ctx := context.Background()
	_, svc, _ := openWorld(t, 3)
	before, err := svc.List(ctx, vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetStatus(ctx, before[0].ID, vendors.StatusMonitor, "keep", "ana"); err != nil {
		t.Fatal(err)
	}
	st, err := svc.Reextract(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Versions == 0 || st.Sightings == 0 {
		t.Fatalf("reextract read %d versions, %d sightings", st.Versions, st.Sightings)
	}
	after, err := svc.List(ctx, vendors.Filter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d vendors after, %d before", len(after), len(before))
	}
	ids := map[int64]int{}
	for _, v := range before {
		ids[v.ID] = len(v.Listings)
	}
	for _, v := range after {
		if ids[v.ID] != len(v.Listings) {
			t.Errorf("vendor %d changed: %d listings, was %d", v.ID, len(v.Listings), ids[v.ID])
		}
		if v.ID == before[0].ID && v.Status != vendors.StatusMonitor {
			t.Errorf("vendor %d lost its status", v.ID)
		}
	}
}
