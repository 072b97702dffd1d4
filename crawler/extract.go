package crawler

import (
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"

	"snoop/config"
)

// toUTF8 decodes an HTML body to UTF-8 using, in order, a byte-order mark, the
// Content-Type charset, a <meta> charset in the first 1024 bytes, and sniffing.
func toUTF8(body []byte, contentType string) []byte {
	if len(body) == 0 {
		return body
	}
	enc, name, certain := charset.DetermineEncoding(body, contentType)
	if name == "utf-8" || (!certain && utf8.Valid(body) && name == "windows-1252") {
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}

// matchers holds compiled CSS selectors by their text: goquery's Find
// compiles its selector on every call, and a sweep applies the same few
// selectors to every page.
var matchers sync.Map // string -> goquery.Matcher

// find is sel.Find(selector), with the selector compiled once per process.
// As with Find, a selector that does not compile matches nothing.
func find(sel *goquery.Selection, selector string) *goquery.Selection {
	m, ok := matchers.Load(selector)
	if !ok {
		var c goquery.Matcher = noMatch{}
		if compiled, err := cascadia.Compile(selector); err == nil {
			c = compiled
		}
		m, _ = matchers.LoadOrStore(selector, c)
	}
	return sel.FindMatcher(m.(goquery.Matcher))
}

// noMatch is the matcher of a selector that does not compile.
type noMatch struct{}

func (noMatch) Match(*html.Node) bool            { return false }
func (noMatch) MatchAll(*html.Node) []*html.Node { return nil }
func (noMatch) Filter([]*html.Node) []*html.Node { return nil }

// skipText holds elements whose text is not visible.
var skipText = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "head": true, "svg": true, "iframe": true, "object": true}

// inline elements do not separate words.
var inline = map[string]bool{"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "font": true, "i": true, "kbd": true, "mark": true, "q": true, "s": true,
	"samp": true, "small": true, "span": true, "strong": true, "sub": true, "sup": true, "time": true, "u": true, "var": true, "wbr": true}

// visibleText returns the whitespace-collapsed text of the nodes, without script,
// style and similar elements, with block elements separated by spaces, cut
// at max bytes (with a note saying so); cut reports whether it was.
func visibleText(nodes []*html.Node, max int) (text string, cut bool) {
	b := newTextBuf(max)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			if skipText[n.Data] {
				return
			}
		case html.CommentNode:
			return
		}
		sep := n.Type == html.ElementNode && !inline[n.Data]
		if sep {
			b.separate()
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if sep {
			b.separate()
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return b.String(), b.cut()
}

// pageText is the page's title and visible body text, each bounded; cut
// reports whether either was cut.
func pageText(doc *goquery.Document) (text string, cut bool) {
	title, tcut := visibleText(find(doc.Selection, "title").First().Nodes, MaxFieldBytes)
	body, bcut := visibleText(find(doc.Selection, "body").Nodes, MaxTextBytes)
	if body == "" {
		body, bcut = visibleText(doc.Nodes, MaxTextBytes)
	}
	switch {
	case title == "":
		return body, bcut
	case body == "" || strings.HasPrefix(body, title):
		return title, tcut
	default:
		return title + "\n" + body, tcut || bcut
	}
}

// baseURL is the page URL resolved against a <base href>, if any.
func baseURL(doc *goquery.Document, page *url.URL) *url.URL {
	if href, ok := find(doc.Selection, "base[href]").First().Attr("href"); ok {
		if b, err := page.Parse(strings.TrimSpace(href)); err == nil {
			return b
		}
	}
	return page
}

// links returns the href of every element matching the follow selectors,
// resolved against base, in document order and without repeats.
func links(doc *goquery.Document, base *url.URL, follow []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, sel := range follow {
		find(doc.Selection, sel).Each(func(_ int, s *goquery.Selection) {
			href, ok := s.Attr("href")
			href = strings.TrimSpace(href)
			if !ok || href == "" || strings.HasPrefix(href, "#") {
				return
			}
			u, err := base.Parse(href)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				return
			}
			abs := u.String()
			if !seen[abs] {
				seen[abs] = true
				out = append(out, abs)
			}
		})
	}
	return out
}

// Reasons a URL taken from a page's url field is not made a listing's URL
// (keys of Stats.ListingURLsRejected), besides SkipDeny and SkipOffsite.
const (
	// RejectScheme: not an absolute http or https URL (javascript:, data:,
	// file:, mailto:, a malformed URL, ...).
	RejectScheme = "scheme"
)

// scopeFunc returns why a canonical URL is outside the marketplace (SkipDeny,
// SkipOffsite), or "" when it is inside.
type scopeFunc func(canonical string) string

// extraction is what extractListings found on one page.
type extraction struct {
	listings []Listing
	// rejected counts the url field values not made a listing's URL, by
	// reason; example is the first of them.
	rejected map[string]int
	example  string
}

func (x *extraction) reject(reason, raw string) {
	if x.rejected == nil {
		x.rejected = map[string]int{}
	}
	x.rejected[reason]++
	if x.example == "" {
		x.example = raw
	}
}

// extractListings applies the listing spec to a parsed page. pageURL is the
// canonical URL of the page; scope decides which URLs a listing may have.
//
// A listing's own URL (the url field) must be an http(s) URL inside the
// marketplace's allow and deny: a page is data, and a hostile one would
// otherwise choose what the analyst is shown as the listing and what a
// screenshot browser loads. An item whose url is refused is left out (it
// would otherwise take the page URL and overwrite its neighbours); a page
// mode listing keeps the page URL. Both are counted in the extraction.
func extractListings(doc *goquery.Document, base *url.URL, pageURL string, spec config.ListingSpec, scope scopeFunc) extraction {
	var x extraction
	switch {
	case spec.URLPattern != nil:
		if !spec.URLPattern.MatchString(pageURL) {
			return x
		}
		l, reason, raw := buildListing(doc.Selection, base, pageURL, spec.Fields, scope)
		if reason != "" {
			x.reject(reason, raw)
		}
		if len(spec.Fields) == 0 {
			var cut bool
			if l.Text, cut = pageText(doc); cut {
				l.cut("text")
			}
		}
		if l.Text == "" {
			return x
		}
		x.listings = []Listing{l}
	case spec.Item != "":
		find(doc.Selection, spec.Item).Each(func(_ int, item *goquery.Selection) {
			l, reason, raw := buildListing(item, base, pageURL, spec.Fields, scope)
			if reason != "" {
				x.reject(reason, raw)
				return
			}
			if len(spec.Fields) == 0 {
				var cut bool
				if l.Text, cut = visibleText(item.Nodes, MaxTextBytes); cut {
					l.cut("text")
				}
			}
			if l.Text != "" {
				x.listings = append(x.listings, l)
			}
		})
	case spec.Auto:
		autoListings(doc, pageURL, spec, scope, &x)
	}
	return x
}

// buildListing extracts fields relative to sel. Text is title, description, then
// the other fields in config order (not url), one per line. When the url field
// holds a URL that may not be the listing's (see extractListings), the listing
// keeps pageURL and no url field, and reason says why; raw is the refused value.
func buildListing(sel *goquery.Selection, base *url.URL, pageURL string, fields []config.Field, scope scopeFunc) (l Listing, reason, raw string) {
	l = Listing{URL: pageURL, Fields: map[string]string{}}
	for _, f := range fields {
		target := sel
		if f.Selector != "" {
			target = find(sel, f.Selector).First()
		}
		if target.Length() == 0 {
			continue
		}
		var v string
		var cut bool
		if f.Attr != "" {
			v = strings.TrimSpace(target.AttrOr(f.Attr, ""))
			if f.Name != "url" && f.Attr != "href" && f.Attr != "src" {
				v, cut = bounded(v, MaxFieldBytes)
			} else if u, err := base.Parse(v); err == nil && v != "" && f.Name != "url" {
				v = u.String()
			}
		} else {
			v, cut = visibleText(target.Nodes, MaxFieldBytes)
		}
		if cut {
			l.cut(f.Name)
		}
		if v != "" {
			l.Fields[f.Name] = v
		}
	}
	if v, ok := l.Fields["url"]; ok {
		delete(l.Fields, "url")
		c, why := listingURL(base, v, scope)
		if why != "" {
			reason, raw = why, v
		} else {
			l.URL = c
			l.Fields["url"] = c
		}
	}
	var parts []string
	for _, name := range []string{"title", "description"} {
		if v := l.Fields[name]; v != "" {
			parts = append(parts, v)
		}
	}
	for _, f := range fields {
		if f.Name == "title" || f.Name == "description" || f.Name == "url" {
			continue
		}
		if v := l.Fields[f.Name]; v != "" {
			parts = append(parts, v)
		}
	}
	l.Text = strings.Join(parts, "\n")
	if len(l.Text) > MaxTextBytes {
		kept := cutUTF8(l.Text, MaxTextBytes)
		l.Text = kept + cutNote(len(kept), len(l.Text))
		l.cut("text")
	}
	return l, reason, raw
}

// listingURL resolves a url field value against base and returns its
// canonical form, or why it may not be a listing's URL.
func listingURL(base *url.URL, v string, scope scopeFunc) (string, string) {
	u, err := base.Parse(strings.TrimSpace(v))
	if err != nil {
		return "", RejectScheme
	}
	c, err := canonicalURL(u)
	if err != nil {
		return "", RejectScheme
	}
	if scope != nil {
		if why := scope(c); why != "" {
			return "", why
		}
	}
	return c, ""
}
