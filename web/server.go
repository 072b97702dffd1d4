// Package web serves the analyst workbench of `snoop serve`: server-rendered
// HTML pages (dashboard, hits, hit detail, rules, export) and the JSON API
// under /api/ that does everything the pages do.
//
// # Security model
//
// Nothing fetched from a marketplace may ever run in the analyst's browser,
// and nothing in it may make the browser contact the marketplace. Every
// response carries a strict Content-Security-Policy (no scripts at all: the
// UI needs none) and nosniff. Listing text is only ever inserted through
// html/template, which escapes it. Archived page bodies are served from
// /evidence/ID/page with "Content-Security-Policy: sandbox; default-src
// 'none'" and shown only in an <iframe sandbox> without allow-scripts (an
// opaque origin, no scripts, no pop-ups, nothing loaded) of a workbench page
// whose frame-src 'self' keeps the frame from being navigated off the
// workbench, so a click on an archived link goes nowhere; the links
// themselves are made inert before the body is served (inertHTML), as a
// middle click or the context menu open new tabs that no policy governs. A
// browser never gets an archived body as a top-level document (see
// framedDest).
//
// Requests are answered only when their Host header names the server
// (Options.Addr, Options.PublicURLs): a page rebinding its own DNS name to
// 127.0.0.1 gets 421.
//
// Authentication is on as soon as an account exists (`snoop user add`) or a
// bearer token is configured. Browsers sign in and get a session cookie
// (HttpOnly, SameSite=Strict, Secure when served over TLS or on a
// non-loopback address); failed sign-ins are limited per client address and
// per account (loginLimiter). API clients send "Authorization: Bearer
// TOKEN". Every state-changing request is checked by net/http's
// CrossOriginProtection and, unless it carries the bearer token, must carry
// the anti-CSRF token (form field "csrf" or header X-CSRF-Token) of the
// session (or, without auth, of the snoop_csrf cookie). Without auth, JSON
// API requests (Content-Type: application/json, which no cross-site form
// can send and no cross-site fetch can send without a preflight the server
// never grants; a rebound name is refused by the Host check) are accepted
// without the token so that local scripts work. Request bodies, and what a
// response shows of one listing, are limited in size.
package web

import (
	"context"
	"crypto/ed25519"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"snoop/classify"
	"snoop/schedule"
	"snoop/store"
)

// Scheduler is what the server needs from the sweep scheduler.
type Scheduler interface {
	// Status reports every configured marketplace.
	Status() []schedule.MarketStatus
	// SweepNow queues a sweep of the named marketplace.
	SweepNow(name string) error
}

// Options configure a Server. DB, Scheduler and Classifier are required.
type Options struct {
	DB        *store.DB
	Scheduler Scheduler
	// Classifier and RuleVersion are the active rules (explain, highlighting).
	Classifier  *classify.Classifier
	RuleVersion string
	// LoadRules loads a candidate rule directory for a backtest; nil means
	// rules.LoadDir followed by classify.New.
	LoadRules func(dir string) (*classify.Classifier, string, error)
	// CandidateRulesDir, if set, is a server-side rule directory that the
	// rules page offers to backtest.
	CandidateRulesDir string
	// Addr is the address the server listens on (HOST:PORT, as
	// net.Listener.Addr reports it, so with the real port). Requests are
	// answered only when their Host header names it: 127.0.0.1:PORT,
	// localhost:PORT and [::1]:PORT always; HOST:PORT itself for another
	// address; any IP literal with PORT for an unspecified address
	// (0.0.0.0 or ::). "" means the loopback names on any port.
	Addr string
	// PublicURLs are further URLs the workbench is reached at (a DNS name,
	// a reverse proxy); their HOST[:PORT] are accepted as Host too.
	PublicURLs []string
	// Token, if set, is the bearer token API clients authenticate with.
	Token string
	// SecureCookies sets the Secure attribute on cookies (TLS, or a
	// non-loopback address behind a TLS proxy).
	SecureCookies bool
	// LocalActor names the analyst in the audit log when auth is off.
	LocalActor string
	// ToolVersion is recorded in exported case packages.
	ToolVersion string
	// SignKey, if set, signs exported case packages.
	SignKey ed25519.PrivateKey
	// Screenshot, if set, returns a PNG of a hit's page (nil for none);
	// nil means the latest screenshot of the hit in DB.
	Screenshot func(ctx context.Context, h store.Hit) ([]byte, error)
	// AddMarketplace adds a discovered site to the config as a marketplace
	// in auto mode and returns its name; nil: the server cannot (no config file).
	AddMarketplace func(ctx context.Context, site store.Discovered) (string, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// Server is the workbench's HTTP handler.
type Server struct {
	opts  Options
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	h     http.Handler
	hosts *hostCheck
	login *loginLimiter
	// bcryptSlots bounds the password checks that run at once.
	bcryptSlots chan struct{}
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Body size limits.
const (
	maxBody       = 1 << 20 // forms and JSON
	maxUploadBody = 8 << 20 // candidate rule files
)

// Content-Security-Policy values.
const (
	cspPage     = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	cspDetail   = cspPage + "; frame-src 'self'"
	cspEvidence = "sandbox; default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)

// New returns a server.
func New(opts Options) (*Server, error) {
	if opts.DB == nil || opts.Scheduler == nil || opts.Classifier == nil {
		return nil, errors.New("web: Options need DB, Scheduler and Classifier")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LocalActor == "" {
		opts.LocalActor = "local"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hosts, err := newHostCheck(opts.Addr, opts.PublicURLs)
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: log, pages: pages, mux: http.NewServeMux(), hosts: hosts,
		login: newLoginLimiter(opts.Now), bcryptSlots: make(chan struct{}, 2)}
	s.routes()
	s.h = s.secure(s.mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := s.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
	})
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginSubmit)
	m.HandleFunc("POST /logout", s.logout)

	m.HandleFunc("GET /{$}", s.dashboardPage)
	m.HandleFunc("POST /seen", s.markSeen)
	m.HandleFunc("POST /sweeps", s.sweepNowForm)
	m.HandleFunc("POST /discovered", s.discoveredForm)
	m.HandleFunc("GET /hits", s.hitsPage)
	m.HandleFunc("POST /hits/review", s.bulkReviewForm)
	m.HandleFunc("GET /hits/{id}", s.hitPage)
	m.HandleFunc("POST /hits/{id}/review", s.reviewForm)
	m.HandleFunc("GET /hits/{id}/screenshot", s.screenshot)
	m.HandleFunc("GET /screenshots/{name}", s.screenshot)
	m.HandleFunc("GET /evidence/{id}", s.evidencePage)
	m.HandleFunc("GET /evidence/{id}/page", s.evidenceView)
	m.HandleFunc("GET /evidence/{id}/raw", s.evidenceRaw)
	m.HandleFunc("GET /rules", s.rulesPage)
	m.HandleFunc("POST /rules/explain", s.explainForm)
	m.HandleFunc("POST /rules/backtest", s.backtestForm)
	m.HandleFunc("GET /export", s.exportPage)
	m.HandleFunc("POST /export", s.exportForm)

	m.HandleFunc("GET /api/hits", s.apiHits)
	m.HandleFunc("POST /api/hits/review", s.apiBulkReview)
	m.HandleFunc("GET /api/hits/{id}", s.apiHit)
	m.HandleFunc("GET /api/hits/{id}/detail", s.apiHitDetail)
	m.HandleFunc("POST /api/hits/{id}/review", s.apiReview)
	m.HandleFunc("GET /api/sweeps", s.apiSweeps)
	m.HandleFunc("POST /api/sweeps", s.apiSweepNow)
	m.HandleFunc("GET /api/marketplaces", s.apiMarketplaces)
	m.HandleFunc("GET /api/discovered", s.apiDiscovered)
	m.HandleFunc("POST /api/discovered", s.apiDiscoveredAction)
	m.HandleFunc("GET /api/dashboard", s.apiDashboard)
	m.HandleFunc("POST /api/seen", s.apiSeen)
	m.HandleFunc("GET /api/rules", s.apiRules)
	m.HandleFunc("POST /api/rules/explain", s.apiExplain)
	m.HandleFunc("POST /api/rules/backtest", s.apiBacktest)
	m.HandleFunc("POST /api/exports", s.apiExport)
	s.vendorRoutes(m)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route")
	})
}

// setCommonHeaders sets the headers every response carries.
func setCommonHeaders(h http.Header) {
	h.Set("Content-Security-Policy", cspPage)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// secure wraps the mux with the security headers, the Host check, body
// limits, cross-origin protection, authentication and CSRF checks.
func (s *Server) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.deny(w, r, http.StatusForbidden, "cross-origin request refused")
	}))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.identify(r)
		if err != nil {
			s.log.Error("authenticate", "err", err)
			s.deny(w, r, http.StatusInternalServerError, "authentication failed")
			return
		}
		// The refusal pages below render with the caller's identity too, so
		// that they keep its CSRF token and show who is signed in.
		r = r.WithContext(withIdentity(r.Context(), id))
		if !id.authenticated && id.authRequired && !publicPath(r.URL.Path) {
			if isAPI(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="snoop"`)
				writeError(w, http.StatusUnauthorized, "authentication required")
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.deny(w, r, http.StatusUnauthorized, "sign in first")
			return
		}
		if !safeMethod(r.Method) && !s.csrfOK(w, r, id) {
			s.deny(w, r, http.StatusForbidden, "missing or wrong CSRF token; reload the page and try again")
			return
		}
		next.ServeHTTP(w, r)
	})
	protected := cop.Handler(inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w.Header())
		if !s.hosts.allowed(r.Host) {
			s.refuseHost(w, r)
			return
		}
		limit := int64(maxBody)
		if strings.HasSuffix(r.URL.Path, "/rules/backtest") {
			limit = maxUploadBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		protected.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// publicPath reports whether path is served without authentication.
func publicPath(path string) bool {
	return path == "/healthz" || path == "/login" || strings.HasPrefix(path, "/static/")
}

// deny answers a refused request in the form its caller understands.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if isAPI(r) {
		writeError(w, code, msg)
		return
	}
	s.errorPage(w, r, code, msg)
}

// writeJSON writes v as indented JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// apiError is the body of every API error response.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// decodeJSON reads a JSON request body into v, refusing unknown fields.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("request body larger than %d bytes", mb.Limit)
		}
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }
