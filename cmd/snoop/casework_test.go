package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/store"
	"snoop/sweep"
)

// sweptDB sweeps the test market into a new database and returns its path.
func sweptDB(t *testing.T, extra ...string) (db string, market *testMarket) {
	t.Helper()
	market = newTestMarket(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, market.URL)
	db = filepath.Join(dir, "snoop.db")
	if out, e, code := runCmd(t, context.Background(), append([]string{"sweep", "--db", db, "--config", cfg}, extra...)...); code != 0 {
		t.Fatalf("sweep: exit %d: %s%s", code, out, e)
	}
	return db, market
}

func auditRows(t *testing.T, db string) []store.AuditEntry {
	t.Helper()
	out, e, code := runCmd(t, context.Background(), "audit", "log", "--db", db, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("audit log: exit %d: %s", code, e)
	}
	var rows []store.AuditEntry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r store.AuditEntry
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit log line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestEveryAuditRowNamesItsActor(t *testing.T) {
	ctx := context.Background()
	t.Setenv("SNOOP_ANALYST", "")
	db, _ := sweptDB(t, "--analyst", "dana")
	hits := readHits(t, ctx, db)
	if len(hits) < 3 {
		t.Fatalf("%d hits", len(hits))
	}
	id := func(i int) string { return itoa(hits[i].ID) }

	// --analyst, else SNOOP_ANALYST, else the OS user.
	if _, e, code := runCmd(t, ctx, "review", "--db", db, id(0), "--status", "confirmed", "--note", "offer", "--analyst", "erin"); code != 0 {
		t.Fatalf("review: %s", e)
	}
	t.Setenv("SNOOP_ANALYST", "frank")
	if _, e, code := runCmd(t, ctx, "review", "--db", db, id(1), "--status", "false_positive"); code != 0 {
		t.Fatalf("review: %s", e)
	}
	t.Setenv("SNOOP_ANALYST", "")
	if _, e, code := runCmd(t, ctx, "review", "--db", db, id(2), "--status", "confirmed"); code != 0 {
		t.Fatalf("review: %s", e)
	}
	pkg := filepath.Join(t.TempDir(), "case.zip")
	if _, e, code := runCmd(t, ctx, "export", "--db", db, "--out", pkg, "--analyst", "gina"); code != 0 {
		t.Fatalf("export: %s", e)
	}
	if _, e, code := runCmd(t, ctx, "review", "--db", db, id(0), "--status", "new", "--analyst", "bad\x1bname"); code != 2 || !strings.Contains(e, "control characters") {
		t.Errorf("analyst with an escape: exit %d: %s", code, e)
	}

	rows := auditRows(t, db)
	byAction := map[string][]string{}
	for _, r := range rows {
		if r.Actor == "" || strings.Contains(r.Actor, "unknown") || r.Actor == "snoop" {
			t.Errorf("audit row %d (%s) names no real actor: %q", r.ID, r.Action, r.Actor)
		}
		byAction[r.Action] = append(byAction[r.Action], r.Actor)
	}
	want := map[string][]string{
		store.ActionSweepBegin:  {"dana"},
		store.ActionSweepFinish: {"dana"},
		store.ActionReview:      {"erin", "frank", osUser()},
		"export":                {"gina"},
	}
	for action, actors := range want {
		if strings.Join(byAction[action], ",") != strings.Join(actors, ",") {
			t.Errorf("%s rows by %v, want %v", action, byAction[action], actors)
		}
	}
	m := readManifest(t, pkg)
	if m["created_by"] != "gina" {
		t.Errorf("manifest created_by = %v, want gina", m["created_by"])
	}

	t.Run("audit log", func(t *testing.T) {
		out, e, code := runCmd(t, ctx, "audit", "log", "--db", db)
		if code != 0 || !strings.Contains(out, "ID  AT") || !strings.Contains(out, "erin") || !strings.Contains(out, `"note":"offer"`) {
			t.Fatalf("exit %d: %s%s", code, out, e)
		}
		out, _, code = runCmd(t, ctx, "audit", "log", "--db", db, "--since", "2999-01-01")
		if code != 0 || strings.TrimSpace(out) != "no audit rows" {
			t.Errorf("--since in the future: exit %d: %q", code, out)
		}
		if _, e, code := runCmd(t, ctx, "audit", "log", "--db", db, "--since", "yesterday"); code != 2 || !strings.Contains(e, "YYYY-MM-DD") {
			t.Errorf("bad --since: exit %d: %s", code, e)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func readManifest(t *testing.T, pkg string) map[string]any {
	t.Helper()
	zr, err := zip.OpenReader(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUserListRemove(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "snoop.db")
	run := func(stdin string, args ...string) (string, string, int) {
		var out, errb strings.Builder
		err := Run(ctx, append([]string{"user"}, args...), strings.NewReader(stdin), &out, &errb)
		code := exitCode(err, &errb)
		return out.String(), errb.String(), code
	}
	if out, _, code := run("", "list", "--db", db); code != 1 || out != "" {
		t.Errorf("list on a missing database: exit %d %q", code, out)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, e, code := run("correct horse battery\n", "add", name, "--db", db, "--analyst", "admin"); code != 0 {
			t.Fatalf("add %s: %s", name, e)
		}
	}
	out, e, code := run("", "list", "--db", db)
	if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Fatalf("list: exit %d: %s%s", code, out, e)
	}
	if _, e, code := run("", "remove", "alice", "--db", db, "--analyst", "admin"); code != 0 {
		t.Fatalf("remove: %s", e)
	}
	if out, _, _ := run("", "list", "--db", db); strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Errorf("after remove: %s", out)
	}
	if _, e, code := run("", "remove", "alice", "--db", db); code != 1 || !strings.Contains(e, `no account "alice"`) {
		t.Errorf("remove twice: exit %d: %s", code, e)
	}
	rows := auditRows(t, db)
	last := rows[len(rows)-1]
	if last.Action != store.ActionUserRemove || last.Actor != "admin" || !strings.Contains(string(last.Details), "alice") {
		t.Errorf("last audit row = %+v", last)
	}
}

func TestMissingDatabaseIsAnError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"hits"}, {"review", "1", "--status", "confirmed"}, {"export", "--out", filepath.Join(dir, "x.zip")},
		{"audit", "verify"}, {"audit", "log"}, {"rules", "backtest"}, {"archive", "--sweep", "1", "--out", dir},
		{"user", "list"}, {"user", "remove", "x"},
	} {
		_, e, code := runCmd(t, ctx, append(args, "--db", missing)...)
		if code != 1 || !strings.Contains(e, "database does not exist: "+missing) {
			t.Errorf("%v: exit %d: %s", args, code, e)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a command created %s", missing)
	}
}

// newEmptyDB creates an empty database at path.
func newEmptyDB(t *testing.T, path string) {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestListingsShowAndHitFilters(t *testing.T) {
	ctx := context.Background()
	db, _ := sweptDB(t)
	hits := readHits(t, ctx, db)

	// Mark the board's listings gone, as a complete sweep that saw none would.
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	sw, _ := s.BeginSweep(ctx, []string{"test-board"}, "sha256:x", time.Now())
	gone, err := s.MarkGone(ctx, sw, "test-board", time.Now())
	if err != nil || gone == 0 {
		t.Fatalf("mark gone: %d, %v", gone, err)
	}
	s.FinishSweep(ctx, sw, "completed", nil, time.Now())
	s.Close()

	t.Run("listings jsonl", func(t *testing.T) {
		out, e, code := runCmd(t, ctx, "listings", "--db", db, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, e)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) <= len(hits) {
			t.Errorf("%d listings for %d hits: non-hits missing", len(lines), len(hits))
		}
		var nGone, nHits int
		for _, line := range lines {
			var l map[string]any
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"id", "marketplace", "url", "title", "description", "price", "vendor", "first_seen", "last_seen", "gone", "gone_at"} {
				if _, ok := l[k]; !ok {
					t.Errorf("listing lacks %q: %s", k, line)
				}
			}
			if l["gone"] == true {
				nGone++
				if l["gone_at"] == nil || l["marketplace"] != "test-board" {
					t.Errorf("gone listing: %s", line)
				}
			}
			if l["hit_id"] != nil {
				nHits++
			}
		}
		if nGone != gone || nHits != len(hits) {
			t.Errorf("%d gone (want %d), %d hits (want %d)", nGone, gone, nHits, len(hits))
		}
	})
	t.Run("listings --gone --market, table and csv", func(t *testing.T) {
		out, _, code := runCmd(t, ctx, "listings", "--db", db, "--gone", "--format", "csv")
		if code != 0 || strings.Count(out, "\n") != gone+1 || !strings.HasPrefix(out, "id,marketplace,url,title,description,price,vendor,first_seen,last_seen,gone,gone_at") {
			t.Errorf("--gone csv: exit %d:\n%s", code, out)
		}
		out, _, code = runCmd(t, ctx, "listings", "--db", db, "--market", "test-shop")
		if code != 0 || !strings.Contains(out, "MARKETPLACE") || strings.Contains(out, "test-board") {
			t.Errorf("--market test-shop: exit %d:\n%s", code, out)
		}
		if _, e, code := runCmd(t, ctx, "listings", "--db", db, "--market", "test-shpo"); code != 1 || !strings.Contains(e, `unknown marketplace "test-shpo" (known: test-board, test-shop)`) {
			t.Errorf("unknown market: exit %d: %s", code, e)
		}
	})
	t.Run("hits filters", func(t *testing.T) {
		if got := readHits(t, ctx, db, "--class", "nitazene"); len(got) == 0 || len(got) == len(hits) {
			t.Errorf("--class nitazene: %d of %d", len(got), len(hits))
		}
		if got := readHits(t, ctx, db, "--q", "CARFENT"); len(got) != 1 || !strings.HasSuffix(got[0].URL, "/product/4") {
			t.Errorf("--q CARFENT: %+v", got)
		}
		got := readHits(t, ctx, db, "--sort", "-id")
		if len(got) != len(hits) || got[0].ID != hits[len(hits)-1].ID {
			t.Errorf("--sort -id: %+v", got)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		if got := readHits(t, ctx, db, "--since", today, "--until", today); len(got) != len(hits) {
			t.Errorf("--since/--until today: %d of %d", len(got), len(hits))
		}
		if got := readHits(t, ctx, db, "--until", "2000-01-01"); len(got) != 0 {
			t.Errorf("--until 2000-01-01: %d", len(got))
		}
		if _, e, code := runCmd(t, ctx, "hits", "--db", db, "--sort", "price"); code != 2 || !strings.Contains(e, "--sort") {
			t.Errorf("bad sort: exit %d %s", code, e)
		}
		if _, e, code := runCmd(t, ctx, "hits", "--db", db, "--market", "nope"); code != 1 || !strings.Contains(e, "unknown marketplace") {
			t.Errorf("unknown market: exit %d %s", code, e)
		}
	})
	t.Run("show", func(t *testing.T) {
		if _, e, code := runCmd(t, ctx, "review", "--db", db, itoa(hits[0].ID), "--status", "confirmed", "--note", "offer \x1b[31mred", "--analyst", "erin"); code != 0 {
			t.Fatal(e)
		}
		out, e, code := runCmd(t, ctx, "show", "--db", db, itoa(hits[0].ID))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, e)
		}
		for _, want := range []string{"hit " + itoa(hits[0].ID) + "  confirmed", "[[", "substances (recorded with the hit)", "score        ",
			"= base", "evidence:", "sha256 " + hits[0].Evidence.SHA256, "history (1 version(s))", "erin  confirmed  note: offer \\x1b[31mred"} {
			if !strings.Contains(out, want) {
				t.Errorf("show lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\x1b") {
			t.Error("show printed a raw escape character")
		}
		if _, e, code := runCmd(t, ctx, "show", "--db", db, "99999"); code != 1 || !strings.Contains(e, "no hit with ID 99999") {
			t.Errorf("missing hit: exit %d %s", code, e)
		}
	})
}

func TestSweepSummarySaysWhyNothingWasMarkedGone(t *testing.T) {
	var b strings.Builder
	printSweepSummary(&b, sweep.Result{SweepID: 3, Status: "completed", Markets: []sweep.MarketResult{
		{Market: "board", GoneNotChecked: "12 links beyond max_depth"},
	}})
	if want := "board: no listing marked gone, the sweep did not cover every page: 12 links beyond max_depth"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}
