package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"snoop/vendors"
	"snoop/vendors/vendortest"
)

// vendorFixture is the web fixture with a vendor world added to its
// database: several marketplaces, sellers under several names.
func vendorFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	if _, err := vendortest.Build(context.Background(), f.db, 7, testNow.Add(-48*60*60*1e9)); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestVendorPages(t *testing.T) {
	f := vendorFixture(t)
	w := f.do(t, req{path: "/vendors"})
	if w.Code != http.StatusOK {
		t.Fatalf("GET /vendors = %d: %s", w.Code, w.Body)
	}
	checkCSP(t, w, cspPage)
	body := w.Body.String()
	if !strings.Contains(body, `id="vendors"`) || !strings.Contains(body, "/vendors/") {
		t.Fatalf("vendor list shows no vendors: %.500s", body)
	}
	// The hostile listing title of the fixture's first hit is escaped on
	// the profile of its vendor (chemlab).
	w = f.do(t, req{path: fmt.Sprintf("/hits/%d/vendor", f.hits[0])})
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/vendors/") {
		t.Fatalf("GET /hits/%d/vendor = %d %q", f.hits[0], w.Code, w.Header().Get("Location"))
	}
	loc := w.Header().Get("Location")
	w = f.do(t, req{path: loc})
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", loc, w.Code)
	}
	checkCSP(t, w, cspPage)
	body = w.Body.String()
	if strings.Contains(body, `<script>document.title="pwned"`) || strings.Contains(body, `<img src=x`) {
		t.Error("vendor page contains the listing's markup unescaped")
	}
	for _, want := range []string{"chemlab", `id="vendor-listings"`, "Why these listings are one seller", "same seller name"} {
		if !strings.Contains(body, want) {
			t.Errorf("vendor page lacks %q", want)
		}
	}
	// Every hit page links to its vendor.
	w = f.do(t, req{path: fmt.Sprintf("/hits/%d", f.hits[0])})
	if !strings.Contains(w.Body.String(), fmt.Sprintf(`href="/hits/%d/vendor"`, f.hits[0])) {
		t.Error("hit page does not link to the vendor")
	}
	if w := f.do(t, req{path: "/vendors/99999"}); w.Code != http.StatusNotFound {
		t.Errorf("GET /vendors/99999 = %d, want 404", w.Code)
	}
	if w := f.do(t, req{path: "/vendors/x"}); w.Code != http.StatusBadRequest {
		t.Errorf("GET /vendors/x = %d, want 400", w.Code)
	}
}

func TestVendorAPI(t *testing.T) {
	f := vendorFixture(t)
	w := f.do(t, req{path: "/api/vendors?all=1"})
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/vendors = %d: %s", w.Code, w.Body)
	}
	vs := decode[[]vendors.Vendor](t, w)
	if len(vs) < 20 {
		t.Fatalf("%d vendors, want the world's", len(vs))
	}
	var cross vendors.Vendor
	for _, v := range vs {
		if len(v.Marketplaces) > 1 {
			cross = v
			break
		}
	}
	if cross.ID == 0 {
		t.Fatal("no vendor on two marketplaces")
	}
	w = f.do(t, req{path: fmt.Sprintf("/api/vendors/%d", cross.ID)})
	p := decode[vendors.Profile](t, w)
	if p.ID != cross.ID || len(p.Links) == 0 || len(p.Sightings) == 0 {
		t.Fatalf("profile %d: %d links, %d identifiers", p.ID, len(p.Links), len(p.Sightings))
	}
	// Market filter.
	w = f.do(t, req{path: "/api/vendors?all=1&market=" + cross.Marketplaces[0]})
	for _, v := range decode[[]vendors.Vendor](t, w) {
		if !strings.Contains(strings.Join(v.Marketplaces, ","), cross.Marketplaces[0]) {
			t.Errorf("market filter let vendor %d (%v) through", v.ID, v.Marketplaces)
		}
	}
	// Triage through the API (JSON without auth needs no token).
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{fmt.Sprintf("/api/vendors/%d/status", cross.ID), `{"status":"target","note":"runs three shops"}`, http.StatusOK},
		{fmt.Sprintf("/api/vendors/%d/status", cross.ID), `{"status":"arrested"}`, http.StatusBadRequest},
		{fmt.Sprintf("/api/vendors/%d/status", cross.ID), `{"status":"monitor","note":"` + strings.Repeat("x", vendors.MaxNote+1) + `"}`, http.StatusBadRequest},
		{"/api/vendors/99999/status", `{"status":"target"}`, http.StatusNotFound},
		{"/api/vendors/merge", `{"ids":[1]}`, http.StatusBadRequest},
		{fmt.Sprintf("/api/vendors/%d/split", cross.ID), `{"listings":[]}`, http.StatusBadRequest},
	} {
		w := f.do(t, req{method: http.MethodPost, path: c.path, body: c.body, ctype: "application/json"})
		if w.Code != c.want {
			t.Errorf("POST %s %.60s = %d %s, want %d", c.path, c.body, w.Code, w.Body, c.want)
		}
	}
	w = f.do(t, req{path: "/api/vendors?status=target&all=1"})
	got := decode[[]vendors.Vendor](t, w)
	if len(got) != 1 || got[0].ID != cross.ID || got[0].Note != "runs three shops" {
		t.Errorf("targets = %+v", got)
	}
	entries, err := f.db.AuditEntries(context.Background(), testNow.Add(-1e18))
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != "vendor.status" || last.Actor != "local-analyst" {
		t.Errorf("last audit row %s by %s", last.Action, last.Actor)
	}
	var d map[string]any
	json.Unmarshal(last.Details, &d)
	if d["status"] != "target" {
		t.Errorf("audit details %s", last.Details)
	}
}

func TestVendorFormsNeedCSRF(t *testing.T) {
	f := vendorFixture(t)
	vs := decode[[]vendors.Vendor](t, f.do(t, req{path: "/api/vendors"}))
	id := vs[0].ID
	path := fmt.Sprintf("/vendors/%d/status", id)
	w := f.do(t, req{method: http.MethodPost, path: path, body: form("status", "target", "note", "x"), ctype: formType})
	if w.Code != http.StatusForbidden {
		t.Errorf("status form without token = %d, want 403", w.Code)
	}
	cookies, tok := f.csrf(t)
	w = f.do(t, req{method: http.MethodPost, path: path, body: form("csrf", tok, "status", "monitor", "note", "watch"), ctype: formType, cookies: cookies})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status form with token = %d: %s", w.Code, w.Body)
	}
	p := decode[vendors.Profile](t, f.do(t, req{path: fmt.Sprintf("/api/vendors/%d", id)}))
	if p.Status != vendors.StatusMonitor || p.Note != "watch" || p.StatusBy != "local-analyst" {
		t.Errorf("after the form: status %s note %q by %q", p.Status, p.Note, p.StatusBy)
	}
	// Split and merge back through the forms.
	if len(p.Listings) < 2 {
		t.Skip("vendor has one listing")
	}
	w = f.do(t, req{method: http.MethodPost, path: fmt.Sprintf("/vendors/%d/split", id),
		body: form("csrf", tok, "listing", fmt.Sprint(p.Listings[0].ID), "note", "other seller"), ctype: formType, cookies: cookies})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("split form = %d: %s", w.Code, w.Body)
	}
	var nid int64
	fmt.Sscanf(w.Header().Get("Location"), "/vendors/%d", &nid)
	w = f.do(t, req{method: http.MethodPost, path: "/vendors/merge",
		body: form("csrf", tok, "id", fmt.Sprintf("%d, %d", id, nid), "note", "same after all"), ctype: formType, cookies: cookies})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("merge form = %d: %s", w.Code, w.Body)
	}
}
