package main

import (
	"context"
	"log/slog"

	"snoop/alert"
	"snoop/config"
	"snoop/discover"
	"snoop/health"
	"snoop/store"
	"snoop/sweep"
)

// afterSweep is the hook that links the sweep's listings into vendors, records each marketplace's health after a
// sweep, sends the alerts set up under `alerts:` in cfg, and records the
// sites the hit pages link to.
func afterSweep(db *store.DB, cfg *config.Config, log *slog.Logger) func(context.Context, sweep.Result) {
	m := &health.Monitor{DB: db, Logger: log}
	if len(cfg.Alerts.Webhooks) > 0 || cfg.Alerts.Email != nil {
		m.Notifier = &alert.Notifier{Config: cfg.Alerts, Record: db, Logger: log}
	}
	d := &discover.Collector{DB: db, Config: cfg, Logger: log}
	link := linkVendors(db)
	return func(ctx context.Context, res sweep.Result) {
		// Vendors first, so that alerts and discovery see this sweep's sellers.
		if err := link(ctx, res.SweepID); err != nil {
			log.Error("after sweep", "err", err)
		}
		m.AfterSweep(ctx, res)
		d.AfterSweep(ctx, res)
	}
}
