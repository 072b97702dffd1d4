package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/export"
	"snoop/schedule"
	"snoop/store"
	"snoop/sweep"
	"snoop/web"
)

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "serve", "",
		"Run each marketplace on its schedule and serve the analyst web UI and JSON API.\n"+
			"Listening on an address other than loopback needs authentication: accounts made with\n"+
			"`snoop user add NAME`, or a bearer token (--token-file, or the SNOOP_TOKEN environment variable).\n"+
			"SIGHUP reloads the config without stopping running sweeps; SIGTERM or Ctrl-C stops cleanly.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	cfgPath := fs.String("config", "", "marketplace config `FILE` (YAML); without it, an existing --db is served read-only with sweeps off")
	addr := fs.String("addr", "127.0.0.1:8080", "`ADDRESS` to listen on")
	publicURL := fs.String("public-url", "", "`URL`(s) the workbench is also reached at, comma-separated (a DNS name or reverse proxy, e.g. https://snoop.internal); other Host names are refused")
	rulesDir := fs.String("rules", "", "rule directory `DIR` (default: the embedded rules)")
	candidate := fs.String("candidate-rules", "", "candidate rule directory `DIR` the rules page can backtest")
	tokenFile := fs.String("token-file", "", "`FILE` holding the bearer token of API clients (default: $SNOOP_TOKEN)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate `FILE` (PEM) to serve HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS private key `FILE` (PEM)")
	parallel := fs.Int("max-parallel", 2, "marketplaces swept at once")
	jitter := fs.Duration("jitter", time.Minute, "random delay added to each scheduled sweep, at most")
	signKey := fs.String("sign-key", "", "ed25519 private key `FILE` (from snoop keygen) to sign exported case packages")
	verbose := fs.Bool("v", false, "log every page")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	readOnly := *cfgPath == ""
	if readOnly {
		// Without a config there is nothing to sweep: serve an existing
		// database read-only, never a new empty one.
		if _, err := os.Stat(*dbPath); err != nil {
			fs.Usage()
			return usagef("serve: without --config, --db must name an existing database to serve read-only (%v)", err)
		}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	if *parallel < 1 {
		return usagef("serve: --max-parallel must be at least 1")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	cfg := &config.Config{}
	if !readOnly {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	rs, c, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if *signKey != "" {
		if key, err = export.LoadPrivateKey(*signKey); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
	}
	db, err := openDBAs(ctx, *dbPath, analyst, true)
	if err != nil {
		return err
	}
	defer db.Close()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(e.stderr, level)
	return serve(ctx, e, serveParams{
		db:      db,
		cfgPath: *cfgPath,
		cfg:     cfg,
		runner: &sweep.Runner{
			DB: db, Classifier: c, RuleVersion: rs.Version(), Logger: log,
			// One limiter for every sweep of the server: marketplaces on one
			// host share its rate limit even when swept at the same time.
			Limiter:     &crawler.Limiters{},
			Screenshots: startScreenshots,
			AfterSweep:  afterSweep(db, cfg, log),
		},
		addr:           *addr,
		publicURLs:     splitList(*publicURL),
		token:          token,
		tlsCert:        *tlsCert,
		tlsKey:         *tlsKey,
		maxParallel:    *parallel,
		jitter:         *jitter,
		candidateRules: *candidate,
		signKey:        key,
		log:            log,
		readOnly:       readOnly,
	})
}

// serveDemo serves the workbench for `snoop demo --serve`: the demo
// marketplaces in cfg on their schedules, with runner's rules, until ctx
// ends. addr "" means 127.0.0.1:8080. The bearer token, if any, comes from
// $SNOOP_TOKEN.
func serveDemo(ctx context.Context, e env, db *store.DB, cfg *config.Config, runner *sweep.Runner, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	token, err := readToken("")
	if err != nil {
		return err
	}
	log := runner.Logger
	if log == nil {
		log = newLogger(e.stderr, slog.LevelInfo)
	}
	return serve(ctx, e, serveParams{db: db, cfg: cfg, runner: runner, addr: addr, token: token, maxParallel: 2, jitter: 0, log: log})
}

// serveParams is everything serve needs.
type serveParams struct {
	db             *store.DB
	cfgPath        string // reloaded on SIGHUP; "" means no reload
	cfg            *config.Config
	runner         *sweep.Runner
	addr           string
	publicURLs     []string
	token          string
	tlsCert        string
	tlsKey         string
	maxParallel    int
	jitter         time.Duration
	candidateRules string
	signKey        ed25519.PrivateKey
	log            *slog.Logger
	// ready, if set, is called with the base URL once the server listens
	// (tests use it with port 0).
	ready func(baseURL string)
	// readOnly serves the database without sweeps and refuses every
	// request that would change it.
	readOnly bool
}

// serve runs the scheduler and the web server until ctx ends, then stops
// the server, cancels running sweeps and waits for them to be stored.
func serve(ctx context.Context, e env, p serveParams) error {
	secure, authDesc, err := checkExposure(ctx, p.db, p.addr, p.token, p.tlsCert != "")
	if err != nil {
		return err
	}
	var sched sweeper = noSweeps{}
	if !p.readOnly {
		s, err := newScheduler(p)
		if err != nil {
			return err
		}
		sched = s
	}
	var addMarket func(context.Context, store.Discovered) (string, error)
	if s, ok := sched.(*schedule.Scheduler); ok && p.cfgPath != "" {
		addMarket = addDiscovered(ctx, p.cfgPath, s)
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	defer ln.Close()
	srv, err := web.New(web.Options{
		AddMarketplace:    addMarket,
		Addr:              ln.Addr().String(),
		PublicURLs:        p.publicURLs,
		DB:                p.db,
		Scheduler:         sched,
		Classifier:        p.runner.Classifier,
		RuleVersion:       p.runner.RuleVersion,
		CandidateRulesDir: p.candidateRules,
		Token:             p.token,
		SecureCookies:     secure,
		LocalActor:        p.db.Actor,
		ToolVersion:       buildInfo().Version,
		SignKey:           p.signKey,
		Logger:            p.log.With("component", "web"),
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var handler http.Handler = srv
	if p.readOnly {
		handler = readOnlyHandler(srv)
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := sched.Start(runCtx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if s, ok := sched.(*schedule.Scheduler); ok && p.cfgPath != "" {
		go reloadOnHUP(runCtx, p.cfgPath, s, p.log)
	}
	serveErr := make(chan error, 1)
	go func() {
		if p.tlsCert != "" {
			serveErr <- hs.ServeTLS(ln, p.tlsCert, p.tlsKey)
		} else {
			serveErr <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if p.tlsCert != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	if p.readOnly {
		fmt.Fprintf(e.stderr, "snoop serve: %s read-only, sweeps off (no --config; auth: %s); Ctrl-C stops\n", base, authDesc)
	} else {
		fmt.Fprintf(e.stderr, "snoop serve: %s (%d marketplaces, auth: %s); Ctrl-C stops\n", base, len(p.cfg.Marketplaces), authDesc)
	}
	if p.ready != nil {
		p.ready(base)
	}

	var result error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			result = fmt.Errorf("serve: %w", err)
		}
	}
	if p.readOnly {
		fmt.Fprintln(e.stderr, "snoop serve: stopping")
	} else {
		fmt.Fprintln(e.stderr, "snoop serve: stopping; running sweeps are stored as interrupted and resume on the next start")
	}
	stop()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		p.log.Warn("web server shutdown", "err", err)
	}
	sched.Wait()
	return result
}

// checkExposure refuses a non-loopback address without authentication. It
// reports whether cookies must be Secure and how clients authenticate.
func checkExposure(ctx context.Context, db *store.DB, addr, token string, tls bool) (secure bool, auth string, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, "", usagef("serve: --addr %q: want HOST:PORT such as 127.0.0.1:8080", addr)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	users, err := db.UserCount(ctx)
	if err != nil {
		return false, "", fmt.Errorf("serve: %w", err)
	}
	var kinds []string
	if users > 0 {
		kinds = append(kinds, fmt.Sprintf("%d accounts", users))
	}
	if token != "" {
		kinds = append(kinds, "bearer token")
	}
	if !loopback && len(kinds) == 0 {
		return false, "", fmt.Errorf("serve: refusing to listen on %s without authentication: add an account with `snoop user add NAME` or give a bearer token with --token-file (or SNOOP_TOKEN); or listen on 127.0.0.1", addr)
	}
	auth = "off (loopback only)"
	if len(kinds) > 0 {
		auth = strings.Join(kinds, " + ")
	}
	return tls || !loopback, auth, nil
}

// readToken reads the bearer token from path, or from $SNOOP_TOKEN when
// path is "".
func readToken(path string) (string, error) {
	tok := os.Getenv("SNOOP_TOKEN")
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("serve: token file: %w", err)
		}
		tok = string(b)
	}
	tok = strings.TrimSpace(tok)
	if tok != "" && len(tok) < 16 {
		return "", errors.New("serve: bearer token too short: use at least 16 characters (e.g. openssl rand -hex 32)")
	}
	return tok, nil
}

// lastRuns reads each marketplace's latest sweep for the scheduler's
// catch-up.
func lastRuns(db *store.DB) func(ctx context.Context) (map[string]schedule.LastRun, error) {
	return func(ctx context.Context) (map[string]schedule.LastRun, error) {
		runs, err := db.MarketRuns(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]schedule.LastRun, len(runs))
		for _, r := range runs {
			out[r.Market] = schedule.LastRun{Started: r.StartedAt, Status: r.Status}
		}
		return out, nil
	}
}

func failedReason(res sweep.Result) string {
	for _, m := range res.Markets {
		if m.Err != "" {
			return m.Err
		}
	}
	return "sweep failed"
}

// reloadOnHUP reloads the config on SIGHUP until ctx ends. A config that
// does not load is reported and the running one kept.
func reloadOnHUP(ctx context.Context, path string, sched *schedule.Scheduler, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		cfg, err := config.Load(path)
		if err == nil {
			err = sched.Reload(ctx, cfg.Marketplaces)
		}
		if err != nil {
			log.Error("config reload failed; keeping the running config", "file", path, "err", err)
			continue
		}
		log.Info("config reloaded", "file", path, "marketplaces", len(cfg.Marketplaces))
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// sweeper is the sweep scheduler as serve drives it.
type sweeper interface {
	web.Scheduler
	Start(ctx context.Context) error
	Wait()
}

var _ sweeper = (*schedule.Scheduler)(nil)

// newScheduler returns the scheduler of p's marketplaces.
func newScheduler(p serveParams) (*schedule.Scheduler, error) {
	sched, err := schedule.New(p.cfg.Marketplaces, schedule.Options{
		Sweep: func(ctx context.Context, m config.Market) (int64, error) {
			res, err := p.runner.Run(ctx, []config.Market{m})
			if err == nil && res.Status == "failed" {
				err = errors.New(failedReason(res))
			}
			return res.SweepID, err
		},
		LastRuns:    lastRuns(p.db),
		MaxParallel: p.maxParallel,
		MaxJitter:   p.jitter,
		Logger:      p.log.With("component", "schedule"),
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return sched, nil
}

// noSweeps is the scheduler of a read-only workbench: no marketplaces, and
// a sweep request is refused.
type noSweeps struct{}

func (noSweeps) Status() []schedule.MarketStatus { return nil }
func (noSweeps) SweepNow(name string) error {
	return errors.New("sweeps are off: this workbench was started without --config (read-only)")
}
func (noSweeps) Start(context.Context) error { return nil }
func (noSweeps) Wait()                       {}

// readOnlyMessage explains a refused request of a read-only workbench.
const readOnlyMessage = "read-only: snoop serve was started without --config; start it with --config FILE to sweep, triage and export"

// readOnlyHandler passes on the requests that change nothing: reads,
// signing in and out, and the rules page's explain and backtest (which
// write nothing). Every other request is refused with 403.
func readOnlyHandler(h http.Handler) http.Handler {
	allowed := map[string]bool{
		"/login": true, "/logout": true,
		"/rules/explain": true, "/rules/backtest": true,
		"/api/rules/explain": true, "/api/rules/backtest": true,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			h.ServeHTTP(w, r)
			return
		}
		if allowed[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": readOnlyMessage})
			return
		}
		http.Error(w, readOnlyMessage, http.StatusForbidden)
	})
}
