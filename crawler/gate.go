package crawler

import (
	"regexp"
	"sync"

	"github.com/PuerkitoBio/goquery"
)

// GatePattern recognises a page that stands between the crawler and the content:
// a CAPTCHA, a login wall or a DDoS-protection interstitial. A pattern matches when
// Text matches the page's visible text or Selector matches an element; a nil Text
// or empty Selector never matches.
type GatePattern struct {
	Name     string         // reported reason, e.g. "captcha"; Page.Gate and Stats.Gates use it
	Text     *regexp.Regexp // matched against the title and visible text
	Selector string         // CSS selector
}

// DefaultGates returns the built-in gate patterns: captcha, ddos and login.
func DefaultGates() []GatePattern {
	return []GatePattern{
		{
			Name:     "captcha",
			Text:     regexp.MustCompile(`(?i)\b(solve|complete) the captcha\b|\bverify (that )?you are (a )?human\b|\bare you a robot\b|\bi'?m not a robot\b|\bcaptcha (required|verification)\b`),
			Selector: `.g-recaptcha, .h-captcha, .cf-turnstile, iframe[src*="recaptcha"], iframe[src*="hcaptcha"], form#captcha, #captcha-form`,
		},
		{
			Name:     "ddos",
			Text:     regexp.MustCompile(`(?i)checking your browser before accessing|\bddos protection by\b|\bddos-guard\b|^just a moment\.\.\.|attention required! \| cloudflare|enable javascript and cookies to continue|\bplease wait while we verify\b`),
			Selector: `#cf-challenge-running, #challenge-form, .cf-browser-verification, #cf-wrapper #challenge-stage`,
		},
		{
			Name: "login",
			Text: regexp.MustCompile(`(?i)\b(you must|you need to|please) (log|sign) ?in (first|to continue|to view|to access|to see)\b|\b(login|sign[- ]in) required\b|\bmembers only\b|\bsession (has )?expired\b`),
		},
	}
}

// maxGateText is the longest visible text (bytes) a pattern-detected gate page has.
const maxGateText = 4000

// gateStatus are statuses whose page is a gate whatever it says.
var gateStatus = map[int]string{403: "http_403", 429: "http_429", 503: "http_503"}

// gateSet is a sweep's gate patterns with the filters of their texts.
type gateSet struct {
	patterns []GatePattern
	filters  []textFilter // filters[i] is the filter of patterns[i].Text
}

// newGateSet derives the filters of the patterns' texts.
// defaultGateSet is the gate set of DefaultGates, compiled once per process
// and shared (read-only) by every sweep that adds no gates of its own: a
// sweep of thousands of marketplaces would otherwise compile them for each.
var defaultGateSet = sync.OnceValue(func() gateSet { return newGateSet(DefaultGates()) })

func newGateSet(patterns []GatePattern) gateSet {
	g := gateSet{patterns: patterns, filters: make([]textFilter, len(patterns))}
	for i, p := range patterns {
		g.filters[i] = newTextFilter(p.Text)
	}
	return g
}

// detectGate returns the gate reason for a page, or "". Statuses 403, 429 and
// 503 are gates. Patterns are tried only on short pages (maxGateText) that did not
// yield a listing with an extracted field: real pages often carry a login box or
// a CAPTCHA-protected contact form.
func detectGate(status int, doc *goquery.Document, listings []Listing, hasFields bool, gates gateSet) string {
	if r, ok := gateStatus[status]; ok {
		return r
	}
	if doc == nil {
		return ""
	}
	if hasFields {
		for _, l := range listings {
			for k, v := range l.Fields {
				if k != "url" && v != "" {
					return ""
				}
			}
		}
	}
	text, cut := pageText(doc)
	if cut || len(text) > maxGateText { // interstitials are short; a long page is content
		return ""
	}
	folded, isFolded := "", false
	for i, g := range gates.patterns {
		if f := gates.filters[i]; g.Text != nil {
			if f.any != nil && !isFolded {
				folded, isFolded = foldString(text), true
			}
			if f.mayMatch(folded) && g.Text.MatchString(text) {
				return g.Name
			}
		}
		if g.Selector != "" && find(doc.Selection, g.Selector).Length() > 0 {
			return g.Name
		}
	}
	return ""
}
