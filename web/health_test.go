package web

import (
	"context"
	"strings"
	"testing"

	"snoop/store"
)

func TestMarketplaceHealthAndFailedAlerts(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	report := `{"status":"bad","sample":{"pages":9,"listings":0},"problems":[{"kind":"no_listings","severity":"bad","message":"no listings, where sweeps usually find about 40"}]}`
	if err := f.db.SaveHealth(ctx, store.HealthRecord{Market: "shop", SweepID: f.sweep, RecordedAt: testNow, Status: store.HealthBad, Report: []byte(report)}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SaveAlert(ctx, store.AlertRecord{SentAt: testNow, Event: "health", Market: "shop", Channel: "webhook:https://hooks.example/…",
		Status: store.AlertFailed, Attempts: 4, Error: "post webhook: 502 Bad Gateway <script>"}); err != nil {
		t.Fatal(err)
	}
	rows := decode[[]marketRow](t, f.do(t, req{path: "/api/marketplaces"}))
	if rows[0].Health == nil || rows[0].Health.Status != "bad" || len(rows[0].Health.Problems) != 1 ||
		!strings.HasPrefix(rows[0].Health.Problems[0], "no listings") || rows[0].Health.SweepID != f.sweep {
		t.Errorf("shop health = %+v", rows[0].Health)
	}
	if rows[1].Health != nil {
		t.Errorf("board health = %+v, want null (never assessed)", rows[1].Health)
	}
	page := f.do(t, req{path: "/"}).Body.String()
	for _, want := range []string{"health: bad", "no listings, where sweeps usually find about 40", `id="failed-alerts"`, "502 Bad Gateway &lt;script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
