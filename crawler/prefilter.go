package crawler

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A textFilter rules out, cheaply, the texts that a regular expression
// cannot match: every match of the expression contains one of the filter's
// strings, compared under Unicode simple case folding (the folding of
// (?i)). Gate patterns are tried on every short page without listing fields,
// and running their expressions costs far more than looking for a few
// strings.
type textFilter struct {
	any []string // folded with foldString; nil: no filter, every text may match
}

// newTextFilter derives the filter of re. When re's matches need not share
// a literal (or re is nil), the filter lets every text through.
func newTextFilter(re *regexp.Regexp) textFilter {
	if re == nil {
		return textFilter{}
	}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return textFilter{}
	}
	lits, ok := required(tree)
	if !ok {
		return textFilter{}
	}
	for i, l := range lits {
		lits[i] = foldString(l)
	}
	return textFilter{any: lits}
}

// mayMatch reports whether a text whose foldString is folded may match the
// expression.
func (f textFilter) mayMatch(folded string) bool {
	if f.any == nil {
		return true
	}
	for _, s := range f.any {
		if strings.Contains(folded, s) {
			return true
		}
	}
	return false
}

// required returns strings one of which every match of re contains (as
// written in the pattern, case folded or not); ok is false when there is no
// such set.
func required(re *syntax.Regexp) (lits []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) > 0 {
			return []string{string(re.Rune)}, true
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part is in every match: take the most selective one.
		for _, sub := range re.Sub {
			if l, subOK := required(sub); subOK && (!ok || shortest(l) > shortest(lits)) {
				lits, ok = l, true
			}
		}
		return lits, ok
	case syntax.OpAlternate:
		// A match is a match of one branch: every branch needs a set.
		for _, sub := range re.Sub {
			l, subOK := required(sub)
			if !subOK {
				return nil, false
			}
			lits = append(lits, l...)
		}
		return lits, true
	}
	return nil, false
}

// shortest returns the length in runes of the shortest string of lits.
func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if c := utf8.RuneCountInString(l); n < 0 || c < n {
			n = c
		}
	}
	return n
}

// foldString maps every rune of s to the smallest rune of its simple case
// folding orbit (the runes (?i) takes as equal), and every invalid byte to
// U+FFFD as regexp reads it: two runes are equal under folding exactly when
// they map to the same rune, so a folded text contains a folded string
// whenever the text contains the string under folding.
func foldString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns the smallest rune of r's simple case folding orbit.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
