package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"snoop/config"
	"snoop/schedule"
	"snoop/store"
)

func TestAddDiscoveredWritesConfigAndReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snoop.yaml")
	if err := os.WriteFile(path, []byte(importBaseConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := schedule.New(cfg.Marketplaces, schedule.Options{Sweep: func(ctx context.Context, m config.Market) (int64, error) { return 0, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); sched.Wait() }()
	if err := sched.Start(ctx); err != nil {
		t.Fatal(err)
	}
	add := addDiscovered(ctx, path, sched)
	name, err := add(ctx, store.Discovered{Site: "t.me/isoking", StartURL: "https://t.me/s/isoking"})
	if err != nil || name != "tg-isoking" {
		t.Fatalf("add: %q, %v", name, err)
	}
	var names []string
	for _, st := range sched.Status() {
		names = append(names, st.Name)
	}
	if !slices.Contains(names, "tg-isoking") {
		t.Errorf("scheduler has %v, want the new marketplace", names)
	}
	data, _ := os.ReadFile(path)
	next, err := config.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := next.Market("tg-isoking")
	if !ok || !m.Listing.Auto || m.Kind != "channel" || m.StartURLs[0] != "https://t.me/s/isoking" || !strings.Contains(string(data), "# the first shop we watch") {
		t.Errorf("config after add:\n%s", data)
	}
	if _, err := add(ctx, store.Discovered{Site: "t.me/isoking", StartURL: "https://t.me/s/isoking"}); err == nil || !strings.Contains(err.Error(), "duplicate of marketplace tg-isoking") {
		t.Errorf("second add: %v", err)
	}
}
