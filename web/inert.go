package web

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// maxViewHTML is the most of an archived HTML body the sandboxed view
// shows; the exact bytes are always at /evidence/ID/raw.
const maxViewHTML = 4 << 20

// inertAttrs are the attributes that can make a browser go somewhere (or
// change where it goes) when the analyst clicks, or by themselves:
// links, form targets, pings, inline frame documents, refresh, and SVG
// animations that could set a link.
var inertAttrs = map[string]bool{
	"href": true, "action": true, "formaction": true, "ping": true,
	"srcdoc": true, "http-equiv": true, "attributename": true,
}

// inertPrefix is put before each such attribute's name: the value stays in
// the DOM for the analyst to inspect, and the browser ignores it.
const inertPrefix = "data-snoop-inert-"

// inertHTML returns body, an archived HTML page, with every attribute of
// inertAttrs renamed, so no link in it can be followed however it is
// clicked (middle click, ctrl-click and the context menu open new tabs
// that no sandbox or frame policy governs). The page is parsed as a
// browser with scripting disabled parses it (as in the sandbox) and
// rendered back; the result is parsed again and refused if anything
// navigational survived.
func inertHTML(body []byte) ([]byte, error) {
	doc, err := html.ParseWithOptions(bytes.NewReader(body), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("parse archived page: %w", err)
	}
	walkElements(doc, func(n *html.Node) {
		for i, a := range n.Attr {
			if inertAttrs[strings.ToLower(a.Key)] {
				name := a.Key
				if a.Namespace != "" {
					name = a.Namespace + "-" + a.Key
				}
				n.Attr[i] = html.Attribute{Key: inertPrefix + strings.ToLower(name), Val: a.Val}
			}
		}
	})
	var out bytes.Buffer
	if err := html.Render(&out, doc); err != nil {
		return nil, fmt.Errorf("render archived page: %w", err)
	}
	check, err := html.ParseWithOptions(bytes.NewReader(out.Bytes()), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, fmt.Errorf("parse rendered page: %w", err)
	}
	var live bool
	walkElements(check, func(n *html.Node) {
		for _, a := range n.Attr {
			if inertAttrs[strings.ToLower(a.Key)] {
				live = true
			}
		}
	})
	if live {
		return nil, errors.New("archived page: a link survived rewriting")
	}
	return out.Bytes(), nil
}

// walkElements calls fn for every element under n, including template
// contents, without recursion (hostile pages nest deeply).
func walkElements(n *html.Node, fn func(*html.Node)) {
	stack := []*html.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode {
			fn(n)
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}
