package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/store"
	"snoop/vendors/vendortest"
)

// worldDB writes the vendor test world to a database file.
func worldDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "world.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vendortest.Build(ctx, db, 5, time.Now().UTC().Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
}

// jsonVendor is the SPEC's vendor line.
type jsonVendor struct {
	ID           int64    `json:"id"`
	Names        []string `json:"names"`
	Marketplaces []string `json:"marketplaces"`
	Identifiers  []struct {
		Kind, Value string
	} `json:"identifiers"`
	Listings []struct {
		ID          int64  `json:"id"`
		URL         string `json:"url"`
		Marketplace string `json:"marketplace"`
		Hit         bool   `json:"hit"`
		Gone        bool   `json:"gone"`
	} `json:"listings"`
	Hits       int       `json:"hits"`
	Substances []string  `json:"substances"`
	Status     string    `json:"status"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

func readVendors(t *testing.T, db string, extra ...string) []jsonVendor {
	t.Helper()
	out, errOut, code := runCmd(t, context.Background(), append([]string{"vendors", "--db", db, "--format", "jsonl"}, extra...)...)
	if code != 0 {
		t.Fatalf("vendors: exit %d: %s", code, errOut)
	}
	var vs []jsonVendor
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v jsonVendor
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("vendors line %q: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestVendorsCommand(t *testing.T) {
	ctx := context.Background()
	db := worldDB(t)
	all := readVendors(t, db, "--all")
	withHits := readVendors(t, db)
	if len(all) < 20 || len(withHits) == 0 || len(withHits) > len(all) {
		t.Fatalf("%d vendors, %d with hits", len(all), len(withHits))
	}
	var cross jsonVendor
	for _, v := range all {
		if v.ID == 0 || len(v.Names) == 0 && len(v.Listings) == 0 || v.Status != "new" || v.FirstSeen.IsZero() {
			t.Errorf("vendor line incomplete: %+v", v)
		}
		for _, i := range v.Identifiers {
			if i.Kind == "telegram" && (strings.HasPrefix(i.Value, "@") || strings.ToLower(i.Value) != i.Value) {
				t.Errorf("telegram handle %q not lower case without @", i.Value)
			}
			if i.Kind == "pgp" && (len(i.Value) != 40 || strings.ToUpper(i.Value) != i.Value) {
				t.Errorf("pgp fingerprint %q not 40 upper-case hex", i.Value)
			}
			if i.Kind == "phone" && !strings.HasPrefix(i.Value, "+") {
				t.Errorf("phone %q not E.164", i.Value)
			}
		}
		if len(v.Marketplaces) > 1 && cross.ID == 0 {
			cross = v
		}
	}
	if cross.ID == 0 {
		t.Fatal("no vendor on two marketplaces")
	}
	for _, v := range readVendors(t, db, "--all", "--market", "tinyshop") {
		if strings.Join(v.Marketplaces, ",") != "tinyshop" {
			t.Errorf("--market tinyshop gave %v", v.Marketplaces)
		}
	}
	// One vendor's profile, then triage.
	id := fmt.Sprint(cross.ID)
	out, errOut, code := runCmd(t, ctx, "vendor", "--db", db, id)
	if code != 0 || !strings.Contains(out, "why these listings are one seller") || !strings.Contains(out, cross.Marketplaces[1]) {
		t.Fatalf("vendor %s: exit %d\n%s\n%s", id, code, out, errOut)
	}
	if _, _, code := runCmd(t, ctx, "vendor", "--db", db, id, "--status", "target", "--note", "three shops", "--analyst", "ana"); code != 0 {
		t.Fatalf("vendor --status: exit %d", code)
	}
	targets := readVendors(t, db, "--all", "--status", "target")
	if len(targets) != 1 || targets[0].ID != cross.ID {
		t.Errorf("targets = %+v", targets)
	}
	if _, errOut, code := runCmd(t, ctx, "audit", "verify", "--db", db); code != 0 {
		t.Errorf("audit verify: exit %d: %s", code, errOut)
	}
	sdb, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := sdb.AuditEntries(ctx, time.Time{})
	sdb.Close()
	if err != nil || len(entries) == 0 || entries[len(entries)-1].Action != store.ActionVendorStatus || entries[len(entries)-1].Actor != "ana" {
		t.Errorf("last audit entry is not ana's vendor status: %v %+v", err, entries)
	}
	// Usage errors exit 2; a missing vendor exits 1.
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"vendor", "--db", db, id, "--status", "arrested"}, 2},
		{[]string{"vendor", "--db", db, id, "--status", "monitor", "--note", strings.Repeat("x", 4001)}, 2},
		{[]string{"vendor", "--db", db, "x"}, 2},
		{[]string{"vendor", "--db", db, "99999"}, 1},
		{[]string{"vendors", "--db", db, "--format", "xml"}, 2},
		{[]string{"vendors", "--db", db, "--status", "arrested"}, 2},
		{[]string{"vendor", "merge", "--db", db, id}, 2},
	} {
		if _, errOut, code := runCmd(t, ctx, c.args...); code != c.code {
			t.Errorf("snoop %v: exit %d (%s), want %d", c.args, code, errOut, c.code)
		}
	}
	// CSV and table formats.
	out, _, code = runCmd(t, ctx, "vendors", "--db", db, "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "id,status,hits,names,marketplaces") {
		t.Errorf("csv: exit %d: %.200s", code, out)
	}
	out, _, code = runCmd(t, ctx, "vendors", "--db", db)
	if code != 0 || !strings.Contains(out, "MARKETPLACES") {
		t.Errorf("table: exit %d: %.200s", code, out)
	}
}

func TestVendorExportsAndReport(t *testing.T) {
	ctx := context.Background()
	db := worldDB(t)
	vs := readVendors(t, db)
	var ids []string
	for _, v := range vs {
		if len(v.Marketplaces) > 1 && len(ids) < 2 {
			ids = append(ids, fmt.Sprint(v.ID))
		}
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "vendors.zip")
	args := []string{"export", "--db", db, "--out", pkg}
	for _, id := range ids {
		args = append(args, "--vendor", id)
	}
	if out, errOut, code := runCmd(t, ctx, args...); code != 0 {
		t.Fatalf("export --vendor: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := runCmd(t, ctx, "verify", pkg); code != 0 {
		t.Fatalf("verify vendor package: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, format := range []string{"misp", "stix"} {
		out := filepath.Join(dir, format+".json")
		if o, e, code := runCmd(t, ctx, "export", "--db", db, "--out", out, "--format", format, "--tlp", "green", "--vendor", ids[0]); code != 0 {
			t.Fatalf("export --format %s: exit %d\n%s\n%s", format, code, o, e)
		}
		b, err := os.ReadFile(out)
		if err != nil || !json.Valid(b) || !strings.Contains(string(b), "green") {
			t.Errorf("%s export: %v, valid %v", format, err, json.Valid(b))
		}
		if _, _, code := runCmd(t, ctx, "export", "--db", db, "--out", out, "--format", format, "--vendor", ids[0]); code != 1 {
			t.Errorf("export over an existing %s file: exit %d, want 1", format, code)
		}
	}
	// A shared export of a hit selection with no confirmed hit is refused.
	if _, _, code := runCmd(t, ctx, "export", "--db", db, "--out", filepath.Join(dir, "none.json"), "--format", "misp"); code != 1 {
		t.Errorf("misp export of no confirmed hits: exit %d, want 1", code)
	}
	if _, _, code := runCmd(t, ctx, "export", "--db", db, "--out", filepath.Join(dir, "x.json"), "--format", "misp", "--tlp", "blue"); code != 2 {
		t.Errorf("--tlp blue: exit %d, want 2", code)
	}
	// The weekly report.
	rdir := filepath.Join(dir, "report")
	out, errOut, code := runCmd(t, ctx, "report", "--db", db, "--since", "7d", "--out", rdir)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		Vendors []jsonVendor `json:"vendors"`
	}
	b, err := os.ReadFile(filepath.Join(rdir, "report.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil || len(rep.Vendors) != len(vs) {
		t.Errorf("report.json: %v, %d vendors, want %d", err, len(rep.Vendors), len(vs))
	}
	html, err := os.ReadFile(filepath.Join(rdir, "report.html"))
	if err != nil || !strings.Contains(string(html), "Why these listings belong to one seller") {
		t.Errorf("report.html: %v", err)
	}
	// Nothing changed in the last hour before the world's listings.
	out, _, code = runCmd(t, ctx, "report", "--db", db, "--since", time.Now().UTC().Add(time.Hour).Format(time.RFC3339), "--out", filepath.Join(dir, "empty"))
	if code != 0 || !strings.Contains(out, ": 0 vendors") {
		t.Errorf("report of a future period: exit %d: %s", code, out)
	}
	if _, _, code := runCmd(t, ctx, "report", "--db", db, "--since", "last week"); code != 2 {
		t.Errorf("--since 'last week': exit %d, want 2", code)
	}
}

func TestSweepLinksVendors(t *testing.T) {
	ctx := context.Background()
	market := newTestMarket(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, market.URL)
	db := filepath.Join(dir, "snoop.db")
	if out, errOut, code := runCmd(t, ctx, "sweep", "--db", db, "--config", cfg); code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, errOut)
	}
	// The sweep itself extracted identifiers and linked vendors.
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	through, err := s.ExtractedThrough(ctx)
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := s.LatestVersion(ctx)
	if through == 0 || through != latest {
		t.Errorf("after the sweep identifiers were extracted through version %d of %d", through, latest)
	}
	vl, err := s.VendorListings(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range vl {
		if l.VendorID == 0 {
			t.Errorf("listing %d (%s) has no vendor after the sweep", l.ID, l.URL)
		}
	}
}

func TestVendorOutputHasNoTerminalEscapes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "esc.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	sw, _ := db.BeginSweep(ctx, []string{"m"}, "r", now)
	evil := "Evil\x1b]0;pwned\x07\x1b[2J"
	_, err = db.SavePage(ctx, store.PageRecord{SweepID: sw, Market: "m", URL: "http://m.test/1", Status: 200,
		Evidence: store.Evidence{FetchedAt: now, RequestBytes: []byte("GET / HTTP/1.1\r\n\r\n"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\nx")}},
		[]store.ListingRecord{{URL: "http://m.test/1", Title: "fentanyl " + evil, Vendor: evil, Text: "fentanyl",
			Hit: &store.HitRecord{Score: 1, Substances: []store.Substance{{Name: "fentanyl"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	vs := readVendors(t, path)
	if len(vs) != 1 {
		t.Fatalf("%d vendors", len(vs))
	}
	for _, args := range [][]string{{"vendors", "--db", path}, {"vendor", "--db", path, fmt.Sprint(vs[0].ID)}} {
		out, _, code := runCmd(t, ctx, args...)
		if code != 0 || strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("snoop %v: exit %d, output carries terminal escapes: %q", args, code, out)
		}
	}
}
