package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// errNotHTTP is returned by Canonicalize for URLs that are not http(s).
var errNotHTTP = errors.New("not an http(s) URL")

// trackingParams are query parameters that identify a click, not a resource.
// Keys are lower case; every utm_* parameter is dropped as well.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true, "msclkid": true,
	"yclid": true, "igshid": true, "mc_cid": true, "mc_eid": true, "_ga": true, "_gl": true,
	"_hsenc": true, "_hsmi": true, "mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true,
	"vero_id": true, "rb_clickid": true, "s_cid": true, "ref_src": true,
	"phpsessid": true, "jsessionid": true,
}

// Canonicalize returns the form of an absolute http(s) URL used for
// de-duplication and fetching: scheme and host lower case, default port, fragment,
// ";jsessionid=" path parameters and tracking query parameters (utm_*, fbclid,
// gclid, ...) removed, an empty path made "/", dot segments resolved, and the
// remaining query parameters sorted by key (values of one key keep their order).
func Canonicalize(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	return canonicalURL(u)
}

func canonicalURL(u *url.URL) (string, error) {
	c := *u
	c.Scheme = strings.ToLower(c.Scheme)
	if (c.Scheme != "http" && c.Scheme != "https") || c.Host == "" || c.Opaque != "" {
		return "", errNotHTTP
	}
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	host := strings.ToLower(c.Hostname())
	if host == "" {
		return "", errNotHTTP
	}
	port := c.Port()
	if (c.Scheme == "http" && port == "80") || (c.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	c.Host = host
	path := c.EscapedPath()
	if i := strings.Index(strings.ToLower(path), ";jsessionid="); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	if strings.Contains(path, "/.") {
		path = (&url.URL{Path: "/"}).ResolveReference(&url.URL{Path: mustUnescape(path)}).EscapedPath()
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return "", err
	}
	c.Path, c.RawPath = unescaped, path // not url.Parse: "//x" would become a host
	c.RawQuery = canonicalQuery(c.RawQuery)
	c.ForceQuery = false
	return c.String(), nil
}

func mustUnescape(p string) string {
	if s, err := url.PathUnescape(p); err == nil {
		return s
	}
	return p
}

// canonicalQuery drops tracking parameters and sorts the rest by key, keeping the
// original encoding of each pair.
func canonicalQuery(q string) string {
	if q == "" {
		return ""
	}
	type pair struct{ key, raw string }
	var pairs []pair
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		part = escapeQueryBytes(part)
		k, _, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		lk := strings.ToLower(key)
		if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
			continue
		}
		pairs = append(pairs, pair{key, part})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.key, b.key) })
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.raw
	}
	return strings.Join(out, "&")
}

// escapeQueryBytes percent-encodes spaces, control bytes and non-ASCII bytes,
// which url.Parse lets through in a query but cannot be sent on a request line.
func escapeQueryBytes(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for j := i; j < len(s); j++ {
		if c := s[j]; c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// TrapLimits bound the URL shapes that crawler traps (endless calendars, session
// paths, faceted search) produce. A zero field takes its default.
type TrapLimits struct {
	MaxQueryVariants  int // distinct query strings per scheme://host/path; default 50
	MaxPathSegments   int // path segments; default 16
	MaxSegmentRepeats int // occurrences of one path segment; default 3
}

func (t TrapLimits) withDefaults() TrapLimits {
	if t.MaxQueryVariants <= 0 {
		t.MaxQueryVariants = 50
	}
	if t.MaxPathSegments <= 0 {
		t.MaxPathSegments = 16
	}
	if t.MaxSegmentRepeats <= 0 {
		t.MaxSegmentRepeats = 3
	}
	return t
}

// Skip reasons for trap guards (keys of Stats.SkippedByReason).
const (
	SkipTrapQuery  = "trap_query_variants"
	SkipTrapDepth  = "trap_path_depth"
	SkipTrapRepeat = "trap_repeated_segment"
)

// trapGuard remembers, per path, the query strings admitted so far.
type trapGuard struct {
	limits TrapLimits
	mu     sync.Mutex
	seen   map[string]map[string]struct{}
}

func newTrapGuard(l TrapLimits) *trapGuard {
	return &trapGuard{limits: l.withDefaults(), seen: map[string]map[string]struct{}{}}
}

// check returns a skip reason for the canonical URL u, or "".
func (g *trapGuard) check(u *url.URL) string {
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) > g.limits.MaxPathSegments {
		return SkipTrapDepth
	}
	counts := map[string]int{}
	for _, s := range segs {
		if s == "" {
			continue
		}
		counts[s]++
		if counts[s] > g.limits.MaxSegmentRepeats {
			return SkipTrapRepeat
		}
	}
	if u.RawQuery == "" {
		return ""
	}
	key := u.Scheme + "://" + u.Host + u.EscapedPath()
	g.mu.Lock()
	defer g.mu.Unlock()
	qs := g.seen[key]
	if _, ok := qs[u.RawQuery]; ok {
		return ""
	}
	if len(qs) >= g.limits.MaxQueryVariants {
		return SkipTrapQuery
	}
	if qs == nil {
		qs = map[string]struct{}{}
		g.seen[key] = qs
	}
	qs[u.RawQuery] = struct{}{}
	return ""
}
