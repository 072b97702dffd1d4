package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openWebTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	db := openWebTestDB(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	if n, err := db.UserCount(ctx); err != nil || n != 0 {
		t.Fatalf("UserCount = %d, %v; want 0, nil", n, err)
	}
	if _, err := db.PasswordHash(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PasswordHash of missing user: got %v, want ErrNotFound", err)
	}
	if err := db.PutUser(ctx, "alice", "hash1", now); err != nil {
		t.Fatal(err)
	}
	if h, err := db.PasswordHash(ctx, "alice"); err != nil || h != "hash1" {
		t.Fatalf("PasswordHash = %q, %v; want hash1", h, err)
	}
	s := Session{TokenHash: "tok", User: "alice", CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.SessionByToken(ctx, "tok", now.Add(time.Minute))
	if err != nil || got.User != "alice" || got.CSRF != "c" || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("SessionByToken = %+v, %v", got, err)
	}
	if _, err := db.SessionByToken(ctx, "tok", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: got %v, want ErrNotFound", err)
	}
	// A new password ends the account's sessions.
	if err := db.PutUser(ctx, "alice", "hash2", now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, "tok", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after password change: got %v, want ErrNotFound", err)
	}
	if n, _ := db.UserCount(ctx); n != 1 {
		t.Fatalf("UserCount = %d, want 1", n)
	}
	if err := db.CreateSession(ctx, Session{TokenHash: "t2", User: "alice", CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByToken(ctx, "t2", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: got %v, want ErrNotFound", err)
	}
}

func TestLastLook(t *testing.T) {
	ctx := context.Background()
	db := openWebTestDB(t)
	if at, err := db.LastLook(ctx, "bob"); err != nil || !at.IsZero() {
		t.Fatalf("LastLook = %v, %v; want zero", at, err)
	}
	want := time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC)
	for range 2 {
		if err := db.SetLastLook(ctx, "bob", want); err != nil {
			t.Fatal(err)
		}
	}
	if at, err := db.LastLook(ctx, "bob"); err != nil || !at.Equal(want) {
		t.Fatalf("LastLook = %v, %v; want %v", at, err, want)
	}
}

func TestWebAggregates(t *testing.T) {
	ctx := context.Background()
	db := openWebTestDB(t)
	day1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)

	save := func(sweep int64, at time.Time, market, url string, subs ...Substance) SaveResult {
		t.Helper()
		l := ListingRecord{URL: url, Title: "t " + url, Text: "text " + url}
		if len(subs) > 0 {
			l.Hit = &HitRecord{Score: 0.9, RuleVersion: "sha256:x", Substances: subs}
		}
		res, err := db.SavePage(ctx, PageRecord{SweepID: sweep, Market: market, URL: url, Status: 200,
			Evidence: Evidence{FetchedAt: at, RequestBytes: []byte("GET / HTTP/1.1\r\n\r\n"), ResponseBytes: []byte("HTTP/1.1 200 OK\r\n\r\n" + url)}},
			[]ListingRecord{l})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	s1, err := db.BeginSweep(ctx, []string{"shop", "board"}, "sha256:x", day1)
	if err != nil {
		t.Fatal(err)
	}
	save(s1, day1, "shop", "http://shop/1", Substance{Name: "isotonitazene", Class: "nitazene"})
	save(s1, day1, "shop", "http://shop/2", Substance{Name: "carfentanil", Class: "fentanyl-analogue"}, Substance{Name: "metonitazene", Class: "nitazene"})
	save(s1, day1, "board", "http://board/1")
	if err := db.FinishSweep(ctx, s1, "completed", map[string]int{"pages": 3}, day1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s2, err := db.BeginSweep(ctx, []string{"shop"}, "sha256:x", day2)
	if err != nil {
		t.Fatal(err)
	}
	save(s2, day2, "shop", "http://shop/3", Substance{Name: "isotonitazene", Class: "nitazene"})

	t.Run("ClassCounts", func(t *testing.T) {
		got, err := db.ClassCounts(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []ClassCount{{"2026-03-01", "fentanyl-analogue", 1}, {"2026-03-01", "nitazene", 2}, {"2026-03-02", "nitazene", 1}}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
			}
		}
	})
	t.Run("HitIDsDetectedSince", func(t *testing.T) {
		ids, err := db.HitIDsDetectedSince(ctx, day1.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 {
			t.Fatalf("got %v, want one hit", ids)
		}
		h, err := db.Hit(ctx, ids[0])
		if err != nil || h.URL != "http://shop/3" {
			t.Fatalf("hit %d = %s, %v; want http://shop/3", ids[0], h.URL, err)
		}
	})
	t.Run("MarketRuns", func(t *testing.T) {
		runs, err := db.MarketRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Fatalf("got %d runs, want 2", len(runs))
		}
		if r := runs[0]; r.Market != "board" || r.SweepID != s1 || r.Status != "completed" || len(r.Stats) == 0 || r.FinishedAt.IsZero() {
			t.Errorf("board run = %+v", r)
		}
		if r := runs[1]; r.Market != "shop" || r.SweepID != s2 || r.Status != "running" || r.Stats != nil || !r.StartedAt.Equal(day2) {
			t.Errorf("shop run = %+v", r)
		}
	})
	t.Run("Reviews", func(t *testing.T) {
		ids, _ := db.HitIDsDetectedSince(ctx, time.Time{})
		if err := db.Review(ctx, ids[0], "confirmed", "sold", "alice", day2); err != nil {
			t.Fatal(err)
		}
		rs, err := db.Reviews(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Status != "confirmed" || rs[0].Note != "sold" || rs[0].Actor != "alice" || !rs[0].At.Equal(day2) {
			t.Fatalf("Reviews = %+v", rs)
		}
	})
}
