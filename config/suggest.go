package config

import (
	"strings"
)

// Valid keys, for suggesting the nearest one to a misspelt key.
var (
	rootKeys    = []string{"defaults", "marketplaces"}
	settingKeys = []string{"user_agent", "requests_per_second", "burst", "concurrency", "max_pages", "max_depth",
		"max_body_bytes", "timeout", "robots", "proxy", "schedule", "cookies_file", "retries", "archive",
		"screenshots", "gates", "headers"}
	marketKeys  = append([]string{"name", "start_urls", "allow", "deny", "follow", "listing"}, settingKeys...)
	listingKeys = []string{"url_pattern", "item", "fields"}
	// knownFields are the fields snoop reads by name; others are kept as
	// extra fields, unless they look like a misspelling of one of these.
	knownFields = []string{"title", "description", "price", "vendor", "url"}
)

// unknownKey is the message for an unknown key: it suggests the nearest
// valid key, or lists them.
func unknownKey(key string, valid []string) string {
	if near := nearest(key, valid); near != "" {
		return "unknown key; did you mean " + near + "?"
	}
	return "unknown key (valid here: " + strings.Join(valid, ", ") + ")"
}

// nearest returns the valid word closest to s, if it is close enough to
// be a misspelling (an edit distance of at most a third of its length,
// and at most 3), else "".
func nearest(s string, valid []string) string {
	best, bestD := "", 4
	ls := strings.ToLower(s)
	for _, v := range valid {
		d := editDistance(ls, v)
		if d < bestD && d <= max(1, len(v)/3) {
			best, bestD = v, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment)
// distance between a and b, by bytes: insertions, deletions, substitutions
// and swaps of neighbours count one each.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
