// Package vendortest builds a world for tests of vendor linking: several
// marketplaces whose sellers reappear across them under other names and
// other spellings of their identifiers, with the traps real sites hold
// (site-wide support contacts, escrow addresses, footer e-mails,
// placeholders, addresses failing their checksum, one name used by two
// sellers on different sites, generic names). It stores the world's pages
// and listings in a real snoop database and keeps the ground truth.
package vendortest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/crypto/sha3"

	"snoop/identify"
	"snoop/store"
)

// Truth is what the world really is.
type Truth struct {
	// Seller of each listing URL (a seller number).
	Seller map[string]int
	// Market of each listing URL.
	Market map[string]string
	// Identifiers really present on each listing's page (kind:value link
	// keys as identify.LinkKey gives them), placeholders and bad checksums
	// excluded.
	Identifiers map[string]map[string]bool
	// Traps are the link keys of identifiers that must link nothing:
	// site-wide contacts and escrow addresses.
	Traps map[string]bool
	// BadStrings are planted strings that must never be extracted
	// (placeholders, bad checksums), shared by several sellers.
	BadStrings []string
	// NameCollisions are seller-name pairs used by two different sellers
	// on different marketplaces.
	NameCollisions []string
}

// identity is a seller's set of identifiers.
type identity struct {
	telegram, email, emailLocal, emailDomain string
	phoneE164                                string
	phoneNum                                 *phonenumbers.PhoneNumber
	btc, btcBech, xmr, eth, trx              string
	pgpBlock, pgpFP                          string
	wickr, threema, website                  string
}

type market struct {
	name, domain string
	support      string // support e-mail (footer)
	supportTG    string // site Telegram (footer)
	escrow       string // escrow BTC address shown on many listings
	forumLink    string // a link in the page chrome to an outside forum
}

// Build stores the world in db and returns its truth. seed fixes every
// random choice, so a seed gives the same world each time.
func Build(ctx context.Context, db *store.DB, seed uint64, now time.Time) (Truth, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := Truth{Seller: map[string]int{}, Market: map[string]string{}, Identifiers: map[string]map[string]bool{}, Traps: map[string]bool{}}

	markets := []market{
		{name: "darkbazaar", domain: "darkbazaar.shop", forumLink: "https://dread-forum.net/d/darkbazaar"},
		{name: "chemb2b", domain: "chem-b2b-trade.com", forumLink: "https://chemtrade-forum.org/"},
		{name: "pillboard", domain: "pillboard.co.uk", forumLink: "https://pillboard-community.net/board"},
		{name: "opiummarket", domain: "opium-mkt.to", forumLink: "https://dread-forum.net/d/opium"},
		{name: "tinyshop", domain: "tiny-rc-shop.net"},
	}
	for i := range markets {
		m := &markets[i]
		m.support = "support@" + m.domain
		m.supportTG = strings.ReplaceAll(m.name, "-", "") + "_help"
		m.escrow = identify.Base58CheckEncode(append([]byte{0x05}, randBytes(r, 20)...))
		t.Traps[identify.LinkKey(identify.Email, m.support)] = true
		t.Traps[identify.LinkKey(identify.Telegram, m.supportTG)] = true
		t.Traps[identify.LinkKey(identify.BTC, m.escrow)] = true
	}

	// Placeholders and bad checksums, planted on many sellers' listings.
	goodBTC := identify.Base58CheckEncode(append([]byte{0x00}, randBytes(r, 20)...))
	badBTC := goodBTC[:10] + string(flipChar(goodBTC[10])) + goodBTC[11:]
	goodETH := "0x" + identify.EIP55(hex.EncodeToString(randBytes(r, 20)))
	badETH := swapCase(goodETH)
	t.BadStrings = []string{"you@example.com", "@username", "+1234567890", "0x0000000000000000000000000000000000000000",
		badBTC, badETH, "t.me/username", "name [at] domain [dot] com"}

	const nSellers = 26
	ids := make([]identity, nSellers)
	for i := range ids {
		var err error
		if ids[i], err = newIdentity(r, i, now); err != nil {
			return t, err
		}
	}

	sweepID, err := db.BeginSweep(ctx, marketNames(markets), "sha256:world", now)
	if err != nil {
		return t, err
	}
	seq := 0
	at := now
	save := func(m market, seller int, name, title, desc, price string, extras []string, plant map[string]bool) error {
		seq++
		at = at.Add(time.Minute)
		url := fmt.Sprintf("https://%s/item/%d", m.domain, 1000+seq)
		body := page(m, title, desc, name, price, extras)
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		rec := store.ListingRecord{URL: url, Title: title, Description: desc, Price: price, Vendor: name, Text: title + "\n" + desc}
		if r.IntN(4) != 0 {
			rec.Hit = &store.HitRecord{Score: 0.9, RuleVersion: "sha256:world",
				Substances: []store.Substance{{Name: pick(r, []string{"fentanyl", "isotonitazene", "protonitazene", "carfentanil"}), Class: "nitazene"}}}
		}
		_, err := db.SavePage(ctx, store.PageRecord{SweepID: sweepID, Market: m.name, URL: url, Status: 200, FetchedAt: at,
			Evidence: store.Evidence{URL: url, Method: "GET", Status: 200, FetchedAt: at,
				RequestBytes: []byte("GET " + url + " HTTP/1.1\r\nHost: " + m.domain + "\r\n\r\n"), ResponseBytes: []byte(resp)}},
			[]store.ListingRecord{rec})
		if err != nil {
			return err
		}
		t.Seller[url] = seller
		t.Market[url] = m.name
		truth := map[string]bool{}
		for k := range plant {
			truth[k] = true
		}
		truth[identify.LinkKey(identify.Email, m.support)] = true
		truth[identify.LinkKey(identify.Telegram, m.supportTG)] = true
		if m.forumLink != "" {
			d := m.forumLink[strings.Index(m.forumLink, "//")+2:]
			d = d[:strings.IndexByte(d, '/')]
			truth[identify.LinkKey(identify.Website, d)] = true
		}
		for _, e := range extras {
			if strings.Contains(e, m.escrow) {
				truth[identify.LinkKey(identify.BTC, m.escrow)] = true
			}
		}
		t.Identifiers[url] = truth
		return nil
	}

	// Which marketplaces each seller works, and under which names.
	collision := "NitroKing"
	collisionMarket, collided := "", false
	t.NameCollisions = []string{collision}
	for s := range nSellers {
		id := ids[s]
		nm := 1 + r.IntN(3)
		if s < 4 {
			nm = 3 // some big sellers everywhere
		}
		perm := r.Perm(4) // the tiny shop is for sellers 24 and 25 only
		var ms []market
		for _, i := range perm[:nm] {
			ms = append(ms, markets[i])
		}
		if s >= 24 {
			ms = []market{markets[4]}
		}
		base := sellerName(s)
		// Identifier keys this seller shows on every marketplace: one
		// anchor, so that cross-marketplace links have evidence; which one
		// changes between marketplaces for some sellers (a chain).
		for mi, m := range ms {
			name := spellName(r, base, mi)
			// Two different sellers named alike on different marketplaces.
			if s == 5 && mi == 0 {
				name = collision
				collisionMarket = m.name
			}
			if s == 9 && m.name != collisionMarket && !collided {
				name = collision
				collided = true
			}
			if m.name == "pillboard" && s%5 == 0 {
				name = "" // classifieds without a seller name
			}
			n := 1 + r.IntN(4)
			if name == "" {
				n = 1
			}
			if s >= 24 {
				n = 2
			}
			var vendorPlant map[string]bool
			for li := range n {
				var parts []string
				plant := map[string]bool{}
				show := func(kind identify.Kind, value, text string) {
					parts = append(parts, text)
					plant[identify.LinkKey(kind, value)] = true
				}
				// The anchor: the first listing on each marketplace (and
				// every unnamed listing) carries identifiers.
				carry := li == 0 || name == "" || r.IntN(2) == 0
				if m.name == "opiummarket" {
					// This site shows contacts on the seller's own page
					// only, which every listing links to.
					carry = false
					if li == 0 {
						vp, err := sellerPage(ctx, db, sweepID, m, name, at, func(show func(identify.Kind, string, string)) {
							showAnchors(r, id, anchorSet(s, mi), show)
						})
						if err != nil {
							return t, err
						}
						vendorPlant = vp
					}
					for k := range vendorPlant {
						plant[k] = true
					}
				}
				if carry {
					anchors := anchorSet(s, mi)
					for _, a := range anchors {
						switch a {
						case "telegram":
							show(identify.Telegram, id.telegram, spellTelegram(r, id.telegram))
						case "email":
							show(identify.Email, id.email, spellEmail(r, id.emailLocal, id.emailDomain))
						case "phone":
							k, text := spellPhone(r, id.phoneNum)
							show(k, id.phoneE164, text)
						case "btc":
							show(identify.BTC, id.btc, "BTC: "+id.btc)
							if r.IntN(2) == 0 {
								show(identify.BTC, id.btcBech, "or segwit "+pickCase(r, id.btcBech))
							}
						case "xmr":
							show(identify.XMR, id.xmr, "XMR "+id.xmr)
						case "pgp":
							show(identify.PGP, id.pgpFP, "My PGP key:\n"+id.pgpBlock)
						case "wickr":
							show(identify.Wickr, id.wickr, "Wickr: "+id.wickr)
						case "threema":
							show(identify.Threema, strings.ToLower(id.threema), "Threema ID "+id.threema)
						case "website":
							show(identify.Website, id.website, "shop: https://www."+id.website+"/catalog")
						case "eth":
							show(identify.ETH, strings.ToLower(id.eth), "ETH/USDT-ERC20 "+id.eth)
						case "trx":
							show(identify.TRX, id.trx, "USDT TRC20: "+id.trx)
						}
					}
				}
				// Noise that must not match.
				if r.IntN(2) == 0 {
					parts = append(parts, pick(r, t.BadStrings))
				}
				parts = append(parts, pick(r, []string{
					"CAS 14188-81-9, purity 99.8%, batch 2024-11-A7F3.",
					"Lot: FNT-20241102-0098. Ships in 24h.",
					"CAS No. 79-01-6. Product code NZ-7731-X.",
					"Stealth shipping worldwide, tracking 1Z999AA10123456784.",
					"Photos: https://imgur.com/a/Xk29fQp - new to crypto? https://bitcoin.org/en/buy",
					"Price list 2024.11 v2, purity 99.8%.Fast shipping.",
				}))
				title := pick(r, []string{"Isotonitazene powder", "Fentanyl HCl 99%", "Protonitazene 10g", "N-desethyl isotonitazene",
					"Carfentanil research chemical", "M30 pressed pills", "Metonitazene crystal"}) + fmt.Sprintf(" #%d", li+1)
				price := fmt.Sprintf("$%d", 100+r.IntN(900))
				var extras []string
				if m.name != "tinyshop" && r.IntN(2) == 0 {
					extras = append(extras, "Always pay through escrow: "+m.escrow)
				}
				if err := save(m, s, name, title, strings.Join(parts, "\n"), price, extras, plant); err != nil {
					return t, err
				}
			}
		}
	}
	if err := db.FinishSweep(ctx, sweepID, store.SweepCompleted, map[string]any{"world": seed}, at); err != nil {
		return t, err
	}
	return t, nil
}

// anchorSet is the identifiers seller s shows on its mi-th marketplace.
// Most sellers show the same contact everywhere; some move from one
// identifier to another between sites (a chain: A and B share a Telegram
// handle, B and C an e-mail address).
func anchorSet(s, mi int) []string {
	sets := [][]string{
		{"telegram", "btc"}, {"email", "phone"}, {"pgp", "xmr"}, {"wickr", "eth"},
		{"threema", "telegram"}, {"website", "email"}, {"phone", "trx"}, {"telegram"}, {"email"},
	}
	switch s % 4 {
	case 0: // a chain
		return [][]string{{"telegram", "btc"}, {"btc", "email"}, {"email", "pgp"}}[mi%3]
	default:
		return sets[(s+mi*0)%len(sets)]
	}
}

func marketNames(ms []market) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.name)
	}
	return out
}

// page renders a listing page: navigation, the listing, and a footer with
// the site's own contacts.
func page(m market, title, desc, name, price string, extras []string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title><script>var cfg={api:'https://cdn.tracker-stats.com/x.js',help:'" + m.support + "'};</script></head><body>\n")
	b.WriteString(`<nav><a href="https://` + m.domain + `/">Home</a> <a href="/vendors">Vendors</a>`)
	if m.forumLink != "" {
		b.WriteString(` <a href="` + m.forumLink + `">Forum</a>`)
	}
	b.WriteString("</nav>\n<main><h1>" + html.EscapeString(title) + "</h1>\n")
	if name != "" {
		b.WriteString(`<div class="vendor">Sold by <a href="/vendor/` + html.EscapeString(strings.ToLower(name)) + `">` + html.EscapeString(name) + "</a></div>\n")
	}
	b.WriteString(`<div class="price">` + html.EscapeString(price) + "</div>\n")
	b.WriteString(`<div class="description">`)
	for line := range strings.SplitSeq(desc, "\n") {
		b.WriteString(html.EscapeString(line))
		b.WriteString("<br>\n")
	}
	b.WriteString("</div>\n")
	for _, e := range extras {
		b.WriteString(`<p class="notice">` + html.EscapeString(e) + "</p>\n")
	}
	b.WriteString("</main>\n<footer>Questions? Mail " + m.support + " or Telegram @" + m.supportTG +
		". Never deal outside the market. Template: contact you@example.com, @username.</footer>\n</body></html>\n")
	return b.String()
}

func newIdentity(r *rand.Rand, i int, now time.Time) (identity, error) {
	var id identity
	base := strings.ToLower(sellerName(i))
	id.telegram = fmt.Sprintf("%s_%02d", base, r.IntN(100))
	id.emailLocal = fmt.Sprintf("%s.%d", base, r.IntN(1000))
	id.emailDomain = pick(r, []string{"proton.me", "protonmail.com", "tutanota.com", "gmail.com", "cock.li", "onionmail.org"})
	id.email = id.emailLocal + "@" + id.emailDomain
	region := pick(r, []string{"GB", "NL", "DE", "CN", "IN", "CA", "US", "FR"})
	for {
		ex := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
		n := &phonenumbers.PhoneNumber{CountryCode: ex.CountryCode, ItalianLeadingZero: ex.ItalianLeadingZero,
			NationalNumber: proto64(ex.GetNationalNumber() + uint64(r.IntN(9000)) + 1)}
		if phonenumbers.IsValidNumber(n) {
			id.phoneNum = n
			id.phoneE164 = phonenumbers.Format(n, phonenumbers.E164)
			break
		}
	}
	id.btc = identify.Base58CheckEncode(append([]byte{0x00}, randBytes(r, 20)...))
	id.btcBech = identify.SegwitEncode("bc", 0, randBytes(r, 20))
	body := append([]byte{18}, randBytes(r, 64)...)
	id.xmr = identify.MoneroEncode(append(body, keccak4(body)...))
	id.eth = "0x" + identify.EIP55(hex.EncodeToString(randBytes(r, 20)))
	id.trx = identify.Base58CheckEncode(append([]byte{0x41}, randBytes(r, 20)...))
	id.wickr = fmt.Sprintf("%s%d", base, 10+r.IntN(90))
	id.threema = fmt.Sprintf("%c%c%d%c%d%c%c%d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(10), 'A'+r.IntN(26), r.IntN(10), 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(10))
	id.website = base + "-labs." + pick(r, []string{"com", "net", "co.uk", "com.au", "io"})
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Rand: &randReader{r}, Time: func() time.Time { return now }}
	e, err := openpgp.NewEntity(base, "", id.email, cfg)
	if err != nil {
		return id, err
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return id, err
	}
	if err := e.Serialize(w); err != nil {
		return id, err
	}
	w.Close()
	id.pgpBlock = buf.String()
	id.pgpFP = strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
	return id, nil
}

func proto64(v uint64) *uint64 { return &v }

type randReader struct{ r *rand.Rand }

func (rr *randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rr.r.UintN(256))
	}
	return len(p), nil
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	(&randReader{r}).Read(b)
	return b
}

func keccak4(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)[:4]
}

var names = []string{"IsoKing", "NitroLab", "ChemWolf", "BluePill", "FentaBoss", "OpiPharm", "CrystalRx", "NordChem",
	"SilkPharma", "ZetaLabs", "GhostChem", "RapidRC", "AlphaNitaz", "DragonBio", "PureSynth", "FrostLab",
	"EagleChem", "MoonRx", "TitanPharm", "OmegaRC", "VenomLab", "SkyChem", "RedDragon", "HighGrade", "TinyOne", "TinyTwo"}

func sellerName(i int) string { return names[i%len(names)] }

// spellName is how a seller calls itself on its mi-th marketplace.
func spellName(r *rand.Rand, base string, mi int) string {
	switch (mi + r.IntN(2)) % 4 {
	case 0:
		return base
	case 1:
		return strings.ToLower(base) + "_official"
	case 2:
		return "The" + base
	}
	return strings.ToUpper(base[:1]) + strings.ToLower(base[1:]) + fmt.Sprint(r.IntN(100))
}

func spellTelegram(r *rand.Rand, h string) string {
	mixed := strings.ToUpper(h[:1]) + h[1:]
	switch r.IntN(5) {
	case 0:
		return "Telegram: @" + mixed
	case 1:
		return "t.me/" + h
	case 2:
		return "TG: " + h
	case 3:
		return "write me on https://t.me/" + mixed
	}
	return "DM @" + h + " for wholesale"
}

func spellEmail(r *rand.Rand, local, domain string) string {
	dl := strings.Replace(domain, ".", " [dot] ", 1)
	switch r.IntN(5) {
	case 0:
		return "Email: " + local + "@" + domain
	case 1:
		return "mail " + local + " [at] " + dl
	case 2:
		return strings.ToUpper(local + "@" + domain)
	case 3:
		return local + "(at)" + strings.Replace(domain, ".", "(dot)", 1)
	}
	return "contact: " + local + " at " + strings.Replace(domain, ".", " dot ", 1)
}

func spellPhone(r *rand.Rand, n *phonenumbers.PhoneNumber) (identify.Kind, string) {
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	switch r.IntN(4) {
	case 0:
		return identify.WhatsApp, "WhatsApp: " + phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	case 1:
		return identify.WhatsApp, "https://wa.me/" + strings.TrimPrefix(e164, "+")
	case 2:
		return identify.Phone, "call/text " + "00" + strings.TrimPrefix(e164, "+")
	}
	return identify.Phone, "phone " + phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickCase(r *rand.Rand, s string) string {
	if r.IntN(2) == 0 {
		return strings.ToUpper(s)
	}
	return s
}

func flipChar(c byte) byte {
	if c == 'z' || c == 'Z' || c == '9' {
		return c - 1
	}
	if c == 'k' || c == 'H' || c == 'N' {
		return c + 2
	}
	return c + 1
}

func swapCase(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i > 2; i-- {
		c := b[i]
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
			return string(b)
		}
		if c >= 'A' && c <= 'F' {
			b[i] = c + 32
			return string(b)
		}
	}
	return s
}

// showAnchors shows the identifiers named by anchors, in random spellings.
func showAnchors(r *rand.Rand, id identity, anchors []string, show func(identify.Kind, string, string)) {
	for _, a := range anchors {
		switch a {
		case "telegram":
			show(identify.Telegram, id.telegram, spellTelegram(r, id.telegram))
		case "email":
			show(identify.Email, id.email, spellEmail(r, id.emailLocal, id.emailDomain))
		case "phone":
			k, text := spellPhone(r, id.phoneNum)
			show(k, id.phoneE164, text)
		case "btc":
			show(identify.BTC, id.btc, "BTC: "+id.btc)
		case "xmr":
			show(identify.XMR, id.xmr, "XMR "+id.xmr)
		case "pgp":
			show(identify.PGP, id.pgpFP, "My PGP key:\n"+id.pgpBlock)
		case "wickr":
			show(identify.Wickr, id.wickr, "Wickr: "+id.wickr)
		case "threema":
			show(identify.Threema, strings.ToLower(id.threema), "Threema ID "+id.threema)
		case "website":
			show(identify.Website, id.website, "shop: https://www."+id.website+"/catalog")
		case "eth":
			show(identify.ETH, strings.ToLower(id.eth), "ETH/USDT-ERC20 "+id.eth)
		case "trx":
			show(identify.TRX, id.trx, "USDT TRC20: "+id.trx)
		}
	}
}

// sellerPage stores a seller's profile page (not a listing) on m, with
// the contacts fill shows, and returns their link keys.
func sellerPage(ctx context.Context, db *store.DB, sweepID int64, m market, name string, at time.Time, fill func(show func(identify.Kind, string, string))) (map[string]bool, error) {
	plant := map[string]bool{}
	var parts []string
	fill(func(k identify.Kind, v, text string) {
		parts = append(parts, text)
		plant[identify.LinkKey(k, v)] = true
	})
	url := "https://" + m.domain + "/vendor/" + strings.ToLower(name)
	body := page(m, "Vendor profile: "+name, "About me\n"+strings.Join(parts, "\n"), "", "", nil)
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_, err := db.SavePage(ctx, store.PageRecord{SweepID: sweepID, Market: m.name, URL: url, Status: 200, FetchedAt: at,
		Evidence: store.Evidence{URL: url, Method: "GET", Status: 200, FetchedAt: at,
			RequestBytes: []byte("GET " + url + " HTTP/1.1\r\nHost: " + m.domain + "\r\n\r\n"), ResponseBytes: []byte(resp)}}, nil)
	return plant, err
}
