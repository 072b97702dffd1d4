package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"snoop/store"
)

// Cookie names.
const (
	sessionCookie = "snoop_session"
	csrfCookie    = "snoop_csrf"
)

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 10

// HashPassword returns the bcrypt hash of password, for `snoop user add`.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("password too short: want at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return "", errors.New("password too long: bcrypt takes at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the user does not exist, so that a
// wrong user name takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("snoop-no-such-user"), bcrypt.DefaultCost)

// identity is who sent a request, as far as the server could tell.
type identity struct {
	authRequired  bool // accounts or a token are configured
	authenticated bool // the request may proceed (always true when auth is off)
	bearer        bool // authenticated by the API token
	session       *store.Session
	actor         string // for the audit log
	csrf          string // the token state-changing requests must carry ("" if none yet)
}

type identityKey struct{}

func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

func identityFrom(ctx context.Context) identity {
	id, _ := ctx.Value(identityKey{}).(identity)
	return id
}

// authRequired reports whether accounts or a bearer token are configured.
// It is checked on every request, so `snoop user add` on a running server
// turns authentication on at once.
func (s *Server) authRequired(ctx context.Context) (bool, error) {
	if s.opts.Token != "" {
		return true, nil
	}
	n, err := s.opts.DB.UserCount(ctx)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// identify authenticates r by bearer token or session cookie.
func (s *Server) identify(r *http.Request) (identity, error) {
	req, err := s.authRequired(r.Context())
	if err != nil {
		return identity{}, err
	}
	id := identity{authRequired: req}
	if c, err := r.Cookie(csrfCookie); err == nil {
		id.csrf = c.Value
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if ok && s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1 {
			id.authenticated, id.bearer, id.actor, id.csrf = true, true, tokenActor(r, s.opts.LocalActor), ""
			return id, nil
		}
		// A wrong token never falls back to anything else.
		return id, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		sess, err := s.opts.DB.SessionByToken(r.Context(), hashToken(c.Value), s.now())
		switch {
		case err == nil:
			id.authenticated, id.session, id.actor, id.csrf = true, &sess, sess.User, sess.CSRF
			return id, nil
		case !errors.Is(err, store.ErrNotFound):
			return id, err
		}
	}
	if !req {
		id.authenticated, id.actor = true, s.opts.LocalActor
	}
	return id, nil
}

// csrfOK checks the anti-CSRF token of a state-changing request.
func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request, id identity) bool {
	if id.bearer {
		return true
	}
	if isAPI(r) && !id.authRequired && isJSON(r) {
		// Cross-site forms cannot send application/json, and
		// CrossOriginProtection has already refused cross-origin fetches.
		return true
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return id.csrf != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(id.csrf)) == 1
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// csrfToken returns the token a page's forms must carry, setting the
// snoop_csrf cookie for visitors without a session.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	id := identityFrom(r.Context())
	if id.session != nil {
		return id.session.CSRF
	}
	if id.csrf != "" {
		return id.csrf
	}
	tok := randomToken()
	http.SetCookie(w, s.cookie(r, csrfCookie, tok, 0))
	return tok
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.opts.SecureCookies || r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

type loginData struct {
	Next  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Sign in", loginData{Next: localPath(r.URL.Query().Get("next"))})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	user, password := r.PostFormValue("user"), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	fail := func(code int, msg string) {
		s.render(w, r, code, "login", "Sign in", loginData{Next: next, Error: msg})
	}
	keys := loginKeys(user, r.RemoteAddr)
	if d, what := s.login.wait(keys); d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		s.log.Warn("sign-in refused: locked out", "user", user, "remote", r.RemoteAddr, "locked", what, "wait", d)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins for %s; try again in %d seconds.", what, secs))
		return
	}
	// bcrypt takes the CPU for a while: a few at a time, whoever asks.
	select {
	case s.bcryptSlots <- struct{}{}:
		defer func() { <-s.bcryptSlots }()
	case <-r.Context().Done():
		return
	}
	hash, err := s.opts.DB.PasswordHash(r.Context(), user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	if err != nil {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
	}
	if err != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		s.login.fail(keys)
		s.log.Warn("sign-in failed", "user", user, "remote", r.RemoteAddr)
		fail(http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	s.login.succeed(keys)
	tok := randomToken()
	now := s.now()
	sess := store.Session{TokenHash: hashToken(tok), User: user, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.opts.DB.CreateSession(r.Context(), sess); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.opts.DB.Audit(r.Context(), user, "web.login", map[string]any{"remote": r.RemoteAddr}, now); err != nil {
		s.log.Error("audit sign-in", "err", err)
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, tok, int(sessionTTL.Seconds())))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if id := identityFrom(r.Context()); id.session != nil {
		if err := s.opts.DB.DeleteSession(r.Context(), id.session.TokenHash); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath returns p if it is a clean absolute path on this server (with
// its query), else "/". Browsers drop tabs and newlines from URLs and read
// a backslash as a slash, so "/\t/evil.example" would leave the site: any
// control character, whitespace, backslash or non-ASCII byte, a "//"
// prefix, or anything that parses with a scheme or host is refused. What
// is returned is re-encoded from the parsed URL, never p itself.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return path
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
