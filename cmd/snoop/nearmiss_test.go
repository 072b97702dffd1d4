package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"snoop/backtest"
)

// TestHitsNearMiss sweeps the demo marketplaces and lists the near
// misses: stored listings that are not hits but name a substance and
// score within the near-miss margin below the threshold.
func TestHitsNearMiss(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "snoop.db")
	if out, errOut, code := runCmd(t, ctx, "demo", "--db", db, "--out", filepath.Join(dir, "case.zip")); code != 0 {
		t.Fatalf("demo: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code := runCmd(t, ctx, "hits", "--near-miss", "--format", "jsonl", "--db", db)
	if code != 0 {
		t.Fatalf("hits --near-miss: exit %d\nstderr: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if out == "" || len(lines) == 0 {
		t.Fatal("no near misses in the demo marketplaces")
	}
	for _, line := range lines {
		var nm backtest.NearMiss
		if err := json.Unmarshal([]byte(line), &nm); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !nm.NearMiss || nm.Score >= 0.5 || nm.Score < 0.35 || len(nm.Substances) == 0 || nm.ListingID == 0 {
			t.Errorf("not a near miss: %+v", nm)
		}
	}
	table, _, code := runCmd(t, ctx, "hits", "--near-miss", "--db", db)
	if code != 0 || !strings.HasPrefix(table, "LISTING") {
		t.Errorf("table: exit %d\n%s", code, table)
	}
	if _, errOut, code := runCmd(t, ctx, "hits", "--near-miss", "--format", "csv", "--db", db); code != 2 || !strings.Contains(errOut, "want table or jsonl") {
		t.Errorf("csv: exit %d, stderr %s", code, errOut)
	}
}
