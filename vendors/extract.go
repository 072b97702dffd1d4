package vendors

import (
	"bytes"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/publicsuffix"

	"snoop/identify"
	"snoop/store"
)

// versionSightings returns the identifiers in one listing version's own
// fields, each with the version's evidence record and its span in the
// field (source "title", "description", "vendor", "text" or "field:NAME").
func versionSightings(v store.VersionText) []store.Sighting {
	opts := identify.Options{OwnDomains: ownDomains(v.URL)}
	var out []store.Sighting
	add := func(source, text string) {
		for _, m := range identify.Extract(text, opts) {
			out = append(out, sighting(v, source, m))
		}
	}
	add("title", v.Title)
	add("description", v.Description)
	add("vendor", v.Vendor)
	add("text", v.Text)
	names := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch k {
		case "title", "description", "vendor", "price", "url":
			continue // stored in their own columns
		}
		add("field:"+k, v.Fields[k])
	}
	return out
}

func sighting(v store.VersionText, source string, m identify.Match) store.Sighting {
	return store.Sighting{
		ListingID: v.ListingID, EvidenceID: v.EvidenceID, Kind: string(m.Kind), Value: m.Value,
		LinkKey: m.Key(), Source: source, Start: m.Start, End: m.End, Raw: m.Raw, SeenAt: v.SeenAt,
	}
}

// ownDomains returns the registrable domain of a listing's URL: the
// marketplace's own, never a seller's website.
func ownDomains(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return []string{d, host}
	}
	return []string{host}
}

// pageSightings returns the identifiers in an HTML page (the decoded
// payload of evidence v.EvidenceID) with spans in that payload: in its
// text, and in link targets (href). Scripts, styles and other attributes
// are skipped.
func pageSightings(v store.VersionText, body []byte) []store.Sighting {
	opts := identify.Options{OwnDomains: ownDomains(v.URL)}
	var out []store.Sighting
	add := func(text string, offset int) {
		for _, m := range identify.Extract(text, opts) {
			m.Start += offset
			m.End += offset
			out = append(out, sighting(v, "page", m))
		}
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	offset := 0
	skip := ""
	// Text between tags is gathered into one run (tags such as <b> may
	// split an identifier's label from its value); a run is cut at block
	// boundaries, which are replaced by newlines at the same length so that
	// spans stay true.
	var run []byte
	runStart := -1
	flush := func() {
		if runStart >= 0 {
			add(string(run), runStart)
		}
		run, runStart = run[:0], -1
	}
	for {
		tt := z.Next()
		raw := z.Raw()
		start := offset
		offset += len(raw)
		switch tt {
		case html.ErrorToken:
			flush()
			return out
		case html.TextToken:
			if skip != "" {
				continue
			}
			if runStart < 0 {
				runStart = start
			}
			run = append(run, raw...)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tt == html.StartTagToken && (tag == "script" || tag == "style" || tag == "noscript" || tag == "template") {
				skip = tag
			}
			if tt == html.EndTagToken && tag == skip {
				skip = ""
			}
			if tag == "br" && runStart >= 0 {
				// A line break within a run: a newline, padded to the tag's length.
				run = append(run, '\n')
				run = append(run, bytes.Repeat([]byte{' '}, len(raw)-1)...)
			} else if inline[tag] && runStart >= 0 {
				// Keep the run going: blank out the tag at its length.
				run = append(run, bytes.Repeat([]byte{' '}, len(raw))...)
			} else {
				flush()
			}
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				attr := string(val)
				if cf, ok := cloudflareEmail(string(key), attr); ok {
					// An address hidden by Cloudflare's e-mail protection.
					if i := strings.Index(string(raw), attr); i >= 0 {
						for _, m := range identify.Extract(cf, opts) {
							if m.Kind == identify.Email {
								out = append(out, sighting(v, "page", identify.Match{Kind: m.Kind, Value: m.Value,
									Raw: attr, Start: start + i, End: start + i + len(attr)}))
							}
						}
					}
					continue
				}
				if string(key) != "href" || len(val) == 0 {
					continue
				}
				if i := strings.Index(string(raw), attr); i >= 0 {
					add(attr, start+i)
				}
			}
		default:
			flush()
		}
	}
}

// inline are tags that do not end a run of text.
var inline = map[string]bool{
	"a": true, "b": true, "i": true, "em": true, "strong": true, "span": true, "code": true,
	"small": true, "u": true, "s": true, "sub": true, "sup": true, "font": true, "mark": true, "kbd": true,
}

// sellerPageWords are path words of links to a seller's or company's own
// page on a marketplace.
var sellerPageWords = []string{"vendor", "seller", "profile", "company", "supplier", "store", "user", "member", "shop"}

// sellerLinks returns the links of a listing's page that lead to its
// seller's page on the same site: links whose text is the seller's name,
// or whose path names a vendor, seller, profile, company, supplier, store,
// user or member page. At most a few are returned.
func sellerLinks(body []byte, pageURL, sellerName string) []string {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil
	}
	name := normName(sellerName)
	z := html.NewTokenizer(bytes.NewReader(body))
	var out []string
	var href string
	var text strings.Builder
	inA := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			tn, hasAttr := z.TagName()
			if string(tn) != "a" {
				continue
			}
			inA, href = true, ""
			text.Reset()
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if string(k) == "href" {
					href = string(v)
				}
			}
		case html.TextToken:
			if inA {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			tn, _ := z.TagName()
			if string(tn) != "a" || !inA {
				continue
			}
			inA = false
			u, err := base.Parse(strings.TrimSpace(href))
			if err != nil || u.Host != base.Host || u.Path == base.Path || (u.Scheme != "http" && u.Scheme != "https") {
				continue
			}
			u.Fragment = ""
			byName := name != "" && normName(text.String()) == name
			byPath := false
			for seg := range strings.SplitSeq(strings.ToLower(u.Path), "/") {
				if slices.Contains(sellerPageWords, seg) || slices.Contains(sellerPageWords, strings.TrimSuffix(seg, "s")) {
					byPath = true
				}
			}
			// A link by path alone must also be the seller's (its text
			// is the name), unless the listing shows no name.
			if byName || byPath && name == "" {
				if s := u.String(); !slices.Contains(out, s) && len(out) < 3 {
					out = append(out, s)
				}
			}
		}
	}
}

// cloudflareEmail decodes an address hidden by Cloudflare's e-mail
// protection: the hex of a key byte followed by the address XORed with it,
// in a data-cfemail attribute or after "/cdn-cgi/l/email-protection#".
func cloudflareEmail(key, val string) (string, bool) {
	var h string
	switch {
	case key == "data-cfemail":
		h = val
	case key == "href" && strings.Contains(val, "/cdn-cgi/l/email-protection#"):
		_, h, _ = strings.Cut(val, "#")
	default:
		return "", false
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 4 {
		return "", false
	}
	out := make([]byte, len(b)-1)
	for i := range out {
		out[i] = b[i+1] ^ b[0]
	}
	return string(out), true
}
