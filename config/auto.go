package config

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"snoop/autolist"
	"snoop/rules"
)

// Marketplace kinds (the `kind:` key). On a market every listing is an
// offer; on a forum it is not; on a shop, lists of products are category
// pages, while on classifieds and markets each priced block is an ad.
const (
	KindShop        = autolist.KindShop
	KindMarket      = autolist.KindMarket
	KindClassifieds = autolist.KindClassifieds
	KindForum       = autolist.KindForum
	KindChannel     = autolist.KindChannel
)

// Kinds lists the values of the `kind:` key.
var Kinds = rules.SiteKinds

// autoKeys are a marketplace's `template:` and `kind:` values with their nodes.
type autoKeys struct {
	template, kind, templatePath string
	templateNode                 *yaml.Node
}

func (p *parser) autoKey(a *autoKeys, key, path string, v *yaml.Node) {
	s, ok := p.str(v, path)
	if !ok || s == "" {
		return
	}
	switch key {
	case "template":
		if !slices.Contains(autolist.Templates(), s) {
			p.errorf(v, path, "unknown template %q (have: %s)", s, strings.Join(autolist.Templates(), ", "))
			return
		}
		a.template, a.templateNode, a.templatePath = s, v, path
	case "kind":
		if !slices.Contains(Kinds, s) {
			p.errorf(v, path, "must be one of %s, got %q", strings.Join(Kinds, ", "), s)
			return
		}
		a.kind = s
	}
}

// applyAutoKeys sets kind and template; a template without a listing
// mapping means `listing: auto`.
func (p *parser) applyAutoKeys(m *Market, a autoKeys) {
	// The marketplace's kind defaults to a shop for the rules; the listing
	// finder keeps knowing whether the kind was said at all.
	m.Kind, m.Listing.Kind = a.kind, a.kind
	if m.Kind == "" {
		m.Kind = rules.DefaultSiteKind
	}
	if a.template == "" {
		return
	}
	if m.Listing.URLPattern != nil || m.Listing.Item != "" {
		p.errorf(a.templateNode, a.templatePath, "a template needs listing: auto (this marketplace sets url_pattern or item)")
		return
	}
	m.Listing.Auto = true
	m.Listing.Template = a.template
}

// listingScalar parses `listing: auto`.
func (p *parser) listingScalar(n *yaml.Node, path string) ListingSpec {
	if strings.TrimSpace(n.Value) == "auto" {
		return ListingSpec{Auto: true}
	}
	p.errorf(n, path, "must be auto or a mapping (url_pattern or item, and fields), got %q", n.Value)
	return ListingSpec{}
}

func (p *parser) autoFlag(v *yaml.Node, path string) bool {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(v, path, "must be true or false, got %q", v.Value)
		return false
	}
	return strings.EqualFold(v.Value, "true")
}
