package identify

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/publicsuffix"
)

// Obfuscated separators: "[at]", "(at)", "{at}", " at " and the same for
// "dot"; "@" and "." themselves.
const (
	atSep  = `(?:\s*[@＠]\s*|\s*[\[\(\{<]\s*(?:at|@)\s*[\]\)\}>]\s*|\s+(?:at|AT)\s+)`
	dotSep = `(?:\.|\s*[\[\(\{<]\s*(?:dot|\.)\s*[\]\)\}>]\s*|\s+(?:dot|DOT)\s+)`
)

var (
	reEmail = regexp.MustCompile(`(?i)[a-z0-9][a-z0-9._%+\-]{0,63}` + atSep + `[a-z0-9](?:[a-z0-9\-]{0,62})(?:` + dotSep + `[a-z0-9](?:[a-z0-9\-]{0,62}))+`)
	reAtSep = regexp.MustCompile(`(?i)^` + atSep)
	reDots  = regexp.MustCompile(`(?i)` + dotSep)
)

// placeholderDomains are reserved for documentation (RFC 2606, RFC 6761)
// or are the stock "your domain" of templates.
var placeholderDomains = map[string]bool{
	"example.com": true, "example.net": true, "example.org": true, "domain.com": true,
	"email.com": true, "yourdomain.com": true, "mail.com": false, "test.com": true,
	"yoursite.com": true, "website.com": true, "company.com": true, "yourcompany.com": true,
}

// reservedTLDs are never real: RFC 2606 and RFC 6761 names.
var reservedTLDs = map[string]bool{"test": true, "example": true, "invalid": true, "localhost": true, "local": true}

// registrable returns the registrable domain of host (eTLD+1) when host
// ends in a public suffix managed by ICANN (or .onion), and "" otherwise.
func registrable(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || strings.Contains(host, "..") {
		return ""
	}
	labels := strings.Split(host, ".")
	tld := labels[len(labels)-1]
	if reservedTLDs[tld] {
		return ""
	}
	if tld == "onion" {
		if len(labels) >= 2 && len(labels[len(labels)-2]) == 56 {
			return labels[len(labels)-2] + ".onion"
		}
		return ""
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	if !icann || suffix == host {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	if label := d[:strings.IndexByte(d, '.')]; placeholderDomains[d] || strings.HasPrefix(label, "your") || label == "example" || label == "domain" {
		return ""
	}
	return d
}

func findEmails(text string) []candidate {
	var out []candidate
	for _, loc := range reEmail.FindAllStringIndex(text, -1) {
		raw := text[loc[0]:loc[1]]
		// Find the "at" separator after the local part.
		i := strings.IndexFunc(raw, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._%+-", r))
		})
		if i <= 0 {
			continue
		}
		local := raw[:i]
		sep := reAtSep.FindString(raw[i:])
		if sep == "" {
			continue
		}
		// "order at shop.com" is prose: a bare word "at" counts only
		// with a spelt-out "dot" as well.
		if strings.EqualFold(strings.TrimSpace(sep), "at") && !strings.Contains(reDots.ReplaceAllStringFunc(raw[i+len(sep):], func(d string) string {
			if d == "." {
				return ""
			}
			return "\x00"
		}), "\x00") {
			continue
		}
		domain := reDots.ReplaceAllString(raw[i+len(sep):], ".")
		domain = strings.ToLower(domain)
		local = strings.ToLower(strings.TrimRight(local, "."))
		if isPlaceholderWord(local) || strings.Contains(local, "..") {
			continue
		}
		// A domain spelt with " dot " may run on into prose ("me dot com
		// dot"): cut at the longest prefix that is a real domain.
		host := domain
		if registrable(host) == "" {
			continue
		}
		kind := Email
		if isJabberHost(host) || labelBefore(text, loc[0], jabberLabels) {
			kind = Jabber
		}
		out = append(out, candidate{Match: Match{Kind: kind, Value: local + "@" + host, Raw: raw, Start: loc[0], End: loc[1]}, prio: prioEmail})
	}
	return out
}

// isJabberHost reports whether host is, by its name, an XMPP server.
func isJabberHost(host string) bool {
	for _, p := range []string{"jabber.", "xmpp.", "jabb3r.", "jabbim."} {
		if strings.HasPrefix(host, p) {
			return true
		}
	}
	return host == "jabber.ru" || host == "exploit.im" || host == "xmpp.jp" || host == "jabber.ccc.de" ||
		host == "404.city" || host == "thesecure.biz" || host == "jabber.de" || host == "xmpp.is"
}

var jabberLabels = []string{"jabber", "xmpp", "jid"}

// labelBefore reports whether one of labels ends within a few characters
// before position i (ignoring ':', spaces and similar).
func labelBefore(text string, i int, labels []string) bool {
	j := i
	for j > 0 && strings.ContainsRune(" \t:：-–=>/|(", rune(text[j-1])) {
		j--
	}
	before := strings.ToLower(text[max(0, j-12):j])
	for _, l := range labels {
		if strings.HasSuffix(before, l) {
			return true
		}
	}
	return false
}

// Phone candidates: an international prefix (+ or 00) followed by digits
// with the usual grouping characters.
var rePhone = regexp.MustCompile(`(?:\+|\b00)\s?\(?\d[\d\s().\-/]{5,22}\d`)

// parsePhone returns the E.164 form of s if libphonenumber finds it a
// valid number of its region.
func parsePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits < 8 || digits > 15 {
		return "", false
	}
	num, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if isPlaceholderNumber(e164) {
		return "", false
	}
	return e164, true
}

// isPlaceholderNumber rejects runs such as +1234567890 and +11111111111.
func isPlaceholderNumber(e164 string) bool {
	d := strings.TrimPrefix(e164, "+")
	if strings.Contains("12345678901234567890", d) || strings.Contains("98765432109876543210", d) {
		return true
	}
	body := d[len(d)-7:]
	return strings.Count(body, body[:1]) == len(body)
}

func findPhones(text string) []candidate {
	var out []candidate
	for _, loc := range rePhone.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		// Shrink from the right until the number parses, so that a price
		// or a second number that follows does not spoil it.
		for e > s {
			raw := text[s:e]
			if v, ok := parsePhone(raw); ok {
				if isWordBoundary(text, s, e) || s > 0 && text[s] == '+' {
					out = append(out, candidate{Match: Match{Kind: Phone, Value: v, Raw: raw, Start: s, End: e}, prio: prioPhone})
				}
				break
			}
			// Drop the last group.
			k := strings.LastIndexAny(raw[:len(raw)-1], " .-/()")
			if k <= 0 {
				break
			}
			e = s + k
			for e > s && strings.ContainsRune(" .-/()", rune(text[e-1])) {
				e--
			}
		}
	}
	return out
}

// reBareIntl is a number in international form without "+" or "00", as
// messengers show them ("44 7400 123456").
var reBareIntl = regexp.MustCompile(`^\d[\d \-]{8,20}\d`)

// Handle syntaxes.
var (
	reTelegramHandle = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{4,31}$`)
	reWickrHandle    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]{2,31}$`)
	reThreemaID      = regexp.MustCompile(`^[A-Za-z0-9*][A-Za-z0-9]{7}$`)
	reSessionID      = regexp.MustCompile(`^05[0-9a-fA-F]{64}$`)
	reWeChatID       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_\-]{5,19}$`)
	reSignalUsername = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{2,31}\.[0-9]{2,10}$`)
)

// label is a messenger name as sellers write it before a handle.
type label struct {
	kind  Kind
	names string // alternation for the regexp
}

var labels = []label{
	{Telegram, `telegram|telega|tg|tlgrm|телеграм|телеграмм|тг`},
	{WhatsApp, `whatsapp|whats\s?app|wa|wapp|what'?s\s?up`},
	{Signal, `signal`},
	{Wickr, `wickr\s?me|wickr`},
	{Threema, `threema`},
	{Session, `session\s?id|session`},
	{WeChat, `wechat|we\s?chat|weixin|微信|wx`},
	{Jabber, `jabber|xmpp|jid`},
	// Other networks: their handles are claimed so that they do not
	// become Telegram handles, and not reported.
	{"", `instagram|insta|ig|twitter|x\.com|snapchat|snap|tiktok|kik|discord|skype|reddit|facebook|fb`},
}

var reLabelled = func() *regexp.Regexp {
	var alts []string
	for _, l := range labels {
		alts = append(alts, l.names)
	}
	// label, separators, optional @, the handle (up to 66 chars for Session IDs;
	// JIDs and numbers allow more characters and are checked per kind).
	return regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])(` + strings.Join(alts, "|") + `)(?:\s*(?:id|name|user(?:name)?|handle|number|nr|no\.?))?(\s*[:：=\-–—>]+\s*|\s+)(@?)([+(]?[\p{L}\p{N}_.\-@]{2,80})`)
}()

var reLabelKind = func() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, l := range labels {
		out = append(out, regexp.MustCompile(`(?i)^(?:`+l.names+`)$`))
	}
	return out
}()

func labelKind(name string) (Kind, bool) {
	name = strings.Join(strings.Fields(name), " ")
	for i, re := range reLabelKind {
		if re.MatchString(name) {
			return labels[i].kind, true
		}
	}
	return "", false
}

// findLabelled finds handles written after a messenger's name:
// "TG: @iso_king", "Wickr - isoking", "Threema ABCD1234".
func findLabelled(text string) []candidate {
	var out []candidate
	for _, m := range reLabelled.FindAllStringSubmatchIndex(text, -1) {
		kind, ok := labelKind(text[m[2]:m[3]])
		if !ok {
			continue
		}
		hs, he := m[8], m[9]
		rawHandle := text[hs:he]
		start := m[2]
		c, ok := labelledHandle(kind, text, start, hs, rawHandle)
		if !ok {
			continue
		}
		// "telegram before ordering": with only a space after the label
		// and no "@", the handle must look like one (a digit or "_").
		if strings.TrimSpace(text[m[4]:m[5]]) == "" && m[6] == m[7] && !c.mask &&
			!strings.ContainsAny(c.Value, "0123456789_.@+") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// labelledHandle reads the handle of kind at text[hs:] (rawHandle is a
// generous run of handle characters) and returns it as a candidate whose
// span starts at the label.
func labelledHandle(kind Kind, text string, start, hs int, rawHandle string) (candidate, bool) {
	mk := func(k Kind, v string, end int) (candidate, bool) {
		c := candidate{Match: Match{Kind: k, Value: v, Raw: text[start:end], Start: start, End: end}, prio: prioLabelled}
		if k == "" {
			c.mask = true
		}
		return c, true
	}
	// A phone number after WhatsApp, Signal or Telegram.
	if kind == WhatsApp || kind == Signal || kind == Telegram {
		rest := text[hs:min(len(text), hs+40)]
		// "WhatsApp: 447400123456": a number in international form
		// without its "+", which these apps show.
		if kind != Telegram {
			if m := reBareIntl.FindString(rest); m != "" {
				d := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, m)
				if len(d) >= 10 && len(d) <= 15 {
					if v, ok := parsePhone("+" + d); ok {
						return mk(kind, v, hs+len(m))
					}
				}
			}
		}
		if loc := rePhone.FindStringIndex(rest); loc != nil && loc[0] == 0 {
			for _, pc := range findPhones(rest) {
				if pc.Start == 0 {
					k := kind
					if k == Telegram {
						k = Phone
					}
					return mk(k, pc.Value, hs+pc.End)
				}
			}
			return candidate{}, false
		}
	}
	// The handle is the first token.
	tok := rawHandle
	if i := strings.IndexAny(tok, " ()+"); i >= 0 {
		tok = tok[:i]
	}
	tok = strings.TrimLeft(tok, "@")
	tok = strings.TrimRight(tok, ".-_")
	if tok == "" {
		return candidate{}, false
	}
	end := hs + strings.Index(rawHandle, tok) + len(tok)
	switch kind {
	case "":
		if tok2 := strings.TrimRight(tok, "@"); reWickrHandle.MatchString(tok2) {
			return mk("", "", end)
		}
	case Telegram:
		if reTelegramHandle.MatchString(tok) && !isPlaceholderWord(tok) {
			return mk(Telegram, strings.ToLower(tok), end)
		}
	case Wickr:
		if reWickrHandle.MatchString(tok) && !isPlaceholderWord(tok) {
			return mk(Wickr, strings.ToLower(tok), end)
		}
	case Threema:
		if reThreemaID.MatchString(tok) && !isPlaceholderWord(tok) && !isAllDigitsOrLetters(tok) {
			return mk(Threema, strings.ToLower(tok), end)
		}
	case Session:
		if reSessionID.MatchString(tok) {
			return mk(Session, strings.ToLower(tok), end)
		}
	case WeChat:
		if reWeChatID.MatchString(tok) && !isPlaceholderWord(tok) {
			return mk(WeChat, strings.ToLower(tok), end)
		}
	case Signal:
		if reSignalUsername.MatchString(tok) && !isPlaceholderWord(strings.Split(tok, ".")[0]) {
			return mk(Signal, strings.ToLower(tok), end)
		}
	case Jabber:
		// A JID: local@domain (the e-mail finder handles obfuscations).
		if at := strings.IndexByte(tok, '@'); at > 0 {
			local, host := strings.ToLower(tok[:at]), strings.ToLower(tok[at+1:])
			if registrable(host) != "" && !isPlaceholderWord(local) {
				return mk(Jabber, local+"@"+host, end)
			}
		}
	}
	return candidate{}, false
}

// isAllDigitsOrLetters reports whether an 8-character ID is only digits
// (a date or number, not a Threema ID) — real IDs mix both in practice.
func isAllDigitsOrLetters(s string) bool {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return digits == len(s)
}

// Messenger links.
var reMessengerURL = regexp.MustCompile(`(?i)(?:https?://)?(?:www\.)?(t\.me|telegram\.me|telegram\.dog|tg://resolve\?domain=|wa\.me|api\.whatsapp\.com/send/?\?phone=|signal\.me/#p/|threema\.id|wickr\.me)/?([+\w.\-/]{0,80})`)

// findMessengerURLs finds t.me/x, wa.me/N, signal.me/#p/+N and threema.id/X.
func findMessengerURLs(text string) []candidate {
	var out []candidate
	for _, m := range reMessengerURL.FindAllStringSubmatchIndex(text, -1) {
		s := m[0]
		if s > 0 && (isAlnumByte(text[s-1]) || text[s-1] == '.') {
			continue
		}
		host := strings.ToLower(text[m[2]:m[3]])
		path := text[m[4]:m[5]]
		end := m[5]
		add := func(k Kind, v string, e int) {
			out = append(out, candidate{Match: Match{Kind: k, Value: v, Raw: text[s:e], Start: s, End: e}, prio: prioMessenger})
		}
		switch {
		case host == "t.me" || host == "telegram.me" || host == "telegram.dog" || strings.HasPrefix(host, "tg://"):
			p := strings.TrimPrefix(path, "s/")
			name, _, _ := strings.Cut(p, "/")
			if strings.HasPrefix(name, "+") || strings.EqualFold(name, "joinchat") || name == "" {
				continue // invite links name no account
			}
			name = strings.TrimRight(name, ".-")
			if reTelegramHandle.MatchString(name) && !isPlaceholderWord(name) {
				add(Telegram, strings.ToLower(name), m[4]+strings.Index(path, name)+len(name))
			}
		case host == "wa.me" || strings.HasPrefix(host, "api.whatsapp.com"):
			digits := leadingDigits(strings.TrimPrefix(path, "+"))
			if v, ok := parsePhone("+" + digits); ok {
				add(WhatsApp, v, m[4]+strings.Index(path, digits)+len(digits))
			}
		case strings.HasPrefix(host, "signal.me"):
			p := strings.TrimPrefix(path, "+")
			digits := leadingDigits(p)
			if v, ok := parsePhone("+" + digits); ok {
				add(Signal, v, m[4]+strings.Index(path, digits)+len(digits))
			}
		case host == "threema.id":
			id, _, _ := strings.Cut(path, "?")
			if len(id) >= 8 && reThreemaID.MatchString(id[:8]) {
				add(Threema, strings.ToLower(id[:8]), m[4]+8)
			}
		case host == "wickr.me":
			name, _, _ := strings.Cut(path, "/")
			if reWickrHandle.MatchString(name) && !isPlaceholderWord(name) {
				add(Wickr, strings.ToLower(name), m[4]+len(name))
			}
		}
		_ = end
	}
	return out
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func isAlnumByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// Bare "@handle": read as a Telegram handle, the common meaning on the
// marketplaces snoop sweeps.
var reAtHandle = regexp.MustCompile(`(?:@|＠)([a-zA-Z][a-zA-Z0-9_]{4,31})`)

func findAtHandles(text string) []candidate {
	var out []candidate
	for _, m := range reAtHandle.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[0], m[1]
		if s > 0 && (isAlnumByte(text[s-1]) || text[s-1] == '.') {
			continue // the middle of an e-mail address
		}
		if e < len(text) && (isAlnumByte(text[e]) || text[e] == '@') {
			continue
		}
		if e < len(text)-1 && text[e] == '.' && isAlnumByte(text[e+1]) {
			continue // "@host.tld"
		}
		name := text[m[2]:m[3]]
		if isPlaceholderWord(name) || strings.HasSuffix(name, "_") {
			continue
		}
		out = append(out, candidate{Match: Match{Kind: Telegram, Value: strings.ToLower(name), Raw: text[s:e], Start: s, End: e}, prio: prioAtHandle})
	}
	return out
}

// Websites: URLs, and bare host names ending in a public suffix.
var (
	reURL      = regexp.MustCompile(`(?i)\bhttps?://[^\s"'<>()\[\]{}]+`)
	reBareHost = regexp.MustCompile(`(?i)\b(?:www\.)?[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b`)
)

// notWebsites are registrable domains that are not a seller's own site:
// messengers, and platforms that serve everyone (image and file hosts,
// link shorteners, social networks, mail providers, exchanges and block
// explorers that listings point to for "how to pay").
var notWebsites = map[string]bool{
	"imgur.com": true, "ibb.co": true, "postimg.cc": true, "postimages.org": true, "youtube.com": true, "youtu.be": true,
	"google.com": true, "goo.gl": true, "bit.ly": true, "tinyurl.com": true, "facebook.com": true, "instagram.com": true,
	"twitter.com": true, "x.com": true, "reddit.com": true, "github.com": true, "wikipedia.org": true, "bitcoin.org": true,
	"blockchain.com": true, "blockchair.com": true, "blockstream.info": true, "etherscan.io": true, "tronscan.org": true,
	"localbitcoins.com": true, "coinbase.com": true, "binance.com": true, "kraken.com": true, "getmonero.org": true,
	"proton.me": true, "protonmail.com": true, "gmail.com": true, "tutanota.com": true, "outlook.com": true,
	"dropbox.com": true, "mega.nz": true, "discord.gg": true, "discord.com": true, "torproject.org": true, "w3.org": true,
	"schema.org": true, "ogp.me": true, "cloudflare.com": true, "jquery.com": true, "googleapis.com": true,
	"gstatic.com": true, "wordpress.org": true, "woocommerce.com": true, "shopify.com": true, "paypal.com": true,
	"t.me": true, "telegram.me": true, "telegram.org": true, "telegram.dog": true, "wa.me": true,
	"whatsapp.com": true, "signal.me": true, "signal.org": true, "threema.id": true, "threema.ch": true,
	"wickr.me": true, "wickr.com": true, "getsession.org": true, "wechat.com": true,
}

// fileExtensions are TLDs that are more often a file name's extension.
var fileExtensions = map[string]bool{"zip": true, "mov": true, "png": false, "pdf": false, "exe": false, "sh": true, "py": true, "md": true, "rs": true, "pl": true}

func findWebsites(text string, own []string) []candidate {
	var out []candidate
	ownSet := map[string]bool{}
	for _, d := range own {
		ownSet[strings.ToLower(d)] = true
	}
	add := func(host string, s, e int) {
		d := registrable(host)
		if d == "" || notWebsites[d] || ownSet[d] {
			return
		}
		tld := d[strings.LastIndexByte(d, '.')+1:]
		if fileExtensions[tld] {
			return
		}
		out = append(out, candidate{Match: Match{Kind: Website, Value: d, Raw: text[s:e], Start: s, End: e}, prio: prioWebsite})
	}
	covered := make([]bool, len(text))
	for _, loc := range reURL.FindAllStringIndex(text, -1) {
		raw := strings.TrimRight(text[loc[0]:loc[1]], ".,;:!?")
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		for i := loc[0]; i < loc[1]; i++ {
			covered[i] = true
		}
		add(u.Hostname(), loc[0], loc[0]+len(raw))
	}
	for _, loc := range reBareHost.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if covered[s] {
			continue
		}
		if s > 0 && (text[s-1] == '@' || text[s-1] == '.' || text[s-1] == '/' || text[s-1] == '-') {
			continue // part of an e-mail address or path
		}
		host := text[s:e]
		// A bare host needs a letter in its first label and lower or
		// consistent case ("Mr.Smith" is not a host).
		if strings.ToLower(host) != host && strings.ToUpper(host) != host {
			continue
		}
		add(host, s, e)
	}
	return out
}
