package crawler

import (
	"net/http"
	"time"
)

// SessionCookie is one cookie of a marketplace's cookies_file, with the URL
// it belongs to (for host-only cookies, which name no domain).
type SessionCookie struct {
	URL    string
	Cookie *http.Cookie
}

// ReadCookies reads a Netscape cookies.txt as the crawl does (see
// readCookiesFile), for other clients of the same session, such as the
// browser that takes screenshots. Cookies expired before now are left out.
func ReadCookies(path string, now time.Time) ([]SessionCookie, error) {
	jar, err := readCookiesFile(path, now)
	if err != nil {
		return nil, err
	}
	out := make([]SessionCookie, len(jar))
	for i, c := range jar {
		out[i] = SessionCookie{URL: c.url.String(), Cookie: c.cookie}
	}
	return out, nil
}
