package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"snoop/config"
	"snoop/store"
	"snoop/sweep"
)

func TestServeRefusesExposedAddressWithoutAuth(t *testing.T) {
	t.Setenv("SNOOP_TOKEN", "")
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "http://127.0.0.1:1")
	db := filepath.Join(dir, "snoop.db")
	tests := []struct {
		addr string
		code int
		want string
	}{
		{"0.0.0.0:0", 1, "refusing to listen on 0.0.0.0:0 without authentication"},
		{":0", 1, "refusing to listen"},
		{"nonsense", 2, "want HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			_, stderr, code := runCmd(t, context.Background(), "serve", "--config", cfg, "--db", db, "--addr", tt.addr)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	t.Run("short token", func(t *testing.T) {
		tok := filepath.Join(dir, "token")
		os.WriteFile(tok, []byte("short\n"), 0o600)
		_, stderr, code := runCmd(t, context.Background(), "serve", "--config", cfg, "--db", db, "--addr", "0.0.0.0:0", "--token-file", tok)
		if code != 1 || !strings.Contains(stderr, "too short") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "snoop.db")
	run := func(stdin string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		err := Run(context.Background(), append([]string{"user"}, args...), strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), exitCode(err, &errb)
	}
	if _, stderr, code := run("correct horse battery\n", "add", "alice", "--db", db); code != 0 {
		t.Fatalf("user add: exit %d: %s", code, stderr)
	}
	if _, _, code := run("short\n", "add", "bob", "--db", db); code != 1 {
		t.Errorf("short password: exit %d, want 1", code)
	}
	if _, _, code := run("correct horse battery\n", "add", "bad name!", "--db", db); code != 2 {
		t.Errorf("bad name: exit %d, want 2", code)
	}
	if _, _, code := run("", "frobnicate", "alice"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.PasswordHash(context.Background(), "alice")
	if err != nil || !strings.HasPrefix(h, "$2") {
		t.Fatalf("stored hash %q, %v", h, err)
	}
	if n, _ := s.UserCount(context.Background()); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

// TestServeSweepsOnRequest starts serve on a free loopback port, asks for a
// sweep through the API and waits for its hits.
func TestServeSweepsOnRequest(t *testing.T) {
	t.Setenv("SNOOP_TOKEN", "")
	m := newTestMarket(t)
	dir := t.TempDir()
	cfg, err := config.Load(writeConfig(t, dir, m.URL))
	if err != nil {
		t.Fatal(err)
	}
	rs, c, err := loadRules("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := createDB(context.Background(), filepath.Join(dir, "snoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- serve(ctx, env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr}, serveParams{
			db: db, cfg: cfg, addr: "127.0.0.1:0", maxParallel: 2, publicURLs: []string{"https://snoop.example.org"},
			runner: &sweep.Runner{DB: db, Classifier: c, RuleVersion: rs.Version()},
			log:    newLogger(io.Discard, 0),
			ready:  func(u string) { ready <- u },
		})
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	// Only the served address and the public URL are answered (DNS rebinding).
	for host, want := range map[string]int{"rebind.evil.test:" + base[strings.LastIndex(base, ":")+1:]: 421, "snoop.example.org": 200} {
		r, _ := http.NewRequest("GET", base+"/api/hits", nil)
		r.Host = host
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s = %d, want %d", host, resp.StatusCode, want)
		}
	}
	resp, err = http.Post(base+"/api/sweeps", "application/json", strings.NewReader(`{"market":"test-shop"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/sweeps = %d", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rows []struct {
			Name    string `json:"name"`
			Running bool   `json:"running"`
			Queued  bool   `json:"queued"`
			LastRun *struct {
				Status string `json:"status"`
				Hits   int    `json:"hits"`
			} `json:"last_run"`
		}
		getJSON(t, base+"/api/marketplaces", &rows)
		if len(rows) > 0 && rows[0].LastRun != nil && !rows[0].Running && !rows[0].Queued && rows[0].LastRun.Status != "running" {
			if rows[0].LastRun.Status != "completed" || rows[0].LastRun.Hits == 0 {
				t.Fatalf("last run = %+v", *rows[0].LastRun)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweep did not finish: %+v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var hits []map[string]any
	getJSON(t, base+"/api/hits?market=test-shop", &hits)
	if len(hits) == 0 {
		t.Fatal("no hits after the sweep")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "auth: off (loopback only)") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("GET %s: %w", u, err))
	}
}
