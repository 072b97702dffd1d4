// Package discover finds sites that hit pages link to and that are not yet
// marketplaces: other shops of a vendor, mirrors, the Telegram channel a
// listing sends buyers to. They go into a "discovered" list where an
// analyst adds one as a marketplace, or dismisses it.
package discover

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/publicsuffix"

	"snoop/config"
	"snoop/evidence"
	"snoop/store"
	"snoop/sweep"
)

// Site is a site linked from a page.
type Site struct {
	Key      string // registrable domain, .onion host, or t.me/CHANNEL
	StartURL string // a marketplace for it would start here
}

// common are sites linked from countless pages that are never marketplaces.
var common = map[string]bool{
	"google.com": true, "facebook.com": true, "twitter.com": true, "x.com": true, "instagram.com": true,
	"youtube.com": true, "wikipedia.org": true, "w3.org": true, "schema.org": true, "apple.com": true,
	"microsoft.com": true, "gravatar.com": true, "wordpress.org": true, "wordpress.com": true, "woocommerce.com": true,
	"shopify.com": true, "cloudflare.com": true, "jquery.com": true, "github.com": true, "phpbb.com": true,
	"xenforo.com": true, "vbulletin.com": true, "discourse.org": true, "telegram.org": true, "opencart.com": true,
	"prestashop.com": true, "magento.com": true, "googleapis.com": true, "gstatic.com": true, "linkedin.com": true,
	"pinterest.com": true, "tiktok.com": true, "reddit.com": true, "torproject.org": true, "whatsapp.com": true,
}

// Sites returns the sites the page links to, each once, in link order,
// leaving out the page's own site, the sites known reports, and common
// sites (search engines, social networks, platform vendors).
func Sites(doc *goquery.Document, page *url.URL, known func(key string) bool) []Site {
	var out []Site
	seen := map[string]bool{key(page).Key: true}
	doc.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		u, err := page.Parse(strings.TrimSpace(a.AttrOr("href", "")))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return
		}
		s := key(u)
		if s.Key == "" || seen[s.Key] || common[s.Key] || (known != nil && known(s.Key)) {
			return
		}
		seen[s.Key] = true
		out = append(out, s)
	})
	return out
}

// key is the site of a URL.
func key(u *url.URL) Site {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	switch {
	case host == "t.me" || host == "telegram.me":
		seg, _, _ := strings.Cut(strings.Trim(strings.TrimPrefix(u.Path, "/s/"), "/"), "/")
		if seg == "" || strings.HasPrefix(seg, "+") || seg == "joinchat" || seg == "share" {
			return Site{}
		}
		return Site{Key: "t.me/" + strings.ToLower(seg), StartURL: "https://t.me/s/" + seg}
	case strings.HasSuffix(host, ".onion"):
		return Site{Key: host, StartURL: u.Scheme + "://" + host + "/"}
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return Site{}
	}
	return Site{Key: d, StartURL: u.Scheme + "://" + u.Host + "/"}
}

// KeyOf is the site key of a URL ("" if it has none).
func KeyOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return key(u).Key
}

// Collector records the sites linked from the pages of a sweep's hits.
type Collector struct {
	DB     *store.DB
	Config *config.Config // its marketplaces are known sites
	Logger *slog.Logger
}

// maxBody bounds the decoded body read from a hit's evidence.
const maxBody = 10 << 20

// AfterSweep reads the page of every hit the sweep detected and records
// the sites it links to. Errors are logged; they never fail the sweep.
func (c *Collector) AfterSweep(ctx context.Context, res sweep.Result) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if res.SweepID == 0 {
		return
	}
	known := map[string]bool{}
	for _, m := range c.Config.Marketplaces {
		for _, s := range m.StartURLs {
			if k := KeyOf(s); k != "" {
				known[k] = true
			}
		}
	}
	hits, err := c.DB.Hits(ctx, store.HitFilter{SweepID: res.SweepID})
	if err != nil {
		log.Error("discover: hits", "err", err)
		return
	}
	now := res.Started.Add(res.Elapsed)
	var found []store.Discovered
	for _, h := range hits {
		evs, err := c.DB.HitEvidence(ctx, h.ID)
		if err != nil {
			log.Error("discover: evidence", "hit", h.ID, "err", err)
			continue
		}
		for _, ev := range evs {
			d, err := evidence.DecodeHTTPResponse(ev.ResponseBytes, maxBody)
			if err != nil || len(d.Body) == 0 {
				continue // a revisit record holds headers only; try the next
			}
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(d.Body))
			page, perr := url.Parse(ev.URL)
			if err != nil || perr != nil {
				break
			}
			for _, s := range Sites(doc, page, func(k string) bool { return known[k] }) {
				found = append(found, store.Discovered{Site: s.Key, StartURL: s.StartURL, Market: h.Marketplace, SourceURL: h.URL, LastSeen: now})
			}
			break
		}
	}
	if err := c.DB.SaveDiscovered(ctx, found); err != nil {
		log.Error("discover: save", "err", err)
	}
}
