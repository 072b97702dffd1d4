package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLoggerWritesEachKeyOnce(t *testing.T) {
	var b bytes.Buffer
	log := newLogger(&b, slog.LevelInfo).With("component", "sweep").With("market", "chemcorner")
	log.Info("page fetched", "market", "chemcorner", "url", "http://x/1", "url", "http://x/2", "component", "crawler")
	log.WithGroup("g").Info("grouped", "market", "other")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	for _, key := range []string{"market=", "url=", "component="} {
		if n := strings.Count(lines[0], key); n != 1 {
			t.Errorf("%s appears %d times in %q", key, n, lines[0])
		}
	}
	if !strings.Contains(lines[0], "url=http://x/1") || !strings.Contains(lines[0], "component=sweep") {
		t.Errorf("first values not kept: %q", lines[0])
	}
	if !strings.Contains(lines[1], "g.market=other") {
		t.Errorf("grouped attribute lost: %q", lines[1])
	}
}
