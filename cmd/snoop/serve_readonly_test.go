package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeExistingDatabaseReadOnly serves a database without a config:
// hits are listed, every change is refused, sweeps are off.
func TestServeExistingDatabaseReadOnly(t *testing.T) {
	t.Setenv("SNOOP_TOKEN", "")
	db := seedHostile(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, &stderr)
	}()
	baseRE := regexp.MustCompile(`snoop serve: (http://127\.0\.0\.1:\d+) read-only, sweeps off`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if m := baseRE.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}

	resp, err := http.Get(base + "/api/hits")
	if err != nil {
		t.Fatal(err)
	}
	var hits []map[string]any
	json.NewDecoder(resp.Body).Decode(&hits)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(hits) != 1 {
		t.Errorf("GET /api/hits: %d, %d hits; want 200 and the stored hit", resp.StatusCode, len(hits))
	}
	for _, req := range []struct{ path, body string }{
		{"/api/hits/1/review", `{"status":"confirmed"}`},
		{"/api/sweeps", `{"market":"shop"}`},
		{"/api/exports", `{}`},
	} {
		resp, err := http.Post(base+req.path, "application/json", strings.NewReader(req.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "read-only") {
			t.Errorf("POST %s: %d %s; want 403 read-only", req.path, resp.StatusCode, body)
		}
	}
	resp, err = http.Get(base + "/api/marketplaces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/marketplaces: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	out, _, code := runCmd(t, context.Background(), "hits", "--db", db, "--format", "jsonl")
	if code != 0 || !strings.Contains(out, `"status":"new"`) {
		t.Errorf("the hit changed: %s", out)
	}
}

func TestServeWithoutConfigNeedsExistingDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.db")
	_, stderr, code := runCmd(t, context.Background(), "serve", "--db", missing, "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, "existing database") {
		t.Errorf("serve without config or database: exit %d, %s", code, stderr)
	}
}

func TestHealth(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer ok.Close()
	if out, errOut, code := runCmd(t, context.Background(), "health", "--url", ok.URL+"/healthz"); code != 0 || out != "ok\n" {
		t.Errorf("health of a live server: exit %d, %q %q", code, out, errOut)
	}
	if _, _, code := runCmd(t, context.Background(), "health", "--url", ok.URL+"/nothing"); code != 1 {
		t.Errorf("health of a 404: exit %d, want 1", code)
	}
	ok.Close()
	if _, _, code := runCmd(t, context.Background(), "health", "--url", ok.URL+"/healthz", "--timeout", "2s"); code != 1 {
		t.Errorf("health of a stopped server: exit %d, want 1", code)
	}
}
