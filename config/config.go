// Package config reads snoop's marketplace configuration: a YAML file with a
// `defaults:` block and a list of `marketplaces:`.
//
// Example:
//
//	defaults:                       # every key here may also be set per marketplace
//	  user_agent: "Mozilla/5.0 (compatible; snoop)"
//	  requests_per_second: 1        # per host; token bucket
//	  burst: 1
//	  concurrency: 2                # requests in flight per marketplace
//	  timeout: 30s
//	  max_pages: 5000               # per marketplace per sweep
//	  max_depth: 8                  # link distance from a start URL (start URLs are depth 0)
//	  max_body_bytes: 10485760
//	  robots: respect               # respect | ignore
//	  proxy: ""                     # http://, https://, socks5:// or socks5h://
//	  retries: 3                    # retries per URL after a timeout, connection error, 429 or 5xx; 0: none
//	  archive: listings             # pages kept as evidence: listings (listing pages) | all (every page fetched)
//	  screenshots: false            # true: render each hit's page as a PNG (needs Chromium)
//	  gates:                        # extra gate patterns (CAPTCHA, login wall, DDoS interstitial)
//	    - name: tor-captcha         # reported reason, [a-z0-9_-]+
//	      text: 'prove you are not a bot'   # regex, case-insensitive, on the page title and visible text
//	      selector: "form#queue"            # CSS selector; a page matching either is a gate
//	marketplaces:
//	  - name: example-shop          # unique, [a-z0-9-]+
//	    start_urls: ["https://shop.example/"]
//	    allow: ['^https://shop\.example/']   # regexes; default: the start URLs' origins
//	    deny: ['/cart', '/login']            # regexes never fetched
//	    follow: ["a[href]"]                  # CSS selectors whose href is followed
//	    listing:
//	      url_pattern: '/product/\d+$'       # page mode: a matching page is one listing
//	      item: ""                           # item mode: each matching element is one listing
//	      fields:                            # CSS selector, relative to the page or the item;
//	        title: "h1"                      # "selector@attr" reads an attribute
//	        url: "a.permalink@href"          # item mode: the listing's own URL
//	    kind: shop                           # market | shop | classifieds | forum | channel (default shop):
//	                                         # on a market every listing is an offer; on a forum it is not
//	    schedule: "0 */6 * * *"              # 5-field cron or "@every 6h"
//	    cookies_file: ""                     # Netscape cookies.txt, relative to this file
//	    headers: {}
//
// Values are resolved in three layers: the built-in defaults (Builtin), then the
// file's `defaults:` block, then the marketplace's own keys. `headers` maps are
// merged key by key; `gates` lists are concatenated (the defaults' gates, then
// the marketplace's); every other key replaces the value below it.
//
// Gates are tried after the crawler's built-in patterns (captcha, ddos, login)
// and responses with status 403, 429 and 503; a gate page is never kept as a
// listing's evidence. Each gate needs a name and at least one of text and
// selector.
//
// Parse reports every problem it finds, not only the first, as an ErrorList whose
// entries read "FILE:LINE: KEY: what is wrong", KEY being a path such as
// marketplaces[1].listing.url_pattern.
package config

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"time"
)

// Config is a parsed, validated marketplace configuration.
type Config struct {
	// File is the name the configuration was parsed under (its path for Load).
	File string
	// Defaults are the resolved defaults: Builtin overridden by the `defaults:` block.
	Defaults Settings
	// Marketplaces are in file order.
	Marketplaces []Market
	// Alerts are the `alerts:` delivery settings; none by default.
	Alerts Alerts
}

// Settings are the keys allowed under `defaults:` and in each marketplace.
type Settings struct {
	UserAgent         string
	RequestsPerSecond float64 // per host
	Burst             int
	Concurrency       int // requests in flight per marketplace
	Timeout           time.Duration
	MaxPages          int
	MaxDepth          int // link distance from a start URL; start URLs are depth 0
	MaxBodyBytes      int64
	Robots            string // "respect" or "ignore"
	Proxy             string // "", http://, https://, socks5:// or socks5h://
	Schedule          string // "" (not scheduled), 5-field cron, a @descriptor or "@every D"
	CookiesFile       string // resolved relative to the config file's directory
	Headers           map[string]string
	Retries           int    // retries per URL after the first attempt; 0: none
	Archive           string // ArchiveListings or ArchiveAll: which pages are kept as evidence
	Screenshots       bool   // render each hit's page as a PNG
	Gates             []Gate // extra gate patterns, tried after the crawler's built-in ones
}

// Gate is a configured gate pattern: a page whose title and visible text match
// Text, or that has an element matching Selector, is a gate.
type Gate struct {
	Name     string         // reported reason, [a-z0-9_-]+
	Text     *regexp.Regexp // case-insensitive; nil if unset
	Selector string         // CSS selector; "" if unset
}

// Market is one configured marketplace with its settings resolved.
type Market struct {
	Name      string
	StartURLs []string
	Allow     []*regexp.Regexp // default: ^scheme://host/ of each start URL
	Deny      []*regexp.Regexp
	Follow    []string // CSS selectors; default ["a[href]"]
	Listing   ListingSpec
	// Kind is what the site is (market, shop, classifieds, forum or
	// channel; default shop): its prior in the rules moves the score of
	// every listing found on it (see rules.Scoring.Kinds).
	Kind string
	Settings
}

// ListingSpec says how listings are extracted from a page.
// At most one of URLPattern, Item and Auto is set; when none is, no listings are extracted.
type ListingSpec struct {
	URLPattern *regexp.Regexp // page mode (nil if unset)
	Item       string         // item mode selector ("" if unset)
	Fields     []Field        // in config order
	Auto       bool           // `listing: auto`: snoop finds listings itself; Fields still override
	Template   string         // the marketplace's `template:`; "" detects the platform
	Kind       string         // the marketplace's `kind:`, which auto mode uses as a hint
}

// Field is one extracted field. "a.permalink@href" is Selector "a.permalink",
// Attr "href". An empty Attr means the element's whitespace-collapsed text. In
// item mode an empty Selector ("@href") means the item element itself.
type Field struct{ Name, Selector, Attr string }

// Builtin returns the built-in defaults: the values documented for `defaults:`.
func Builtin() Settings {
	return Settings{
		UserAgent:         "Mozilla/5.0 (compatible; snoop)",
		RequestsPerSecond: 1,
		Burst:             1,
		Concurrency:       2,
		Timeout:           30 * time.Second,
		MaxPages:          5000,
		MaxDepth:          8,
		MaxBodyBytes:      10 << 20,
		Robots:            RobotsRespect,
		Retries:           3,
		Archive:           ArchiveListings,
	}
}

// Values of Settings.Robots.
const (
	RobotsRespect = "respect"
	RobotsIgnore  = "ignore"
)

// Values of Settings.Archive.
const (
	ArchiveListings = "listings" // listing pages only
	ArchiveAll      = "all"      // every page fetched (gate pages excepted)
)

// Load reads and parses the configuration file at path.
// A file larger than MaxFileBytes is refused without being read whole.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Market returns the marketplace with the given name.
func (c *Config) Market(name string) (Market, bool) {
	for _, m := range c.Marketplaces {
		if m.Name == name {
			return m, true
		}
	}
	return Market{}, false
}
