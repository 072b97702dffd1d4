package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoRunsTwiceWithoutDuplicates runs the demo twice on one database
// and package path: the second run replaces both and finds the same hits.
func TestDemoRunsTwiceWithoutDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps the demo marketplaces twice")
	}
	ctx := context.Background()
	dir := t.TempDir()
	db, out := filepath.Join(dir, "demo.db"), filepath.Join(dir, "demo.zip")
	var counts []int
	for run := 1; run <= 2; run++ {
		stdout, stderr, code := runCmd(t, ctx, "demo", "--db", db, "--out", out)
		if code != 0 {
			t.Fatalf("demo run %d: exit %d\n%s", run, code, stderr)
		}
		assertNoControl(t, "demo output", stdout)
		if run == 2 && !strings.Contains(stderr, "fresh demo database") {
			t.Errorf("second run does not say it starts a fresh database:\n%s", stderr)
		}
		counts = append(counts, len(readHits(t, ctx, db)))
	}
	if counts[0] == 0 || counts[0] != counts[1] {
		t.Errorf("hits after each run = %v, want the same non-zero count", counts)
	}
}

func TestDemoRefusesOtherDatabaseAndFile(t *testing.T) {
	ctx := context.Background()
	other := seedHostile(t)
	_, stderr, code := runCmd(t, ctx, "demo", "--db", other, "--out", filepath.Join(t.TempDir(), "d.zip"))
	if code != 1 || !strings.Contains(stderr, "not a demo database") {
		t.Errorf("demo on a real database: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the real database is gone: %v", err)
	}
	notes := filepath.Join(t.TempDir(), "notes.zip")
	os.WriteFile(notes, []byte("my notes"), 0o600)
	_, stderr, code = runCmd(t, ctx, "demo", "--db", filepath.Join(t.TempDir(), "d.db"), "--out", notes)
	if code != 1 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("demo over another file: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes" {
		t.Errorf("the file was changed: %q", b)
	}
}
