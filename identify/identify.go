// Package identify finds the contact and payment identifiers that sellers
// leave in listings and on their pages, and normalises each one so that two
// spellings of the same identifier compare equal.
//
// Extract returns every identifier of a text with its byte span, in the
// order the identifiers appear. Values are normalised as follows:
//
//	email     lower case, obfuscations undone ("name [at] proton [dot] me" -> "name@proton.me")
//	phone     E.164 ("+447700900123"), parsed with a libphonenumber port and valid for its region
//	telegram, wickr, threema, session, wechat, signal
//	          the handle, lower case, without "@"; a Signal number is E.164
//	whatsapp  E.164
//	jabber    the JID, lower case
//	website   the registrable domain (public suffix list), lower case
//	btc, ltc, trx, xmr
//	          the address as written; base58 and bech32 checksums must hold
//	eth       lower case; a mixed-case address must pass its EIP-55 checksum
//	pgp       the v4 fingerprint of the primary key, 40 upper-case hex digits
//
// What it does not take: documentation placeholders ("you@example.com",
// "@username", all-zero addresses), strings failing a checksum, and numbers
// without a country code (so CAS numbers, batch and product codes never
// become phone numbers). Extract is pure: no I/O, safe for concurrent use.
package identify

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of an identifier. Its values are the SPEC's identifier
// kinds.
type Kind string

// Identifier kinds.
const (
	Email    Kind = "email"
	Phone    Kind = "phone"
	Telegram Kind = "telegram"
	WhatsApp Kind = "whatsapp"
	Signal   Kind = "signal"
	Wickr    Kind = "wickr"
	Threema  Kind = "threema"
	Session  Kind = "session"
	WeChat   Kind = "wechat"
	Jabber   Kind = "jabber"
	Website  Kind = "website"
	BTC      Kind = "btc"
	ETH      Kind = "eth"
	LTC      Kind = "ltc"
	TRX      Kind = "trx"
	XMR      Kind = "xmr"
	PGP      Kind = "pgp"
)

// Kinds lists every identifier kind, in the order the SPEC names them.
func Kinds() []Kind {
	return []Kind{Email, Phone, Telegram, WhatsApp, Signal, Wickr, Threema, Session, WeChat, Jabber,
		Website, BTC, ETH, LTC, TRX, XMR, PGP}
}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k Kind) bool { return slices.Contains(Kinds(), k) }

// Match is one identifier found in a text.
type Match struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"` // normalised
	Raw   string `json:"raw"`   // the text as written, text[Start:End]
	Start int    `json:"start"` // byte span in the text
	End   int    `json:"end"`
}

// Key returns what two identifiers must share to be the same contact: the
// kind and value, where WhatsApp and Signal numbers count as phone numbers.
func (m Match) Key() string { return LinkKey(m.Kind, m.Value) }

// LinkKey returns the key under which an identifier of kind k and value v
// links listings (see Match.Key).
func LinkKey(k Kind, v string) string {
	if (k == WhatsApp || k == Signal) && strings.HasPrefix(v, "+") {
		k = Phone
	}
	return string(k) + ":" + v
}

// Options adjust Extract. The zero value is ready to use.
type Options struct {
	// OwnDomains are registrable domains never reported as websites: the
	// marketplace's own, typically.
	OwnDomains []string
}

// candidate is a match with the priority that settles overlaps: a
// labelled handle beats the phone number or e-mail address inside it.
type candidate struct {
	Match
	prio int
	mask bool // claims its span but is not reported (e.g. an Instagram handle)
}

// Extract returns the identifiers in text, ordered by position. Spans do
// not overlap.
func Extract(text string, opts Options) []Match {
	// Invisible characters put inside a handle or address to defeat
	// scrapers ("iso\u200bking@proton.me") are read through: matching runs
	// on the text without them, and spans are mapped back.
	if clean, offsets, ok := stripInvisible(text); ok {
		ms := extract(clean, opts)
		for i := range ms {
			ms[i].Start, ms[i].End = offsets[ms[i].Start], offsets[ms[i].End]
			ms[i].Raw = text[ms[i].Start:ms[i].End]
		}
		return ms
	}
	return extract(text, opts)
}

// invisible are format characters that render as nothing.
func invisible(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e':
		return true
	}
	return false
}

// stripInvisible returns text without invisible characters and, for each
// byte offset of the result (and its end), the offset in text; ok is
// false when text has none.
func stripInvisible(text string) (string, []int, bool) {
	if strings.IndexFunc(text, invisible) < 0 {
		return text, nil, false
	}
	var b strings.Builder
	offsets := make([]int, 0, len(text)+1)
	for i, r := range text {
		if invisible(r) {
			continue
		}
		n := utf8.RuneLen(r)
		if r == utf8.RuneError {
			n = 1
		}
		for k := range n {
			offsets = append(offsets, i+k)
		}
		b.WriteString(text[i : i+n])
	}
	offsets = append(offsets, len(text))
	return b.String(), offsets, true
}

func extract(text string, opts Options) []Match {
	var cs []candidate
	cs = append(cs, findPGP(text)...)
	cs = append(cs, findPGPFingerprints(text)...)
	cs = append(cs, findLabelled(text)...)
	cs = append(cs, findMessengerURLs(text)...)
	cs = append(cs, findEmails(text)...)
	cs = append(cs, findCrypto(text)...)
	cs = append(cs, findPhones(text)...)
	cs = append(cs, findAtHandles(text)...)
	cs = append(cs, findWebsites(text, opts.OwnDomains)...)

	// Highest priority first, then longest, then leftmost; keep what does
	// not overlap anything kept already.
	slices.SortStableFunc(cs, func(a, b candidate) int {
		if c := cmp.Compare(b.prio, a.prio); c != 0 {
			return c
		}
		if c := cmp.Compare(b.End-b.Start, a.End-a.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Start, b.Start)
	})
	var kept []candidate
	for _, c := range cs {
		overlaps := false
		for _, k := range kept {
			if c.Start < k.End && k.Start < c.End {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, c)
		}
	}
	out := make([]Match, 0, len(kept))
	for _, k := range kept {
		if !k.mask {
			out = append(out, k.Match)
		}
	}
	slices.SortFunc(out, func(a, b Match) int { return cmp.Compare(a.Start, b.Start) })
	return out
}

// Priorities of the finders (higher wins an overlap).
const (
	prioPGP       = 100
	prioLabelled  = 90
	prioMessenger = 80
	prioEmail     = 70
	prioCrypto    = 60
	prioPhone     = 50
	prioAtHandle  = 40
	prioWebsite   = 30
)

// placeholderWords are handle and mailbox names that documentation and
// templates use in place of a real one.
var placeholderWords = map[string]bool{
	"username": true, "user": true, "user_name": true, "yourusername": true, "your_username": true,
	"yourname": true, "your_name": true, "name": true, "handle": true, "yourhandle": true,
	"example": true, "test": true, "nickname": true, "yournick": true, "xxx": true, "xxxx": true,
	"xxxxx": true, "xxxxxx": true, "id": true, "yourid": true, "email": true, "youremail": true,
	"your": true, "you": true, "me": true, "someone": true, "somebody": true, "john": true,
	"johndoe": true, "john.doe": true, "jane.doe": true, "foo": true, "bar": true, "foobar": true,
	"abc": true, "abcde": true, "abcdef": true, "channel": true, "yourchannel": true, "telegram": true,
	"contact": false, // a real mailbox name; listed to document the choice
}

// isPlaceholderWord reports whether a handle or mailbox name is a
// template's stand-in.
func isPlaceholderWord(s string) bool {
	s = strings.ToLower(strings.Trim(s, "._-"))
	if placeholderWords[s] {
		return true
	}
	if s == "" || strings.HasPrefix(s, "your") || strings.HasPrefix(s, "example") {
		return true
	}
	// One character repeated: "xxxxxxx", "aaaaa", "00000".
	if strings.Count(s, s[:1]) == len(s) && len(s) > 1 {
		return true
	}
	return false
}
