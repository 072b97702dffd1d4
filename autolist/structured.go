package autolist

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// thing is one schema.org item from JSON-LD, microdata or RDFa: its types
// (local names such as "Product") and its properties, whose values are
// strings or nested *thing.
type thing struct {
	types []string
	props map[string][]any
	node  *html.Node // the element that holds it (microdata and RDFa); nil for JSON-LD
}

func (t *thing) is(types ...string) bool {
	for _, have := range t.types {
		for _, want := range types {
			if strings.EqualFold(have, want) {
				return true
			}
		}
	}
	return false
}

// str is the first string value of the first property present.
func (t *thing) str(names ...string) string {
	for _, n := range names {
		for _, v := range t.props[n] {
			switch v := v.(type) {
			case string:
				if s := collapse(v); s != "" {
					return s
				}
			case *thing:
				if s := v.str("name", "@value", "value"); s != "" && n != "offers" {
					return s
				}
			}
		}
	}
	return ""
}

// things returns the nested items of a property.
func (t *thing) things(name string) []*thing {
	var out []*thing
	for _, v := range t.props[name] {
		if c, ok := v.(*thing); ok {
			out = append(out, c)
		}
	}
	return out
}

// localName strips a schema.org IRI or a CURIE prefix: "http://schema.org/Product",
// "schema:Product" and "Product" are all "Product".
func localName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "/#:"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// jsonLD parses every application/ld+json script of the page. Scripts that do
// not parse are skipped; pages are data.
func jsonLD(doc *goquery.Document) []*thing {
	var out []*thing
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		text := strings.TrimSpace(s.Text())
		text = strings.TrimPrefix(strings.TrimSuffix(text, "]]>"), "<![CDATA[")
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return
		}
		out = append(out, fromJSON(v, 0)...)
	})
	return out
}

// fromJSON converts decoded JSON-LD into things, flattening @graph and arrays.
func fromJSON(v any, depth int) []*thing {
	if depth > 12 {
		return nil
	}
	switch v := v.(type) {
	case []any:
		var out []*thing
		for _, e := range v {
			out = append(out, fromJSON(e, depth+1)...)
		}
		return out
	case map[string]any:
		if g, ok := v["@graph"]; ok && v["@type"] == nil {
			return fromJSON(g, depth+1)
		}
		t := &thing{props: map[string][]any{}}
		switch ty := v["@type"].(type) {
		case string:
			t.types = []string{localName(ty)}
		case []any:
			for _, e := range ty {
				if s, ok := e.(string); ok {
					t.types = append(t.types, localName(s))
				}
			}
		}
		for k, pv := range v {
			if k == "@type" || k == "@context" {
				continue
			}
			k = localName(k)
			for _, e := range asList(pv) {
				switch e := e.(type) {
				case string:
					t.props[k] = append(t.props[k], e)
				case float64:
					t.props[k] = append(t.props[k], strconv.FormatFloat(e, 'f', -1, 64))
				case map[string]any:
					if kids := fromJSON(e, depth+1); len(kids) > 0 {
						t.props[k] = append(t.props[k], kids[0])
					}
				}
			}
		}
		return []*thing{t}
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// microdataSyntax and rdfaSyntax name the attributes of the two HTML syntaxes.
type syntax struct {
	scope func(n *html.Node) ([]string, bool) // the types of an item element
	prop  string                              // property attribute
}

var microdataSyntax = syntax{
	scope: func(n *html.Node) ([]string, bool) {
		if _, ok := attr(n, "itemscope"); !ok {
			return nil, false
		}
		ty, _ := attr(n, "itemtype")
		var types []string
		for _, f := range strings.Fields(ty) {
			types = append(types, localName(f))
		}
		return types, true
	},
	prop: "itemprop",
}

var rdfaSyntax = syntax{
	scope: func(n *html.Node) ([]string, bool) {
		ty, ok := attr(n, "typeof")
		if !ok {
			return nil, false
		}
		var types []string
		for _, f := range strings.Fields(ty) {
			types = append(types, localName(f))
		}
		return types, true
	},
	prop: "property",
}

// embedded parses the top-level items of an HTML syntax (microdata or RDFa).
func embedded(root *html.Node, syn syntax) []*thing {
	var out []*thing
	var walk func(n *html.Node, parent *thing)
	walk = func(n *html.Node, parent *thing) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "style" {
				return
			}
			props, hasProp := attr(n, syn.prop)
			types, isScope := syn.scope(n)
			if isScope {
				t := &thing{types: types, props: map[string][]any{}, node: n}
				if hasProp && parent != nil {
					for _, p := range strings.Fields(props) {
						parent.props[localName(p)] = append(parent.props[localName(p)], t)
					}
				} else {
					out = append(out, t)
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c, t)
				}
				return
			}
			if hasProp && parent != nil {
				v := propValue(n)
				for _, p := range strings.Fields(props) {
					parent.props[localName(p)] = append(parent.props[localName(p)], v)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, parent)
		}
	}
	walk(root, nil)
	return out
}

// propValue is an element's property value by the microdata rules, with a
// content attribute winning on any element (RDFa, and common practice).
func propValue(n *html.Node) string {
	if v, ok := attr(n, "content"); ok {
		return v
	}
	switch n.Data {
	case "meta":
		return ""
	case "a", "link", "area":
		v, _ := attr(n, "href")
		return v
	case "img", "audio", "video", "source", "iframe", "embed":
		v, _ := attr(n, "src")
		return v
	case "data", "meter":
		v, _ := attr(n, "value")
		return v
	case "time":
		if v, ok := attr(n, "datetime"); ok {
			return v
		}
	}
	return visibleText([]*html.Node{n})
}

// openGraph reads the page's og:* and product:* meta tags.
func openGraph(doc *goquery.Document) map[string]string {
	og := map[string]string{}
	doc.Find("meta[property], meta[name]").Each(func(_ int, s *goquery.Selection) {
		k := strings.ToLower(strings.TrimSpace(s.AttrOr("property", s.AttrOr("name", ""))))
		if !strings.HasPrefix(k, "og:") && !strings.HasPrefix(k, "product:") {
			return
		}
		if _, seen := og[k]; !seen {
			og[k] = collapse(s.AttrOr("content", ""))
		}
	})
	return og
}

// product is a schema.org Product (or an Offer of one) reduced to the fields
// snoop keeps.
type product struct {
	URL, Title, Description, Vendor string
	Price                           Price
	Node                            *html.Node
	Source                          string
}

// productOf reads a Product, or an Offer with an itemOffered Product.
func productOf(t *thing, source string) (product, bool) {
	p := product{Node: t.node, Source: source}
	prod, offers := t, t.things("offers")
	if t.is("Offer", "AggregateOffer") {
		kids := t.things("itemOffered")
		if len(kids) == 0 {
			return p, false
		}
		prod, offers = kids[0], []*thing{t}
	} else if !t.is("Product", "IndividualProduct", "ProductModel", "ProductGroup", "Drug", "ChemicalSubstance") {
		return p, false
	}
	p.Title = prod.str("name")
	p.Description = prod.str("description")
	p.URL = prod.str("url", "@id")
	if strings.HasPrefix(p.URL, "_:") {
		p.URL = ""
	}
	if len(offers) == 0 { // price directly on the product (microdata without an Offer)
		offers = []*thing{prod}
	}
	for _, o := range offers {
		for _, oo := range append([]*thing{o}, o.things("offers")...) { // AggregateOffer.offers
			if p.Price.Amount == "" {
				p.Price = offerPrice(oo)
			}
			if p.Vendor == "" {
				p.Vendor = oo.str("seller", "offeredBy")
			}
			if p.URL == "" {
				p.URL = oo.str("url")
			}
		}
	}
	if p.Vendor == "" {
		p.Vendor = prod.str("seller", "vendor", "offeredBy")
	}
	return p, p.Title != ""
}

func offerPrice(o *thing) Price {
	cur := o.str("priceCurrency")
	for _, k := range []string{"price", "lowPrice", "highPrice"} {
		if pr, ok := PriceFrom(o.str(k), cur); ok {
			return pr
		}
	}
	for _, ps := range o.things("priceSpecification") {
		if pr, ok := PriceFrom(ps.str("price", "minPrice"), firstNonEmpty(ps.str("priceCurrency"), cur)); ok {
			return pr
		}
	}
	return Price{}
}

// structured is everything the page says about itself in markup meant for
// machines.
type structured struct {
	products []product
	types    map[string]bool // every schema.org type seen (JSON-LD, microdata, RDFa)
	org      string          // the name of an Organization, Store or WebSite
	og       map[string]string
}

func readStructured(doc *goquery.Document) structured {
	sd := structured{types: map[string]bool{}, og: openGraph(doc)}
	var all []*thing
	add := func(ts []*thing, source string) {
		for _, t := range ts {
			walkThings(t, 0, func(x *thing) {
				for _, ty := range x.types {
					sd.types[ty] = true
				}
			})
			if p, ok := productOf(t, source); ok {
				sd.products = append(sd.products, p)
			} else {
				for _, kid := range nestedProducts(t) {
					if p, ok := productOf(kid, source); ok {
						sd.products = append(sd.products, p)
					}
				}
			}
			all = append(all, t)
		}
	}
	add(jsonLD(doc), "json-ld")
	for _, n := range doc.Nodes {
		add(embedded(n, microdataSyntax), "microdata")
		add(embedded(n, rdfaSyntax), "rdfa")
	}
	for _, t := range all {
		if t.is("Organization", "Store", "OnlineStore", "LocalBusiness", "Corporation", "WebSite") && sd.org == "" {
			sd.org = t.str("name")
		}
	}
	return sd
}

// nestedProducts finds Products inside a page-level item (WebPage.mainEntity,
// ItemList.itemListElement).
func nestedProducts(t *thing) []*thing {
	var out []*thing
	for _, k := range []string{"mainEntity", "about", "itemListElement", "item", "hasPart"} {
		for _, kid := range t.things(k) {
			if kid.is("Product", "Offer", "IndividualProduct", "ProductModel") {
				out = append(out, kid)
			} else if kid.is("ListItem") {
				out = append(out, kid.things("item")...)
			}
		}
	}
	return out
}

func walkThings(t *thing, depth int, fn func(*thing)) {
	if depth > 12 {
		return
	}
	fn(t)
	for _, vs := range t.props {
		for _, v := range vs {
			if c, ok := v.(*thing); ok {
				walkThings(c, depth+1, fn)
			}
		}
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}
