// Package autolist finds the listings of a marketplace page without
// hand-written selectors: what `listing: auto` in the marketplace config
// asks for.
//
// Extract decides whether a page is one listing (a product page, a
// classified ad), holds several (a forum thread, a classifieds list, a
// public Telegram channel preview), or none (category and search pages,
// about/FAQ/shipping pages, carts, login pages, blog and news posts), and
// reads each listing's title, description, price with currency and vendor.
// It tries, in order:
//
//  1. a platform template, chosen by name or detected from the generator
//     meta tag and characteristic markup (see Templates);
//  2. structured data: schema.org Product and Offer (with their seller) and
//     Organization in JSON-LD, microdata and RDFa, and OpenGraph product tags;
//  3. page heuristics: a main heading with a price-like element in the main
//     content, or repeated sibling blocks that each hold a title, a price
//     and a link.
//
// Fields found by an earlier step are completed, never replaced, by later
// ones. Each listing's URL is its own: the page's rel=canonical or og:url,
// a forum post's permalink, a block's link, with category paths and
// platform-specific noise removed, so that one listing is one row however
// many URLs reach it. The caller canonicalises it further (tracking
// parameters, fragments).
//
// Extract is pure: it reads the parsed document only, does no I/O and keeps
// no state.
package autolist

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// Marketplace kinds, as in the config's `kind:` key. They steer what a list
// of priced blocks is: on a shop it is a category page (the product pages
// are the listings); on classifieds and markets each block is an ad.
const (
	KindShop        = "shop"
	KindMarket      = "market"
	KindClassifieds = "classifieds"
	KindForum       = "forum"
	KindChannel     = "channel"
)

// Options tune Extract. The zero value detects everything.
type Options struct {
	// Template names the platform template to use (see Templates); ""
	// detects it from the page.
	Template string
	// Kind is the marketplace kind (KindShop, ...); "" when not configured.
	Kind string
}

// Listing is one listing found on a page.
type Listing struct {
	URL         string // absolute: the listing's own URL
	Title       string
	Description string
	Price       Price
	Vendor      string
	// Extra holds platform-specific fields (a chemical's "cas", "purity").
	Extra map[string]string
	// Source says what found the listing: "template:NAME", "json-ld",
	// "microdata", "rdfa", "opengraph", "heuristic:page" or "heuristic:blocks".
	Source string
	// Node is the element the listing was read from: the whole document for
	// a page listing, the block or post for one of several. Hand-written
	// field selectors apply relative to it.
	Node *goquery.Selection
	// Page reports a listing that is the whole page (not one of several).
	Page bool
}

// Fields returns the listing's non-empty fields by the names the store
// uses: title, description, price ("AMOUNT CURRENCY"), currency, vendor.
func (l Listing) Fields() map[string]string {
	f := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("title", l.Title)
	set("description", l.Description)
	set("price", l.Price.String())
	set("currency", l.Price.Currency)
	set("vendor", l.Vendor)
	for k, v := range l.Extra {
		if _, taken := f[k]; !taken {
			set(k, v)
		}
	}
	return f
}

// Result is what Extract decided about a page.
type Result struct {
	Listings []Listing
	// Template is the platform template used or detected, "" for none.
	Template string
	// Skip is why the page holds no listing by design ("category",
	// "search", "info", "cart", "login", "blog", "list"), "" otherwise.
	Skip string
}

// Extract finds the listings of a parsed page. pageURL is the URL the page
// was fetched from (after redirects); links resolve against it and a
// <base href>.
func Extract(doc *goquery.Document, pageURL *url.URL, opts Options) Result {
	p := newPageInfo(doc, pageURL, opts)
	var res Result
	tpl := p.template()
	if tpl != nil {
		res.Template = tpl.name
	}
	if reason := p.skipReason(tpl); reason != "" {
		res.Skip = reason
		return res
	}
	var ls []Listing
	if tpl != nil {
		ls = tpl.extract(p)
	}
	if len(ls) == 0 {
		var reason string
		ls, reason = p.fromStructured()
		if reason != "" {
			res.Skip = reason
			return res
		}
	}
	if len(ls) == 0 {
		ls = p.pageHeuristic()
	}
	if len(ls) == 0 {
		var reason string
		ls, reason = p.blockHeuristic()
		if reason != "" {
			res.Skip = reason
			return res
		}
	}
	res.Listings = p.finish(ls, tpl)
	return res
}

// finish completes page listings from structured data and the page, fixes
// their URLs, drops listings without a title and merges repeats.
func (p *pageInfo) finish(ls []Listing, tpl *template) []Listing {
	out := make([]Listing, 0, len(ls))
	seen := map[string]int{}
	for _, l := range ls {
		declared := false // the page names its own URL: take it as it is
		if l.Page {
			p.complete(&l)
			l.URL, declared = p.canonical(), p.hasCanonical()
		}
		if l.URL == "" {
			l.URL = p.url.String()
		}
		if u, err := p.base.Parse(l.URL); err == nil {
			if tpl != nil && tpl.cleanURL != nil && !declared {
				tpl.cleanURL(u)
			}
			cleanListingURL(u)
			l.URL = u.String()
		}
		l.Title = clip(l.Title, 300)
		l.Description = clip(l.Description, 4000)
		l.Vendor = clip(cleanVendor(l.Vendor), 120)
		if l.Title == "" {
			continue
		}
		if i, dup := seen[l.URL]; dup {
			mergeInto(&out[i], l)
			continue
		}
		seen[l.URL] = len(out)
		out = append(out, l)
	}
	return out
}

// complete fills a page listing's empty fields from structured data, then
// from the page.
func (p *pageInfo) complete(l *Listing) {
	if main, ok := p.mainProduct(); ok {
		mergeInto(l, Listing{Title: main.Title, Description: main.Description, Price: main.Price, Vendor: main.Vendor})
	}
	og := p.sd.og
	ogPrice, _ := PriceFrom(firstNonEmpty(og["product:price:amount"], og["og:price:amount"], og["product:sale_price:amount"]),
		firstNonEmpty(og["product:price:currency"], og["og:price:currency"], og["product:sale_price:currency"]))
	mergeInto(l, Listing{Title: og["og:title"], Description: og["og:description"], Price: ogPrice})
	if l.Vendor == "" {
		l.Vendor = p.labelled(p.doc.Selection, vendorLabels)
	}
	if l.Vendor == "" {
		l.Vendor = firstNonEmpty(p.sd.org, og["og:site_name"], p.titleSuffix(l.Title))
	}
}

var titleSepRE = regexp.MustCompile(`\s+[|–—:»·-]+\s+`)

// titleSuffix is the shop's name in a <title> such as "Product – Shop".
func (p *pageInfo) titleSuffix(listingTitle string) string {
	parts := titleSepRE.Split(text(p.doc.Find("title").First()), -1)
	if len(parts) < 2 {
		return ""
	}
	first, last := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[len(parts)-1])
	switch {
	case strings.EqualFold(first, listingTitle) && len(last) <= 60:
		return last
	case strings.EqualFold(last, listingTitle) && len(first) <= 60:
		return first
	}
	return ""
}

// mergeInto fills dst's empty fields from src.
func mergeInto(dst *Listing, src Listing) {
	if dst.Title == "" {
		dst.Title = src.Title
	}
	if dst.Description == "" {
		dst.Description = src.Description
	}
	if dst.Price.Amount == "" {
		dst.Price = src.Price
	} else if dst.Price.Currency == "" && src.Price.Amount == dst.Price.Amount {
		dst.Price.Currency = src.Price.Currency
	}
	if dst.Vendor == "" {
		dst.Vendor = src.Vendor
	}
}

// hasCanonical reports whether the page declares its URL (rel=canonical or
// og:url on its own site).
func (p *pageInfo) hasCanonical() bool {
	return p.canonical() != p.url.String() || p.doc.Find(`link[rel~="canonical"]`).Length() > 0
}

// canonical is the page's own URL: rel=canonical or og:url when they stay
// on the page's site, else the fetched URL.
func (p *pageInfo) canonical() string {
	for _, c := range []string{
		p.doc.Find(`link[rel~="canonical"]`).First().AttrOr("href", ""),
		p.sd.og["og:url"],
	} {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		u, err := p.base.Parse(c)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !sameSite(u.Hostname(), p.url.Hostname()) {
			continue
		}
		return u.String()
	}
	return p.url.String()
}

// sameSite reports whether two hosts share their last two labels (a
// canonical on www. or a shop's CDN-less apex is the same site).
func sameSite(a, b string) bool {
	a, b = strings.TrimPrefix(strings.ToLower(a), "www."), strings.TrimPrefix(strings.ToLower(b), "www.")
	if a == b {
		return true
	}
	return strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}

// listingNoiseParams are query parameters that select a view of a listing,
// not another listing: sort orders, category paths and page sizes.
var listingNoiseParams = map[string]bool{
	"sort": true, "order": true, "orderby": true, "limit": true, "view": true, "variant": false,
	"ref": true, "referrer": true, "source": true, "from": true, "srsltid": true, "_pos": true, "_sid": true, "_ss": true,
	"add-to-cart": true, "highlight": true, "hilit": true, "sid": true, "s": false,
}

// cleanListingURL drops the fragment and view-only query parameters.
func cleanListingURL(u *url.URL) {
	u.Fragment, u.RawFragment = "", ""
	dropParams(u, func(k string) bool {
		k = strings.ToLower(k)
		return listingNoiseParams[k] || strings.HasPrefix(k, "utm_")
	})
}

// dropParams removes the query parameters whose key drop reports, keeping
// the others exactly as written.
func dropParams(u *url.URL, drop func(key string) bool) {
	if u.RawQuery == "" {
		return
	}
	var keep []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if kv != "" && !drop(k) {
			keep = append(keep, kv)
		}
	}
	u.RawQuery = strings.Join(keep, "&")
}

// vendorTrailerRE starts what follows a seller's name on many pages: a
// rating, a sales count, a level ("IsoKing (4.9★, 312 sales)").
var vendorTrailerRE = regexp.MustCompile(`\s*[(\[★☆]|\s+[·•|]\s+|\s+\d+(\.\d+)?\s*(★|%|stars?\b|sales\b)`)

func cleanVendor(s string) string {
	if loc := vendorTrailerRE.FindStringIndex(s); loc != nil && loc[0] > 0 {
		s = s[:loc[0]]
	}
	return strings.TrimSpace(s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}
