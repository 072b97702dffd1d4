package classify

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// The verdict search's normaliser: one pass over the bytes of the text,
// writing what normalizeRunes writes without the map back to the original
// offsets and feeding every byte written to the substance automaton. It
// handles printable ASCII and the characters beyond it that ordinary
// listings are full of (accented letters, Cyrillic and Greek words,
// look-alikes mixed into Latin words, currency signs, dashes and quotes)
// with a table per rune, and leaves the rest to normalizeRunes: invisible
// characters, symbols, entities, control characters, CJK, and letters
// beyond ASCII spelt out one by one.

// asciiFold maps a byte to what normalizeFast writes for it: the byte
// folded to lower case, a space for a separator, asciiPoint for '.' and
// ',' (kept between digits), or 0 for a byte it looks at more closely: a
// byte beyond ASCII (see fastFoldAt), a control character, '&' (which may
// start an HTML entity) and 'I' (which may stand for l).
var asciiFold = func() (t [256]byte) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch asciiClass[c] {
		case 'k':
			t[c] = byte(c)
		case 'u':
			t[c] = byte(c + 32)
		case 'd':
			t[c] = asciiPoint
		case 's':
			t[c] = ' '
		}
	}
	t['&'], t['I'] = 0, 0
	return t
}()

const asciiPoint = 1

// fastFold is what the fast normaliser writes for one rune beyond ASCII:
// what normalizeRunes writes for it, given that its word is written as it
// is (see normalizeFast for words that mix scripts).
type fastFold struct {
	kind uint8 // fastBail, fastSep or fastWord
	// n is, for fastWord, the number of bytes of out written; for
	// fastSep, the number of separator runes the rune folds to.
	n     uint8
	class uint8 // fastWord: the OR of wordByteClass over out[:n]
	mark  uint8 // fastWord: markLookAlike and the others
	out   [3]byte
	// latin is, for a look-alike, the Latin letter it is written as in a
	// word that is folded to Latin.
	latin byte
}

const (
	fastBail uint8 = iota // left to normalizeRunes
	fastSep               // one or more separators
	fastWord              // bytes of a word
)

// Marks of a fastWord rune.
const (
	markLookAlike   uint8 = 1 << iota // folds to a Cyrillic or Greek look-alike of a Latin letter
	markOtherLetter                   // folds to a letter beyond ASCII that is no look-alike
	markLetter                        // folds to one rune, a letter
	markCurrency                      // a currency sign sellers write for a letter
	markUkrainian                     // out has a Ukrainian letter written as Russian
)

// fastFolds holds the fastFold of every rune of foldRanges, one slice per
// range indexed by r - lo.
var fastFolds = func() (t [len(foldRanges)][]fastFold) {
	for i, fr := range foldRanges {
		t[i] = make([]fastFold, fr.hi-fr.lo+1)
		for r := fr.lo; r <= fr.hi; r++ {
			t[i][r-fr.lo] = newFastFold(r)
		}
	}
	return t
}()

// newFastFold derives the fastFold of r from foldNonASCII. Runes that
// vanish, fold to digits (which decide whether a following '.' is kept),
// to a word of their own between separators (symbols), or to more bytes
// than they take are left to normalizeRunes.
func newFastFold(r rune) fastFold {
	folded := foldNonASCII(r)
	seps := 0
	for _, x := range folded {
		if x == sepRune {
			seps++
		}
	}
	switch {
	case len(folded) == 0:
		return fastFold{}
	case seps == len(folded):
		return fastFold{kind: fastSep, n: uint8(seps)}
	case seps > 0:
		return fastFold{}
	}
	e := fastFold{kind: fastWord}
	var out []byte
	for _, x := range folded {
		if isDigit(x) {
			return fastFold{}
		}
		l, isLookAlike := lookAlike(x)
		switch {
		case isLookAlike && len(folded) > 1:
			return fastFold{}
		case isLookAlike:
			e.mark |= markLookAlike
			e.latin = byte(l)
		case x >= utf8.RuneSelf && unicode.IsLetter(x):
			e.mark |= markOtherLetter
		}
		// In a word written as it is, Ukrainian letters read as Russian
		// (see appendWord).
		if u, ok := ukrainianRussian(x); ok {
			x = u
			if !isLookAlike {
				e.mark |= markUkrainian
			}
		}
		out = utf8.AppendRune(out, x)
	}
	if len(out) > utf8.RuneLen(r) || len(out) > len(e.out) {
		return fastFold{}
	}
	if len(folded) == 1 && isLetter(folded[0]) {
		e.mark |= markLetter
	}
	if _, ok := currencyAsLetter(r); ok {
		e.mark |= markCurrency
	}
	e.n = uint8(copy(e.out[:], out))
	for _, c := range out {
		e.class |= wordByteClass[c]
	}
	return e
}

// standaloneSymbol reports whether the rune of sz bytes at src[i:] is a
// symbol the fast normaliser may write as a word of its own, as
// normalizeRunes does: a symbol (Unicode So) that normalisation leaves as
// it is, with a separator or the text's edge on both sides (sepBefore),
// and not after a single letter (where it may stand between spelt-out
// letters, "f ★ e ★ n"). toks are the words written so far into b.
func standaloneSymbol(src string, i, sz int, sepBefore bool, toks []token, b []byte) bool {
	if !sepBefore {
		return false
	}
	if j := i + sz; j < len(src) && src[j] != ' ' && src[j] != '\n' {
		return false
	}
	if len(toks) > 0 {
		if t := toks[len(toks)-1]; utf8.RuneCount(b[t.s:t.e]) == 1 {
			return false
		}
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	if !unicode.Is(unicode.So, r) || isInvisible(r) || unicode.ToLower(r) != r {
		return false
	}
	if _, ok := special[r]; ok {
		return false
	}
	f := foldNonASCII(r)
	return len(f) == 2 && f[0] == sepRune && f[1] == r || len(f) == 3 && f[0] == sepRune && f[1] == r && f[2] == sepRune
}

// bailFold is the fastFold of the runes beyond foldRanges.
var bailFold fastFold

// fastFoldAt returns the fastFold of the rune beyond ASCII at src[i:] and
// its length.
func fastFoldAt(src string, i int) (*fastFold, int) {
	r, size := utf8.DecodeRuneInString(src[i:])
	for k, fr := range foldRanges {
		if r >= fr.lo && r <= fr.hi {
			return &fastFolds[k][r-fr.lo], size
		}
	}
	return &bailFold, size
}

// normalizeFast writes into n and ws the bytes and words normalizeRunes
// writes for src, leaving n unmapped, and feeds every byte written to
// scan. It reports false, leaving n to be reset, for text it leaves to
// normalizeRunes.
func normalizeFast(src string, n *normText, ws *words, scan *acScan) bool {
	size := len(src)
	// Every rune writes at most its own length, and runs of separators
	// one space.
	b := slices.Grow(n.b[:0], size)[:size]
	n.b, n.from, n.to, n.unmapped = b[:0], n.from[:0], n.to[:0], true
	// A word takes a byte and a separator, or the end.
	maxWords := size/2 + 1
	toks := slices.Grow(ws.toks[:0], maxWords)[:maxWords]
	flags := slices.Grow(ws.flags[:0], maxWords)[:maxWords]
	// Kept even when the text is left to normalizeRunes, so that the
	// next call does not allocate them again.
	ws.toks, ws.flags = toks[:0], flags[:0]
	nw := 0
	scan.start(size)
	w := 0
	pendingSep := false
	for i := 0; i < size; {
		x := asciiFold[src[i]]
		if x <= asciiPoint {
			if src[i] >= utf8.RuneSelf {
				e, sz := fastFoldAt(src, i)
				if e.kind == fastBail {
					// A symbol standing alone between separators ("© 2024",
					// "★ 5/5") is a word of its own, written as it is.
					if !standaloneSymbol(src, i, sz, pendingSep || w == 0, toks[:nw], b) {
						return false
					}
					if pendingSep && w > 0 {
						b[w] = ' '
						w++
						scan.step(' ', w)
					}
					pendingSep = false
					ws0 := w
					for k := 0; k < sz; k++ {
						b[w] = src[i+k]
						w++
						scan.step(src[i+k], w)
					}
					toks[nw], flags[nw] = token{ws0, w}, wordOther
					nw++
					i += sz
					continue
				}
				if e.kind == fastSep {
					pendingSep = true
					i += sz
					continue
				}
			} else if x = foldSpecial(src, i); x == 0 {
				return false
			}
		}
		if x == ' ' {
			pendingSep = true
			i++
			continue
		}
		// A word starts at i: one space before it, then its bytes.
		if pendingSep && w > 0 {
			b[w] = ' '
			w++
			scan.step(' ', w)
		}
		pendingSep = false
		ws0, i0 := w, i
		s0, nf0 := scan.s, scan.nf
		var f, marks uint8
		for i < size {
			var pf uint8
			i, w, pf = plainRun(src, i, b, w, scan)
			f |= pf
			if i == size {
				break
			}
			if x = asciiFold[src[i]]; x == ' ' {
				break
			}
			if src[i] < utf8.RuneSelf {
				if x = foldSpecial(src, i); x == 0 {
					return false
				}
				if x == ' ' {
					break
				}
				f |= wordByteClass[x]
				b[w] = x
				w++
				scan.step(x, w)
				i++
				continue
			}
			e, sz := fastFoldAt(src, i)
			if e.kind != fastWord {
				if e.kind == fastBail {
					return false
				}
				break
			}
			// A currency sign between Latin letters stands for a
			// letter ("f€ntanyl").
			if e.mark&markCurrency != 0 && w > ws0 && isASCIILetter(b[w-1]) && i+sz < size && isASCIIAlpha(src[i+sz]) {
				return false
			}
			for k := range e.n {
				b[w] = e.out[k]
				w++
				scan.step(e.out[k], w)
			}
			f |= e.class
			marks |= e.mark
			i += sz
		}
		// A word that mixes look-alikes with Latin letters, or has no
		// other letters beyond ASCII, is folded to Latin (appendWord): it
		// is written and searched again.
		if marks&markLookAlike != 0 && (f&wordLetter != 0 || marks&markOtherLetter == 0) {
			if marks&markUkrainian != 0 {
				return false
			}
			scan.s, scan.nf = s0, nf0
			w, f = foldWord(src, i0, i, b, ws0, scan)
		}
		if w == ws0+1 || marks&markLetter != 0 {
			if single, ascii := oneLetter(src, i0, i, f, marks); single {
				// Three or more single letters separated by one or two
				// separators ("f e n t", "i.s.o") form one word.
				if k, ok := speltOut(src, i, b, &w, ascii); ok {
					for p := ws0 + 1; p < w; p++ {
						scan.step(b[p], p+1)
					}
					i = k
				} else if k < 0 {
					return false
				}
			}
		}
		toks[nw], flags[nw] = token{ws0, w}, f
		nw++
	}
	n.b, ws.toks, ws.flags = b[:w], toks[:nw], flags[:nw]
	return true
}

// plainRun writes the plain bytes of src from i (letters, digits and the
// others asciiFold maps to a byte of a word) to b from w, feeding them to
// scan, up to the first other byte. It returns where it stopped in src and
// b and the OR of wordByteClass over the bytes written.
//
// It is most of the time a text takes, in a loop that calls nothing, so
// that the automaton's state and the offsets stay in registers.
func plainRun(src string, i int, b []byte, w int, scan *acScan) (int, int, uint8) {
	delta, class, firstOut := scan.m.delta, &scan.m.class, int(scan.m.firstOut)
	s := int(scan.s)
	var f uint8
	for ; i < len(src); i++ {
		x := asciiFold[src[i]]
		if x <= asciiPoint || x == ' ' {
			break
		}
		f |= wordByteClass[x]
		b[w] = x
		w++
		if s = int(delta[s+int(class[x])]); s >= firstOut {
			scan.record(s, w)
		}
	}
	scan.s = int32(s)
	return i, w, f
}

// foldWord writes the word src[i0:i] into b from ws0 with its look-alikes
// folded to Latin, feeding its bytes to scan, and returns where it ends
// in b and the OR of wordByteClass over its bytes.
func foldWord(src string, i0, i int, b []byte, ws0 int, scan *acScan) (int, uint8) {
	w := ws0
	var f uint8
	write := func(x byte) {
		f |= wordByteClass[x]
		b[w] = x
		w++
		scan.step(x, w)
	}
	for p := i0; p < i; {
		if src[p] < utf8.RuneSelf {
			write(foldAt(src, p))
			p++
			continue
		}
		e, size := fastFoldAt(src, p)
		if e.mark&markLookAlike != 0 {
			write(e.latin)
		} else {
			for k := range e.n {
				write(e.out[k])
			}
		}
		p += size
	}
	return w, f
}

// oneLetter reports whether the word src[i0:i], of byte classes f and
// marks, is one rune that folds to a letter, and whether that letter is
// ASCII.
func oneLetter(src string, i0, i int, f, marks uint8) (single, ascii bool) {
	if i == i0+1 {
		return f == wordLetter, true
	}
	if marks&markLetter == 0 || src[i0] < utf8.RuneSelf {
		return false, false
	}
	if _, size := utf8.DecodeRuneInString(src[i0:]); size != i-i0 {
		return false, false
	}
	return true, f == wordLetter
}

// foldAt is what normalizeFast writes for the ASCII byte src[i]: see
// asciiFold, with foldSpecial's answers for the bytes that need their
// neighbours.
func foldAt(src string, i int) byte {
	x := asciiFold[src[i]]
	if x <= asciiPoint {
		x = foldSpecial(src, i)
	}
	return x
}

// foldSpecial folds the bytes asciiFold leaves to it: '.' and ',' are kept
// between digits, a capital I closing a lower-case word stands for l, '&'
// is kept unless it starts an HTML entity. It returns 0 for a byte the
// fast path cannot handle (a control character, an entity, or a byte
// beyond ASCII).
func foldSpecial(src string, i int) byte {
	switch c := src[i]; c {
	case '.', ',':
		if i > 0 && isDigitByte(src[i-1]) && i+1 < len(src) && isDigitByte(src[i+1]) {
			return c
		}
		return ' '
	case 'I':
		if i > 0 && isASCIILetter(src[i-1]) && (i+1 == len(src) || !isASCIIAlpha(src[i+1])) {
			return 'l'
		}
		return 'i'
	case '&':
		if entity(src, i) > 0 {
			return 0
		}
		return '&'
	}
	return 0
}

// spellUnit is one rune of the text as speltOut sees it.
type spellUnit struct {
	size   int  // bytes in the text; 0: a rune the fast path cannot handle
	seps   int  // separator runes it folds to
	letter bool // it folds to one rune, a letter
	ascii  byte // that letter when it is ASCII, else 0
}

// spellUnitAt returns the rune at src[i:] as speltOut sees it.
func spellUnitAt(src string, i int) spellUnit {
	if src[i] < utf8.RuneSelf {
		x := foldAt(src, i)
		switch {
		case x == 0:
			return spellUnit{}
		case x == ' ':
			return spellUnit{size: 1, seps: 1}
		case isASCIILetter(x):
			return spellUnit{size: 1, letter: true, ascii: x}
		}
		return spellUnit{size: 1}
	}
	e, size := fastFoldAt(src, i)
	switch e.kind {
	case fastBail:
		return spellUnit{}
	case fastSep:
		return spellUnit{size: size, seps: int(e.n)}
	}
	u := spellUnit{size: size, letter: e.mark&markLetter != 0}
	if u.letter && e.n == 1 {
		u.ascii = e.out[0]
	}
	return u
}

// speltOut extends the one-letter word just written before src[i] (an
// ASCII letter when ascii is set) with the single letters that follow it,
// each after one or two separators, when there are at least three letters
// in all, and returns where the word ends in src. It returns false and a
// negative offset when a rune the fast path cannot handle was met or the
// letters are not all ASCII, false and 0 when the letters stop short of
// three.
func speltOut(src string, i int, b []byte, w *int, ascii bool) (int, bool) {
	var buf [16]byte
	letters := buf[:0]
	k := i
	for {
		m, seps := k, 0
		for m < len(src) {
			u := spellUnitAt(src, m)
			if u.size == 0 {
				return -1, false
			}
			if u.seps == 0 {
				break
			}
			seps += u.seps
			m += u.size
		}
		if seps == 0 || seps > 2 || m >= len(src) {
			break
		}
		u := spellUnitAt(src, m)
		if u.size == 0 {
			return -1, false
		}
		if !u.letter {
			break
		}
		if end := m + u.size; end < len(src) {
			next := spellUnitAt(src, end)
			if next.size == 0 {
				return -1, false
			}
			if next.seps == 0 {
				break
			}
		}
		if u.ascii == 0 {
			ascii = false
		}
		letters = append(letters, u.ascii)
		k = m + u.size
	}
	if len(letters) < 2 {
		return 0, false
	}
	if !ascii {
		return -1, false
	}
	*w += copy(b[*w:], letters)
	return k, true
}
