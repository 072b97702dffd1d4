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
// style and similar elements, with block elements separated by spaces.
func visibleText(nodes []*html.Node) string {
	var b strings.Builder
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
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if sep {
			b.WriteByte(' ')
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return collapse(b.String())
}

// collapse replaces runs of white space with one space and trims the ends.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// pageText is the page's title and visible body text.
func pageText(doc *goquery.Document) string {
	title := collapse(find(doc.Selection, "title").First().Text())
	body := visibleText(find(doc.Selection, "body").Nodes)
	if body == "" {
		body = visibleText(doc.Nodes)
	}
	switch {
	case title == "":
		return body
	case body == "" || strings.HasPrefix(body, title):
		return title
	default:
		return title + "\n" + body
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

// extractListings applies the listing spec to a parsed page.
// pageURL is the canonical URL of the page.
func extractListings(doc *goquery.Document, base *url.URL, pageURL string, spec config.ListingSpec) []Listing {
	switch {
	case spec.URLPattern != nil:
		if !spec.URLPattern.MatchString(pageURL) {
			return nil
		}
		l := buildListing(doc.Selection, base, pageURL, spec.Fields)
		if len(spec.Fields) == 0 {
			l.Text = pageText(doc)
		}
		if l.Text == "" {
			return nil
		}
		return []Listing{l}
	case spec.Item != "":
		var out []Listing
		find(doc.Selection, spec.Item).Each(func(_ int, item *goquery.Selection) {
			l := buildListing(item, base, pageURL, spec.Fields)
			if len(spec.Fields) == 0 {
				l.Text = visibleText(item.Nodes)
			}
			if l.Text != "" {
				out = append(out, l)
			}
		})
		return out
	case spec.Auto:
		return autoListings(doc, pageURL, spec)
	}
	return nil
}

// buildListing extracts fields relative to sel. Text is title, description, then
// the other fields in config order (not url), one per line.
func buildListing(sel *goquery.Selection, base *url.URL, pageURL string, fields []config.Field) Listing {
	l := Listing{URL: pageURL, Fields: map[string]string{}}
	for _, f := range fields {
		target := sel
		if f.Selector != "" {
			target = find(sel, f.Selector).First()
		}
		if target.Length() == 0 {
			continue
		}
		var v string
		if f.Attr != "" {
			v = strings.TrimSpace(target.AttrOr(f.Attr, ""))
			if f.Attr == "href" || f.Attr == "src" || f.Name == "url" {
				if u, err := base.Parse(v); err == nil && v != "" {
					v = u.String()
				}
			} else {
				v = collapse(v)
			}
		} else {
			v = visibleText(target.Nodes)
		}
		if v != "" {
			l.Fields[f.Name] = v
		}
	}
	if u := l.Fields["url"]; u != "" {
		if c, err := Canonicalize(u); err == nil {
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
	return l
}
