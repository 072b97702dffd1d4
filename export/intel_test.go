package export_test

import (
	"bytes"
	"context"
	csvpkg "encoding/csv"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"snoop/export"
	"snoop/store"
	"snoop/vendors"
	"snoop/vendors/vendortest"
)

// stixBase is where the STIX 2.1 schemas' $id URLs start.
const stixBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// compileSchema loads the schemas copied to testdata/schemas (with their
// licences) and compiles the one at loc.
func compileSchema(t *testing.T, loc string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	root := filepath.Join("testdata", "schemas")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		url := "file:///schemas/" + rel
		if s, ok := strings.CutPrefix(rel, "stix2.1/"); ok {
			url = stixBase + s
		}
		return c.AddResource(url, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// worldProfiles builds the vendor world and returns the profiles of its
// vendors on more than one marketplace.
func worldProfiles(t *testing.T) (*store.DB, []vendors.Profile) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := vendortest.Build(ctx, db, 11, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	svc := vendors.NewService(db, vendors.Options{})
	vs, err := svc.List(ctx, vendors.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []vendors.Profile
	for _, v := range vs {
		if len(v.Marketplaces) < 2 || len(out) == 3 {
			continue
		}
		p, err := svc.Get(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatal("no vendor on two marketplaces")
	}
	return db, out
}

func validate(t *testing.T, sch *jsonschema.Schema, v any) {
	t.Helper()
	if err := check(t, sch, v); err != nil {
		t.Errorf("does not validate: %v", err)
	}
}

func check(t *testing.T, sch *jsonschema.Schema, v any) error {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

func TestMISPValidates(t *testing.T) {
	_, ps := worldProfiles(t)
	in := export.Intel{Case: "op-nitro", Created: time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC), TLP: "amber", Vendors: ps}
	var buf bytes.Buffer
	if err := export.WriteMISP(&buf, in); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// PyMISP validates events with the lax schema, which allows objects.
	lax := compileSchema(t, "file:///schemas/misp/schema-lax.json")
	validate(t, lax, doc)
	// The schema is not vacuous: a broken event fails it.
	var broken map[string]any
	json.Unmarshal(buf.Bytes(), &broken)
	broken["Event"].(map[string]any)["Attribute"].([]any)[0].(map[string]any)["to_ids"] = "yes"
	if check(t, lax, broken) == nil {
		t.Error("an attribute with to_ids \"yes\" passed the schema")
	}
	// schema.json, the strict variant, cannot be compiled: it breaks its
	// own metaschema (a "required" array among the properties of
	// sharing_group), and it predates MISP objects.
	ev := doc["Event"].(map[string]any)
	objects := ev["Object"].([]any)
	// What it holds: TLP tag, URLs, substances, identifiers with MISP types.
	s := buf.String()
	for _, want := range []string{`"name": "tlp:amber"`, `"type": "url"`, `"object_relation": "substance"`, `"name": "snoop-vendor"`} {
		if !strings.Contains(s, want) {
			t.Errorf("MISP event lacks %s", want)
		}
	}
	if len(objects) != len(ps) {
		t.Errorf("%d objects for %d vendors", len(objects), len(ps))
	}
	// Stable ids: the same export twice is the same event.
	var again bytes.Buffer
	export.WriteMISP(&again, in)
	if again.String() != s {
		t.Error("two exports of the same vendors differ")
	}
}

func TestSTIXValidates(t *testing.T) {
	_, ps := worldProfiles(t)
	in := export.Intel{Case: "op-nitro", Created: time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC), TLP: "red", Vendors: ps}
	var buf bytes.Buffer
	if err := export.WriteSTIX(&buf, in); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	bundle := compileSchema(t, stixBase+"common/bundle.json")
	validate(t, bundle, doc)
	// The schema is not vacuous: an indicator without a pattern fails it.
	var broken map[string]any
	json.Unmarshal(buf.Bytes(), &broken)
	for _, o := range broken["objects"].([]any) {
		if m := o.(map[string]any); m["type"] == "indicator" {
			delete(m, "pattern")
			break
		}
	}
	if check(t, bundle, broken) == nil {
		t.Error("an indicator without a pattern passed the schema")
	}
	types := map[string]int{}
	ids := map[string]bool{}
	for _, o := range doc["objects"].([]any) {
		m := o.(map[string]any)
		types[m["type"].(string)]++
		ids[m["id"].(string)] = true
	}
	for _, typ := range []string{"identity", "marking-definition", "threat-actor", "indicator", "observed-data", "relationship", "url"} {
		if types[typ] == 0 {
			t.Errorf("bundle has no %s", typ)
		}
	}
	if types["threat-actor"] != len(ps) {
		t.Errorf("%d threat actors for %d vendors", types["threat-actor"], len(ps))
	}
	// Every reference resolves inside the bundle.
	for _, o := range doc["objects"].([]any) {
		m := o.(map[string]any)
		for _, k := range []string{"source_ref", "target_ref", "created_by_ref"} {
			if r, ok := m[k].(string); ok && !ids[r] {
				t.Errorf("%s %s: %s %s not in the bundle", m["type"], m["id"], k, r)
			}
		}
		if refs, ok := m["object_refs"].([]any); ok {
			for _, r := range refs {
				if !ids[r.(string)] {
					t.Errorf("%s: object_ref %s not in the bundle", m["id"], r)
				}
			}
		}
	}
	if !strings.Contains(buf.String(), "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed") {
		t.Error("bundle is not marked TLP:RED")
	}
}

func TestVendorPackageVerifies(t *testing.T) {
	ctx := context.Background()
	db, ps := worldProfiles(t)
	now := time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC)
	extra, hitIDs, err := export.VendorDossier(ctx, db, ps, "op-nitro", "test", "ana", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(hitIDs) == 0 {
		t.Fatal("vendors have no hits")
	}
	out := filepath.Join(t.TempDir(), "vendor.zip")
	sum, err := export.Write(ctx, db, out, export.Options{Case: "op-nitro", Filter: store.HitFilter{IDs: hitIDs, Status: export.StatusAny},
		ToolVersion: "test", Actor: "ana", Extra: extra, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Hits != len(hitIDs) {
		t.Errorf("package has %d hits, want %d", sum.Hits, len(hitIDs))
	}
	rep, err := export.Verify(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("vendor package does not verify: %s", rep)
	}
	names := map[string]bool{}
	for _, f := range extra {
		names[f.Name] = true
	}
	for _, want := range []string{"vendor/vendors.json", "vendor/identifiers.csv", "vendor/links.json", "vendor/report.html"} {
		if !names[want] {
			t.Errorf("package lacks %s", want)
		}
	}
	var report, csv string
	for _, f := range extra {
		switch f.Name {
		case "vendor/report.html":
			report = string(f.Data)
		case "vendor/identifiers.csv":
			csv = string(f.Data)
		}
	}
	if !strings.Contains(report, "Why these listings belong to one seller") || !strings.Contains(report, "never on a name alone") {
		t.Error("report does not explain the links in words")
	}
	// Every identifier row names a WARC record in the package.
	rows, err := csvpkg.NewReader(strings.NewReader(csv)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("identifiers.csv: %v, %d rows", err, len(rows))
	}
	for i, row := range rows[1:] {
		if !strings.Contains(row[7], "#urn:uuid:") {
			t.Errorf("identifiers.csv row %d has no WARC record: %q", i+1, row)
		}
	}
	// A name that would replace the package's own files is refused.
	_, err = export.Write(ctx, db, filepath.Join(t.TempDir(), "bad.zip"), export.Options{Filter: store.HitFilter{IDs: hitIDs, Status: export.StatusAny},
		Extra: []export.ExtraFile{{Name: "manifest.json", Data: []byte("{}")}}})
	if err == nil {
		t.Error("an extra file named manifest.json was accepted")
	}
}
