package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"snoop/classify"
	"snoop/evidence"
	"snoop/rules"
	"snoop/store"
)

// pageNames are the templates under templates/, each combined with
// base.html.
var pageNames = []string{"login", "error", "dashboard", "hits", "hit", "rules", "export", "evidence", "vendors", "vendor"}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"timep": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04Z")
	},
	"score": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"subs": func(ss []store.Substance) string {
		var names []string
		for _, s := range ss {
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
		return strings.Join(names, ", ")
	},
	"classes": func(ss []store.Substance) string {
		var names []string
		for _, s := range ss {
			if !slices.Contains(names, s.Class) {
				names = append(names, s.Class)
			}
		}
		return strings.Join(names, ", ")
	},
	"join":  func(ss []string) string { return strings.Join(ss, ", ") },
	"state": statusOf,
	"short": func(s string) string { return clip(s, 80) },
	"statusLabel": func(s string) string {
		switch s {
		case "false_positive":
			return "false positive"
		}
		return s
	},
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what base.html gets; Data is the page's own.
type pageData struct {
	Title    string
	Nav      string
	CSRF     string
	User     string // signed-in user ("" without a session)
	AuthOn   bool
	Version  string
	Data     any
	Fragment string
}

// render executes the page template into a buffer, then writes it, so a
// template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page, title string, data any) {
	id := identityFrom(r.Context())
	pd := pageData{Title: title, Nav: page, CSRF: s.csrfToken(w, r), AuthOn: id.authRequired, Version: s.opts.ToolVersion, Data: data}
	if id.session != nil {
		pd.User = id.session.User
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "base", pd); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

type errorData struct {
	Code    int
	Status  string
	Message string
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", http.StatusText(code), errorData{Code: code, Status: http.StatusText(code), Message: msg})
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong; the server log has the details.")
}

// serverErrorAny answers an internal error as JSON or HTML.
func (s *Server) serverErrorAny(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		s.apiServerError(w, err)
		return
	}
	s.serverError(w, r, err)
}

// failPage answers err on a page: its status and message, or a logged
// internal error.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	code := errorStatus(err)
	if code == http.StatusInternalServerError {
		s.serverError(w, r, err)
		return
	}
	s.errorPage(w, r, code, err.Error())
}

// notices are the messages a redirect may ask the next page to show.
var notices = map[string]string{
	"sweep-queued":         "Sweep requested: it starts as soon as a slot is free.",
	"seen":                 "Marked as looked at: only hits found from now on count as new.",
	"reviewed":             "Triage recorded in the audit log.",
	"discovered-added":     "Marketplace added to the config in auto mode; it is swept on the default schedule.",
	"discovered-dismissed": "Site dismissed.",
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.dashboardData(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if n, ok := notices[r.URL.Query().Get("notice")]; ok {
		d.Notice = n
	}
	s.render(w, r, http.StatusOK, "dashboard", "Dashboard", d)
}

func (s *Server) markSeen(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.DB.SetLastLook(r.Context(), identityFrom(r.Context()).actor, s.now()); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/?notice=seen", http.StatusSeeOther)
}

func (s *Server) sweepNowForm(w http.ResponseWriter, r *http.Request) {
	if err := s.sweepNow(r.Context(), r.PostFormValue("market")); err != nil {
		s.failPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/?notice=sweep-queued", http.StatusSeeOther)
}

const perPage = 50

type hitsData struct {
	Query     hitQuery
	Since     string // date inputs
	Until     string
	Hits      []store.Hit
	Total     int
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	Back      string // this page's query, for the bulk form's redirect
	Markets   []string
	Classes   []string
	SortKeys  []string
	Error     string
	Notice    string
	AllTicked bool   // "select all": every hit of the page starts ticked
	AllURL    string // this page with every hit ticked
}

func (s *Server) hitsPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	d := hitsData{Markets: s.marketNames(), Classes: knownClasses(), SortKeys: sortKeys}
	if n, ok := notices[v.Get("notice")]; ok {
		d.Notice = n
	}
	q, err := parseHitQuery(v)
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "hits", "Hits", d)
		return
	}
	if q.Sort == "" {
		q.Sort = "-id"
	}
	d.Page = 1
	if p, err := strconv.Atoi(v.Get("page")); err == nil && p > 1 {
		d.Page = p
	}
	q.Limit, q.Offset = perPage, (d.Page-1)*perPage
	d.Query = q
	if !q.Since.IsZero() {
		d.Since = q.Since.UTC().Format("2006-01-02")
	}
	if !q.Until.IsZero() {
		d.Until = q.Until.UTC().Add(-time.Nanosecond).Format("2006-01-02")
	}
	d.Hits, d.Total, err = s.findHits(r.Context(), q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Pages = max(1, (d.Total+perPage-1)/perPage)
	base := q.values()
	if d.Page > 1 {
		base.Set("page", strconv.Itoa(d.Page-1))
		d.PrevURL = "/hits?" + base.Encode()
	}
	if d.Page < d.Pages {
		base.Set("page", strconv.Itoa(d.Page+1))
		d.NextURL = "/hits?" + base.Encode()
	}
	base.Set("page", strconv.Itoa(d.Page))
	d.Back = "/hits?" + base.Encode()
	d.AllTicked = v.Get("all") == "1"
	base.Set("all", "1")
	d.AllURL = "/hits?" + base.Encode()
	s.render(w, r, http.StatusOK, "hits", "Hits", d)
}

func (s *Server) marketNames() []string {
	var names []string
	for _, st := range s.opts.Scheduler.Status() {
		names = append(names, st.Name)
	}
	return names
}

func knownClasses() []string {
	return []string{"fentanyl-analogue", "nitazene", "other-nso", "precursor"}
}

func (s *Server) bulkReviewForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	ids, err := parseIDs(r.PostForm["hit"])
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if len(ids) == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "Nothing was ticked, so nothing was marked: tick the box of each hit to mark (or \"select all\"), then press the button again.")
		return
	}
	if _, err := s.review(r.Context(), ids, r.PostFormValue("status"), r.PostFormValue("note")); err != nil {
		s.failPage(w, r, err)
		return
	}
	back := localPath(r.PostFormValue("back"))
	if back != "/hits" && !strings.HasPrefix(back, "/hits?") {
		back = "/hits"
	}
	u, err := url.Parse(back)
	if err != nil {
		u = &url.URL{Path: "/hits"}
	}
	qv := u.Query()
	qv.Set("notice", "reviewed")
	u.RawQuery = qv.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "hit ID must be a positive number")
		return
	}
	if _, err := s.review(r.Context(), []int64{id}, r.PostFormValue("status"), r.PostFormValue("note")); err != nil {
		s.failPage(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/hits/%d?notice=reviewed", id), http.StatusSeeOther)
}

type hitPageData struct {
	hitDetailJSON
	Segments   []segment
	SubRules   map[int]string // substance index -> rule that fired it
	Latest     *evidenceJSON
	Source     string // decoded body of the latest evidence, escaped by the template
	SourceNote string
	Screenshot bool
	SameRules  bool
	Notice     string
	// Prev and Next are the neighbouring hits by id, 0 when none;
	// NextNew is the next hit still to triage.
	Prev, Next, NextNew int64
}

func (s *Server) hitPage(w http.ResponseWriter, r *http.Request) {
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	det, err := s.hitDetail(r.Context(), h)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := hitPageData{hitDetailJSON: det, SubRules: map[int]string{}, Screenshot: s.opts.Screenshot != nil || h.Screenshot != nil,
		SameRules: h.RuleVersion == s.opts.RuleVersion}
	if d.Prev, d.Next, err = s.opts.DB.AdjacentHits(r.Context(), h.ID, ""); err == nil {
		_, d.NextNew, err = s.opts.DB.AdjacentHits(r.Context(), h.ID, store.StatusNew)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if n, ok := notices[r.URL.Query().Get("notice")]; ok {
		d.Notice = n
	}
	var stored []storedSub
	for i, sub := range h.Substances {
		stored = append(stored, storedSub{Name: sub.Name, Class: sub.Class, Start: sub.Start, End: sub.End})
		for _, m := range det.Explain.Matches {
			if m.Start == sub.Start && m.End == sub.End {
				d.SubRules[i] = m.Rule
			}
		}
	}
	d.Segments = highlight(h.Text, hitSpans(det.Explain, stored))
	if n := len(det.Evidence); n > 0 {
		d.Latest = &det.Evidence[n-1]
		ev, err := s.opts.DB.Evidence(r.Context(), d.Latest.ID)
		var raw []byte
		if err == nil {
			raw, err = s.pageBytes(r.Context(), ev)
		}
		if err != nil {
			d.SourceNote = "the archived page cannot be loaded (see the server log)"
			s.log.Error("load evidence", "id", d.Latest.ID, "err", err)
		} else {
			// Decode no more than is shown: a page of any size costs maxSource.
			const maxSource = 512 << 10
			if body, err := evidence.DecodeHTTPResponse(raw, maxSource+1); err == nil {
				src := body.Body
				if len(src) > maxSource {
					src = src[:maxSource]
					d.SourceNote = fmt.Sprintf("first %d KiB shown; the full bytes are in the evidence", maxSource>>10)
				}
				d.Source = strings.ToValidUTF8(string(src), "\uFFFD")
			} else {
				d.SourceNote = err.Error()
			}
		}
	}
	w.Header().Set("Content-Security-Policy", cspDetail)
	s.render(w, r, http.StatusOK, "hit", fmt.Sprintf("Hit %d", h.ID), d)
}

type rulesData struct {
	Version      string
	CandidateDir string
	Text         string
	Explain      *explainJSON
	Segments     []segment
	Backtest     *backtestJSON
	Error        string
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "rules", "Rules", rulesData{Version: s.opts.RuleVersion, CandidateDir: s.opts.CandidateRulesDir})
}

func (s *Server) explainForm(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("text")
	e := s.explain(text)
	d := rulesData{Version: s.opts.RuleVersion, CandidateDir: s.opts.CandidateRulesDir, Text: text, Explain: &e,
		Segments: highlight(text, hitSpans(e, nil))}
	s.render(w, r, http.StatusOK, "rules", "Rules", d)
}

func (s *Server) backtestForm(w http.ResponseWriter, r *http.Request) {
	d := rulesData{Version: s.opts.RuleVersion, CandidateDir: s.opts.CandidateRulesDir}
	if err := r.ParseMultipartForm(maxUploadBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		d.Error = "upload: " + err.Error()
		s.render(w, r, http.StatusBadRequest, "rules", "Rules", d)
		return
	}
	var (
		res backtestJSON
		err error
	)
	if r.PostFormValue("source") == "dir" && s.opts.CandidateRulesDir != "" {
		res, err = s.backtestDir(r.Context(), s.opts.CandidateRulesDir)
	} else {
		files := map[string][]byte{}
		if r.MultipartForm != nil {
			for _, fh := range r.MultipartForm.File["rules"] {
				f, ferr := fh.Open()
				if ferr != nil {
					err = ferr
					break
				}
				b, ferr := io.ReadAll(f)
				f.Close()
				if ferr != nil {
					err = ferr
					break
				}
				files[fh.Filename] = b
			}
		}
		if err == nil {
			res, err = s.backtestFiles(r.Context(), files)
		}
	}
	if err != nil {
		if errorStatus(err) == http.StatusInternalServerError {
			s.serverError(w, r, err)
			return
		}
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "rules", "Rules", d)
		return
	}
	d.Backtest = &res
	s.render(w, r, http.StatusOK, "rules", "Rules", d)
}

type exportData struct {
	Sweeps  []store.Sweep
	IDs     string
	Case    string
	Sweep   int64
	Since   string
	Error   string
	Preview exportPreview
}

func (s *Server) exportPage(w http.ResponseWriter, r *http.Request) {
	s.renderExport(w, r, r.URL.Query())
}

// exportPreviewPage shows the export form again with the preview of what
// the posted selection packs.
func (s *Server) exportPreviewPage(w http.ResponseWriter, r *http.Request) {
	s.renderExport(w, r, r.PostForm)
}

func (s *Server) renderExport(w http.ResponseWriter, r *http.Request, q url.Values) {
	sw, err := s.opts.DB.Sweeps(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	sortSweepsDesc(sw)
	prev, err := s.previewExport(r.Context(), q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	sweep, _ := strconv.ParseInt(q.Get("sweep"), 10, 64)
	s.render(w, r, http.StatusOK, "export", "Export", exportData{Sweeps: sw, IDs: strings.Join(q["hit"], " "),
		Case: q.Get("case"), Sweep: sweep, Since: q.Get("since"), Preview: prev})
}

func (s *Server) exportForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	ids, err := parseIDs(r.PostForm["hit"])
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if r.PostForm.Has("preview") {
		s.exportPreviewPage(w, r)
		return
	}
	if r.PostForm.Has("back") && len(ids) == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "select the hits to export first")
		return
	}
	req := exportRequest{Case: strings.TrimSpace(r.PostFormValue("case")), Hits: ids, Status: r.PostFormValue("status"), Since: r.PostFormValue("since")}
	if sw := r.PostFormValue("sweep"); sw != "" {
		if req.Sweep, err = strconv.ParseInt(sw, 10, 64); err != nil || req.Sweep < 0 {
			s.errorPage(w, r, http.StatusBadRequest, "sweep must be a sweep ID")
			return
		}
	}
	if err := s.writeExport(w, r, req); err != nil {
		s.failPage(w, r, err)
	}
}

// sortSweepsDesc orders sweeps newest first.
func sortSweepsDesc(sw []store.Sweep) {
	slices.SortFunc(sw, func(a, b store.Sweep) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
}

// loadRulesDir loads candidate rules from dir.
func loadRulesDir(dir string) (*classify.Classifier, string, error) {
	rs, err := rules.LoadDir(filepath.Clean(dir))
	if err != nil {
		return nil, "", err
	}
	c, err := classify.New(rs)
	if err != nil {
		return nil, "", err
	}
	return c, rs.Version(), nil
}

// statusOf helps templates show a marketplace's state in words.
func statusOf(m marketRow) string {
	switch {
	case m.Running:
		return "running"
	case m.Queued:
		return "queued"
	case m.LastRun != nil:
		return m.LastRun.Status
	}
	return "never swept"
}
