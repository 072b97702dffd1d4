package rules

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ParseCAS checks a CAS registry number ("NNNNNNN-NN-N", 2 to 7 digits in
// the first group) and its check digit, and returns it in canonical form.
func ParseCAS(s string) (string, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) < 2 || len(parts[0]) > 7 || len(parts[1]) != 2 || len(parts[2]) != 1 {
		return "", fmt.Errorf("bad CAS number %q: want NNNNNNN-NN-N", s)
	}
	digits := parts[0] + parts[1]
	for _, r := range digits + parts[2] {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("bad CAS number %q: want digits", s)
		}
	}
	if want := CASCheckDigit(digits); int(parts[2][0]-'0') != want {
		return "", fmt.Errorf("bad CAS number %q: check digit is %d", s, want)
	}
	return strings.TrimLeft(parts[0], "0") + "-" + parts[1] + "-" + parts[2], nil
}

// CASCheckDigit returns the check digit of a CAS number's first two groups
// written without the hyphen: the sum of each digit times its position from
// the right, modulo 10.
func CASCheckDigit(digits string) int {
	sum := 0
	for i := 0; i < len(digits); i++ {
		sum += int(digits[len(digits)-1-i]-'0') * (i + 1)
	}
	return sum % 10
}

// termKey folds a term for duplicate checks: lower case, accents stripped,
// any run of non-letters and non-digits read as one space.
func termKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.So, r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}

func squeeze(key string) string { return strings.ReplaceAll(key, " ", "") }

type termRef struct {
	owner string // "substance X" or "context Y"
	term  Term
}

// check runs the cross-rule checks: names unique, duplicate and shadowing
// terms, references in requires/unless, scoring sanity.
func (p *parser) check() {
	rs := p.rs
	add := func(pos Pos, format string, args ...any) {
		p.probs = append(p.probs, Problem{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf(format, args...)})
	}
	subst := map[string]Pos{}
	for _, s := range rs.Substances {
		if prev, ok := subst[s.Name]; ok {
			add(s.Pos, "substance %s: defined twice (first at %s)", s.Name, prev)
		}
		subst[s.Name] = s.Pos
	}
	ctxNames := map[string]Pos{}
	for _, c := range rs.Contexts {
		if prev, ok := ctxNames[c.Name]; ok && c.Name != "" {
			add(c.Pos, "context %s: defined twice (first at %s)", c.Name, prev)
		}
		ctxNames[c.Name] = c.Pos
	}
	fams := map[string]Pos{}
	for _, f := range rs.Families {
		if prev, ok := fams[f.Name]; ok && f.Name != "" {
			add(f.Pos, "family %s: defined twice (first at %s)", f.Name, prev)
		}
		fams[f.Name] = f.Pos
	}
	ref := func(pos Pos, owner, what, name string) {
		if _, ok := ctxNames[name]; ok {
			return
		}
		if name == KindSales || name == KindExclude || name == KindSupport {
			return
		}
		add(pos, "%s: %s %q names no context or context kind", owner, what, name)
	}

	// Duplicates and shadowing.
	byKey := map[string]termRef{}
	bySqueeze := map[string]termRef{}
	cas := map[string]termRef{}
	check := func(owner string, t Term) {
		k := termKey(t.Text)
		if !hasLetter(k) {
			add(t.Pos, "%s: term %q has no letters (quote terms that contain commas)", owner, t.Text)
			return
		}
		if prev, ok := byKey[k]; ok {
			if prev.owner == owner {
				add(t.Pos, "%s: duplicate term %q (also at %s)", owner, t.Text, prev.term.Pos)
			} else {
				add(t.Pos, "%s: duplicate term %q (also in %s at %s)", owner, t.Text, prev.owner, prev.term.Pos)
			}
			return
		}
		byKey[k] = termRef{owner, t}
		sq := squeeze(k)
		if prev, ok := bySqueeze[sq]; ok {
			add(t.Pos, "%s: term %q shadows %q of %s at %s (same letters; separators are ignored when matching)", owner, t.Text, prev.term.Text, prev.owner, prev.term.Pos)
			return
		}
		bySqueeze[sq] = termRef{owner, t}
	}
	for _, s := range rs.Substances {
		owner := "substance " + s.Name
		for _, t := range s.Terms {
			check(owner, t)
			for _, r := range t.Requires {
				ref(t.Pos, owner, "requires", r)
			}
			for _, r := range t.Unless {
				ref(t.Pos, owner, "unless", r)
			}
		}
		for _, c := range s.CAS {
			if prev, ok := cas[c.Number]; ok {
				add(c.Pos, "%s: duplicate CAS number %s (also in %s at %s)", owner, c.Number, prev.owner, prev.term.Pos)
				continue
			}
			cas[c.Number] = termRef{owner, Term{Text: c.Number, Pos: c.Pos}}
		}
	}
	for _, c := range rs.Contexts {
		for _, t := range c.Terms {
			check("context "+c.Name, t)
		}
	}
	for _, f := range rs.Families {
		if f.Pattern == nil {
			continue
		}
		for _, s := range rs.Substances {
			if s.Class == f.Class {
				continue
			}
			for _, t := range s.Terms {
				k := termKey(t.Text)
				m := f.Pattern.FindStringSubmatchIndex(k)
				if m == nil || m[0] != 0 || m[1] != len(k) || !strings.Contains(k, f.Stem) {
					continue
				}
				// The family's lookup resolves the word to a listed
				// substance; it only shadows if it resolves elsewhere.
				key := squeeze(termKey(string(f.Pattern.ExpandString(nil, f.Lookup, k, m))))
				if owner, ok := bySqueeze[key]; ok && owner.owner == "substance "+s.Name {
					continue
				}
				add(f.Pos, "family %s (class %s) shadows term %q of %s (class %s) at %s", f.Name, f.Class, t.Text, s.Name, s.Class, t.Pos)
			}
		}
	}
	sc := rs.Scoring
	if sc.Weights.Street >= sc.Threshold && sc.Pos.File != "" {
		add(sc.Pos, "scoring: weights: street %.2f reaches the threshold %.2f; street names would hit without context", sc.Weights.Street, sc.Threshold)
	}
}

// hasLetter reports whether s has a letter or a symbol such as an emoji
// (the "🔌" plug of the DEA emoji drug code).
func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.Is(unicode.So, r) {
			return true
		}
	}
	return false
}
