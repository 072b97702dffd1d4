package main

import (
	"context"
	"log/slog"

	"snoop/alert"
	"snoop/config"
	"snoop/health"
	"snoop/store"
	"snoop/sweep"
)

// afterSweep is the hook that records each marketplace's health after a
// sweep and sends the alerts set up under `alerts:` in cfg.
func afterSweep(db *store.DB, cfg *config.Config, log *slog.Logger) func(context.Context, sweep.Result) {
	m := &health.Monitor{DB: db, Logger: log}
	if len(cfg.Alerts.Webhooks) > 0 || cfg.Alerts.Email != nil {
		m.Notifier = &alert.Notifier{Config: cfg.Alerts, Record: db, Logger: log}
	}
	return m.AfterSweep
}
