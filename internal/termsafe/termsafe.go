// Package termsafe makes text from listings, packages and other untrusted
// sources safe to print on a terminal.
//
// A listing title or a zip entry name is data written by whoever runs the
// marketplace or made the file. Printed raw, its control characters are
// commands to the analyst's terminal: ESC sequences move the cursor, rewrite
// earlier lines (a "FAIL" line can be erased and replaced by "OK"), change
// the window title, or on some terminals write files; bidirectional
// overrides make text read in another order than it is stored.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character that could control a terminal
// written as a visible Go-style escape: C0 controls (including tab and
// newline, as \t and \n), DEL, C1 controls, the Unicode bidirectional
// controls, line and paragraph separators, and bytes that are not UTF-8.
// Everything else, including non-Latin scripts, is kept as is.
func Escape(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Lines escapes each line of s, keeping its line breaks: for multi-line
// text such as an error list.
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

// safe reports whether s needs no escaping.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			for _, r := range s[i:] {
				if r == utf8.RuneError || r < 0x20 || r == 0x7f || unsafeRune(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// unsafeRune reports a non-ASCII rune that controls a terminal or the
// direction of text.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, CSI (U+009B) among them
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks
		return true
	case r >= 0x202a && r <= 0x202e: // bidi embeddings and overrides
		return true
	case r >= 0x2066 && r <= 0x2069: // bidi isolates
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// Writer escapes what it writes as Escape does, except line breaks and
// tabs, which it passes on: for reports of several lines made of untrusted
// text. Close flushes an incomplete UTF-8 sequence left at the end.
type Writer struct {
	w       io.Writer
	pending []byte // the start of a UTF-8 sequence split across writes
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it; it reports len(p) written on success.
func (sw *Writer) Write(p []byte) (int, error) {
	data := p
	if len(sw.pending) > 0 {
		data = append(sw.pending, p...)
		sw.pending = nil
	}
	// Keep an incomplete rune at the end for the next write.
	cut := len(data)
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				cut = i
			}
			break
		}
	}
	sw.pending = append(sw.pending, data[cut:]...)
	if _, err := io.WriteString(sw.w, escapeKeepLines(string(data[:cut]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes what is left of an incomplete UTF-8 sequence, escaped.
func (sw *Writer) Close() error {
	if len(sw.pending) == 0 {
		return nil
	}
	_, err := io.WriteString(sw.w, Escape(string(sw.pending)))
	sw.pending = nil
	return err
}

// escapeKeepLines is Escape that leaves \n and \t as they are.
func escapeKeepLines(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return Escape(s)
	}
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\t' {
			b.WriteString(Escape(s[start:i]))
			b.WriteByte(s[i])
			start = i + 1
		}
	}
	b.WriteString(Escape(s[start:]))
	return b.String()
}
