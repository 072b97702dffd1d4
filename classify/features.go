package classify

import (
	"bytes"
	"sort"
	"strings"

	"snoop/rules"
)

// token is a word of normalised text: b[s:e].
type token struct{ s, e int }

// leet fills l with the leetspeak-folded view of n and reports whether any
// word changed. Only words that mix at least two letters with digits or
// $ and @ next to a letter are folded, and never words shaped like
// quantities ("100mg") or codes ("m30", "u47700"), which the plain view
// matches. ws are the words of n.
func leet(n, l *normText, ws *words) bool {
	b := n.b
	changed := false
	for i, t := range ws.toks {
		// A leetspeak word has leetspeak bytes and letters.
		if f := ws.flags[i]; f&wordLeet == 0 || f&wordLetter == 0 || !leetWord(b[t.s:t.e]) {
			continue
		}
		if !changed {
			l.b = append(l.b[:0], b...)
			changed = true
		}
		for k := t.s; k < t.e; k++ {
			l.b[k] = leetByte(b, k, t.s, t.e)
		}
	}
	if changed {
		l.from, l.to, l.unmapped = n.from, n.to, n.unmapped
	}
	return changed
}

// leetBytes marks the bytes leetspeak writes for letters.
var leetBytes = func() (t [256]bool) {
	for _, c := range []byte("01345789$@") {
		t[c] = true
	}
	return t
}()

func isLeet(c byte) bool {
	switch c {
	case '0', '1', '3', '4', '5', '7', '8', '9', '$', '@':
		return true
	}
	return false
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' }

func leetWord(w []byte) bool {
	letters, adjacent := 0, false
	for k, c := range w {
		switch {
		case isASCIILetter(c):
			letters++
		case c >= 0x80:
			return false
		case isLeet(c):
			if k > 0 && isASCIILetter(w[k-1]) || k+1 < len(w) && isASCIILetter(w[k+1]) {
				adjacent = true
			}
		}
	}
	if letters < 2 || !adjacent {
		return false
	}
	// Quantity shape: digits then letters only.
	k := 0
	for k < len(w) && (w[k] >= '0' && w[k] <= '9' || w[k] == '.' || w[k] == ',') {
		k++
	}
	if k > 0 && (units[string(w[k:])] || k == len(w)) {
		return false
	}
	// Code shape: up to three letters then digits (m30, u47700, ah7921).
	k = 0
	for k < len(w) && isASCIILetter(w[k]) {
		k++
	}
	if k <= 3 && k < len(w) {
		d := k
		for d < len(w) && w[d] >= '0' && w[d] <= '9' {
			d++
		}
		if d > k && (d == len(w) || d == len(w)-1 && isASCIILetter(w[d])) {
			return false
		}
	}
	return true
}

func allLetters(w []byte) bool {
	for _, c := range w {
		if !isASCIILetter(c) {
			return false
		}
	}
	return true
}

func leetByte(b []byte, k, ws, we int) byte {
	switch c := b[k]; c {
	case '0':
		return 'o'
	case '1':
		if k > ws && isASCIILetter(b[k-1]) && (k+1 == we || !isASCIILetter(b[k+1])) {
			return 'l'
		}
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	default:
		return c
	}
}

var units = map[string]bool{
	"g": true, "gr": true, "gram": true, "grams": true, "gramm": true, "gramos": true, "gramas": true,
	"kg": true, "kilo": true, "kilos": true, "k": true, "mg": true, "mcg": true, "ug": true, "oz": true,
	"lb": true, "lbs": true, "ml": true, "pcs": true, "pills": true, "tabs": true, "tablets": true,
	"count": true, "units": true, "patch": true, "patches": true, "x": true, "t": true, "ton": true,
	"tons": true, "г": true, "гр": true, "грамм": true, "кг": true, "шт": true, "克": true, "公斤": true,
	"千克": true, "吨": true,
}

var currencies = map[string]bool{
	"$": true, "€": true, "£": true, "usd": true, "eur": true, "gbp": true, "btc": true, "euro": true,
	"euros": true, "dollars": true, "руб": true, "рублей": true, "元": true, "usdt": true, "xmr": true,
}

// detectors runs the built-in detectors (CAS numbers, quantities, prices,
// percentages, contact handles) over the tokens of n.
func (c *Classifier) detectors(sc *scratch, n *normText) {
	b := n.b
	toks := sc.tokens
	fire := func(det string, s, e int) {
		for _, ci := range c.detect[det] {
			c.addCtx(sc, n, ci, s, e, detectTerm(det))
		}
	}
	for ti, t := range toks {
		w := b[t.s:t.e]
		c.cas3(sc, n, ti)
		if len(c.detect) == 0 {
			continue
		}
		var next []byte
		if ti+1 < len(toks) {
			next = b[toks[ti+1].s:toks[ti+1].e]
		}
		// Currency before the number.
		if len(w) > 1 && (w[0] == '$' || bytes.HasPrefix(w, euro) || bytes.HasPrefix(w, pound)) {
			rest := strings.TrimLeft(strings.TrimLeft(strings.TrimLeft(string(w), "$"), "€"), "£")
			if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
				fire("price", t.s, t.e)
				continue
			}
		}
		k := 0
		for k < len(w) && (w[k] >= '0' && w[k] <= '9' || k > 0 && (w[k] == '.' || w[k] == ',')) {
			k++
		}
		if k == 0 {
			if bytes.IndexByte(w, '@') >= 0 {
				at := bytes.IndexByte(w, '@')
				if at+1 < len(w) && isASCIILetter(w[at+1]) {
					fire("handle", t.s, t.e)
				}
			}
			continue
		}
		rest := string(w[k:])
		switch {
		case rest == "%":
			fire("percent", t.s, t.e)
		case rest == "" && string(next) == "%":
			fire("percent", t.s, toks[ti+1].e)
		case units[rest]:
			fire("quantity", t.s, t.e)
		case rest == "" && units[string(next)]:
			fire("quantity", t.s, toks[ti+1].e)
		case currencies[rest]:
			fire("price", t.s, t.e)
		case rest == "" && currencies[string(next)]:
			fire("price", t.s, toks[ti+1].e)
		}
	}
}

var euro, pound = []byte("€"), []byte("£")

// cas3 adds the substance whose CAS number starts at token ti of n, if
// any: NNNNNNN NN N (separators normalised to spaces), check digit valid.
func (c *Classifier) cas3(sc *scratch, n *normText, ti int) bool {
	b, toks := n.b, sc.tokens
	t := toks[ti]
	w := b[t.s:t.e]
	if ti+2 >= len(toks) || len(w) < 2 || len(w) > 7 || !allDigits(w) {
		return false
	}
	w1, w2 := b[toks[ti+1].s:toks[ti+1].e], b[toks[ti+2].s:toks[ti+2].e]
	if len(w1) != 2 || len(w2) != 1 || !allDigits(w1) || !allDigits(w2) ||
		toks[ti+1].s != t.e+1 || toks[ti+2].s != toks[ti+1].e+1 {
		return false
	}
	num := string(w) + "-" + string(w1) + "-" + string(w2)
	canon, err := rules.ParseCAS(num)
	if err != nil {
		return false
	}
	si, ok := c.cas[canon]
	if !ok {
		return false
	}
	s, e := n.span(t.s, toks[ti+2].e)
	sub := c.subs[si]
	c.add(sc, cand{start: s, end: e, ns: t.s, ne: toks[ti+2].e, sub: si, ctx: -1, fam: -1,
		name: sub.Name, class: sub.Class, kind: "cas", term: canon, weight: c.sc.Weights.CAS})
	return true
}

// detectTerm is the term a detector's matches report.
func detectTerm(det string) string {
	switch det {
	case "price":
		return "detect:price"
	case "percent":
		return "detect:percent"
	case "quantity":
		return "detect:quantity"
	case "handle":
		return "detect:handle"
	}
	return "detect:" + det
}

func allDigits(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(w) > 0
}

// famCache remembers, within one scan of one view, the word window of the
// last stem found and the family matches in it, so that many stems in one
// long word cost one pattern search, not one each.
type famCache struct {
	n            *normText
	wordS, wordE int // the word holding the last stem start: b[wordS:wordE]
	ws, we       int // the window searched: that word and its neighbours
	fams         []famMatches
}

// famMatches are one family's matches in the cached window and whether
// each was reported yet.
type famMatches struct {
	fi       int
	matches  [][]int
	reported []bool
}

// window returns the window a stem at [hs, he) is checked in: the word
// holding it and the word either side.
func (fc *famCache) window(n *normText, hs, he int) (int, int) {
	b := n.b
	if fc.n != n || hs < fc.wordS || hs >= fc.wordE {
		s, e := hs, hs
		for s > 0 && b[s-1] != ' ' {
			s--
		}
		for e < len(b) && b[e] != ' ' {
			e++
		}
		fc.n, fc.wordS, fc.wordE = n, s, e
		fc.ws, fc.we = -1, -1
	}
	ws := fc.wordS
	if ws > 0 {
		ws--
		for ws > 0 && b[ws-1] != ' ' {
			ws--
		}
	}
	we := he
	if we <= fc.wordE {
		we = fc.wordE
	} else {
		// The stem ends with a space: it reaches into the next word.
		for we < len(b) && b[we] != ' ' {
			we++
		}
	}
	if we < len(b) {
		we++
		for we < len(b) && b[we] != ' ' {
			we++
		}
	}
	if ws != fc.ws || we != fc.we {
		fc.ws, fc.we = ws, we
		fc.fams = fc.fams[:0]
	}
	return ws, we
}

// matches returns family fi's matches in the window b[ws:we] and which of
// them were reported, searching only once per window.
func (fc *famCache) matches(f *rules.Family, fi int, w []byte) *famMatches {
	for i := range fc.fams {
		if fc.fams[i].fi == fi {
			return &fc.fams[i]
		}
	}
	m := f.Pattern.FindAllSubmatchIndex(w, -1)
	var reported []bool
	if len(m) > 0 {
		reported = make([]bool, len(m))
	}
	fc.fams = append(fc.fams, famMatches{fi: fi, matches: m, reported: reported})
	return &fc.fams[len(fc.fams)-1]
}

// family checks a family's pattern around a stem found at [hs, he).
func (c *Classifier) family(sc *scratch, n *normText, fi, hs, he int) {
	f := c.fams[fi]
	b := n.b
	ws, we := sc.fam.window(n, hs, he)
	w := b[ws:we]
	fm := sc.fam.matches(f, fi, w)
	// The matches are sorted and do not overlap: only the last one that
	// starts at or before the stem can hold it.
	mi := sort.Search(len(fm.matches), func(i int) bool { return ws+fm.matches[i][0] > hs }) - 1
	if mi < 0 {
		return
	}
	m := fm.matches[mi]
	ms, me := ws+m[0], ws+m[1]
	if me < he {
		return
	}
	if fm.reported[mi] {
		return // found through another stem in the window: the same candidate
	}
	fm.reported[mi] = true
	if ms > 0 && isWordByte(b[ms-1]) || me < len(b) && isWordByte(b[me]) {
		return
	}
	key := strings.ReplaceAll(string(f.Pattern.Expand(nil, []byte(f.Lookup), w, m)), " ", "")
	key = strings.ReplaceAll(key, "-", "")
	s, e := n.span(ms, me)
	cd := cand{start: s, end: e, ns: ms, ne: me, sub: -1, ctx: -1, fam: fi, kind: "family",
		term: f.Pattern.String(), weight: f.Weight}
	si, ok := c.lookup[key]
	if !ok {
		si, ok = c.fuzzy.lookupKey(key, f.Class)
	}
	if ok {
		sub := c.subs[si]
		cd.sub, cd.name, cd.class, cd.weight = si, sub.Name, sub.Class, sub.Weight
	} else {
		var name string
		if f.Report == "$0" {
			name = string(b[ms:me])
		} else {
			name = string(f.Pattern.Expand(nil, []byte(f.Report), w, m))
		}
		name = strings.ReplaceAll(strings.TrimSpace(name), " ", "-")
		excluded := false
		for _, x := range f.Exclude {
			if strings.ReplaceAll(Normalize(x), " ", "-") == name {
				excluded = true
			}
		}
		if excluded {
			return
		}
		cd.name, cd.class = name, f.Class
	}
	c.add(sc, cd)
}
