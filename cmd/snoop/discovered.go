package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"snoop/config"
	"snoop/schedule"
	"snoop/store"
)

// addDiscovered returns the workbench's "add as marketplace" action: it
// appends the site to the config file in auto mode, as markets import does,
// and reloads the scheduler with the new config. runCtx is the server's
// lifetime (the scheduler runs sweeps under it).
func addDiscovered(runCtx context.Context, path string, sched *schedule.Scheduler) func(context.Context, store.Discovered) (string, error) {
	var mu sync.Mutex
	return func(_ context.Context, d store.Discovered) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("add %s: %w", d.Site, err)
		}
		cfg, err := config.Parse(path, data)
		if err != nil {
			return "", fmt.Errorf("add %s: the config file does not load: %w", d.Site, err)
		}
		kind := ""
		if strings.HasPrefix(d.Site, "t.me/") {
			kind = config.KindChannel
		}
		added, problems := planImport("discovered", cfg, []importRow{{line: 1, NewMarket: config.NewMarket{URL: d.StartURL, Kind: kind}}})
		if len(problems) > 0 {
			return "", errors.New(strings.TrimPrefix(problems[0], "discovered:1: "))
		}
		out, err := config.AppendMarkets(data, []config.NewMarket{added[0].NewMarket})
		if err != nil {
			return "", err
		}
		next, err := config.Parse(path, out)
		if err != nil {
			return "", fmt.Errorf("add %s: the new config would not load: %w", d.Site, err)
		}
		if err := writeFileAtomic(path, out); err != nil {
			return "", fmt.Errorf("add %s: %w", d.Site, err)
		}
		if err := sched.Reload(runCtx, next.Marketplaces); err != nil {
			return "", fmt.Errorf("add %s: written to %s, but the scheduler did not reload it (send SIGHUP): %w", d.Site, path, err)
		}
		return added[0].Name, nil
	}
}
