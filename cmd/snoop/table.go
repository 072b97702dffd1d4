package main

import (
	"io"
	"strings"

	"github.com/mattn/go-runewidth"

	"snoop/internal/termsafe"
)

// table lays out rows of cells in columns aligned by display width: a CJK
// character takes two terminal columns, a combining mark none, which
// text/tabwriter (one column per rune) gets wrong.
type table struct {
	rows [][]string
}

// add appends a row. Cells must already be escaped for the terminal.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write writes the rows with two spaces between columns and no trailing
// spaces.
func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clip shortens s to at most n terminal columns for table display, with
// runs of white space as one space and control characters escaped.
func clip(s string, n int) string {
	s = termsafe.Escape(strings.Join(strings.Fields(s), " "))
	if runewidth.StringWidth(s) <= n {
		return s
	}
	return runewidth.Truncate(s, n, "…")
}
