package classify

import (
	"html"
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normText is text after normalisation with a map from every byte back to
// the original: b[i] came from the original rune src[from[i]:to[i]].
//
// The normalised text is lower case, accent-free, with homoglyphs folded,
// zero-width characters dropped, and every run of separators (spaces,
// punctuation) written as one space. Letters spelt out with single
// separators ("f e n t", "i.s.o") are joined.
type normText struct {
	b    []byte
	from []int32
	to   []int32
	// unmapped: from and to were not written (see normalizeFast), and
	// span answers 0, 0.
	unmapped bool
}

func (n *normText) reset() {
	n.b = n.b[:0]
	n.from = n.from[:0]
	n.to = n.to[:0]
	n.unmapped = false
}

// span maps the normalised byte range [s, e) to the original byte range.
func (n *normText) span(s, e int) (int, int) {
	if n.unmapped {
		return 0, 0
	}
	return int(n.from[s]), int(n.to[e-1])
}

// foldRune is one rune of the first normalisation phase.
type foldRune struct {
	r        rune
	from, to int32
}

const sepRune = ' '

// Normalize returns the normalised form of s that the rules are matched on.
func Normalize(s string) string {
	var n normText
	var scratch []foldRune
	normalize(s, &n, &scratch)
	return string(n.b)
}

// asciiClass classifies ASCII bytes for the fast path.
var asciiClass = func() (t [128]byte) {
	for c := 0; c < 128; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			t[c] = 'k' // keep
		case c >= 'A' && c <= 'Z':
			t[c] = 'u' // upper
		case c == '$' || c == '@' || c == '%' || c == '&':
			t[c] = 'k'
		case c == '.' || c == ',':
			t[c] = 'd' // kept between digits
		case c < 32 && c != '\t' && c != '\n' && c != '\r':
			t[c] = 'x' // control: drop
		default:
			t[c] = 's' // separator
		}
	}
	return t
}()

// normalize fills n with the normalised form of src; scratch is reused
// between calls.
func normalize(src string, n *normText, scratch *[]foldRune) {
	normalizeRunes(src, n, scratch, nil)
}

// words are the words of normalised text (maximal runs of bytes other than
// the space) with, for each, the OR of the wordByteClass of its bytes.
type words struct {
	toks  []token
	flags []uint8
}

// Byte classes of words: a word whose flags are wordLetter has only the
// letters a-z, one whose flags without wordLeet are wordDigit only digits.
const (
	wordLetter uint8 = 1 << iota // a-z
	wordDigit                    // 0-9
	wordOther                    // anything else
	wordLeet                     // a byte leetspeak writes for a letter
)

var wordByteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= 'a' && c <= 'z':
			t[c] = wordLetter
		case c >= '0' && c <= '9':
			t[c] = wordDigit
		default:
			t[c] = wordOther
		}
		if leetBytes[c] {
			t[c] |= wordLeet
		}
	}
	return t
}()

// normalizeRunes is normalize for any text. When ws is not nil it receives
// the words.
func normalizeRunes(src string, n *normText, scratch *[]foldRune, ws *words) {
	n.reset()
	// Most text writes at most one byte per byte it reads: allocate that
	// once rather than through a doubling series of copies.
	n.b, n.from, n.to = slices.Grow(n.b, len(src)), slices.Grow(n.from, len(src)), slices.Grow(n.to, len(src))
	rs := slices.Grow((*scratch)[:0], len(src))
	// Phase 1: per-rune folding.
	for i := 0; i < len(src); {
		c := src[i]
		if plainASCII[c] {
			// Fast path: a run of lower-case letters, digits and spaces
			// is kept as it is (a space is the separator rune).
			for ; i < len(src) && plainASCII[src[i]]; i++ {
				rs = append(rs, foldRune{rune(src[i]), int32(i), int32(i + 1)})
			}
			continue
		}
		if c < utf8.RuneSelf {
			if c == '&' {
				if n := entity(src, i); n > 0 {
					rs = appendFolded(rs, html.UnescapeString(src[i:i+n]), int32(i), int32(i+n))
					i += n
					continue
				}
			}
			switch asciiClass[c] {
			case 'k':
				rs = append(rs, foldRune{rune(c), int32(i), int32(i + 1)})
			case 'u':
				lc := rune(c + 32)
				// A capital I closing a lower-case word stands for l
				// ("FentanyI").
				if c == 'I' && i > 0 && isASCIILetter(src[i-1]) && (i+1 == len(src) || !isASCIIAlpha(src[i+1])) {
					lc = 'l'
				}
				rs = append(rs, foldRune{lc, int32(i), int32(i + 1)})
			case 'd':
				if len(rs) > 0 && isDigit(rs[len(rs)-1].r) && i+1 < len(src) && isDigit(rune(src[i+1])) {
					rs = append(rs, foldRune{rune(c), int32(i), int32(i + 1)})
				} else {
					rs = append(rs, foldRune{sepRune, int32(i), int32(i + 1)})
				}
			case 's':
				rs = append(rs, foldRune{sepRune, int32(i), int32(i + 1)})
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		// A currency sign between letters is leetspeak ("f€ntanyl").
		if l, ok := currencyAsLetter(r); ok && len(rs) > 0 && isASCIILetterRune(rs[len(rs)-1].r) &&
			i+size < len(src) && isASCIIAlpha(src[i+size]) {
			rs = append(rs, foldRune{l, int32(i), int32(i + size)})
			i += size
			continue
		}
		// An emoji or other symbol inside a word, with letters directly
		// on both sides ("fen💊tanyl"), is decoration: dropped, as an
		// invisible character is. Between words it stays a word of its own.
		if unicode.Is(unicode.So, r) && len(rs) > 0 && isLetter(rs[len(rs)-1].r) && rs[len(rs)-1].to == int32(i) &&
			i+size < len(src) && letterAt(src, i+size) {
			i += size
			continue
		}
		for _, fr := range foldNonASCII(r) {
			rs = append(rs, foldRune{fr, int32(i), int32(i + size)})
		}
		i += size
	}
	*scratch = rs
	// Phase 2: words, confusables, separators, spelt-out letters.
	out := n
	out.b = slices.Grow(out.b, len(rs))
	out.from = slices.Grow(out.from, len(rs))
	out.to = slices.Grow(out.to, len(rs))
	if ws != nil {
		ws.toks, ws.flags = ws.toks[:0], ws.flags[:0]
	}
	word := func(w []foldRune) {
		start := len(out.b)
		out.appendWord(w)
		if ws != nil {
			f := uint8(0)
			for _, c := range out.b[start:] {
				f |= wordByteClass[c]
			}
			ws.toks, ws.flags = append(ws.toks, token{start, len(out.b)}), append(ws.flags, f)
		}
	}
	pendingSep := false
	for i := 0; i < len(rs); {
		if rs[i].r == sepRune {
			pendingSep = true
			i++
			continue
		}
		j := i
		for j < len(rs) && rs[j].r != sepRune {
			j++
		}
		// Spelt-out letters: three or more single letters separated by one
		// or two separators ("f e n t", "i.s.o") form one word.
		if j == i+1 && isLetter(rs[i].r) {
			var buf [16]int
			letters := append(buf[:0], i)
			k := j
			for {
				m := k
				for m < len(rs) && rs[m].r == sepRune {
					m++
				}
				gap := m - k
				// A symbol between separators may stand between the
				// letters too ("f🍬e🍬n🍬t", "f ★ e ★ n").
				if gap >= 1 && gap <= 2 && m+1 < len(rs) && rs[m+1].r == sepRune && unicode.Is(unicode.So, rs[m].r) {
					after := m + 1
					for after < len(rs) && rs[after].r == sepRune {
						after++
					}
					if after-(m+1) <= 2 {
						m = after
					}
				}
				if gap == 0 || gap > 2 || m >= len(rs) {
					break
				}
				if !isLetter(rs[m].r) || (m+1 < len(rs) && rs[m+1].r != sepRune) {
					break
				}
				letters = append(letters, m)
				k = m + 1
			}
			if len(letters) >= 3 {
				if pendingSep && len(out.b) > 0 {
					out.appendByte(' ', rs[i].from, rs[i].from)
				}
				pendingSep = false
				joined := make([]foldRune, len(letters))
				for x, at := range letters {
					joined[x] = rs[at]
				}
				word(joined)
				i = k
				continue
			}
		}
		if pendingSep && len(out.b) > 0 {
			out.appendByte(' ', rs[i].from, rs[i].from)
		}
		pendingSep = false
		word(rs[i:j])
		i = j
	}
}

// plainASCII marks the bytes phase 1 of normalizeRunes keeps as they are
// whatever their neighbours: a-z, 0-9 and the space.
var plainASCII = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' '
	}
	return t
}()

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// entity returns the length of an HTML character reference ("&amp;",
// "&#101;", "&#x65;", "&shy;") at src[i:], or 0. Crawled text keeps such
// remnants when a page was escaped twice; they are read as the character
// they stand for, spanning the whole reference in the original.
func entity(src string, i int) int {
	j := i + 1
	for j < len(src) && j-i <= 10 {
		c := src[j]
		switch {
		case c == ';':
			if j == i+1 {
				return 0
			}
			if html.UnescapeString(src[i:j+1]) == src[i:j+1] {
				return 0
			}
			return j + 1 - i
		case c == '#' && j == i+1, isASCIIAlpha(c), c >= '0' && c <= '9':
			j++
		default:
			return 0
		}
	}
	return 0
}

// appendFolded appends the folded runes of s, all mapped to [from, to).
func appendFolded(rs []foldRune, s string, from, to int32) []foldRune {
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch asciiClass[r] {
			case 'k':
				rs = append(rs, foldRune{r, from, to})
			case 'u':
				rs = append(rs, foldRune{r + 32, from, to})
			case 'x':
			default:
				rs = append(rs, foldRune{sepRune, from, to})
			}
			continue
		}
		for _, fr := range foldNonASCII(r) {
			rs = append(rs, foldRune{fr, from, to})
		}
	}
	return rs
}

// currencyAsLetter returns the letter sellers write a currency sign for.
func currencyAsLetter(r rune) (rune, bool) {
	switch r {
	case '€':
		return 'e', true
	case '¢':
		return 'c', true
	case '£':
		return 'l', true
	case '¥':
		return 'y', true
	}
	return 0, false
}

func isASCIIAlpha(c byte) bool      { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isASCIILetterRune(r rune) bool { return r >= 'a' && r <= 'z' }

func (n *normText) appendByte(b byte, from, to int32) {
	n.b = append(n.b, b)
	n.from = append(n.from, from)
	n.to = append(n.to, to)
}

// appendWord writes one word, folding Cyrillic and Greek look-alikes to
// Latin when the word mixes scripts or consists only of look-alikes.
func (n *normText) appendWord(w []foldRune) {
	// An ASCII word has nothing to fold: ASCII has no look-alikes and no
	// Ukrainian letters. It is copied until a rune beyond ASCII shows.
	k := len(n.b)
	n.b = slices.Grow(n.b, len(w))[:k+len(w)]
	n.from = slices.Grow(n.from, len(w))[:k+len(w)]
	n.to = slices.Grow(n.to, len(w))[:k+len(w)]
	b, from, to := n.b[k:], n.from[k:], n.to[k:]
	ascii := true
	for x, fr := range w {
		if fr.r >= utf8.RuneSelf {
			ascii = false
			break
		}
		b[x], from[x], to[x] = byte(fr.r), fr.from, fr.to
	}
	if ascii {
		return
	}
	n.b, n.from, n.to = n.b[:k], n.from[:k], n.to[:k]
	latin, other := false, false
	for _, fr := range w {
		r := fr.r
		switch {
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' {
				latin = true
			}
		default:
			if _, ok := lookAlike(r); ok {
				other = true
			}
		}
	}
	fold := other && (latin || onlyLookAlikes(w))
	for _, fr := range w {
		r := fr.r
		if fold {
			if l, ok := lookAlike(r); ok {
				r = l
			}
		} else if u, ok := ukrainianRussian(r); ok {
			// Ukrainian and Belarusian letters read as their Russian
			// counterparts, so "фентаніл" matches "фентанил".
			r = u
		}
		if r < utf8.RuneSelf {
			n.appendByte(byte(r), fr.from, fr.to)
			continue
		}
		var buf [utf8.UTFMax]byte
		k := utf8.EncodeRune(buf[:], r)
		for _, b := range buf[:k] {
			n.appendByte(b, fr.from, fr.to)
		}
	}
}

// onlyLookAlikes reports whether every letter of w beyond ASCII is a
// look-alike.
func onlyLookAlikes(w []foldRune) bool {
	for _, fr := range w {
		if fr.r >= utf8.RuneSelf {
			if _, ok := lookAlike(fr.r); !ok && unicode.IsLetter(fr.r) {
				return false
			}
		}
	}
	return true
}

// letterAt reports whether src holds a letter at byte i.
func letterAt(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return unicode.IsLetter(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z'
	}
	return unicode.IsLetter(r)
}

// confusables maps Cyrillic and Greek lower-case letters that look like
// Latin ones to those letters.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p',
	'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd',
	'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w', 'ь': 'b', 'ɡ': 'g', 'һ': 'h', 'ү': 'y', 'ɑ': 'a',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w', 'μ': 'u', 'ϲ': 'c', 'ς': 'c', 'σ': 'o',
	'ϳ': 'j', 'ζ': 'z',
}

// ukrainian maps Ukrainian and Belarusian letters in Cyrillic words to the
// Russian letters the rules are written with.
var ukrainian = map[rune]rune{'і': 'и', 'ї': 'и', 'є': 'е', 'ґ': 'г', 'ў': 'у'}

// ukrainianRussian looks r up in ukrainian.
func ukrainianRussian(r rune) (rune, bool) {
	if r < 0x0450 || r > 0x0491 {
		return 0, false // outside 'є'..'ґ'
	}
	u, ok := ukrainian[r]
	return u, ok
}

// foldRanges are the ranges whose foldNonASCII results are computed once:
// Latin-1 to the Cyrillic supplement, Latin extended additional and Greek
// extended, punctuation, letter-like symbols and arrows, and the half- and
// full-width forms.
var foldRanges = [...]struct{ lo, hi rune }{{0x80, 0x052F}, {0x1E00, 0x2BFF}, {0xFF00, 0xFFEF}}

// foldCache holds foldNonASCII results for foldRanges, one slice per range
// indexed by r - lo.
var foldCache = func() (c [len(foldRanges)][][]rune) {
	for i, fr := range foldRanges {
		c[i] = make([][]rune, fr.hi-fr.lo+1)
		for r := fr.lo; r <= fr.hi; r++ {
			c[i][r-fr.lo] = foldSlow(r)
		}
	}
	return c
}()

var sepOnly = []rune{sepRune}

func foldNonASCII(r rune) []rune {
	for i, fr := range foldRanges {
		if r >= fr.lo && r <= fr.hi {
			return foldCache[i][r-fr.lo]
		}
	}
	return foldSlow(r)
}

// lookAlike returns the Latin letter a Cyrillic or Greek letter looks like.
func lookAlike(r rune) (rune, bool) {
	if r < lookAlikeLo || r >= lookAlikeLo+rune(len(lookAlikes)) {
		return 0, false
	}
	l := lookAlikes[r-lookAlikeLo]
	return l, l != 0
}

// lookAlikes is confusables as a table from lookAlikeLo.
var lookAlikes = func() []rune {
	t := make([]rune, 0x0530-lookAlikeLo)
	for r, l := range confusables {
		t[r-lookAlikeLo] = l
	}
	return t
}()

const lookAlikeLo = 0x0250

// special maps letters that NFKD leaves alone to their Latin spelling.
var special = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'ı': "i", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ø': "o", 'Ø': "o",
	'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'þ': "th", 'Þ': "th", 'ð': "d", 'ħ': "h",
	'µ': "u", 'ŀ': "l", 'ſ': "s",
}

// foldSlow folds one non-ASCII rune: invisible characters vanish,
// separators become a space, letters are decomposed (NFKD), stripped of
// marks and lower-cased.
func foldSlow(r rune) []rune {
	switch {
	case isInvisible(r):
		return nil
	case unicode.IsSpace(r), unicode.Is(unicode.Pd, r), unicode.Is(unicode.Po, r) && !unicode.Is(unicode.Han, r),
		unicode.Is(unicode.Ps, r), unicode.Is(unicode.Pe, r), unicode.Is(unicode.Pi, r), unicode.Is(unicode.Pf, r),
		unicode.Is(unicode.Pc, r):
		return sepOnly
	}
	if s, ok := special[r]; ok {
		return []rune(s)
	}
	var out []rune
	symbol := unicode.Is(unicode.So, r)
	if symbol {
		// Emoji and other symbols are words of their own, so "🔥fentanyl🔥"
		// reads as "🔥 fentanyl 🔥" and "🔌" can be a term.
		out = append(out, sepRune)
	}
	for _, d := range norm.NFKD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d), unicode.Is(unicode.Me, d), isInvisible(d):
			continue
		case d < utf8.RuneSelf:
			c := asciiClass[d]
			switch c {
			case 'k':
				out = append(out, d)
			case 'u':
				out = append(out, d+32)
			case 'x':
			default:
				out = append(out, sepRune)
			}
		case unicode.IsSpace(d) || unicode.IsPunct(d):
			out = append(out, sepRune)
		default:
			if s, ok := special[d]; ok {
				out = append(out, []rune(s)...)
				continue
			}
			out = append(out, unicode.ToLower(d))
		}
	}
	if symbol {
		out = append(out, sepRune)
	}
	return out
}

// isInvisible reports zero-width and other invisible characters that
// sellers insert between letters.
func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		r == 0x180E, r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x206F,
		r == 0x3164, r == 0xFEFF, r == 0xFFA0, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0000 && r <= 0xE0FFF,
		r == 0xFFFD:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}
