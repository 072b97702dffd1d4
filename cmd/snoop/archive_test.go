package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	iawarc "github.com/internetarchive/gowarc"

	"snoop/store"
)

// warcRecord is what a test keeps of one record read back.
type warcRecord struct {
	file, typ, id string
	header        map[string]string
	block         []byte
}

// readWARCs reads every record of the named files in dir with
// internetarchive/gowarc, an independent reader, and checks each record's
// block digest and each response's payload digest.
func readWARCs(t *testing.T, dir string, names []string) []warcRecord {
	t.Helper()
	var recs []warcRecord
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := iawarc.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			rec, err := r.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			block, err := io.ReadAll(rec.Content)
			rec.Content.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			wr := warcRecord{file: name, typ: rec.Header.Get("WARC-Type"), id: strings.Trim(rec.Header.Get("WARC-Record-ID"), "<>"),
				header: map[string]string{}, block: block}
			for _, k := range []string{"WARC-Refers-To", "WARC-Payload-Digest", "WARC-Target-URI", "WARC-Concurrent-To", "WARC-Profile", "WARC-Refers-To-Target-URI"} {
				wr.header[k] = rec.Header.Get(k)
			}
			if got, want := rec.Header.Get("WARC-Block-Digest"), "sha256:"+hexSum(block); got != want {
				t.Errorf("%s: %s record %s: block digest %s, recomputed %s", name, wr.typ, wr.id, got, want)
			}
			if wr.typ == "response" {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
				if err != nil {
					t.Fatalf("%s: response %s: %v", name, wr.id, err)
				}
				want, err := iawarc.GetDigest(resp.Body, iawarc.SHA256Base16)
				if err != nil {
					t.Fatal(err)
				}
				if got := wr.header["WARC-Payload-Digest"]; got != want {
					t.Errorf("%s: response %s: payload digest %s, internetarchive/gowarc computes %s", name, wr.id, got, want)
				}
			}
			recs = append(recs, wr)
		}
	}
	return recs
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestArchiveSweep(t *testing.T) {
	ctx := context.Background()
	market := newTestMarket(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, market.URL)
	dbPath := filepath.Join(dir, "snoop.db")

	// Two sweeps: the second re-fetches unchanged pages (revisits of the
	// first sweep's captures) and one changed page (a new original).
	for i := range 2 {
		if i == 1 {
			market.priceBump.Store(true)
		}
		if o, e, code := runCmd(t, ctx, "sweep", "--db", dbPath, "--config", cfg); code != 0 {
			t.Fatalf("sweep %d: exit %d\n%s%s", i+1, code, o, e)
		}
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sweeps, err := db.Sweeps(ctx)
	if err != nil || len(sweeps) != 2 {
		t.Fatalf("sweeps = %+v, %v", sweeps, err)
	}
	sweepIDs := []int64{sweeps[0].ID, sweeps[1].ID}
	slices.Sort(sweepIDs)

	for _, sweepID := range sweepIDs {
		t.Run(fmt.Sprintf("sweep %d", sweepID), func(t *testing.T) {
			sw, err := db.Sweep(ctx, sweepID)
			if err != nil {
				t.Fatal(err)
			}
			var rows []store.PageEvidence
			err = db.EvidenceEach(ctx, sweepID, func(pe store.PageEvidence) error {
				pe.RequestBytes, pe.ResponseBytes = nil, nil
				rows = append(rows, pe)
				return nil
			})
			if err != nil || len(rows) == 0 {
				t.Fatalf("evidence of sweep %d: %d rows, %v", sweepID, len(rows), err)
			}

			out := filepath.Join(t.TempDir(), "warc")
			stdout, stderr, code := runCmd(t, ctx, "archive", "--db", dbPath, "--sweep", fmt.Sprint(sweepID), "--out", out, "--max-size", "6KB")
			if code != 0 {
				t.Fatalf("archive: exit %d\n%s%s", code, stdout, stderr)
			}
			t.Logf("snoop archive --sweep %d --max-size 6KB:\n%s", sweepID, stdout)

			// SHA256SUMS names every file with its digest; stdout lists
			// the same files with their record counts.
			sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for line := range strings.Lines(string(sums)) {
				sum, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
				if !ok {
					t.Fatalf("SHA256SUMS line %q", line)
				}
				data, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				if got := hexSum(data); got != sum {
					t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, sum)
				}
				if !strings.Contains(stdout, sum+"  "+filepath.Join(out, name)+"  ") {
					t.Errorf("stdout does not list %s with its sha256:\n%s", name, stdout)
				}
				names = append(names, name)
			}
			if len(names) < 2 {
				t.Errorf("%d files at --max-size 6KB, want rotation into several", len(names))
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != len(names)+1 {
				t.Errorf("%d entries in %s, want the %d WARC files and SHA256SUMS (no temporary files)", len(entries), out, len(names))
			}

			recs := readWARCs(t, out, names)
			perFile := map[string]int{}
			count := map[string]int{} // "type id" -> records
			for _, r := range recs {
				perFile[r.file]++
				count[r.typ+" "+r.id]++
				if r.typ == "warcinfo" {
					info := string(r.block)
					for _, want := range []string{"software: snoop/", "snoop-rule-version: " + sw.RuleVersion, fmt.Sprintf("snoop-sweeps: %d\r\n", sweepID)} {
						if !strings.Contains(info, want) {
							t.Errorf("%s: warcinfo lacks %q:\n%s", r.file, want, info)
						}
					}
				}
			}
			for _, name := range names {
				if recs := perFile[name]; !strings.Contains(stdout, fmt.Sprintf("  %d records  ", recs)) {
					t.Errorf("stdout lacks the record count %d of %s:\n%s", recs, name, stdout)
				}
				if first := recs[slices.IndexFunc(recs, func(r warcRecord) bool { return r.file == name })]; first.typ != "warcinfo" {
					t.Errorf("%s starts with a %s record", name, first.typ)
				}
			}

			// Every evidence row of the sweep is there once: its request,
			// its response or revisit, and its metadata.
			inSweep := map[string]bool{}
			originals := map[string]bool{}
			for _, pe := range rows {
				inSweep[pe.WARCRecordID] = true
				typ := "response"
				if pe.Revisit {
					typ = "revisit"
					orig, err := db.PageEvidence(ctx, pe.RefersTo)
					if err != nil {
						t.Fatal(err)
					}
					originals[orig.WARCRecordID] = orig.SweepID != sweepID
				}
				if n := count[typ+" "+pe.WARCRecordID]; n != 1 {
					t.Errorf("evidence %d (%s): %d %s records, want 1", pe.ID, pe.URL, n, typ)
				}
				if n := count["request "+pe.RequestRecordID]; n != 1 {
					t.Errorf("evidence %d (%s): %d request records, want 1", pe.ID, pe.URL, n)
				}
			}
			// Every revisit's original is there once, as a response.
			earlier := 0
			for id, fromEarlier := range originals {
				if n := count["response "+id]; n != 1 {
					t.Errorf("original %s: %d response records, want 1", id, n)
				}
				if fromEarlier {
					earlier++
				}
			}
			if sweepID == sweepIDs[1] && earlier == 0 {
				t.Error("the second sweep's archive holds no original from the first sweep; want revisits of unchanged pages")
			}
			// Nothing else: one metadata record per fetch, and every
			// response or revisit is the sweep's or an original.
			fetches, metadata := 0, 0
			for _, r := range recs {
				switch r.typ {
				case "response", "revisit":
					fetches++
					if !inSweep[r.id] && !originals[r.id] {
						t.Errorf("%s record %s (%s) is neither of the sweep nor an original", r.typ, r.id, r.header["WARC-Target-URI"])
					}
				case "metadata":
					metadata++
				}
				if r.typ == "revisit" {
					if to := strings.Trim(r.header["WARC-Refers-To"], "<>"); count["response "+to] != 1 {
						t.Errorf("revisit %s refers to %s, present %d times", r.id, to, count["response "+to])
					}
				}
			}
			if want := len(rows) + earlier; fetches != want || metadata != want {
				t.Errorf("%d responses and revisits, %d metadata records; want %d each (%d rows + %d earlier originals)", fetches, metadata, want, len(rows), earlier)
			}
			if !strings.Contains(stdout, fmt.Sprintf("archived sweep %d: %d fetches (+%d earlier originals), %d records", sweepID, len(rows), earlier, len(recs))) {
				t.Errorf("summary line:\n%s", stdout)
			}

			// A second run refuses to overwrite and leaves the files alone.
			_, stderr, code = runCmd(t, ctx, "archive", "--db", dbPath, "--sweep", fmt.Sprint(sweepID), "--out", out)
			if code != 1 || !strings.Contains(stderr, "refusing to overwrite") {
				t.Errorf("second archive into %s: exit %d, %s; want 1, refusing to overwrite", out, code, stderr)
			}
			if again, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS")); !bytes.Equal(again, sums) {
				t.Error("SHA256SUMS changed by a refused archive")
			}
		})
	}

	if _, e, code := runCmd(t, ctx, "audit", "verify", "--db", dbPath); code != 0 {
		t.Errorf("audit verify after archiving: exit %d: %s", code, e)
	}
}

func TestArchiveUsage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "snoop.db")
	newEmptyDB(t, db)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"help", []string{"archive", "--help"}, 0, "", "usage: snoop archive --out DIR --sweep ID"},
		{"missing sweep", []string{"archive", "--db", db, "--out", dir}, 2, "", "--sweep ID is required"},
		{"missing out", []string{"archive", "--db", db, "--sweep", "1"}, 2, "", "--out DIR is required"},
		{"bad sweep", []string{"archive", "--db", db, "--sweep", "x", "--out", dir}, 2, "", "invalid value"},
		{"bad size", []string{"archive", "--db", db, "--sweep", "1", "--out", dir, "--max-size", "1XB"}, 2, "", "unknown unit"},
		{"unknown flag", []string{"archive", "--db", db, "--nope"}, 2, "", "flag provided but not defined"},
		{"no such sweep", []string{"archive", "--db", db, "--sweep", "42", "--out", filepath.Join(dir, "out")}, 1, "", "no sweep 42"},
		{"listed in help", []string{"help"}, 0, "archive", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, ctx, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.inStdout) || !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tc.code, tc.inStdout, tc.inStderr)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1GB", 1e9, true}, {"1gb", 1e9, true}, {"500MB", 5e8, true}, {"512MiB", 512 << 20, true},
		{"6KB", 6000, true}, {"1048576", 1 << 20, true}, {"10 B", 10, true}, {"2TiB", 2 << 40, true},
		{"0", 0, false}, {"-1GB", 0, false}, {"GB", 0, false}, {"1.5GB", 0, false}, {"1XB", 0, false},
		{"99999999999TB", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}
