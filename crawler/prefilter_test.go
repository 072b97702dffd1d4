package crawler

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// filterPatterns are the expressions the filter tests try: the built-in
// gate texts and shapes a configured gate may take.
func filterPatterns() []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, g := range DefaultGates() {
		res = append(res, g.Text)
	}
	for _, s := range []string{
		`(?i)members only`, `(?i)prove you are human`, `Sign in|LOG IN`, `(?i)ab+c`, `(?i)x*y?`,
		`(?i)(?:foo){2,}bar|baz`, `(?i)\bkelvin\b`, `(?i)ſtop`, `(?i)[ab]cd`, `^$`, `(?i)caf\x{e9}`,
	} {
		res = append(res, regexp.MustCompile(s))
	}
	return res
}

// filterTexts returns texts near the matches of the patterns: the phrases
// the patterns look for, with their case changed, letters swapped for
// runes that fold to them (K, ſ), invalid bytes and noise around them.
func filterTexts() []string {
	phrases := []string{
		"Please solve the captcha", "verify that you are a human", "Are you a robot?", "I'm not a robot",
		"captcha verification", "Checking your browser before accessing", "DDoS protection by", "ddos-guard",
		"Just a moment...", "Attention Required! | Cloudflare", "Enable JavaScript and cookies to continue",
		"please wait while we verify", "You must log in to continue", "please sign in first", "login required",
		"sign-in required", "Members only", "session has expired", "prove you are human", "sign in", "log in",
		"abbbc", "foofoobar", "baz", "kelvin", "stop", "bcd", "café", "CAFÉ", "y", "",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for _, p := range phrases {
		texts = append(texts, p, strings.ToUpper(p), "Products, page 3 "+p+" more text")
		for range 20 {
			var b strings.Builder
			for _, r := range p {
				switch x := rng.IntN(10); {
				case x == 0 && (r == 'k' || r == 'K'):
					b.WriteRune('\u212a') // Kelvin sign
				case x == 0 && (r == 's' || r == 'S'):
					b.WriteRune('ſ')
				case x < 4:
					b.WriteString(strings.ToUpper(string(r)))
				case x == 4:
					b.WriteString(strings.ToLower(string(r)))
				case x == 5 && rng.IntN(5) == 0:
					b.WriteString("\xff")
				default:
					b.WriteRune(r)
				}
			}
			texts = append(texts, b.String())
		}
	}
	return texts
}

// A filter never rules out a text its expression matches.
func TestTextFilterKeepsEveryMatch(t *testing.T) {
	texts := filterTexts()
	for _, re := range filterPatterns() {
		f := newTextFilter(re)
		matched := 0
		for _, text := range texts {
			if re.MatchString(text) {
				matched++
				if !f.mayMatch(foldString(text)) {
					t.Errorf("filter %q of %s rules out %q, which matches", f.any, re, text)
				}
			}
		}
		if matched == 0 {
			t.Errorf("no test text matches %s", re)
		}
	}
}

// The built-in gates have filters, and the filters rule out ordinary pages.
func TestTextFilterRulesOutContent(t *testing.T) {
	page := "Products, page 3\nHome USB-C charger 65 W #101 Oak side table #102 Trail running shoes #103 next"
	for _, g := range DefaultGates() {
		f := newTextFilter(g.Text)
		if f.any == nil {
			t.Errorf("gate %s has no filter", g.Name)
			continue
		}
		if f.mayMatch(foldString(page)) {
			t.Errorf("gate %s: filter %q lets a product list through", g.Name, f.any)
		}
	}
	for _, s := range []string{`(?i)x*y?`, `^$`, `a|b*`} {
		if f := newTextFilter(regexp.MustCompile(s)); f.any != nil {
			t.Errorf("%s: filter %q, want none (a match needs no literal)", s, f.any)
		}
	}
}

// FuzzTextFilter checks on any text that a built-in gate filter never rules
// out a match.
func FuzzTextFilter(f *testing.F) {
	for _, text := range filterTexts()[:40] {
		f.Add(text)
	}
	var res []*regexp.Regexp
	var filters []textFilter
	for _, re := range filterPatterns() {
		res = append(res, re)
		filters = append(filters, newTextFilter(re))
	}
	f.Fuzz(func(t *testing.T, text string) {
		folded := foldString(text)
		for i, re := range res {
			if re.MatchString(text) && !filters[i].mayMatch(folded) {
				t.Errorf("filter %q of %s rules out %q, which matches", filters[i].any, re, text)
			}
		}
	})
}
