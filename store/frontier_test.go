package store

import (
	"context"
	"database/sql"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestFrontierRebuildKeepsRows opens a database made by the migrations
// before 0051, with frontier rows and an id sequence past the last row:
// the rebuilt table keeps every row and the sequence, and still rejects an
// unknown state.
func TestFrontierRebuildKeepsRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: dsnParams}
	raw, err := sql.Open("sqlite3", u.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_init.sql", "0002_frontier.sql", "0003_revisits.sql", "0050_web.sql"} {
		sqlText, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(sqlText)); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_version VALUES (?, ?, 'x')`, []int{1, 2, 3, 50}[i], name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO sweeps (status, started_at) VALUES ('interrupted', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO frontier (sweep_id, market, url, depth, state, attempts, updated_at) VALUES
			(1, 'shop', 'https://shop.test/', 0, 'done', 1, 'a'),
			(1, 'shop', 'https://shop.test/p/1', 1, 'claimed', 2, 'b'),
			(1, 'shop', 'https://shop.test/p/2', 1, 'queued', 0, 'c'),
			(1, 'shop', 'https://shop.test/p/3', 1, 'failed', 3, 'd')`,
		`DELETE FROM frontier WHERE id = 4`, // the sequence stays at 4
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	err = db.FrontierEach(ctx, 1, "shop", func(it FrontierItem, state string) error {
		got = append(got, it.URL+" "+state)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://shop.test/ done|https://shop.test/p/1 claimed|https://shop.test/p/2 queued"
	if strings.Join(got, "|") != want {
		t.Errorf("frontier after the rebuild = %q, want %q", got, want)
	}
	var attempts int
	if err := db.db.QueryRow(`SELECT attempts FROM frontier WHERE id = 2`).Scan(&attempts); err != nil || attempts != 2 {
		t.Errorf("attempts of row 2 = %d, %v; want 2", attempts, err)
	}
	if _, _, err := db.FrontierPush(ctx, 1, "shop", []FrontierItem{{URL: "https://shop.test/p/4", Depth: 1}}, -1); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.db.QueryRow(`SELECT id FROM frontier WHERE url = 'https://shop.test/p/4'`).Scan(&id); err != nil || id != 5 {
		t.Errorf("new frontier row id = %d, %v; want 5 (ids are not reused)", id, err)
	}
	if _, err := db.db.Exec(`UPDATE frontier SET state = 'lost' WHERE id = 1`); err == nil {
		t.Error("frontier accepted the state 'lost'")
	}
}

// TestFrontierWritesBuildNoTemporaryTables checks that queuing a frontier URL
// and setting its state run without a temporary table: SQLite builds one
// for a constraint written as "state IN (...)", at a cost on every write.
func TestFrontierWritesBuildNoTemporaryTables(t *testing.T) {
	db := openTest(t)
	for _, q := range []string{frontierPushSQL, frontierSetSQL} {
		rows, err := db.db.Query("EXPLAIN "+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var addr, p1, p2, p3, p5 int
			var op string
			var p4, comment any
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			if op == "OpenEphemeral" {
				t.Errorf("%s\nopens a temporary table at instruction %d", q, addr)
			}
		}
		rows.Close()
	}
}
