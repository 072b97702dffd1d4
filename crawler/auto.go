package crawler

import (
	"net/url"
	"slices"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"snoop/autolist"
	"snoop/config"
)

// autoListings finds a page's listings without selectors (`listing: auto`):
// autolist decides which pages and elements are listings and reads their
// fields; hand-written fields, relative to each listing's element, win.
func autoListings(doc *goquery.Document, pageURL string, spec config.ListingSpec, scope scopeFunc, x *extraction) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return
	}
	res := autolist.Extract(doc, u, autolist.Options{Template: spec.Template, Kind: spec.Kind})
	seen := map[string]bool{}
	for _, al := range res.Listings {
		l := Listing{URL: al.URL, Fields: al.Fields()}
		if c, err := Canonicalize(al.URL); err == nil {
			l.URL = c
		}
		for k, v := range l.Fields {
			if b, cut := bounded(v, MaxFieldBytes); cut {
				l.Fields[k] = b
				l.cut(k)
			}
		}
		if len(spec.Fields) > 0 && al.Node != nil {
			over, reason, raw := buildListing(al.Node, baseURL(doc, u), l.URL, spec.Fields, scope)
			if reason != "" {
				x.reject(reason, raw)
				continue
			}
			for k, v := range over.Fields {
				l.Fields[k] = v
			}
			l.URL = over.URL
		}
		if seen[l.URL] {
			continue
		}
		seen[l.URL] = true
		l.Text = listingText(l.Fields)
		if l.Text != "" {
			x.listings = append(x.listings, l)
		}
	}
}

// listingText is title, description, then the other fields by name (not
// url or currency, which price holds), one per line.
func listingText(f map[string]string) string {
	var parts []string
	for _, k := range []string{"title", "description"} {
		if v := f[k]; v != "" {
			parts = append(parts, v)
		}
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != "title" && k != "description" && k != "url" && k != "currency" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := f[k]; v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, "\n")
}
