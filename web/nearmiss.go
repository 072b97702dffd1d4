package web

import (
	"net/http"
	"strconv"

	"snoop/backtest"
)

// apiNearMisses answers GET /api/hits?near_miss=1 (optionally &market=):
// the stored listings that are not hits but score within the rules'
// near-miss margin below the threshold, re-classified with the active
// rules.
func (s *Server) apiNearMisses(w http.ResponseWriter, r *http.Request) {
	nms, err := backtest.NearMisses(r.Context(), s.opts.DB, s.opts.Classifier, r.URL.Query().Get("market"))
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(nms)))
	writeJSON(w, http.StatusOK, nms)
}

// nearMissQuery reports whether a /api/hits query asks for near misses.
func nearMissQuery(r *http.Request) bool {
	v := r.URL.Query().Get("near_miss")
	return v == "1" || v == "true"
}
