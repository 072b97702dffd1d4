package autolist

import (
	"regexp"
	"slices"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// minBlocks is the fewest repeated priced siblings that make a list.
const minBlocks = 3

var digitsRE = regexp.MustCompile(`\d`)

// signature is an element's tag and its classes without numbered ones
// ("post-123"), sorted: siblings of one list share it.
func signature(n *html.Node) string {
	c, _ := attr(n, "class")
	var keep []string
	for _, f := range strings.Fields(strings.ToLower(c)) {
		if !digitsRE.MatchString(f) && f != "odd" && f != "even" && f != "first" && f != "last" && f != "active" {
			keep = append(keep, f)
		}
	}
	slices.Sort(keep)
	return n.Data + "." + strings.Join(keep, ".")
}

// priceBlocks finds the largest group of sibling elements with one
// signature whose members each hold a link, a price and some text.
func (p *pageInfo) priceBlocks() []*goquery.Selection {
	if p.blocksDone {
		return p.blocks
	}
	p.blocksDone = true
	p.blockSet = map[*html.Node]bool{}
	var best []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (skipText[n.Data] || n.Data == "nav" || n.Data == "footer" || n.Data == "aside") {
			return
		}
		groups := map[string][]*html.Node{}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				sig := signature(c)
				groups[sig] = append(groups[sig], c)
			}
		}
		for _, g := range groups {
			if len(g) < minBlocks {
				continue
			}
			var ok []*html.Node
			for _, m := range g {
				if isPricedBlock(m) {
					ok = append(ok, m)
				}
			}
			if len(ok) >= minBlocks && len(ok)*5 >= len(g)*3 && len(ok) > len(best) {
				best = ok
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range p.doc.Nodes {
		walk(n)
	}
	if len(best) > 0 && inside(best[0].Parent, "aside", "footer", "nav") {
		best = nil
	}
	for _, n := range best {
		p.blocks = append(p.blocks, goquery.NewDocumentFromNode(n).Selection)
		p.blockSet[n] = true
	}
	return p.blocks
}

// isPricedBlock: a link, a price with a currency, and a few words.
func isPricedBlock(n *html.Node) bool {
	hasLink := false
	var find func(*html.Node)
	find = func(c *html.Node) {
		if hasLink {
			return
		}
		if c.Type == html.ElementNode && c.Data == "a" {
			if h, ok := attr(c, "href"); ok && h != "" && !strings.HasPrefix(h, "#") && !strings.HasPrefix(strings.ToLower(h), "javascript:") {
				hasLink = true
				return
			}
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			find(k)
		}
	}
	find(n)
	if !hasLink {
		return false
	}
	t := visibleText([]*html.Node{n})
	if len(t) < 8 || len(t) > 3000 {
		return false
	}
	if len(t) > 800 {
		t = t[:800] // a card shows its price early; this bounds the scan
	}
	_, ok := ParsePrice(t)
	return ok
}

var addToCartRE = regexp.MustCompile(`(?i)add[ -]?to[ -]?(cart|basket|bag)|in den warenkorb|ajouter au panier|buy now|add_to_cart`)

// blockHeuristic makes a listing of each repeated priced block, where such
// blocks are listings on this marketplace; on a shop they are a category.
func (p *pageInfo) blockHeuristic() ([]Listing, string) {
	blocks := p.priceBlocks()
	if len(blocks) == 0 {
		return nil, ""
	}
	if !p.listsAreListings() {
		if p.opts.Kind == KindShop || !p.selfContained(blocks) {
			return nil, skipCategory
		}
	}
	var out []Listing
	for _, b := range blocks {
		l := Listing{Source: "heuristic:blocks", Node: b}
		l.Title = blockTitle(b)
		l.URL = blockLink(b)
		l.Price, _ = p.blockPrice(b)
		l.Description = blockDescription(b, l.Title)
		l.Vendor = p.blockVendor(b)
		out = append(out, l)
	}
	return out, ""
}

// selfContained reports blocks that are ads rather than product cards: no
// add-to-cart buttons, and most carry a description or a seller.
func (p *pageInfo) selfContained(blocks []*goquery.Selection) bool {
	if !p.selfDone {
		p.selfDone = true
		p.self = p.findSelfContained(blocks)
	}
	return p.self
}

func (p *pageInfo) findSelfContained(blocks []*goquery.Selection) bool {
	n := 0
	for _, b := range blocks {
		cart := false
		b.Find("button, a, input[type=submit], form").EachWithBreak(func(_ int, e *goquery.Selection) bool {
			cart = addToCartRE.MatchString(text(e) + " " + classOf(e.Nodes[0]) + " " + e.AttrOr("value", "") + " " + e.AttrOr("href", "") + " " + e.AttrOr("action", ""))
			return !cart
		})
		if cart {
			return false
		}
		if p.blockVendor(b) != "" || len(blockDescription(b, blockTitle(b))) >= 40 {
			n++
		}
	}
	return n*2 > len(blocks)
}

func blockTitle(b *goquery.Selection) string {
	if t := firstValue(b, "h1", "h2", "h3", "h4", "h5", "[itemprop=name]", "[class*=title]", "[class*=name]"); t != "" {
		return t
	}
	best := ""
	b.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		if t := text(a); len(t) > len(best) && !addToCartRE.MatchString(t) {
			best = t
		}
	})
	return best
}

func blockLink(b *goquery.Selection) string {
	for _, sel := range []string{"h1 a[href]", "h2 a[href]", "h3 a[href]", "h4 a[href]", "[class*=title] a[href]", "a[class*=title][href]", "[itemprop=url]", "a[href]"} {
		if h := strings.TrimSpace(b.Find(sel).First().AttrOr("href", "")); h != "" && !strings.HasPrefix(h, "#") {
			return h
		}
	}
	if goquery.NodeName(b) == "a" {
		return b.AttrOr("href", "")
	}
	return ""
}

func (p *pageInfo) blockPrice(b *goquery.Selection) (Price, bool) {
	var found Price
	ok := false
	b.Find("*").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		n := e.Nodes[0]
		if !priceClassRE.MatchString(classOf(n)) || inside(n, "del", "s") {
			return true
		}
		if v, has := attr(n, "content"); has {
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
	return ParsePrice(text(b))
}

func blockDescription(b *goquery.Selection, title string) string {
	for _, sel := range []string{"[itemprop=description]", "[class*=desc]", "[class*=excerpt]", "[class*=summary]", "[class*=snippet]", "[class*=body]", "[class*=text]", "p"} {
		if t := text(b.Find(sel).First()); t != "" && t != title {
			return t
		}
	}
	return ""
}

func (p *pageInfo) blockVendor(b *goquery.Selection) string {
	if v := p.labelledIn(b, vendorLabels); v != "" {
		return v
	}
	var out string
	b.Find("[class], [itemprop]").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		if !vendorClassRE.MatchString(classOf(e.Nodes[0])) {
			return true
		}
		if t := stripLabel(text(e)); t != "" && len(t) <= 80 {
			out = t
			return false
		}
		return true
	})
	return out
}

// labelledIn is labelled for a block (inside which inBlock is always true).
func (p *pageInfo) labelledIn(b *goquery.Selection, labels []string) string {
	sub := &pageInfo{doc: p.doc, url: p.url, base: p.base, opts: p.opts, blocksDone: true, blockSet: map[*html.Node]bool{}}
	return sub.labelled(b, labels)
}
