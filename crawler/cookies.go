package crawler

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// jarCookie is one cookie of a Netscape cookies.txt file with the URL it belongs to.
type jarCookie struct {
	url    *url.URL
	cookie *http.Cookie
}

// readCookiesFile reads a Netscape-format cookies.txt (as exported by browsers and
// curl): one cookie a line, seven tab-separated fields
//
//	domain  include-subdomains  path  secure  expires  name  value
//
// Lines starting with # are comments, except "#HttpOnly_" which prefixes the
// domain of an HttpOnly cookie. Cookies that expired before now are left out.
func readCookiesFile(path string, now time.Time) ([]jarCookie, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cookies file: %w", err)
	}
	defer f.Close()
	return parseCookies(path, f, now)
}

func parseCookies(name string, r io.Reader, now time.Time) ([]jarCookie, error) {
	var out []jarCookie
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(text, "#HttpOnly_"); ok {
			text, httpOnly = rest, true
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) == 6 { // empty value without the trailing tab
			f = append(f, "")
		}
		if len(f) != 7 {
			return nil, fmt.Errorf("%s:%d: want 7 tab-separated fields, got %d", name, line, len(f))
		}
		domain, sub, path, secure, exp, cname, value := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
		host := strings.TrimPrefix(strings.ToLower(domain), ".")
		if host == "" || cname == "" {
			return nil, fmt.Errorf("%s:%d: empty domain or name", name, line)
		}
		expires, err := strconv.ParseInt(exp, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad expiry %q", name, line, exp)
		}
		c := &http.Cookie{Name: cname, Value: value, Path: path, Secure: strings.EqualFold(secure, "TRUE"), HttpOnly: httpOnly}
		if expires > 0 {
			c.Expires = time.Unix(expires, 0)
			if c.Expires.Before(now) {
				continue
			}
		}
		if strings.EqualFold(sub, "TRUE") {
			c.Domain = host
		}
		if path == "" {
			c.Path = "/"
		}
		scheme := "http"
		if c.Secure {
			scheme = "https"
		}
		out = append(out, jarCookie{url: &url.URL{Scheme: scheme, Host: host, Path: c.Path}, cookie: c})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
