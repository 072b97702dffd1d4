package autolist

import (
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// skipText holds elements whose text is not visible.
var skipText = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "head": true,
	"svg": true, "iframe": true, "object": true, "select": true, "button": true,
	"del": true, "s": true, "strike": true} // struck-through text is an old price, not the current one

// inline elements do not separate words.
var inline = map[string]bool{"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "font": true, "i": true, "kbd": true, "mark": true, "q": true, "s": true,
	"samp": true, "small": true, "span": true, "strong": true, "sub": true, "sup": true, "time": true, "u": true,
	"var": true, "wbr": true, "bdo ": true, "del": true, "ins": true}

// visibleText is the whitespace-collapsed visible text of the nodes, block
// elements separated by spaces and <br> by a space.
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
			if n.Data == "br" {
				b.WriteByte(' ')
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

// text is the visible text of a selection.
func text(s *goquery.Selection) string {
	if s == nil {
		return ""
	}
	return visibleText(s.Nodes)
}

// value reads "selector" (visible text) or "selector@attr" (an attribute)
// from the first match under s; "@attr" reads s itself.
func value(s *goquery.Selection, spec string) string {
	sel, at := spec, ""
	if i := strings.LastIndexByte(spec, '@'); i >= 0 && !strings.ContainsAny(spec[i:], "]'\" ") {
		sel, at = spec[:i], spec[i+1:]
	}
	target := s
	if sel != "" {
		target = s.Find(sel).First()
	}
	if target.Length() == 0 {
		return ""
	}
	if at != "" {
		return collapse(target.AttrOr(at, ""))
	}
	return text(target)
}

// firstValue is the first non-empty value of the specs.
func firstValue(s *goquery.Selection, specs ...string) string {
	for _, spec := range specs {
		if v := value(s, spec); v != "" {
			return v
		}
	}
	return ""
}

// classOf is the lower-cased class, id and itemprop of an element, for
// matching names such as "price" or "vendor".
func classOf(n *html.Node) string {
	var b strings.Builder
	for _, a := range n.Attr {
		switch a.Key {
		case "class", "id", "itemprop", "data-role", "data-testid":
			b.WriteString(strings.ToLower(a.Val))
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// inside reports whether n has an ancestor (or is itself) one of the tags.
func inside(n *html.Node, tags ...string) bool {
	for a := n; a != nil; a = a.Parent {
		if a.Type != html.ElementNode {
			continue
		}
		for _, t := range tags {
			if a.Data == t {
				return true
			}
		}
		if c := classOf(a); strings.Contains(c, "related") || strings.Contains(c, "upsell") || strings.Contains(c, "up-sells") ||
			strings.Contains(c, "cross-sell") || strings.Contains(c, "recommend") || strings.Contains(c, "sidebar") {
			return true
		}
	}
	return false
}
