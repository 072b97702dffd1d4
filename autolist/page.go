package autolist

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// pageInfo is a page with what Extract derives from it once.
type pageInfo struct {
	doc       *goquery.Document
	url, base *url.URL
	opts      Options
	sd        structured
	generator string // every generator meta tag, lower case
	bodyClass string // class and id of <html> and <body>, lower case

	blocksDone bool
	blocks     []*goquery.Selection // the repeated priced blocks; nil if none
	blockSet   map[*html.Node]bool  // the blocks' nodes

	heuristicDone bool
	heuristic     []Listing // pageHeuristic's result, computed once
	selfDone      bool
	self          bool // selfContained(blocks), computed once
}

func newPageInfo(doc *goquery.Document, pageURL *url.URL, opts Options) *pageInfo {
	p := &pageInfo{doc: doc, url: pageURL, base: pageURL, opts: opts}
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := pageURL.Parse(strings.TrimSpace(href)); err == nil {
			p.base = b
		}
	}
	p.sd = readStructured(doc)
	var gen []string
	doc.Find("meta[name]").Each(func(_ int, s *goquery.Selection) {
		if strings.EqualFold(s.AttrOr("name", ""), "generator") {
			gen = append(gen, strings.ToLower(s.AttrOr("content", "")))
		}
	})
	p.generator = strings.Join(gen, " | ")
	for _, sel := range []string{"html", "body"} {
		s := doc.Find(sel).First()
		p.bodyClass += " " + strings.ToLower(s.AttrOr("class", "")+" #"+s.AttrOr("id", ""))
	}
	p.bodyClass += " "
	return p
}

// hasBodyClass reports whether <html> or <body> has one of the classes
// (or "#id").
func (p *pageInfo) hasBodyClass(classes ...string) bool {
	for _, c := range classes {
		if strings.Contains(p.bodyClass, " "+c+" ") {
			return true
		}
	}
	return false
}

// mainProduct is the page's own Product in structured data: the one whose
// URL is the page's, or the only one.
func (p *pageInfo) mainProduct() (product, bool) {
	prods := p.sd.products
	if len(prods) == 0 {
		return product{}, false
	}
	here := strings.TrimSuffix(p.canonicalPath(), "/")
	var distinct []product
	seen := map[string]bool{}
	for _, pr := range prods {
		if pr.URL != "" {
			if u, err := p.base.Parse(pr.URL); err == nil && strings.TrimSuffix(u.Path, "/") == here && u.Path != "" {
				return pr, true
			}
		}
		key := pr.URL + "\x00" + pr.Title
		if !seen[key] {
			seen[key] = true
			distinct = append(distinct, pr)
		}
	}
	if len(distinct) == 1 {
		return distinct[0], true
	}
	// A product page that also marks up related products: the first JSON-LD
	// product outside any block, or the first product not in a related section.
	for _, pr := range distinct {
		if pr.Node == nil || !inside(pr.Node, "aside", "footer", "nav") && !p.inBlock(pr.Node) {
			if pr.Node != nil || pr.Source == "json-ld" {
				return pr, p.looseProducts() <= 1
			}
		}
	}
	return product{}, false
}

// looseProducts counts the structured products that are not inside a related
// section: more than one means a list of products.
func (p *pageInfo) looseProducts() int {
	n := 0
	seen := map[string]bool{}
	for _, pr := range p.sd.products {
		if pr.Node != nil && inside(pr.Node, "aside", "footer", "nav") {
			continue
		}
		key := pr.URL + "\x00" + pr.Title
		if !seen[key] {
			seen[key] = true
			n++
		}
	}
	return n
}

func (p *pageInfo) canonicalPath() string {
	if u, err := url.Parse(p.canonical()); err == nil {
		return u.Path
	}
	return p.url.Path
}

// productEvidence reports structured signs that the page is one product.
func (p *pageInfo) productEvidence() bool {
	if _, ok := p.mainProduct(); ok {
		return true
	}
	t := strings.ToLower(p.sd.og["og:type"])
	return t == "product" || t == "og:product" || t == "product.item"
}

// fromStructured makes a listing of the page's own product, or reports a
// list of products (a category or search page on a shop).
func (p *pageInfo) fromStructured() ([]Listing, string) {
	if main, ok := p.mainProduct(); ok {
		return []Listing{{Title: main.Title, Description: main.Description, Price: main.Price, Vendor: main.Vendor,
			Source: main.Source, Node: p.doc.Selection, Page: true}}, ""
	}
	if p.looseProducts() > 1 {
		if !p.listsAreListings() {
			return nil, "category"
		}
		var out []Listing
		for _, pr := range p.sd.products {
			l := Listing{URL: pr.URL, Title: pr.Title, Description: pr.Description, Price: pr.Price, Vendor: pr.Vendor, Source: pr.Source}
			if pr.Node != nil {
				l.Node = goquery.NewDocumentFromNode(pr.Node).Selection
			}
			if l.URL != "" {
				out = append(out, l)
			}
		}
		return out, ""
	}
	if t := strings.ToLower(p.sd.og["og:type"]); t == "product" || t == "og:product" || t == "product.item" {
		return []Listing{{Source: "opengraph", Node: p.doc.Selection, Page: true}}, ""
	}
	return nil, ""
}

// listsAreListings reports whether priced blocks on this marketplace are
// listings in their own right (ads) rather than links to product pages.
func (p *pageInfo) listsAreListings() bool {
	switch p.opts.Kind {
	case KindClassifieds, KindMarket, KindForum, KindChannel:
		return true
	}
	return false
}

// skip reasons.
const (
	skipCategory = "category"
	skipSearch   = "search"
	skipInfo     = "info"
	skipCart     = "cart"
	skipLogin    = "login"
	skipBlog     = "blog"
)

// urlSkips maps path segments and script names to skip reasons.
var urlSkips = map[string]string{
	"cart": skipCart, "basket": skipCart, "checkout": skipCart, "bag": skipCart, "wishlist": skipCart, "compare": skipCart,
	"login": skipLogin, "signin": skipLogin, "sign-in": skipLogin, "log-in": skipLogin, "logon": skipLogin,
	"register": skipLogin, "signup": skipLogin, "sign-up": skipLogin, "account": skipLogin, "my-account": skipLogin,
	"myaccount": skipLogin, "auth": skipLogin, "password": skipLogin, "ucp.php": skipLogin, "login.php": skipLogin,
	"register.php": skipLogin, "memberlist.php": skipInfo,
	"about": skipInfo, "about-us": skipInfo, "aboutus": skipInfo, "faq": skipInfo, "faqs": skipInfo, "faq.php": skipInfo,
	"help": skipInfo, "shipping": skipInfo, "delivery": skipInfo, "shipping-policy": skipInfo, "returns": skipInfo,
	"refund-policy": skipInfo, "refunds": skipInfo, "contact": skipInfo, "contact-us": skipInfo, "contacts": skipInfo,
	"privacy": skipInfo, "privacy-policy": skipInfo, "terms": skipInfo, "terms-of-service": skipInfo,
	"terms-and-conditions": skipInfo, "tos": skipInfo, "legal": skipInfo, "imprint": skipInfo, "impressum": skipInfo,
	"policies": skipInfo, "policy": skipInfo, "rules": skipInfo,
	"blog": skipBlog, "blogs": skipBlog, "news": skipBlog, "article": skipBlog, "articles": skipBlog, "press": skipBlog,
	"search": skipSearch, "catalogsearch": skipSearch, "search.php": skipSearch, "find": skipSearch,
	"inquiry-basket": skipCart, "sendmessage.php": skipInfo, "contact.php": skipInfo, "guidelines": skipInfo,
}

// categorySegments are path segments of category pages; product URLs may
// carry them too, so they only count when the page is not a product page.
var categorySegments = map[string]bool{
	"category": true, "categories": true, "product-category": true, "collections": true, "collection": true,
	"c": true, "cat": true, "tag": true, "tags": true, "brand": true, "brands": true, "shop": true, "store": true,
	"products": true, "catalog": true, "forums": true, "forum": true, "viewforum.php": true, "forumdisplay.php": true,
	"latest": true, "top": true, "page": true, "index.php": true,
}

// routeSkips are OpenCart-style ?route= values.
var routeSkips = map[string]string{
	"product/category": skipCategory, "product/search": skipSearch, "product/manufacturer": skipCategory,
	"product/special": skipCategory, "checkout/cart": skipCart, "checkout/checkout": skipCart,
	"account/login": skipLogin, "account/register": skipLogin, "account/account": skipLogin,
	"information/information": skipInfo, "information/contact": skipInfo, "common/home": skipCategory,
}

// urlSkip reads a skip reason from the URL: a strong one (cart, login,
// info, blog, search) or a weak one (category).
func (p *pageInfo) urlSkip() (reason string, strong bool) {
	q := p.url.Query()
	if r, ok := routeSkips[strings.ToLower(q.Get("route"))]; ok {
		return r, r != skipCategory
	}
	for _, k := range []string{"s", "q", "search", "query", "keyword", "keywords"} {
		if q.Get(k) != "" {
			return skipSearch, true
		}
	}
	segs := strings.Split(strings.ToLower(strings.Trim(p.url.Path, "/")), "/")
	for _, s := range segs {
		if r, ok := urlSkips[s]; ok {
			return r, true
		}
		if i := strings.LastIndexByte(s, '.'); i > 0 {
			if r, ok := urlSkips[s[:i]]; ok {
				return r, true
			}
		}
	}
	for _, s := range segs {
		if categorySegments[s] {
			return skipCategory, false
		}
	}
	if p.url.Path == "" || p.url.Path == "/" {
		return skipCategory, false // a home page lists; it is a listing only with product evidence
	}
	return "", false
}

// typeSkip reads a skip reason from schema.org types and OpenGraph.
func (p *pageInfo) typeSkip() (reason string, strong bool) {
	t := p.sd.types
	switch {
	case t["SearchResultsPage"]:
		return skipSearch, true
	case t["CheckoutPage"]:
		return skipCart, true
	case t["FAQPage"] || t["AboutPage"] || t["ContactPage"]:
		return skipInfo, true
	case t["BlogPosting"] || t["NewsArticle"] || t["Blog"] || t["Article"] && !t["Product"]:
		return skipBlog, true
	case t["CollectionPage"] || t["ItemList"] && !t["ListItem"]:
		return skipCategory, false
	}
	if og := strings.ToLower(p.sd.og["og:type"]); og == "article" || og == "blog" {
		return skipBlog, false
	}
	return "", false
}

var loginTitleRE = regexp.MustCompile(`(?i)\b(log ?in|sign ?in|sign ?up|register|create an account|my account|anmelden|connexion|вход)\b`)

// isLoginPage: a password field with a login heading or title.
func (p *pageInfo) isLoginPage() bool {
	if p.doc.Find(`input[type="password" i]`).Length() == 0 {
		return false
	}
	head := text(p.doc.Find("h1").First()) + " " + text(p.doc.Find("title").First())
	return loginTitleRE.MatchString(head)
}

var cartTitleRE = regexp.MustCompile(`(?i)^\s*(your |shopping |inquiry |enquiry )?(cart|basket|bag)\b|\bcheckout\b`)

// skipReason decides whether the page holds no listing by design.
func (p *pageInfo) skipReason(tpl *template) string {
	if tpl != nil && tpl.skip != nil {
		if r := tpl.skip(p); r != "" {
			return r
		}
	}
	if tpl != nil && tpl.isListingPage(p) {
		return ""
	}
	if tpl != nil && !tpl.loose && !p.productEvidence() {
		if r, _ := p.urlSkip(); r != "" {
			return r
		}
		return skipInfo // a page of a known platform that is not one of its listing pages
	}
	evidence := p.productEvidence()
	if r, strong := p.urlSkip(); r != "" && (strong && (!evidence || r == skipCart || r == skipLogin)) {
		return r
	}
	if r, strong := p.typeSkip(); r != "" && strong && !evidence {
		return r
	}
	if p.isLoginPage() && !evidence {
		return skipLogin
	}
	if cartTitleRE.MatchString(text(p.doc.Find("h1").First())) {
		return skipCart
	}
	if evidence {
		return ""
	}
	if r, _ := p.urlSkip(); r != "" && !p.looksLikeProductPage() {
		if b := p.priceBlocks(); len(b) > 0 && (p.listsAreListings() || p.opts.Kind == "" && p.selfContained(b)) {
			return ""
		}
		return r
	}
	if r, _ := p.typeSkip(); r != "" && !p.looksLikeProductPage() {
		return r
	}
	return ""
}

// mainContent is the page's main content element.
func (p *pageInfo) mainContent() *goquery.Selection {
	for _, sel := range []string{"main", "[role=main]", "#main", "#content", "#primary", ".main-content", ".content", "article"} {
		if s := p.doc.Find(sel).First(); s.Length() > 0 && s.Find("h1").Length() > 0 {
			return s
		}
	}
	return p.doc.Find("body").First()
}

// priceClassRE matches class, id or itemprop names of price elements.
var priceClassRE = regexp.MustCompile(`price|amount|cost|preis|prix|цена`)

// findPrice finds the first price-like element under s that is not in
// navigation, a related-products section or a repeated block.
func (p *pageInfo) findPrice(s *goquery.Selection) (Price, bool) {
	var found Price
	ok := false
	s.Find("*").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		n := e.Nodes[0]
		if !priceClassRE.MatchString(classOf(n)) || inside(n, "nav", "header", "footer", "aside", "del", "s") || p.inBlock(n) {
			return true
		}
		if v, has := attr(n, "content"); has {
			if pr, good := PriceFrom(v, p.currencyNear(e)); good && pr.Currency != "" {
				found, ok = pr, true
				return false
			}
		}
		if v, has := attr(n, "data-price-amount"); has {
			if pr, good := PriceFrom(v, p.currencyNear(e)); good && pr.Currency != "" {
				found, ok = pr, true
				return false
			}
		}
		if pr, good := ParsePrice(text(e)); good {
			found, ok = pr, true
			return false
		}
		return true
	})
	if ok {
		return found, true
	}
	// No price element: a price with a currency in the main text.
	var t []string
	s.Find("p, li, span, div, td, dd, strong, b").Each(func(_ int, e *goquery.Selection) {
		n := e.Nodes[0]
		if e.Children().Length() == 0 && !inside(n, "nav", "header", "footer", "aside", "del", "s") && !p.inBlock(n) {
			t = append(t, text(e))
		}
	})
	for _, line := range t {
		if pr, good := ParsePrice(line); good {
			return pr, true
		}
	}
	return Price{}, false
}

// currencyNear finds a currency code in microdata or meta tags near e.
func (p *pageInfo) currencyNear(e *goquery.Selection) string {
	for a := e; a.Length() > 0; a = a.Parent() {
		if c := a.Find(`[itemprop="priceCurrency"]`).First(); c.Length() > 0 {
			return firstNonEmpty(c.AttrOr("content", ""), text(c))
		}
	}
	return firstNonEmpty(p.sd.og["product:price:currency"], p.sd.og["og:price:currency"])
}

// looksLikeProductPage: a main heading and a price in the main content.
func (p *pageInfo) looksLikeProductPage() bool {
	return len(p.pageHeuristic()) > 0
}

// pageHeuristic makes one listing of a page whose main heading and a
// price-like element sit in the main content, outside repeated blocks.
func (p *pageInfo) pageHeuristic() []Listing {
	if !p.heuristicDone {
		p.heuristicDone = true
		p.heuristic = p.findPageListing()
	}
	return p.heuristic
}

func (p *pageInfo) findPageListing() []Listing {
	m := p.mainContent()
	h := m.Find("h1").First()
	if h.Length() == 0 && p.doc.Find("h1").Length() == 0 {
		// No h1 anywhere: the first h2 outside navigation and lists.
		p.doc.Find("h2").EachWithBreak(func(_ int, e *goquery.Selection) bool {
			if !inside(e.Nodes[0], "nav", "header", "footer", "aside") && !p.inBlock(e.Nodes[0]) {
				h = e
				return false
			}
			return true
		})
	}
	if h.Length() == 0 || inside(h.Nodes[0], "nav", "footer", "aside") || p.inBlock(h.Nodes[0]) {
		return nil
	}
	title := text(h)
	if title == "" {
		return nil
	}
	// The price sits near the heading: in its parent, or a few levels up.
	var price Price
	ok := false
	scope := h.Parent()
	for range 5 {
		if scope.Length() == 0 || goquery.NodeName(scope) == "html" {
			break
		}
		if price, ok = p.findPrice(scope); ok {
			break
		}
		if scope.Nodes[0] == m.Nodes[0] || goquery.NodeName(scope) == "body" {
			break
		}
		scope = scope.Parent()
	}
	if !ok {
		return nil
	}
	l := Listing{Title: title, Price: price, Source: "heuristic:page", Node: p.doc.Selection, Page: true}
	l.Description = p.description(scope)
	if l.Description == "" {
		l.Description = p.description(m)
	}
	l.Vendor = p.vendor(m)
	return []Listing{l}
}

var descClassRE = regexp.MustCompile(`description|desc\b|details|summary|excerpt|product-info|overview|body|content-text|listing-text`)

// description finds a description element, or the longest paragraph.
func (p *pageInfo) description(s *goquery.Selection) string {
	var best string
	s.Find("[itemprop=description], [class], [id]").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		n := e.Nodes[0]
		c := classOf(n)
		if !descClassRE.MatchString(c) || strings.Contains(c, "meta") || inside(n, "nav", "header", "footer", "aside") || p.inBlock(n) {
			return true
		}
		if t := text(e); len(t) > 20 {
			best = t
			return false
		}
		return true
	})
	if best != "" {
		return best
	}
	if v := p.labelled(s, descLabels); v != "" {
		return v
	}
	s.Find("p").Each(func(_ int, e *goquery.Selection) {
		if inside(e.Nodes[0], "nav", "header", "footer", "aside", "form") || p.inBlock(e.Nodes[0]) {
			return
		}
		if t := text(e); len(t) > len(best) {
			best = t
		}
	})
	return best
}

var vendorClassRE = regexp.MustCompile(`vendor|seller|merchant|supplier|sold-?by|store-?name|shop-?name|company-?name|author|username|user-name|poster|advertiser`)

// vendor finds who sells: a labelled value, or an element named for it.
func (p *pageInfo) vendor(s *goquery.Selection) string {
	if v := p.labelled(s, vendorLabels); v != "" {
		return v
	}
	var out string
	s.Find("[class], [id], [itemprop]").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		n := e.Nodes[0]
		if !vendorClassRE.MatchString(classOf(n)) || inside(n, "nav", "footer", "aside") || p.inBlock(n) {
			return true
		}
		t := stripLabel(text(e))
		if t != "" && len(t) <= 80 {
			out = t
			return false
		}
		return true
	})
	return out
}

// Labels of label/value pairs ("Seller: acme", <dt>Supplier</dt><dd>…</dd>).
var (
	vendorLabels = []string{"vendor", "seller", "sold by", "supplier", "merchant", "store", "shop", "company",
		"manufacturer / supplier", "posted by", "listed by", "advertiser", "verkäufer", "vendeur", "продавец"}
	descLabels  = []string{"description", "details", "product description", "beschreibung"}
	priceLabels = []string{"price", "fob price", "unit price", "our price", "cost", "preis", "prix", "цена"}
)

var labelSepRE = regexp.MustCompile(`^\s*([^:：]{2,40})\s*[:：]\s*(.+)$`)

// labelled finds the value of a label/value pair whose label is one of
// labels: dt/dd, th/td, an element followed by its value, or "Label: value".
func (p *pageInfo) labelled(s *goquery.Selection, labels []string) string {
	var out string
	match := func(l string) bool {
		l = strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(l), ":：")))
		return slices.Contains(labels, l)
	}
	s.Find("dt, th, label, strong, b, span, div, li, p, td").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		n := e.Nodes[0]
		if inside(n, "nav", "footer", "aside", "header") || p.inBlock(n) {
			return true
		}
		own := text(e)
		if len(own) > 200 {
			return true
		}
		if match(own) {
			next := e.Next()
			if next.Length() == 0 && n.NextSibling != nil && n.NextSibling.Type == html.TextNode {
				if v := collapse(n.NextSibling.Data); v != "" {
					out = v
					return false
				}
			}
			if v := text(next); v != "" && len(v) <= 200 {
				out = v
				return false
			}
			return true
		}
		if e.Children().Length() <= 2 {
			if m := labelSepRE.FindStringSubmatch(own); m != nil && match(m[1]) {
				out = cutTrailer(m[2])
				return false
			}
		}
		return true
	})
	return out
}

// trailerRE is where a labelled value ends and other facts begin
// ("nitro_lab · 2 days ago").
var trailerRE = regexp.MustCompile(`\s+[·•|]\s+|\s{2,}`)

func cutTrailer(s string) string {
	if loc := trailerRE.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	return strings.TrimSpace(s)
}

var labelPrefixRE = regexp.MustCompile(`(?i)^(vendor|seller|sold by|supplier|merchant|store|shop|company|by|posted by|listed by)\s*[:：]?\s+`)

func stripLabel(s string) string {
	return cutTrailer(labelPrefixRE.ReplaceAllString(s, ""))
}

// inBlock reports whether n sits in one of the repeated priced blocks.
func (p *pageInfo) inBlock(n *html.Node) bool {
	p.priceBlocks()
	for a := n; a != nil; a = a.Parent {
		if p.blockSet[a] {
			return true
		}
	}
	return false
}
