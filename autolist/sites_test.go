package autolist_test

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"snoop/crawler"
)

// This file generates the labelled test set: shops, forums, a B2B chemical
// marketplace, a channel preview and template-less sites, each in the
// markup of its platform (testdata/sites/*.html), with every listing's
// expected URL, title, price and vendor. Pages that must never be listings
// (category, search, about, FAQ, shipping, cart, login, blog) are linked from
// every page.

// offer is one generated product or ad.
type offer struct {
	ID                       int
	Slug, Title, Desc        string
	Amount, Currency         string // expected
	PriceShown, OldPrice     string // as the page shows it
	Vendor, VendorSlug, CAS  string
	Link, Canonical, AltLink string // Link: what lists link to
}

// post is one generated forum post or channel message.
type post struct {
	ID                 int
	Author, Subject    string
	Body               string
	Amount, Currency   string
	Position, ThreadID int
}

// thread is one generated forum thread.
type thread struct {
	ID          int
	Slug, Title string
	Posts       []post
	Link        string
}

// expected is one labelled listing.
type expected struct {
	URL, Title, Amount, Currency, Vendor string
}

// page is one route of a generated site.
type page struct {
	tmpl string
	data map[string]any
}

// site is a generated marketplace.
type site struct {
	name, platform, kind, template string
	start                          []string
	pages                          map[string]page // by canonical request URI
	want                           []expected      // URLs relative to the server, or absolute
	negatives                      []string        // URIs of pages that hold no listing
	tmpl                           *template.Template
}

var substances = []string{"Isotonitazene", "Protonitazene", "Metonitazene", "Fentanyl citrate", "Carfentanil", "Acetylfentanyl",
	"Furanylfentanyl", "Etonitazepyne", "Butonitazene", "4-ANPP", "N-Phenethyl-4-piperidone", "Brorphine", "Ocfentanil", "Naloxone nasal spray"}
var forms = []string{"powder", "HCl", "crystal", "pellets", "nasal spray", "tablets 10mg", "research sample", "bulk"}
var sizes = []string{"1g", "5g", "10g", "25g", "100g", "500mg", "1kg"}
var vendors = []string{"ChemKing", "nitro_lab", "Pure Research Co", "Dragon Pharma", "AlphaSynth", "QuickChem Ltd", "opiumlord", "BlueSky Labs"}

// priceFormats render an amount in a currency as shops do.
func showPrice(rng *rand.Rand, cur string) (amount, shown string) {
	whole := 10 + rng.IntN(2400)
	cents := rng.IntN(100)
	switch cur {
	case "USD":
		amount = fmt.Sprintf("%d.%02d", whole, cents)
		return amount, "$" + thousands(whole, ",") + fmt.Sprintf(".%02d", cents)
	case "EUR":
		amount = fmt.Sprintf("%d.%02d", whole, cents)
		return amount, thousands(whole, ".") + fmt.Sprintf(",%02d", cents) + "\u00a0€"
	case "GBP":
		amount = fmt.Sprintf("%d.%02d", whole, cents)
		return amount, "£" + thousands(whole, ",") + fmt.Sprintf(".%02d", cents)
	case "BTC":
		amount = fmt.Sprintf("0.%04d", 10+rng.IntN(9000))
		return amount, amount + " BTC"
	}
	amount = fmt.Sprintf("%d.00", whole)
	return amount, cur + " " + thousands(whole, ",") + ".00"
}

func thousands(n int, sep string) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	return s[:len(s)-3] + sep + s[len(s)-3:]
}

func offers(rng *rand.Rand, n int, currencies []string) []offer {
	out := make([]offer, n)
	for i := range out {
		sub := substances[rng.IntN(len(substances))]
		title := fmt.Sprintf("%s %s %s", sub, forms[rng.IntN(len(forms))], sizes[rng.IntN(len(sizes))])
		cur := currencies[rng.IntN(len(currencies))]
		amount, shown := showPrice(rng, cur)
		v := vendors[rng.IntN(len(vendors))]
		out[i] = offer{
			ID: 100 + i*7 + rng.IntN(5), Title: title, Slug: slug(title) + fmt.Sprintf("-%d", i),
			Desc:   fmt.Sprintf("High purity %s, %s. Discreet worldwide shipping, stealth packaging, tracking included. Batch %d tested.", strings.ToLower(sub), sizes[rng.IntN(len(sizes))], 1000+rng.IntN(9000)),
			Amount: amount, Currency: cur, PriceShown: shown, Vendor: v, VendorSlug: slug(v),
			CAS: fmt.Sprintf("%d-%02d-%d", 10000+rng.IntN(90000), rng.IntN(100), rng.IntN(10)),
		}
		if rng.IntN(4) == 0 {
			_, out[i].OldPrice = showPrice(rng, cur)
		}
	}
	return out
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// key is the canonical request URI the server routes on.
func key(uri string) string {
	c, err := crawler.Canonicalize("http://h" + uri)
	if err != nil {
		return uri
	}
	u, _ := url.Parse(c)
	return u.RequestURI()
}

func (s *site) add(uri, tmpl string, data map[string]any) {
	if s.pages == nil {
		s.pages = map[string]page{}
	}
	switch tmpl {
	case "product", "thread", "ad", "channel":
	default:
		s.negatives = append(s.negatives, uri)
	}
	s.pages[key(uri)] = page{tmpl: tmpl, data: data}
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	p, ok := s.pages[key(r.URL.RequestURI())]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data := map[string]any{"Site": map[string]string{"Name": s.name}}
	for k, v := range p.data {
		data[k] = v
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.tmpl.ExecuteTemplate(w, p.tmpl, data); err != nil {
		http.Error(w, err.Error(), 500)
	}
}

func loadTemplates(tb testing.TB, platform string) *template.Template {
	tb.Helper()
	t, err := template.New(platform).Funcs(template.FuncMap{
		"add": func(a, b int) int { return a + b },
	}).ParseFiles(filepath.Join("testdata", "sites", platform+".html"))
	if err != nil {
		tb.Fatalf("templates %s: %v", platform, err)
	}
	return t
}

func productJSONLD(o offer, base, seller string) template.JS {
	m := map[string]any{
		"@context": "https://schema.org/", "@type": "Product", "name": o.Title, "description": o.Desc,
		"url": base + o.Canonical, "sku": fmt.Sprint(o.ID),
		"offers": []any{map[string]any{"@type": "Offer", "price": o.Amount, "priceCurrency": o.Currency,
			"availability": "http://schema.org/InStock", "url": base + o.Canonical,
			"seller": map[string]any{"@type": "Organization", "name": seller}}},
	}
	b, _ := json.Marshal(m)
	return template.JS(b)
}

// shopSpec describes how one shop platform lays out its URLs.
type shopSpec struct {
	platform                                  string
	product                                   func(o offer) string // canonical URI
	alt                                       func(o offer) string // another URI of the same product (a category path), or ""
	home, category, search, cart, login, blog string
	info                                      []string
	jsonld, vendorField                       bool
	currencies                                []string
}

// shopSite generates a shop; base is the server's URL, known once started.
func shopSite(tb testing.TB, seed uint64, name string, spec shopSpec, base string) *site {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &site{name: name, platform: spec.platform, tmpl: loadTemplates(tb, spec.platform), start: []string{base + spec.home}}
	items := offers(rng, 8, spec.currencies)
	for i := range items {
		o := &items[i]
		o.Canonical = spec.product(*o)
		o.Link = o.Canonical
		if spec.alt != nil {
			o.AltLink = spec.alt(*o)
		}
		if i%3 == 1 && o.AltLink != "" {
			o.Link = o.AltLink
		} else if i%3 == 2 {
			sep := "?"
			if strings.Contains(o.Link, "?") {
				sep = "&"
			}
			o.Link += sep + "utm_source=newsletter&utm_medium=email"
		}
		if !spec.vendorField {
			o.Vendor = ""
		}
	}
	for i, o := range items {
		seller := name
		if spec.vendorField {
			seller = o.Vendor
		}
		related := []offer{items[(i+1)%len(items)], items[(i+2)%len(items)], items[(i+3)%len(items)]}
		data := map[string]any{"Title": o.Title, "Item": o, "Related": related, "Canonical": base + o.Canonical, "Items": items}
		if spec.jsonld {
			data["JSONLD"] = productJSONLD(o, base, seller)
		}
		s.add(o.Canonical, "product", data)
		if o.AltLink != "" {
			s.add(o.AltLink, "product", data)
		}
		s.want = append(s.want, expected{URL: base + o.Canonical, Title: o.Title, Amount: o.Amount, Currency: o.Currency, Vendor: seller})
	}
	list := map[string]any{"Title": "Research chemicals", "Items": items}
	s.add(spec.home, "category", list)
	s.add(spec.category, "category", list)
	s.add(spec.search, "search", map[string]any{"Title": "Search", "Items": items[:4]})
	s.add(spec.cart, "cart", map[string]any{"Title": "Cart", "Items": items})
	s.add(spec.login, "login", map[string]any{"Title": "Login"})
	s.add(spec.blog, "blog", map[string]any{"Title": "New batch of research chemicals arrived", "PageID": 9, "Body": "We restocked several products this week."})
	for i, u := range spec.info {
		titles := []string{"About us", "Shipping", "FAQ"}
		s.add(u, "info", map[string]any{"Title": titles[i%3], "PageID": 20 + i, "Body": "We ship from the EU. Payment by bank transfer or crypto."})
	}
	return s
}

// sortedWant is for stable messages.
func sortedWant(w []expected) []expected {
	out := append([]expected(nil), w...)
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// forumSpec describes how one forum platform lays out its URLs.
type forumSpec struct {
	platform                    string
	index, forum, login, search string
	info                        []string
	thread                      func(t thread) string         // the thread's URI
	threadAlt                   func(t thread) string         // another URI of the same thread page
	permalink                   func(t thread, p post) string // the post's own URI
	subjects                    bool                          // posts carry "Re: title" subjects
}

var replies = []string{"Interested, sent you a PM.", "Is this still available? Ships to EU?", "Vouch, got mine last week, good stealth.", "Does anyone have a lab report for this batch?"}

func threads(rng *rand.Rand, n int, firstID int) []thread {
	out := make([]thread, n)
	id := firstID
	for i := range out {
		o := offers(rng, 1, []string{"USD", "EUR", "BTC", "GBP"})[0]
		t := thread{ID: 10 + i*3, Title: "[WTS] " + o.Title, Slug: slug(o.Title)}
		seller := o.Vendor
		for j := 0; j < 2+rng.IntN(4); j++ {
			id += 1 + rng.IntN(3)
			p := post{ID: id, Position: j + 1, ThreadID: t.ID}
			switch {
			case j == 0:
				p.Author, p.Body, p.Amount, p.Currency = seller, fmt.Sprintf("Selling %s.<br>Price: %s per unit, escrow accepted.<br>%s", o.Title, o.PriceShown, o.Desc), o.Amount, o.Currency
			case j%2 == 0:
				a, shown := showPrice(rng, o.Currency)
				p.Author, p.Body, p.Amount, p.Currency = seller, fmt.Sprintf("Restocked. Bulk price now %s for 10 units.", shown), a, o.Currency
			default:
				p.Author, p.Body = vendors[rng.IntN(len(vendors))]+"_buyer", replies[rng.IntN(len(replies))]
			}
			p.Subject = "Re: " + t.Title
			if j == 0 {
				p.Subject = t.Title
			}
			t.Posts = append(t.Posts, p)
		}
		out[i] = t
	}
	return out
}

func forumSite(tb testing.TB, seed uint64, name string, spec forumSpec, base string) *site {
	rng := rand.New(rand.NewPCG(seed, 11))
	s := &site{name: name, platform: spec.platform, kind: "forum", tmpl: loadTemplates(tb, spec.platform), start: []string{base + spec.index}}
	ts := threads(rng, 4, 500)
	for i := range ts {
		ts[i].Link = spec.thread(ts[i])
	}
	for i, t := range ts {
		posts := make([]map[string]any, 0)
		_ = posts
		view := t
		view.Posts = append([]post(nil), t.Posts...)
		for j := range view.Posts {
			if !spec.subjects {
				view.Posts[j].Subject = ""
			}
		}
		data := map[string]any{"Title": t.Title, "Thread": htmlThread(view), "Section": "viewtopic", "Canonical": base + t.Link}
		s.add(t.Link, "thread", data)
		if spec.threadAlt != nil {
			s.add(spec.threadAlt(t), "thread", data)
		}
		for _, p := range t.Posts {
			s.want = append(s.want, expected{URL: base + spec.permalink(t, p), Title: t.Title, Amount: p.Amount, Currency: p.Currency, Vendor: p.Author})
		}
		_ = i
	}
	list := map[string]any{"Title": "Marketplace", "Threads": ts, "Section": "viewforum"}
	s.add(spec.index, "index", list)
	s.add(spec.forum, "forum", list)
	s.add(spec.search, "search", map[string]any{"Title": "Search", "Threads": ts, "Section": "search"})
	s.add(spec.login, "login", map[string]any{"Title": "Login", "Section": "ucp"})
	for _, u := range spec.info {
		s.add(u, "info", map[string]any{"Title": "Frequently Asked Questions", "Body": "Registration is free.", "Section": "faq"})
	}
	return s
}

// htmlThread is a thread whose post bodies are markup.
type htmlPost struct {
	post
	Body template.HTML
}

type htmlThreadView struct {
	ID          int
	Slug, Title string
	Link        string
	Posts       []htmlPost
}

func htmlThread(t thread) htmlThreadView {
	v := htmlThreadView{ID: t.ID, Slug: t.Slug, Title: t.Title, Link: t.Link}
	for _, p := range t.Posts {
		v.Posts = append(v.Posts, htmlPost{post: p, Body: template.HTML(template.HTMLEscapeString(p.Body))})
	}
	for i := range v.Posts {
		v.Posts[i].Body = template.HTML(strings.ReplaceAll(string(v.Posts[i].Body), "&lt;br&gt;", "<br>"))
	}
	return v
}

// telegramSite is a public channel preview in two overlapping pages.
func telegramSite(tb testing.TB, seed uint64, base string) *site {
	rng := rand.New(rand.NewPCG(seed, 13))
	ch := map[string]string{"Slug": "nitro_shop_official", "Title": "NITRO SHOP ✅ Official"}
	s := &site{name: "telegram", platform: "telegram", kind: "channel", tmpl: loadTemplates(tb, "telegram"), start: []string{base + "/s/" + ch["Slug"]}}
	items := offers(rng, 12, []string{"USD", "EUR", "BTC"})
	var msgs []htmlPost
	for i, o := range items {
		p := post{ID: 300 + i, Author: ch["Title"], Amount: o.Amount, Currency: o.Currency}
		body := fmt.Sprintf("%s<br>%s<br>💰 Price: %s<br>DM @nitro_support", o.Title, o.Desc, o.PriceShown)
		if i%4 == 3 {
			body = "Shop is open 24/7. Shipping to EU, UK, US.<br>Read the rules before ordering."
			p.Amount, p.Currency = "", ""
			o.Title = "Shop is open 24/7. Shipping to EU, UK, US."
		}
		msgs = append(msgs, htmlPost{post: p, Body: template.HTML(body)})
		s.want = append(s.want, expected{URL: fmt.Sprintf("https://t.me/%s/%d", ch["Slug"], p.ID), Title: o.Title, Amount: p.Amount, Currency: p.Currency, Vendor: ch["Title"]})
	}
	s.add("/s/"+ch["Slug"], "channel", map[string]any{"Channel": ch, "Messages": msgs[5:], "Before": 306})
	s.add("/s/"+ch["Slug"]+"?before=306", "channel", map[string]any{"Channel": ch, "Messages": msgs[:7]})
	return s
}

// classifiedsSite is a template-less classifieds site: list pages of ads
// (each ad a listing) and an ad page each.
func classifiedsSite(tb testing.TB, seed uint64, base string) *site {
	rng := rand.New(rand.NewPCG(seed, 17))
	s := &site{name: "Free Ads Board", platform: "classifieds", kind: "classifieds", tmpl: loadTemplates(tb, "classifieds"), start: []string{base + "/"}}
	items := offers(rng, 12, []string{"USD", "GBP", "EUR"})
	for i := range items {
		o := &items[i]
		o.Canonical = fmt.Sprintf("/ad/%d-%s", o.ID, o.Slug)
		o.Link = o.Canonical
		if i%2 == 0 {
			o.Link += "?ref=list&utm_campaign=feed"
		}
		s.add(o.Canonical, "ad", map[string]any{"Title": o.Title, "Item": *o})
		s.want = append(s.want, expected{URL: base + o.Canonical, Title: o.Title, Amount: o.Amount, Currency: o.Currency, Vendor: o.Vendor})
	}
	s.add("/", "list", map[string]any{"Title": "Latest ads", "Items": items[:6], "Next": "/ads/?page=2"})
	s.add("/ads/", "list", map[string]any{"Title": "Latest ads", "Items": items[:6], "Next": "/ads/?page=2"})
	s.add("/ads/?page=2", "list", map[string]any{"Title": "Latest ads", "Items": items[6:]})
	s.add("/login", "login", map[string]any{"Title": "Sign in"})
	s.add("/post-ad", "login", map[string]any{"Title": "Sign in"})
	s.add("/help/faq", "info", map[string]any{"Title": "Help", "Body": "How to post an ad."})
	s.add("/about", "info", map[string]any{"Title": "About", "Body": "Free classifieds since 2019."})
	s.add("/blog/safety-tips", "blog", map[string]any{"Title": "Safety tips", "Body": "Meet in public places."})
	return s
}
