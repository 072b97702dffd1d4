package crawler

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFieldBytes bounds each field of a listing, and MaxTextBytes the text
// classified, stored and shown for it. A page may hold up to max_body_bytes
// (10 MiB by default) in one field; the classifier's work and memory grow
// with the text, so what lies beyond is cut, the cut is said at the end of
// the value (see cutNote), and the full bytes stay in the page's evidence.
const (
	MaxFieldBytes = 64 << 10
	MaxTextBytes  = 64 << 10
)

// MaxParseTags bounds the tags of a page that are parsed into a document
// tree to extract listings and links. The tree costs a few hundred bytes a
// node, so a page of max_body_bytes made of tiny elements would cost
// hundreds of MiB; real pages have a few thousand tags. Past the bound the
// markup is cut before parsing (the evidence keeps every byte).
const MaxParseTags = 100_000

// cutMarkup returns the length of the prefix of body that holds at most
// maxTags tags ('<'), or len(body).
func cutMarkup(body []byte, maxTags int) int {
	off := 0
	for range maxTags {
		i := bytes.IndexByte(body[off:], '<')
		if i < 0 {
			return len(body)
		}
		off += i + 1
	}
	if i := bytes.IndexByte(body[off:], '<'); i >= 0 {
		return off + i
	}
	return len(body)
}

// cutNote is appended to a value that was cut: it says how much was kept
// and where the rest is.
func cutNote(kept, total int) string {
	return fmt.Sprintf(" [… cut: %d of %d bytes kept; the full page is in the evidence]", kept, total)
}

// textBuf collects text with runs of white space collapsed to one space
// and the ends trimmed (as strings.Join(strings.Fields(s), " ") would),
// keeping at most max bytes while counting every byte of the collapsed
// text, so that memory stays bounded whatever the input holds.
type textBuf struct {
	max   int
	b     []byte
	n     int  // length of the whole collapsed text
	space bool // white space seen since the last word
}

func newTextBuf(max int) *textBuf { return &textBuf{max: max} }

// WriteString adds s to the text.
func (t *textBuf) WriteString(s string) {
	for len(s) > 0 {
		i := strings.IndexFunc(s, notSpace)
		if i < 0 {
			t.space = true
			return
		}
		if i > 0 {
			t.space = true
			s = s[i:]
		}
		j := strings.IndexFunc(s, unicode.IsSpace)
		if j < 0 {
			j = len(s)
		}
		if t.space && t.n > 0 {
			t.add(" ")
		}
		t.space = false
		t.add(s[:j])
		s = s[j:]
	}
}

// separate marks a word boundary (a block element's edge).
func (t *textBuf) separate() { t.space = true }

func notSpace(r rune) bool { return !unicode.IsSpace(r) }

func (t *textBuf) add(s string) {
	cut := t.cut()
	t.n += len(s)
	if room := t.max - len(t.b); room > 0 && !cut {
		t.b = append(t.b, cutUTF8(s, room)...)
	}
}

// String returns the text kept; when it was cut, a note says so.
func (t *textBuf) String() string {
	if !t.cut() {
		return string(t.b)
	}
	kept := strings.TrimRight(string(t.b), " ")
	return kept + cutNote(len(kept), t.n)
}

// cut reports whether the text was longer than max.
func (t *textBuf) cut() bool { return t.n > len(t.b) }

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// bounded returns s with white space collapsed and cut to max bytes (with
// a note), and whether it was cut.
func bounded(s string, max int) (string, bool) {
	t := newTextBuf(max)
	t.WriteString(s)
	return t.String(), t.cut()
}
