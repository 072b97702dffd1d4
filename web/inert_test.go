package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestInertHTML(t *testing.T) {
	tests := []struct {
		name, in string
		keep     string // must survive (the page is still shown)
	}{
		{"link", `<p>buy <a href="http://market.test/x" target="_blank" ping="http://market.test/ping">here</a></p>`, "here</a>"},
		{"uppercase", `<A HREF="http://market.test/x">here</A>`, "here</a>"},
		{"area", `<map name=m><area href="http://market.test/x" shape=rect coords="0,0,9,9"></map>`, "<map"},
		{"svg link", `<svg><a xlink:href="http://market.test/x"><text>here</text></a><a href="http://market.test/y"><text>too</text></a></svg>`, "<text>here</text>"},
		{"svg animation", `<svg><a><set attributeName="href" to="http://market.test/x"/><text>here</text></a></svg>`, "<text>here</text>"},
		{"math", `<math href="http://market.test/x"><mi>x</mi></math>`, "<mi>x</mi>"},
		{"form", `<form action="http://market.test/buy"><button formaction="http://market.test/b">buy</button></form>`, "buy</button>"},
		{"refresh", `<head><meta http-equiv="refresh" content="0;url=http://market.test/x"></head><body>x</body>`, `content="0;url=http://market.test/x"`},
		{"base", `<base href="http://market.test/"><a href="x">rel</a>`, "rel</a>"},
		{"srcdoc", `<iframe srcdoc="<a href='http://market.test/x'>in</a>"></iframe>`, "<iframe"},
		{"noscript", `<noscript><a href="http://market.test/x">no script</a></noscript>`, "no script"},
		{"template", `<template><a href="http://market.test/x">t</a></template>`, ">t</a>"},
		{"style comment trick", `<style><!--</style><a href="http://market.test/x">after</a><!-- -->`, "after</a>"},
		{"svg style", `<svg><style><a href="http://market.test/x">in svg style</a></style></svg>`, "in svg style"},
		{"unclosed", `<a href="http://market.test/y`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := inertHTML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ToLower(string(out))
			doc, err := html.Parse(strings.NewReader(string(out)))
			if err != nil {
				t.Fatal(err)
			}
			walkElements(doc, func(n *html.Node) {
				for _, a := range n.Attr {
					if k := strings.ToLower(a.Key); inertAttrs[k] || strings.HasSuffix(k, ":href") {
						t.Errorf("<%s %s=%q> survived: %.400s", n.Data, a.Key, a.Val, got)
					}
				}
			})
			if !strings.Contains(got, tt.keep) {
				t.Errorf("page lost %q: %.400s", tt.keep, got)
			}
			if strings.Contains(tt.in, "market.test/x") && !strings.Contains(got, inertPrefix) {
				t.Errorf("no inert attribute kept for inspection: %.400s", got)
			}
		})
	}
}

// TestInertFallback: a page the parser refuses is shown as text, never as
// HTML with live links.
func TestInertFallback(t *testing.T) {
	deep := strings.Repeat("<div>", 20000) + `<a href="http://market.test/x">deep</a>`
	if _, err := inertHTML([]byte(deep)); err == nil {
		t.Fatal("20,000 nested elements parsed; the fallback is not exercised")
	}
	f := newFixture(t, nil)
	res := saveWire(t, f, "https://shop.test/deep", testNow, wireResponse(t, deep, 0), false)
	w := f.do(t, req{path: fmt.Sprintf("/evidence/%d/page", res.EvidenceID), headers: map[string]string{"Sec-Fetch-Dest": "iframe"}})
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("deep page = %d %q, want it as plain text", w.Code, w.Header().Get("Content-Type"))
	}
}
