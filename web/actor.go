package web

import (
	"net/http"
	"strings"
	"unicode"
)

// tokenActor names who acts through the API bearer token, for the audit
// log: the analyst the client names in X-Snoop-Analyst, else the owner of
// the token, the analyst who runs snoop serve. A shared token alone names
// no person.
func tokenActor(r *http.Request, owner string) string {
	name := strings.TrimSpace(r.Header.Get("X-Snoop-Analyst"))
	if name != "" && len(name) <= 64 && strings.IndexFunc(name, func(c rune) bool { return unicode.IsControl(c) || unicode.Is(unicode.Cf, c) }) < 0 {
		return name + " (api-token)"
	}
	return "api-token of " + owner
}
