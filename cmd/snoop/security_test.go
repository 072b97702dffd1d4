package main

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// hostileTitle carries terminal escapes: clear the screen, set the window
// title, rewrite the previous line, a C1 CSI, and a bidi override.
const hostileTitle = "Iso\x1b[2J\x1b]0;pwned\x07 10 g\x1b[1A\x1b[2K\u009b31m\u202egnp.exe"

// seedHostile creates a database holding one hit on a listing whose title,
// price and URL carry terminal escapes, and returns its path.
func seedHostile(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hostile.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sweep, err := db.BeginSweep(ctx, []string{"shop"}, "sha256:00", now)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://shop.example/p/1\x1b[31m"
	_, err = db.SavePage(ctx, store.PageRecord{SweepID: sweep, Market: "shop", URL: url, Status: 200,
		Evidence: store.Evidence{FetchedAt: now, RequestBytes: []byte("GET /p/1 HTTP/1.1\r\n\r\n"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\n" + hostileTitle)}},
		[]store.ListingRecord{{URL: url, Title: hostileTitle, Price: "\x1b[5m$1", Text: hostileTitle + " isotonitazene powder 10 g",
			Hit: &store.HitRecord{Score: 0.9, RuleVersion: "sha256:00", Substances: []store.Substance{{Name: "isotonitazene", Class: "nitazene", Matched: "iso\x1b[0m"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishSweep(ctx, sweep, store.SweepCompleted, nil, now); err != nil {
		t.Fatal(err)
	}
	return path
}

// assertNoControl fails if out holds a raw terminal control character.
func assertNoControl(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) {
			t.Errorf("%s holds raw %U:\n%q", what, r, out)
			return
		}
	}
}

func TestHitsTableEscapesControlCharacters(t *testing.T) {
	db := seedHostile(t)
	out, errOut, code := runCmd(t, context.Background(), "hits", "--db", db)
	if code != 0 {
		t.Fatalf("hits exit %d: %s", code, errOut)
	}
	assertNoControl(t, "hits table", out)
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("hits table does not show the escaped title:\n%s", out)
	}
}

func TestBacktestEscapesControlCharacters(t *testing.T) {
	db := seedHostile(t)
	out, errOut, code := runCmd(t, context.Background(), "rules", "backtest", "--db", db)
	if code != 0 {
		t.Fatalf("backtest exit %d: %s", code, errOut)
	}
	assertNoControl(t, "backtest", out)
}

// exportHostile writes a case package of the hostile database, signed
// with a new key, and returns the package and the key's path.
func exportHostile(t *testing.T) (pkg, key string) {
	t.Helper()
	db := seedHostile(t)
	dir := t.TempDir()
	key = filepath.Join(dir, "KEY")
	if _, errOut, code := runCmd(t, context.Background(), "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	pkg = filepath.Join(dir, "case.zip")
	if _, errOut, code := runCmd(t, context.Background(), "export", "--db", db, "--out", pkg, "--sign-key", key, "--status", "any"); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	return pkg, key
}

func TestVerifyEscapesZipEntryNames(t *testing.T) {
	pkg, _ := exportHostile(t)
	evil := filepath.Join(t.TempDir(), "evil.zip")
	copyZipWith(t, pkg, evil, "evidence/\x1b[1A\x1b[2KOK\u202e.warc", []byte("x"))
	out, errOut, code := runCmd(t, context.Background(), "verify", evil)
	if code != 1 {
		t.Fatalf("verify of a package with an extra file exit %d, want 1", code)
	}
	assertNoControl(t, "verify stdout", out)
	assertNoControl(t, "verify stderr", errOut)
	if !strings.Contains(out, `\x1b[1A`) {
		t.Errorf("verify does not name the extra file visibly:\n%s", out)
	}
}

// copyZipWith copies the zip src to dst and adds one entry.
func copyZipWith(t *testing.T, src, dst, name string, data []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		if err := zw.Copy(e); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySignatureKeys(t *testing.T) {
	pkg, key := exportHostile(t)
	other := filepath.Join(t.TempDir(), "OTHER")
	if _, errOut, code := runCmd(t, context.Background(), "keygen", "--out", other); code != 0 {
		t.Fatal(errOut)
	}
	ctx := context.Background()

	out, _, code := runCmd(t, ctx, "verify", pkg)
	if code != 0 || !strings.Contains(out, "signed by an unknown key") || strings.Contains(out, "signature: valid") {
		t.Errorf("verify without --pub-key: exit %d\n%s\nwant exit 0 and \"signed by an unknown key\"", code, out)
	}
	if _, _, code := runCmd(t, ctx, "verify", "--require-signature", pkg); code != 2 {
		t.Errorf("--require-signature without --pub-key: exit %d, want 2", code)
	}
	if out, _, code := runCmd(t, ctx, "verify", "--require-signature", "--pub-key", other+".pub", pkg); code != 1 {
		t.Errorf("--require-signature with another key: exit %d, want 1\n%s", code, out)
	}
	out, errOut, code := runCmd(t, ctx, "verify", "--require-signature", "--pub-key", key+".pub", pkg)
	if code != 0 || !strings.Contains(out, "signature: valid, signed by the given key") {
		t.Errorf("--require-signature with the signer's key: exit %d\n%s%s", code, out, errOut)
	}
}

func TestExportRefusesExistingAndPlantedTmp(t *testing.T) {
	db := seedHostile(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	out := filepath.Join(dir, "case.zip")
	if err := os.Symlink(victim, out+".tmp"); err != nil {
		t.Skip(err)
	}
	if _, errOut, code := runCmd(t, context.Background(), "export", "--db", db, "--out", out, "--status", "any"); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("export wrote through the symlink at OUT.tmp: victim = %q", b)
	}
	_, errOut, code := runCmd(t, context.Background(), "export", "--db", db, "--out", out, "--status", "any")
	if code != 1 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Errorf("export over an existing package: exit %d, %s", code, errOut)
	}
}

func TestRulesBacktestCancelled(t *testing.T) {
	db := seedHostile(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errOut, code := runCmd(t, ctx, "rules", "backtest", "--db", db)
	if code != 1 || !strings.Contains(errOut, "canceled") {
		t.Errorf("cancelled backtest: exit %d, %s", code, errOut)
	}
}

func TestConfigAliasBombRejected(t *testing.T) {
	var b strings.Builder
	b.WriteString("marketplaces:\n  - &m\n    name: shop\n    start_urls: [\"https://shop.example/\"]\n    allow:\n")
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&b, "      - '^https://shop\\.example/%d/'\n", i)
	}
	for i := 0; i < 1500; i++ {
		b.WriteString("  - *m\n")
	}
	cfg := filepath.Join(t.TempDir(), "bomb.yaml")
	os.WriteFile(cfg, []byte(b.String()), 0o600)
	_, errOut, code := runCmd(t, context.Background(), "sweep", "--config", cfg, "--db", filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(errOut, "bomb.yaml:1506: ") || !strings.Contains(errOut, "alias") {
		t.Errorf("sweep with an alias bomb: exit %d, %s", code, errOut)
	}
}
