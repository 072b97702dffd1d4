package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"snoop/backtest"
	"snoop/classify"
	"snoop/evidence"
	"snoop/export"
	"snoop/schedule"
	"snoop/store"
	"snoop/sweep"
	"snoop/triage"
)

func (s *Server) apiHits(w http.ResponseWriter, r *http.Request) {
	if nearMissQuery(r) {
		s.apiNearMisses(w, r)
		return
	}
	q, err := parseHitQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	hits, total, err := s.findHits(r.Context(), q)
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	if hits == nil {
		hits = []store.Hit{}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	writeJSON(w, http.StatusOK, hits)
}

// hitFromPath loads the hit named by the {id} path value, answering 400 or
// 404 itself when it cannot.
func (s *Server) hitFromPath(w http.ResponseWriter, r *http.Request) (store.Hit, bool) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.deny(w, r, http.StatusBadRequest, "hit ID must be a positive number")
		return store.Hit{}, false
	}
	hits, err := s.opts.DB.Hits(r.Context(), store.HitFilter{IDs: []int64{id}, MaxText: maxShownText})
	if err != nil {
		s.serverErrorAny(w, r, err)
		return store.Hit{}, false
	}
	if len(hits) == 0 {
		s.deny(w, r, http.StatusNotFound, fmt.Sprintf("no hit %d", id))
		return store.Hit{}, false
	}
	return hits[0], true
}

// What one response shows of a listing, whatever the listing holds: a
// hostile page must not cost the server (or the analyst's browser) more
// than this. The full bytes stay in the database and the evidence.
const (
	maxShownText    = 256 << 10 // each text field of a hit on its page and in the API
	maxListText     = 16 << 10  // each text field of a hit in lists
	maxVersionText  = 64 << 10  // each text field of a listing version in its history
	maxShownMatches = 1000      // matched terms listed and highlighted
)

// cutNote says what a hit page or detail left out ("" if nothing).
func cutNote(h store.Hit, history []store.ListingVersion, e explainJSON) string {
	var parts []string
	if h.Cut {
		parts = append(parts, fmt.Sprintf("listing text cut at %d KiB", maxShownText>>10))
	}
	for _, v := range history {
		if v.Cut {
			parts = append(parts, fmt.Sprintf("history texts cut at %d KiB", maxVersionText>>10))
			break
		}
	}
	if e.MatchesTotal > len(e.Matches) {
		parts = append(parts, fmt.Sprintf("%d of %d matched terms listed", len(e.Matches), e.MatchesTotal))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "; the full bytes are in the evidence"
}

func (s *Server) apiHit(w http.ResponseWriter, r *http.Request) {
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// evidenceJSON describes one archived fetch of a hit's page.
type evidenceJSON struct {
	ID              int64     `json:"id"`
	URL             string    `json:"url"`
	Status          int       `json:"status"`
	FetchedAt       time.Time `json:"fetched_at"`
	SHA256          string    `json:"sha256"`
	WARCRecordID    string    `json:"warc_record_id"`
	RequestRecordID string    `json:"request_record_id"`
	RemoteAddr      string    `json:"remote_addr,omitempty"`
	Proxy           string    `json:"proxy,omitempty"`
	Truncated       bool      `json:"truncated,omitempty"`
	PayloadSHA256   string    `json:"payload_sha256,omitempty"` // WARC-Payload-Digest (sha256, hex) of the page
	Revisit         bool      `json:"revisit,omitempty"`        // payload identical to evidence RefersTo; headers only kept
	RefersTo        int64     `json:"refers_to,omitempty"`
	Bytes           int       `json:"bytes"`
	ViewURL         string    `json:"view_url"` // a workbench page showing the archived page, sandboxed
	PageURL         string    `json:"page_url"` // the archived page body, sandboxed, for an iframe or a non-browser client
	RawURL          string    `json:"raw_url"`  // the exact response bytes
}

func toEvidenceJSON(e store.Evidence) evidenceJSON {
	return toEvidenceInfoJSON(store.EvidenceInfo{Evidence: e, Size: len(e.ResponseBytes)})
}

func toEvidenceInfoJSON(e store.EvidenceInfo) evidenceJSON {
	return evidenceJSON{
		ID: e.ID, URL: e.URL, Status: e.Status, FetchedAt: e.FetchedAt, SHA256: e.SHA256,
		WARCRecordID: e.WARCRecordID, RequestRecordID: e.RequestRecordID,
		RemoteAddr: e.RemoteAddr, Proxy: evidence.RedactProxy(e.Proxy), Truncated: e.Truncated, Bytes: e.Size,
		PayloadSHA256: e.PayloadSHA256, Revisit: e.Revisit, RefersTo: e.RefersTo,
		ViewURL: fmt.Sprintf("/evidence/%d", e.ID), PageURL: fmt.Sprintf("/evidence/%d/page", e.ID),
		RawURL: fmt.Sprintf("/evidence/%d/raw", e.ID),
	}
}

// versionJSON is one distinct content of a listing.
type versionJSON struct {
	SweepID     int64     `json:"sweep_id"`
	SeenAt      time.Time `json:"seen_at"`
	ContentHash string    `json:"content_hash"`
	Title       string    `json:"title"`
	Price       string    `json:"price"`
	Vendor      string    `json:"vendor"`
	Text        string    `json:"text"`
}

// hitDetailJSON is everything the hit page shows.
type hitDetailJSON struct {
	Hit      store.Hit            `json:"hit"`
	Cut      string               `json:"cut,omitempty"` // what was left out of a huge listing, if anything
	Explain  explainJSON          `json:"explain"`       // the listing text (as shown) under the active rules
	History  []versionJSON        `json:"history"`
	Reviews  []store.ReviewRecord `json:"reviews"`
	Evidence []evidenceJSON       `json:"evidence"`
}

func (s *Server) hitDetail(ctx context.Context, h store.Hit) (hitDetailJSON, error) {
	d := hitDetailJSON{Hit: h, Explain: s.explain(h.Text), History: []versionJSON{}, Reviews: []store.ReviewRecord{}, Evidence: []evidenceJSON{}}
	vs, err := s.opts.DB.ListingHistoryCut(ctx, h.ListingID, maxVersionText)
	if err != nil {
		return d, err
	}
	d.Cut = cutNote(h, vs, d.Explain)
	for _, v := range vs {
		d.History = append(d.History, versionJSON{SweepID: v.SweepID, SeenAt: v.SeenAt, ContentHash: v.ContentHash,
			Title: v.Title, Price: v.Price, Vendor: v.Vendor, Text: v.Text})
	}
	rs, err := s.opts.DB.Reviews(ctx, h.ID)
	if err != nil {
		return d, err
	}
	d.Reviews = append(d.Reviews, rs...)
	evs, err := s.opts.DB.HitEvidenceInfo(ctx, h.ID)
	if err != nil {
		return d, err
	}
	for _, e := range evs {
		d.Evidence = append(d.Evidence, toEvidenceInfoJSON(e))
	}
	return d, nil
}

func (s *Server) apiHitDetail(w http.ResponseWriter, r *http.Request) {
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	d, err := s.hitDetail(r.Context(), h)
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// reviewRequest is the body of POST /api/hits/{id}/review and (with IDs)
// POST /api/hits/review.
type reviewRequest struct {
	IDs    []int64 `json:"ids,omitempty"`
	Status string  `json:"status"`
	Note   string  `json:"note"`
}

// review records one triage decision for each of ids (store.ReviewHits
// owns the limits and the transaction).
func (s *Server) review(ctx context.Context, ids []int64, status, note string) (int, error) {
	return triage.New(s.opts.DB, s.now).Review(ctx, ids, status, note, identityFrom(ctx).actor)
}

type errBadRequest struct{ msg string }

func (e errBadRequest) Error() string { return e.msg }

type errNotFound struct{ msg string }

func (e errNotFound) Error() string { return e.msg }

// errorStatus maps an error to an HTTP status.
func errorStatus(err error) int {
	var br errBadRequest
	var nf errNotFound
	switch {
	case errors.As(err, &br), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.As(err, &nf), errors.Is(err, store.ErrNotFound), errors.Is(err, schedule.ErrUnknownMarket):
		return http.StatusNotFound
	case errors.Is(err, schedule.ErrRunning):
		return http.StatusConflict
	case errors.Is(err, schedule.ErrStopped):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// apiFail answers err with its status; server errors are logged and not
// shown.
func (s *Server) apiFail(w http.ResponseWriter, err error) {
	code := errorStatus(err)
	if code == http.StatusInternalServerError {
		s.apiServerError(w, err)
		return
	}
	writeError(w, code, err.Error())
}

func (s *Server) apiServerError(w http.ResponseWriter, err error) {
	s.log.Error("request failed", "err", err)
	writeError(w, http.StatusInternalServerError, "internal error (see the server log)")
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, "hit ID must be a positive number")
		return
	}
	var req reviewRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := s.review(r.Context(), []int64{id}, req.Status, req.Note); err != nil {
		s.apiFail(w, err)
		return
	}
	hits, err := s.opts.DB.Hits(r.Context(), store.HitFilter{IDs: []int64{id}, MaxText: maxShownText})
	if err != nil || len(hits) == 0 {
		s.apiFail(w, cmp.Or(err, error(errNotFound{fmt.Sprintf("no hit %d", id)})))
		return
	}
	writeJSON(w, http.StatusOK, hits[0])
}

func (s *Server) apiBulkReview(w http.ResponseWriter, r *http.Request) {
	var req reviewRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.review(r.Context(), req.IDs, req.Status, req.Note)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reviewed": n, "status": req.Status})
}

func (s *Server) apiSweeps(w http.ResponseWriter, r *http.Request) {
	sw, err := s.opts.DB.Sweeps(r.Context())
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	if sw == nil {
		sw = []store.Sweep{}
	}
	writeJSON(w, http.StatusOK, sw)
}

// sweepNow asks the scheduler for a sweep of market and audits the request.
func (s *Server) sweepNow(ctx context.Context, market string) error {
	if market == "" {
		return errBadRequest{"no marketplace named"}
	}
	if err := s.opts.Scheduler.SweepNow(market); err != nil {
		return err
	}
	if err := s.opts.DB.Audit(ctx, identityFrom(ctx).actor, "sweep.request", map[string]any{"market": market}, s.now()); err != nil {
		s.log.Error("audit sweep request", "err", err)
	}
	return nil
}

func (s *Server) apiSweepNow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Market string `json:"market"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.sweepNow(r.Context(), req.Market); err != nil {
		s.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"market": req.Market, "status": "queued"})
}

// marketRow is one configured marketplace with its schedule and last run.
type marketRow struct {
	Name      string     `json:"name"`
	Schedule  string     `json:"schedule"`
	Running   bool       `json:"running"`
	Queued    bool       `json:"queued"`
	NextRun   *time.Time `json:"next_run"` // null: not scheduled
	LastRun   *lastRun   `json:"last_run"` // null: never swept
	LastError string     `json:"last_error,omitempty"`
	Health    *health    `json:"health"` // null: not assessed yet
}

// lastRun is a marketplace's latest sweep and its counts.
type lastRun struct {
	SweepID    int64      `json:"sweep_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Pages      int        `json:"pages"`
	Listings   int        `json:"listings"`
	Hits       int        `json:"hits"`
	NewHits    int        `json:"new_hits"`
	Errors     int        `json:"errors"`
}

func (s *Server) marketRows(ctx context.Context) ([]marketRow, error) {
	runs, err := s.opts.DB.MarketRuns(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]store.MarketRun{}
	for _, r := range runs {
		byName[r.Market] = r
	}
	healths, err := s.opts.DB.LatestHealth(ctx)
	if err != nil {
		return nil, err
	}
	rows := []marketRow{}
	for _, st := range s.opts.Scheduler.Status() {
		row := marketRow{Name: st.Name, Schedule: st.Schedule, Running: st.Running, Queued: st.Queued, LastError: st.LastError}
		if h, ok := healths[st.Name]; ok {
			row.Health = toHealth(h)
		}
		if !st.Next.IsZero() {
			n := st.Next.UTC()
			row.NextRun = &n
		}
		if run, ok := byName[st.Name]; ok {
			row.LastRun = toLastRun(run)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func toLastRun(run store.MarketRun) *lastRun {
	lr := &lastRun{SweepID: run.SweepID, Status: run.Status, StartedAt: run.StartedAt}
	if !run.FinishedAt.IsZero() {
		f := run.FinishedAt
		lr.FinishedAt = &f
	}
	if len(run.Stats) > 0 {
		var res sweep.Result
		if err := json.Unmarshal(run.Stats, &res); err == nil {
			for _, m := range res.Markets {
				if m.Market == run.Market {
					lr.Pages, lr.Listings = m.Crawl.PagesFetched, m.Crawl.Listings
					lr.Hits, lr.NewHits = m.Hits, m.NewHits
					lr.Errors = m.Crawl.Errors
				}
			}
		}
	}
	return lr
}

func (s *Server) apiMarketplaces(w http.ResponseWriter, r *http.Request) {
	rows, err := s.marketRows(r.Context())
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// dashboard is what the dashboard shows.
type dashboard struct {
	Marketplaces []marketRow        `json:"marketplaces"`
	LastLook     *time.Time         `json:"last_look"` // null: never
	NewHits      []store.Hit        `json:"new_hits"`  // first detected since the last look (at most 100)
	NewHitCount  int                `json:"new_hit_count"`
	Classes      []store.ClassCount `json:"classes"` // last 30 days
	Sweeps       []store.Sweep      `json:"recent_sweeps"`
	Chart        *chart             `json:"-"`
	RuleVersion  string             `json:"rule_version"`
	Notice       string             `json:"-"`
	// FailedAlerts are the alert deliveries that failed in the last week.
	FailedAlerts []store.AlertRecord `json:"failed_alerts"`
	// Discovered are sites linked from hit pages that are not marketplaces yet.
	Discovered []store.Discovered `json:"discovered"`
}

const chartDays = 30

func (s *Server) dashboardData(ctx context.Context) (dashboard, error) {
	var d dashboard
	var err error
	if d.Marketplaces, err = s.marketRows(ctx); err != nil {
		return d, err
	}
	actor := identityFrom(ctx).actor
	last, err := s.opts.DB.LastLook(ctx, actor)
	if err != nil {
		return d, err
	}
	if !last.IsZero() {
		d.LastLook = &last
	}
	ids, err := s.opts.DB.HitIDsDetectedSince(ctx, last)
	if err != nil {
		return d, err
	}
	d.NewHitCount = len(ids)
	if len(ids) > 100 {
		ids = ids[len(ids)-100:]
	}
	d.NewHits = []store.Hit{}
	if len(ids) > 0 {
		if d.NewHits, err = s.opts.DB.Hits(ctx, store.HitFilter{IDs: ids, Sort: "-id", MaxText: maxListText}); err != nil {
			return d, err
		}
	}
	now := s.now()
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(chartDays - 1))
	if d.Classes, err = s.opts.DB.ClassCounts(ctx, from); err != nil {
		return d, err
	}
	if d.Classes == nil {
		d.Classes = []store.ClassCount{}
	}
	d.Chart = buildChart(d.Classes, from, chartDays)
	sw, err := s.opts.DB.Sweeps(ctx)
	if err != nil {
		return d, err
	}
	sortSweepsDesc(sw)
	if len(sw) > 10 {
		sw = sw[:10]
	}
	d.Sweeps = sw
	if d.Sweeps == nil {
		d.Sweeps = []store.Sweep{}
	}
	d.RuleVersion = s.opts.RuleVersion
	if d.FailedAlerts, err = failedAlerts(ctx, s.opts.DB, now); err != nil {
		return d, err
	}
	if d.Discovered, err = newDiscovered(ctx, s.opts.DB); err != nil {
		return d, err
	}
	return d, nil
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.dashboardData(r.Context())
	if err != nil {
		s.apiServerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiSeen(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	if err := s.opts.DB.SetLastLook(r.Context(), identityFrom(r.Context()).actor, now); err != nil {
		s.apiServerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"last_look": now})
}

func (s *Server) apiRules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": s.opts.RuleVersion, "candidate_dir": s.opts.CandidateRulesDir != ""})
}

// explainJSON is a classification with every matched term.
type explainJSON struct {
	RuleVersion  string            `json:"rule_version"`
	Hit          bool              `json:"hit"`
	Score        float64           `json:"score"`
	Substances   []store.Substance `json:"substances"`
	Matches      []matchJSON       `json:"matches"`       // the first maxShownMatches, by position
	MatchesTotal int               `json:"matches_total"` // all matched terms
	// Parts is the score arithmetic, as `snoop rules explain` prints it.
	Parts     partsJSON `json:"parts"`
	Threshold float64   `json:"threshold"`
}

// partsJSON is classify.Parts: score = base + sales - exclude, clamped to
// 0..1, with exclude = min(strong + max(0, weak - shield) + far, cap).
type partsJSON struct {
	Base       float64 `json:"base"`
	Sales      float64 `json:"sales"`
	SalesKinds int     `json:"sales_kinds"`
	Strong     float64 `json:"strong"`
	Weak       float64 `json:"weak"`
	Shield     float64 `json:"shield"`
	Far        float64 `json:"far"`
	Exclude    float64 `json:"exclude"`
}

type matchJSON struct {
	Rule    string  `json:"rule"`
	Term    string  `json:"term"`
	Kind    string  `json:"kind"`
	Weight  float64 `json:"weight"`
	Start   int     `json:"start"`
	End     int     `json:"end"`
	Matched string  `json:"matched"`
}

func (s *Server) explain(text string) explainJSON {
	return explainWith(s.opts.Classifier, s.opts.RuleVersion, text)
}

func explainWith(c *classify.Classifier, version, text string) explainJSON {
	res := c.Analyze(text)
	p := res.Parts
	e := explainJSON{RuleVersion: version, Hit: res.Hit, Score: res.Score, Substances: []store.Substance{}, Matches: []matchJSON{},
		MatchesTotal: len(res.Matches),
		Parts: partsJSON{Base: p.Base, Sales: p.Sales, SalesKinds: p.SalesKinds, Strong: p.Strong, Weak: p.Weak,
			Shield: p.Shield, Far: p.Far, Exclude: p.Exclude},
		Threshold: c.RuleSet().Scoring.Threshold}
	for _, s := range res.Substances {
		e.Substances = append(e.Substances, store.Substance{Name: s.Name, Class: s.Class, Matched: s.Matched, Start: s.Start, End: s.End})
	}
	for _, m := range res.Matches[:min(len(res.Matches), maxShownMatches)] {
		e.Matches = append(e.Matches, matchJSON{Rule: m.Rule, Term: m.Term, Kind: m.Kind, Weight: m.Weight, Start: m.Start, End: m.End, Matched: m.Matched})
	}
	return e
}

func (s *Server) apiExplain(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.explain(req.Text))
}

// backtestJSON is what candidate rules would change.
type backtestJSON struct {
	RuleVersion string        `json:"rule_version"`
	Listings    int           `json:"listings"`
	Kept        int           `json:"kept"`
	Gained      []backtestRow `json:"gained"`
	Lost        []backtestRow `json:"lost"`
	Relabeled   []backtestRow `json:"relabeled"`
}

type backtestRow struct {
	ListingID int64    `json:"listing_id"`
	HitID     int64    `json:"hit_id,omitempty"`
	Market    string   `json:"marketplace"`
	URL       string   `json:"url"`
	Title     string   `json:"title"`
	Before    []string `json:"before"`
	After     []string `json:"after"`
	Score     float64  `json:"score"`
}

func toBacktestJSON(version string, res backtest.Result) backtestJSON {
	conv := func(rows []backtest.Row) []backtestRow {
		out := []backtestRow{}
		for _, r := range rows {
			out = append(out, backtestRow{ListingID: r.Listing.ID, HitID: r.Listing.HitID, Market: r.Listing.Market, URL: r.Listing.URL,
				Title: r.Listing.Title, Before: nonNil(r.Before), After: nonNil(r.After), Score: r.Score})
		}
		return out
	}
	return backtestJSON{RuleVersion: version, Listings: res.Listings, Kept: res.Kept,
		Gained: conv(res.Gained), Lost: conv(res.Lost), Relabeled: conv(res.Relabeled)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// backtestFiles loads candidate rules from uploaded files (name -> YAML
// text) and backtests them.
func (s *Server) backtestFiles(ctx context.Context, files map[string][]byte) (backtestJSON, error) {
	if len(files) == 0 {
		return backtestJSON{}, errBadRequest{"no rule files given"}
	}
	dir, err := os.MkdirTemp("", "snoop-candidate-rules-")
	if err != nil {
		return backtestJSON{}, err
	}
	defer os.RemoveAll(dir)
	for name, data := range files {
		base := filepath.Base(name)
		if ext := strings.ToLower(filepath.Ext(base)); ext != ".yaml" && ext != ".yml" || strings.HasPrefix(base, ".") {
			return backtestJSON{}, errBadRequest{fmt.Sprintf("rule file %q: want a .yaml file", name)}
		}
		if err := os.WriteFile(filepath.Join(dir, base), data, 0o600); err != nil {
			return backtestJSON{}, err
		}
	}
	return s.backtestDir(ctx, dir)
}

func (s *Server) backtestDir(ctx context.Context, dir string) (backtestJSON, error) {
	load := s.opts.LoadRules
	if load == nil {
		load = loadRulesDir
	}
	c, version, err := load(dir)
	if err != nil {
		return backtestJSON{}, errBadRequest{"candidate rules: " + strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")}
	}
	res, err := backtest.Run(ctx, s.opts.DB, c)
	if err != nil {
		return backtestJSON{}, err
	}
	return toBacktestJSON(version, res), nil
}

func (s *Server) apiBacktest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Files        map[string]string `json:"files"`
		CandidateDir bool              `json:"candidate_dir"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var (
		res backtestJSON
		err error
	)
	if req.CandidateDir {
		if s.opts.CandidateRulesDir == "" {
			writeError(w, http.StatusBadRequest, "no candidate rule directory configured (serve --candidate-rules DIR)")
			return
		}
		res, err = s.backtestDir(r.Context(), s.opts.CandidateRulesDir)
	} else {
		files := map[string][]byte{}
		for k, v := range req.Files {
			files[k] = []byte(v)
		}
		res, err = s.backtestFiles(r.Context(), files)
	}
	if err != nil {
		s.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// exportRequest selects the hits of a case package.
type exportRequest struct {
	Case      string  `json:"case"`
	Hits      []int64 `json:"hits,omitempty"`
	Sweep     int64   `json:"sweep,omitempty"`
	Since     string  `json:"since,omitempty"`
	Market    string  `json:"market,omitempty"`
	Substance string  `json:"substance,omitempty"`
	Status    string  `json:"status,omitempty"`
}

// writeExport builds the case package for req and sends it as the
// response.
func (s *Server) writeExport(w http.ResponseWriter, r *http.Request, req exportRequest) error {
	if req.Status != "" && req.Status != export.StatusAny && !store.ValidStatus(req.Status) {
		return errBadRequest{fmt.Sprintf("status %q: want new, confirmed, false_positive or any", req.Status)}
	}
	since, err := parseTimeParam("since", req.Since, false)
	if err != nil {
		return errBadRequest{err.Error()}
	}
	if len(req.Case) > 200 {
		return errBadRequest{"case name longer than 200 bytes"}
	}
	if req.Hits, err = store.UniqueIDs(req.Hits, store.MaxSelectIDs, "hit"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "snoop-web-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := fileName(req.Case) + ".zip"
	path := filepath.Join(dir, name)
	sum, err := export.Write(r.Context(), s.opts.DB, path, export.Options{
		Case: req.Case,
		Filter: store.HitFilter{IDs: req.Hits, SweepID: req.Sweep, Since: since, Market: req.Market,
			Substance: strings.ToLower(req.Substance), Status: req.Status},
		SignKey:     s.opts.SignKey,
		ToolVersion: s.opts.ToolVersion,
		RuleVersion: s.opts.RuleVersion,
		Actor:       identityFrom(r.Context()).actor,
		Now:         s.now,
		Logger:      s.log,
		Screenshots: s.opts.Screenshot,
		Classifier:  s.opts.Classifier,
	})
	if errors.Is(err, export.ErrEmptySelection) {
		return errBadRequest{"nothing to export: no hit matches the selection (without a status only confirmed hits are packed; status any packs all)"}
	}
	if err != nil {
		return err
	}
	f, err := os.Open(sum.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Content-Length", strconv.FormatInt(sum.Bytes, 10))
	w.Header().Set("X-Snoop-Hits", strconv.Itoa(sum.Hits))
	w.Header().Set("X-Snoop-Manifest-SHA256", sum.ManifestSHA256)
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("send case package", "err", err)
	}
	return nil
}

// fileName turns a case name into a safe file name.
func fileName(caseName string) string {
	var b strings.Builder
	for _, r := range caseName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	n := strings.Trim(b.String(), ".-")
	if n == "" {
		n = "snoop-case"
	}
	if len(n) > 80 {
		n = n[:80]
	}
	return n
}

func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) {
	var req exportRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.writeExport(w, r, req); err != nil {
		s.apiFail(w, err)
	}
}
