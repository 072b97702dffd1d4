package web

import (
	"context"
	"net/url"
	"strconv"

	"snoop/export"
	"snoop/store"
)

// exportPreview is what the export form would pack, by status.
type exportPreview struct {
	Counts []statusCount // every status, in a fixed order
	Status string        // the status chosen: "" (confirmed only), a status or "any"
	Packs  int           // how many hits the export would pack
	Err    string        // why the preview could not be made
}

// statusCount is the number of selected hits with one status.
type statusCount struct {
	Status string
	N      int
}

// previewExport counts the hits the form's selection (hit IDs, sweep,
// since) holds by status, and how many the chosen status packs under the
// export policy.
func (s *Server) previewExport(ctx context.Context, q url.Values) (exportPreview, error) {
	p := exportPreview{Status: q.Get("status")}
	ids, err := parseIDs(q["hit"])
	if err != nil {
		p.Err = err.Error()
		return p, nil
	}
	since, err := parseTimeParam("since", q.Get("since"), false)
	if err != nil {
		p.Err = err.Error()
		return p, nil
	}
	f := store.HitFilter{IDs: ids, Since: since}
	if sw := q.Get("sweep"); sw != "" {
		if f.SweepID, err = strconv.ParseInt(sw, 10, 64); err != nil {
			p.Err = "sweep must be a sweep ID"
			return p, nil
		}
	}
	for _, st := range []string{store.StatusConfirmed, store.StatusNew, store.StatusFalsePositive} {
		f.Status = st
		n, err := s.opts.DB.CountHits(ctx, f)
		if err != nil {
			return p, err
		}
		p.Counts = append(p.Counts, statusCount{Status: st, N: n})
		switch p.Status {
		case "", st:
			if p.Status != "" || st == store.StatusConfirmed {
				p.Packs += n
			}
		case export.StatusAny:
			p.Packs += n
		}
	}
	return p, nil
}
