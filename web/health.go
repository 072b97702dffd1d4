package web

import (
	"context"
	"encoding/json"
	"time"

	"snoop/store"
)

// health is a marketplace's health after its latest assessed sweep.
type health struct {
	Status     string    `json:"status"` // ok, warn or bad
	SweepID    int64     `json:"sweep_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Problems   []string  `json:"problems"`
	Report     any       `json:"report"` // counts, field fill rates and problems as recorded
}

func toHealth(h store.HealthRecord) *health {
	out := &health{Status: h.Status, SweepID: h.SweepID, RecordedAt: h.RecordedAt, Problems: []string{}}
	var rep struct {
		Problems []struct {
			Message string `json:"message"`
		} `json:"problems"`
	}
	if json.Unmarshal(h.Report, &rep) == nil {
		for _, p := range rep.Problems {
			out.Problems = append(out.Problems, p.Message)
		}
	}
	var raw any
	if json.Unmarshal(h.Report, &raw) == nil {
		out.Report = raw
	}
	return out
}

// failedAlerts are the alert deliveries that failed in the week before now.
func failedAlerts(ctx context.Context, db *store.DB, now time.Time) ([]store.AlertRecord, error) {
	all, err := db.AlertsSince(ctx, now.AddDate(0, 0, -7), 200)
	if err != nil {
		return nil, err
	}
	out := []store.AlertRecord{}
	for _, a := range all {
		if a.Status == store.AlertFailed {
			out = append(out, a)
		}
	}
	return out, nil
}
