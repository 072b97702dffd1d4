package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/classify"
	"snoop/rules"
	"snoop/store"
)

func defaultClassifier(t *testing.T) *classify.Classifier {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExportPolicy(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 4})
	if err := db.Review(ctx, 2, store.StatusConfirmed, "offer", "analyst-b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Review(ctx, 3, store.StatusFalsePositive, "news", "analyst-b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		status string
		hits   int
		words  string
	}{
		{"default packs confirmed only", "", 1, "confirmed hits only"},
		{"any packs everything", StatusAny, 4, "hits of every status"},
		{"one status", store.StatusFalsePositive, 1, "hits with status false_positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "case.zip")
			sum, err := Write(ctx, db, out, Options{Filter: store.HitFilter{Status: tt.status}, Now: fixedNow()})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Hits != tt.hits || !strings.Contains(sum.Selection, tt.words) {
				t.Errorf("got %d hits, selection %q; want %d, %q", sum.Hits, sum.Selection, tt.hits, tt.words)
			}
			files, _ := zipFiles(t, out)
			if !strings.Contains(string(files[ReportFile]), "This package holds "+tt.words) {
				t.Errorf("report.html does not say what it holds (%q)", tt.words)
			}
		})
	}
	t.Run("empty selection", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "case.zip")
		_, err := Write(ctx, db, out, Options{Filter: store.HitFilter{Market: "nowhere"}, Now: fixedNow()})
		if !errors.Is(err, ErrEmptySelection) || !strings.Contains(err.Error(), "confirmed hits only (the default), marketplace nowhere") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Error("package written")
		}
	})
	t.Run("bad status", func(t *testing.T) {
		_, err := Write(ctx, db, filepath.Join(t.TempDir(), "x.zip"), Options{Filter: store.HitFilter{Status: "maybe"}, Now: fixedNow()})
		if err == nil || !strings.Contains(err.Error(), `invalid status "maybe"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestReportForProsecutor(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2, perPage: 2})
	reviewAt := time.Date(2026, 2, 4, 9, 30, 0, 0, time.UTC)
	if err := db.Review(ctx, 1, store.StatusConfirmed, "first look", "analyst-a", reviewAt.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Review(ctx, 1, store.StatusConfirmed, "vendor <active> since March", "dana.k", reviewAt); err != nil {
		t.Fatal(err)
	}
	shot := testPNG(t, color.RGBA{R: 200, A: 255})
	shotAt := time.Date(2026, 2, 3, 10, 5, 0, 0, time.UTC)
	if _, err := db.SaveScreenshot(ctx, store.Screenshot{HitID: 1, URL: "https://board.example/product/0", TakenAt: shotAt, PNG: shot}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "case.zip")
	sum, err := Write(ctx, db, out, Options{Filter: anyStatus, Case: "lantern", Actor: "dana.k", Now: fixedNow(),
		Classifier: defaultClassifier(t)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.PDF || sum.NoPDF == "" {
		t.Errorf("summary PDF %v %q, want no PDF and a reason", sum.PDF, sum.NoPDF)
	}
	files, _ := zipFiles(t, out)
	report := string(files[ReportFile])
	summaryEnd := strings.Index(report, "What this package is")
	if summaryEnd < 0 {
		t.Fatal("report.html lacks the explanation")
	}
	summary := report[:summaryEnd]
	for _, want := range []string{
		"<th>hit</th><th>vendor</th><th>marketplace</th><th>substance</th><th>price</th><th>first seen</th><th>last seen</th><th>decision</th>",
		`<td class="decision-confirmed">confirmed · dana.k, 2026-02-04 09:30:00Z</td>`,
		"<td>chem-0</td><td>board</td><td>isotonitazene, etonitazepyne</td>",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary table lacks %q", want)
		}
	}
	for _, want := range []string{
		"snoop is a program that searches web marketplaces",
		"server address 192.0.2.10:443", "direct connection",
		"What the digests prove", "sha256sum -c SHA256SUMS", "snoop verify PACKAGE.zip", "warcio check",
		// the decision, with analyst, time and the note (escaped)
		`<p class="decision-confirmed">confirmed, by dana.k at 2026-02-04 09:30:00Z</p><p>Note: vendor &lt;active&gt; since March</p>`,
		"first look", // the review history
		// sales context highlighted next to the substance
		`<mark class="sales"`,
		`<mark class="substance" title="isotonitazene">is0tonitazene</mark>`,
		// why the evidence URL differs from the listing URL
		"The evidence below was captured at https://board.example/product/0, not at the listing's own URL",
		// when the screenshot was taken and of which URL
		`Taken 2026-02-03 10:05:00Z of <span class="mono">https://board.example/product/0</span>`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(report), "<script") {
		t.Error("report.html has a script")
	}
}

// fakePrinter stands in for Chromium.
type fakePrinter struct {
	pdf []byte
	err error
}

func (p fakePrinter) PrintPDF(_ context.Context, path string) ([]byte, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return p.pdf, p.err
}

func TestReportPDFWithoutChromium(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 1})
	out := filepath.Join(t.TempDir(), "case.zip")
	sum, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), PDF: ChromiumPDF{ExecPath: "/nonexistent/chromium"}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.PDF || !strings.Contains(sum.NoPDF, "no headless Chromium installed") {
		t.Errorf("PDF %v, reason %q", sum.PDF, sum.NoPDF)
	}
	files, _ := zipFiles(t, out)
	if _, ok := files[ReportPDFFile]; ok {
		t.Error("report.pdf in the package")
	}
	t.Run("a printer that fails otherwise fails the export", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "case.zip")
		_, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), PDF: fakePrinter{pdf: []byte("<html>")}})
		if err == nil || !strings.Contains(err.Error(), "did not return a PDF") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestReportPDF(t *testing.T) {
	if _, ok := (ChromiumPDF{}).Available(); !ok {
		if os.Getenv("SNOOP_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("SNOOP_REQUIRE_CHROMIUM=1 but no chromium in PATH")
		}
		t.Skip("chromium not installed")
	}
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2, hostile: true})
	out := filepath.Join(t.TempDir(), "case.zip")
	sum, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), PDF: ChromiumPDF{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.PDF {
		t.Fatalf("no PDF: %s", sum.NoPDF)
	}
	files, _ := zipFiles(t, out)
	pdf := files[ReportPDFFile]
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 2000 {
		t.Fatalf("report.pdf is %d bytes: %.40q", len(pdf), pdf)
	}
	var m Manifest
	if err := json.Unmarshal(files[ManifestFile], &m); err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, f := range m.Files {
		listed = listed || f.Path == ReportPDFFile
	}
	if !listed {
		t.Error("report.pdf not in manifest.json")
	}
	if rep, err := Verify(out, nil); err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	if dir := os.Getenv("SNOOP_TEST_ARTIFACTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "report.pdf"), pdf, 0o644)
	}
}

func TestCustodyWithheldRows(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 3})
	if err := db.Review(ctx, 3, store.StatusConfirmed, "other case", "analyst-b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Review(ctx, 1, store.StatusConfirmed, "this case", "analyst-a", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, "analyst-b", "user.add", map[string]string{"user": "eve"}, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: store.HitFilter{IDs: []int64{1}}, Now: fixedNow()}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(out, nil)
	if err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	files, order := zipFiles(t, out)
	log := string(files[CustodyFile])
	if strings.Contains(log, "other case") || strings.Contains(log, "eve") {
		t.Errorf("custody.log shows rows of other work:\n%s", log)
	}
	if !strings.Contains(string(files[ReportFile]), "are withheld") {
		t.Error("report.html does not explain the withheld rows")
	}
	if !strings.Contains(log, "this case") || !strings.Contains(log, `"withheld":{"from":`) {
		t.Errorf("custody.log lacks the review or withheld runs:\n%s", log)
	}
	var m Manifest
	json.Unmarshal(files[ManifestFile], &m)
	entries, _ := db.AuditEntries(ctx, time.Time{})
	head := entries[len(entries)-2] // the last is the export itself
	if m.Custody == nil || m.Custody.LastID != head.ID || m.Custody.LastHash != head.Hash || m.Custody.Withheld == 0 {
		t.Errorf("manifest custody = %+v, want the chain head %d %s", m.Custody, head.ID, head.Hash)
	}

	lines := strings.SplitAfter(strings.TrimSuffix(log, "\n"), "\n")
	tamper := func(t *testing.T, newLog, want string) {
		t.Helper()
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		f[CustodyFile] = []byte(newLog)
		rep, err := Verify(rezip(t, f, order), nil)
		if err == nil {
			t.Fatalf("tampered custody.log verified")
		}
		found := false
		for _, p := range rep.Problems {
			found = found || (p.Kind == "custody" && strings.Contains(p.Detail, want))
		}
		if !found {
			t.Errorf("problems %v, want a custody problem with %q", rep.Problems, want)
		}
	}
	t.Run("a withheld run's hash changed", func(t *testing.T) {
		for i, l := range lines {
			if i == len(lines)-1 || !strings.Contains(l, `"withheld"`) {
				continue
			}
			var w withheldLine
			if err := json.Unmarshal([]byte(l), &w); err != nil {
				t.Fatal(err)
			}
			w.Hash = strings.Repeat("a", 64)
			b, _ := json.Marshal(w)
			tamper(t, strings.Join(lines[:i], "")+string(b)+"\n"+strings.Join(lines[i+1:], ""), "does not link")
			return
		}
		t.Fatal("no withheld run before the last line")
	})
	t.Run("a line removed", func(t *testing.T) {
		tamper(t, strings.Join(lines[:1], "")+strings.Join(lines[2:], ""), "missing")
	})
}
