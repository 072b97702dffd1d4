package web

import (
	"context"
	"net/http"

	"snoop/store"
)

// discoveredAction adds a discovered site as a marketplace, or dismisses it.
// It is the one service both the API and the dashboard form call.
func (s *Server) discoveredAction(ctx context.Context, site, action string) (string, error) {
	d, err := s.opts.DB.DiscoveredSite(ctx, site)
	if err != nil {
		return "", err
	}
	actor := identityFrom(ctx).actor
	switch action {
	case "dismiss":
		if err := s.opts.DB.SetDiscoveredStatus(ctx, site, store.DiscoveredDismissed); err != nil {
			return "", err
		}
		if err := s.opts.DB.Audit(ctx, actor, "discovered.dismiss", map[string]any{"site": site}, s.now()); err != nil {
			s.log.Error("audit", "err", err)
		}
		return "", nil
	case "add":
		if s.opts.AddMarketplace == nil {
			return "", errBadRequest{"this server cannot change its config (start serve with --config)"}
		}
		if d.Status == store.DiscoveredAdded {
			return "", errBadRequest{site + " is already added"}
		}
		name, err := s.opts.AddMarketplace(ctx, d)
		if err != nil {
			return "", errBadRequest{err.Error()} // a config problem the analyst can act on
		}
		if err := s.opts.DB.SetDiscoveredStatus(ctx, site, store.DiscoveredAdded); err != nil {
			return "", err
		}
		if err := s.opts.DB.Audit(ctx, actor, "discovered.add", map[string]any{"site": site, "market": name, "start_url": d.StartURL}, s.now()); err != nil {
			s.log.Error("audit", "err", err)
		}
		return name, nil
	}
	return "", errBadRequest{"action must be add or dismiss"}
}

func (s *Server) apiDiscovered(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "" && status != store.DiscoveredNew && status != store.DiscoveredAdded && status != store.DiscoveredDismissed {
		writeError(w, http.StatusBadRequest, "status must be new, added or dismissed")
		return
	}
	ds, err := s.opts.DB.DiscoveredSites(r.Context(), status)
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) apiDiscoveredAction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Site   string `json:"site"`
		Action string `json:"action"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name, err := s.discoveredAction(r.Context(), req.Site, req.Action)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"site": req.Site, "action": req.Action, "market": name})
}

func (s *Server) discoveredForm(w http.ResponseWriter, r *http.Request) {
	action := r.PostFormValue("action")
	if _, err := s.discoveredAction(r.Context(), r.PostFormValue("site"), action); err != nil {
		s.failPage(w, r, err)
		return
	}
	notice := "discovered-dismissed"
	if action == "add" {
		notice = "discovered-added"
	}
	http.Redirect(w, r, "/?notice="+notice, http.StatusSeeOther)
}

// newDiscovered is what the dashboard lists: the new sites, most sighted first.
func newDiscovered(ctx context.Context, db *store.DB) ([]store.Discovered, error) {
	ds, err := db.DiscoveredSites(ctx, store.DiscoveredNew)
	if err != nil {
		return nil, err
	}
	if len(ds) > 50 {
		ds = ds[:50]
	}
	return ds, nil
}
