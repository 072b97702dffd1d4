package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// archiveFixture stores two sweeps. The second captures /a twice unchanged
// (two revisits of the first sweep's capture), /c twice unchanged (an
// original and a revisit of it, both in the sweep) and /d once.
func archiveFixture(t *testing.T, db *store.DB) (first, second int64) {
	t.Helper()
	ctx := context.Background()
	sweep := func(at time.Time, urls ...string) int64 {
		t.Helper()
		s, err := db.BeginSweep(ctx, []string{"shop"}, testRules, at)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range urls {
			_, err := db.SavePage(ctx, store.PageRecord{SweepID: s, Market: "shop", URL: u, Status: 200,
				Evidence: store.Evidence{FetchedAt: at.Add(time.Duration(i) * time.Second), RequestBytes: []byte("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n"),
					ResponseBytes: wireResponse(wirePage+u, 0), RemoteAddr: "192.0.2.7:443"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := db.FinishSweep(ctx, s, "completed", nil, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first = sweep(t0, "https://shop.example/a", "https://shop.example/b")
	second = sweep(t0.Add(time.Hour), "https://shop.example/a", "https://shop.example/c", "https://shop.example/a",
		"https://shop.example/c", "https://shop.example/d")
	return first, second
}

func TestArchive(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	first, second := archiveFixture(t, db)
	var rows []store.PageEvidence
	if err := db.EvidenceEach(ctx, second, func(pe store.PageEvidence) error { rows = append(rows, pe); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || !rows[0].Revisit || rows[1].Revisit || !rows[2].Revisit || !rows[3].Revisit || rows[3].RefersTo != rows[1].ID {
		t.Fatalf("fixture: want revisits of /a (first sweep) and /c (this sweep), got %+v", rows)
	}
	origA, err := db.PageEvidence(ctx, rows[0].RefersTo)
	if err != nil || origA.SweepID != first {
		t.Fatalf("original of /a: %+v, %v", origA, err)
	}

	dir := filepath.Join(t.TempDir(), "out")
	sum, err := Archive(ctx, db, second, dir, ArchiveOptions{ToolVersion: "1.2.3", Actor: "tester", Now: fixedNow(), MaxFileSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Fetches != 5 || sum.Originals != 1 || len(sum.Files) != 6 || sum.Records != 6*4 {
		// 6 fetches (5 + the original), one a file at MaxFileSize 1, each
		// with warcinfo, request, response or revisit, and metadata.
		t.Errorf("summary = %+v", sum)
	}
	files := map[string][]byte{}
	var sums strings.Builder
	for _, f := range sum.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256hex(data); got != f.SHA256 || int64(len(data)) != f.Bytes {
			t.Errorf("%s: sha256 %s, %d bytes; summary says %s, %d", f.Name, got, len(data), f.SHA256, f.Bytes)
		}
		files[EvidenceDir+f.Name] = data
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, SumsFile)); string(got) != sums.String() {
		t.Errorf("SHA256SUMS = %q, want %q", got, sums.String())
	}
	if want := "snoop-sweep-" + fmt.Sprint(second) + "-00001.warc.gz"; sum.Files[0].Name != want {
		t.Errorf("first file %s, want %s", sum.Files[0].Name, want)
	}

	responses, revisits := readBack(t, files)
	wantResponses := []string{origA.WARCRecordID, rows[1].WARCRecordID, rows[4].WARCRecordID}
	slices.Sort(wantResponses)
	var gotResponses []string
	for id := range responses {
		gotResponses = append(gotResponses, id)
	}
	slices.Sort(gotResponses)
	if !slices.Equal(gotResponses, wantResponses) {
		t.Errorf("response records %v, want the original of /a from sweep %d and /c, /d: %v", gotResponses, first, wantResponses)
	}
	for _, i := range []int{0, 2, 3} {
		rv, ok := revisits[rows[i].WARCRecordID]
		orig, _ := db.PageEvidence(ctx, rows[i].RefersTo)
		if !ok || rv.refersTo != orig.WARCRecordID || rv.payloadDigest != responses[orig.WARCRecordID] {
			t.Errorf("evidence %d: revisit %+v, want one referring to %s with digest %s", rows[i].ID, rv, orig.WARCRecordID, responses[orig.WARCRecordID])
		}
	}
	if len(revisits) != 3 {
		t.Errorf("%d revisit records, want 3", len(revisits))
	}

	entries, _ := os.ReadDir(dir)
	if len(entries) != len(sum.Files)+1 {
		t.Errorf("%d entries in the directory, want %d files and SHA256SUMS", len(entries), len(sum.Files))
	}
	audit, err := db.AuditEntries(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if last := audit[len(audit)-1]; last.Action != ActionArchive || last.Actor != "tester" || !strings.Contains(string(last.Details), sum.Files[0].SHA256) {
		t.Errorf("last audit row = %+v", last)
	}

	// The same inputs give the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	sum2, err := Archive(ctx, db, second, again, ArchiveOptions{ToolVersion: "1.2.3", Actor: "tester", Now: fixedNow(), MaxFileSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sum2.Files) != fmt.Sprint(sum.Files) {
		t.Errorf("second archive files %v, first %v", sum2.Files, sum.Files)
	}
}

func TestArchiveRefusesAndCleansUp(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	_, second := archiveFixture(t, db)
	empty, err := db.BeginSweep(ctx, []string{"shop"}, testRules, t0)
	if err != nil {
		t.Fatal(err)
	}
	warc := fmt.Sprintf("snoop-sweep-%d-00001.warc.gz", second)

	for _, tc := range []struct {
		name     string
		sweep    int64
		existing string // a file already in the directory
		alter    bool   // change a stored response after its digest was taken
		cancel   bool
		want     string
	}{
		{"existing SHA256SUMS", second, SumsFile, false, false, "refusing to overwrite"},
		{"existing WARC file of the sweep", second, warc, false, false, "refusing to overwrite"},
		{"no evidence", empty, "", false, false, "no evidence"},
		{"no such sweep", 999, "", false, false, "not found"},
		{"cancelled", second, "", false, true, "canceled"},
		{"altered database", second, "", true, false, "the database was altered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.existing != "" {
				if err := os.WriteFile(filepath.Join(dir, tc.existing), []byte("keep me"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.alter {
				raw := openRawSQL(t, db.Path)
				defer raw.Close()
				if _, err := raw.Exec(`UPDATE evidence SET response_bytes = CAST(replace(CAST(response_bytes AS TEXT), 'nginx', 'NGINX') AS BLOB)
					WHERE id = (SELECT MAX(e.id) FROM evidence e JOIN pages p ON p.id = e.page_id WHERE p.sweep_id = ?)`, tc.sweep); err != nil {
					t.Fatal(err)
				}
			}
			actx := ctx
			if tc.cancel {
				c, cancel := context.WithCancel(ctx)
				cancel()
				actx = c
			}
			_, err := Archive(actx, db, tc.sweep, dir, ArchiveOptions{Now: fixedNow(), MaxFileSize: 1})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Archive error = %v, want one saying %q", err, tc.want)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if want := []string{tc.existing}; tc.existing != "" && !slices.Equal(names, want) || tc.existing == "" && len(names) != 0 {
				t.Errorf("directory holds %v after a failed archive", names)
			}
			if tc.existing != "" {
				if b, _ := os.ReadFile(filepath.Join(dir, tc.existing)); string(b) != "keep me" {
					t.Errorf("%s was changed", tc.existing)
				}
			}
		})
	}
}
