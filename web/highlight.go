package web

import (
	"cmp"
	"fmt"
	"slices"
	"unicode/utf8"
)

// segment is a piece of listing text, marked if a rule matched it. The
// template escapes Text; nothing here is trusted HTML.
type segment struct {
	Text  string
	Mark  bool
	Class string // CSS class of the mark: substance, sales, exclude, support
	Title string // what matched, for the tooltip
}

// span is a byte range of the text to mark.
type span struct {
	start, end int
	class      string
	title      string
}

// highlight splits text into segments, marking the spans. Spans out of
// range or not on UTF-8 boundaries are ignored; where spans overlap, the
// earlier (then the longer) wins.
func highlight(text string, spans []span) []segment {
	var ok []span
	for _, s := range spans {
		if s.start < 0 || s.end > len(text) || s.start >= s.end {
			continue
		}
		if !utf8.RuneStart(byteAt(text, s.start)) || (s.end < len(text) && !utf8.RuneStart(text[s.end])) {
			continue
		}
		ok = append(ok, s)
	}
	slices.SortStableFunc(ok, func(a, b span) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	var out []segment
	pos := 0
	for _, s := range ok {
		if s.start < pos {
			continue
		}
		if s.start > pos {
			out = append(out, segment{Text: text[pos:s.start]})
		}
		out = append(out, segment{Text: text[s.start:s.end], Mark: true, Class: s.class, Title: s.title})
		pos = s.end
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// hitSpans returns the spans to mark in a listing's text: the stored
// substance spans (what was recorded when the hit was made) and, for the
// rule that fired each term, the active rules' matches.
func hitSpans(e explainJSON, stored []storedSub) []span {
	var out []span
	for _, m := range e.Matches {
		out = append(out, span{start: m.Start, end: m.End, class: markClass(m.Kind, m.Weight),
			title: fmt.Sprintf("%s — term %q (%s, weight %+.2f)", m.Rule, m.Term, m.Kind, m.Weight)})
	}
	for _, s := range stored {
		out = append(out, span{start: s.Start, end: s.End, class: "substance", title: fmt.Sprintf("%s (%s), recorded with the hit", s.Name, s.Class)})
	}
	return out
}

// storedSub is a substance span recorded with a hit.
type storedSub struct {
	Name, Class string
	Start, End  int
}

func markClass(kind string, weight float64) string {
	switch kind {
	case "sales":
		return "sales"
	case "exclude":
		return "exclude"
	case "support", "unsupported":
		return "support"
	}
	if weight < 0 {
		return "exclude"
	}
	return "substance"
}
