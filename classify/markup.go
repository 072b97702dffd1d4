package classify

import (
	"sort"
	"strings"
)

// span is a byte range [s, e) of the original text.
type span struct{ s, e int }

// maxTag is the longest run read as one HTML tag.
const maxTag = 400

// markupSpans returns the byte ranges of text that are HTML or script
// remnants rather than prose: tags ("<img src=x onerror=alert(1)>",
// "</div>", "<!-- -->") and the contents of script and style elements.
// Context words inside them are noise. A "<" that does not open a tag
// ("< 5g", "<3") is left alone.
func markupSpans(text string) []span {
	if !strings.Contains(text, "<") {
		return nil
	}
	var out []span
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if i+1 >= len(text) || !tagStart(text[i+1]) {
			i++
			continue
		}
		k := strings.IndexAny(text[i+1:], "<>")
		if k < 0 || k > maxTag || text[i+1+k] != '>' {
			i++
			continue
		}
		end := i + 1 + k + 1
		name := tagName(text[i+1 : end-1])
		if name == "script" || name == "style" {
			if c := indexFold(text[end:], "</"+name); c >= 0 {
				end += c
				if g := strings.IndexByte(text[end:], '>'); g >= 0 {
					end += g + 1
				}
			} else {
				end = len(text)
			}
		}
		out = append(out, span{i, end})
		i = end
	}
	return out
}

func tagStart(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '/' || b == '!'
}

// tagName returns the lower-case element name of a tag's inside ("script
// src=x" -> "script").
func tagName(in string) string {
	in = strings.TrimPrefix(in, "/")
	n := 0
	for n < len(in) && (in[n] >= 'a' && in[n] <= 'z' || in[n] >= 'A' && in[n] <= 'Z' || in[n] >= '0' && in[n] <= '9') {
		n++
	}
	return strings.ToLower(in[:n])
}

// indexFold is strings.Index ignoring ASCII case; sub is lower case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		k := 0
		for k < len(sub) && lowerASCII(s[i+k]) == sub[k] {
			k++
		}
		if k == len(sub) {
			return i
		}
	}
	return -1
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// inSpans reports whether [s, e) lies inside one of spans, which are
// sorted and do not overlap (as markupSpans returns them).
func inSpans(spans []span, s, e int) bool {
	k := sort.Search(len(spans), func(i int) bool { return spans[i].s > s })
	return k > 0 && e <= spans[k-1].e
}
