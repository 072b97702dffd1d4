package config

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"snoop/internal/yamlbound"
	"snoop/rules"
)

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9-]+$`)
	attrRE      = regexp.MustCompile(`^[A-Za-z_:][-A-Za-z0-9_:.]*$`)
	fieldNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	gateNameRE  = regexp.MustCompile(`^[a-z0-9_-]+$`)
	cronParser  = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// MaxFileBytes is the largest configuration file Parse accepts. Aliases
// may repeat parts of it a few times, never multiply it (see package
// yamlbound).
const MaxFileBytes = 4 << 20

// Parse parses and validates a configuration. name is used in error messages and
// to resolve cookies_file paths; Parse does no I/O. A non-nil error is an ErrorList.
func Parse(name string, data []byte) (*Config, error) {
	p := &parser{file: name, dir: filepath.Dir(name)}
	cfg := p.parse(data)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
		return nil, p.errs
	}
	return cfg, nil
}

type parser struct {
	file string
	dir  string
	errs ErrorList
}

func (p *parser) errorf(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) *Config {
	doc, err := yamlbound.Parse(data, yamlbound.Limits{MaxBytes: MaxFileBytes})
	if err != nil {
		var e *yamlbound.Error
		if errors.As(err, &e) && e.Limit {
			p.errs = append(p.errs, &Error{File: p.file, Line: e.Line, Msg: e.Msg})
		} else if errors.As(err, &e) {
			p.errs = append(p.errs, &Error{File: p.file, Line: e.Line, Msg: "invalid YAML: " + e.Msg})
		} else {
			p.errs = append(p.errs, &Error{File: p.file, Msg: "invalid YAML: " + err.Error()})
		}
		return nil
	}
	cfg := &Config{File: p.file, Defaults: Builtin(), Alerts: defaultAlerts()}
	if len(doc.Content) == 0 {
		p.errorf(nil, "", "empty config: no marketplaces")
		return cfg
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "config must be a mapping with defaults and marketplaces")
		return cfg
	}
	var defaults, markets *yaml.Node
	p.mapping(root, "", func(key, path string, k, v *yaml.Node) {
		switch key {
		case "defaults":
			defaults = v
		case "marketplaces":
			markets = v
		case "alerts":
			cfg.Alerts = p.alerts(v, path)
		default:
			p.errorf(k, path, "%s", unknownKey(key, rootKeys))
		}
	})
	if defaults != nil && !isNull(defaults) {
		if defaults.Kind != yaml.MappingNode {
			p.errorf(defaults, "defaults", "must be a mapping")
		} else {
			p.mapping(defaults, "defaults", func(key, path string, k, v *yaml.Node) {
				if !p.setting(key, path, v, &cfg.Defaults) {
					p.errorf(k, path, "%s", unknownKey(key, settingKeys))
				}
			})
		}
	}
	if markets == nil || isNull(markets) {
		p.errorf(root, "marketplaces", "missing: at least one marketplace is required")
		return cfg
	}
	if markets.Kind != yaml.SequenceNode {
		p.errorf(markets, "marketplaces", "must be a list")
		return cfg
	}
	if len(markets.Content) == 0 {
		p.errorf(markets, "marketplaces", "empty: at least one marketplace is required")
	}
	firstLine := map[string]int{}
	for i, n := range markets.Content {
		path := fmt.Sprintf("marketplaces[%d]", i)
		m, nameNode := p.market(resolve(n), path, cfg.Defaults)
		if m.Name != "" {
			if l, dup := firstLine[m.Name]; dup {
				p.errorf(nameNode, path+".name", "duplicate marketplace name %q (first at line %d)", m.Name, l)
			} else {
				firstLine[m.Name] = nameNode.Line
			}
		}
		cfg.Marketplaces = append(cfg.Marketplaces, m)
	}
	return cfg
}

// mapping calls fn for each key of the mapping n, reporting non-scalar and duplicate keys.
func (p *parser) mapping(n *yaml.Node, prefix string, fn func(key, path string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, prefix, "keys must be plain strings")
			continue
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if l, dup := seen[k.Value]; dup {
			p.errorf(k, path, "key defined twice (first at line %d)", l)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, path, k, v)
	}
}

func (p *parser) market(n *yaml.Node, path string, defaults Settings) (Market, *yaml.Node) {
	m := Market{Settings: defaults, Kind: rules.DefaultSiteKind}
	m.Headers = maps.Clone(defaults.Headers)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping")
		return m, n
	}
	var nameNode, startNode, followNode, listingNode *yaml.Node
	var autoKeys autoKeys
	p.mapping(n, path, func(key, kpath string, k, v *yaml.Node) {
		switch key {
		case "name":
			nameNode = v
			name, ok := p.str(v, kpath)
			if !ok {
				return
			}
			if !nameRE.MatchString(name) {
				p.errorf(v, kpath, "%q must be non-empty and use only a-z, 0-9 and -", name)
				return
			}
			m.Name = name
		case "start_urls":
			startNode = v
			for i, item := range p.list(v, kpath) {
				ipath := fmt.Sprintf("%s[%d]", kpath, i)
				s, ok := p.str(item, ipath)
				if !ok {
					continue
				}
				if err := checkStartURL(s); err != nil {
					p.errorf(item, ipath, "%v", err)
					continue
				}
				m.StartURLs = append(m.StartURLs, s)
			}
		case "allow":
			m.Allow = p.regexps(v, kpath)
		case "deny":
			m.Deny = p.regexps(v, kpath)
		case "follow":
			followNode = v
			for i, item := range p.list(v, kpath) {
				ipath := fmt.Sprintf("%s[%d]", kpath, i)
				s, ok := p.str(item, ipath)
				if !ok {
					continue
				}
				if err := checkSelector(s); err != nil {
					p.errorf(item, ipath, "%v", err)
					continue
				}
				m.Follow = append(m.Follow, s)
			}
		case "listing":
			listingNode = v
			m.Listing = p.listing(k, v, kpath)
		case "template", "kind":
			p.autoKey(&autoKeys, key, kpath, v)
		default:
			if !p.setting(key, kpath, v, &m.Settings) {
				p.errorf(k, kpath, "%s", unknownKey(key, marketKeys))
			}
		}
	})
	if nameNode == nil {
		p.errorf(n, path+".name", "missing")
		nameNode = n
	}
	if startNode == nil {
		p.errorf(n, path+".start_urls", "missing: at least one start URL is required")
	} else if sn := resolve(startNode); isNull(sn) || (sn.Kind == yaml.SequenceNode && len(sn.Content) == 0) {
		p.errorf(startNode, path+".start_urls", "empty: at least one start URL is required")
	}
	p.applyAutoKeys(&m, autoKeys)
	if (listingNode == nil || isNull(listingNode)) && !m.Listing.Auto {
		p.errorf(n, path+".listing", "missing: say which pages or elements are listings (url_pattern for page mode, item for item mode, or auto)")
	}
	explicitAllow := len(m.Allow) > 0
	if !explicitAllow {
		m.Allow = defaultAllow(m.StartURLs)
	}
	p.startsAllowed(startNode, path+".start_urls", m, explicitAllow)
	if followNode == nil || isNull(followNode) {
		m.Follow = []string{"a[href]"}
	}
	return m, nameNode
}

func (p *parser) listing(k, n *yaml.Node, path string) ListingSpec {
	var ls ListingSpec
	if isNull(n) {
		return ls
	}
	if n.Kind == yaml.ScalarNode {
		return p.listingScalar(n, path)
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping or auto")
		return ls
	}
	var patNode, itemNode, fieldsNode, fieldsKey *yaml.Node
	p.mapping(n, path, func(key, kpath string, k, v *yaml.Node) {
		switch key {
		case "url_pattern":
			patNode = v
			s, ok := p.str(v, kpath)
			if !ok || s == "" {
				return
			}
			re, err := regexp.Compile(s)
			if err != nil {
				p.errorf(v, kpath, "invalid regex: %v", err)
				return
			}
			ls.URLPattern = re
		case "item":
			itemNode = v
			s, ok := p.str(v, kpath)
			if !ok || s == "" {
				return
			}
			if err := checkSelector(s); err != nil {
				p.errorf(v, kpath, "%v", err)
				return
			}
			ls.Item = s
		case "fields":
			fieldsNode, fieldsKey = v, k
		case "auto":
			ls.Auto = p.autoFlag(v, kpath)
		default:
			p.errorf(k, kpath, "%s", unknownKey(key, listingKeys))
		}
	})
	pattern := patNode != nil && strings.TrimSpace(patNode.Value) != ""
	item := itemNode != nil && strings.TrimSpace(itemNode.Value) != ""
	if pattern && item {
		p.errorf(itemNode, path+".item", "url_pattern and item are both set; use one (page mode or item mode)")
	}
	if ls.Auto && (pattern || item) {
		p.errorf(n, path+".auto", "auto and url_pattern/item are both set; use one")
	}
	item = item || ls.Auto // auto fields apply to each listing found, as in item mode
	if fieldsNode != nil && !isNull(fieldsNode) {
		fpath := path + ".fields"
		if fieldsNode.Kind != yaml.MappingNode {
			p.errorf(fieldsNode, fpath, "must be a mapping of field name to selector")
		} else {
			if !pattern && !item && len(fieldsNode.Content) > 0 {
				p.errorf(fieldsKey, fpath, "fields need url_pattern (page mode), item (item mode) or auto: true")
			}
			p.mapping(fieldsNode, fpath, func(key, kpath string, k, v *yaml.Node) {
				if !fieldNameRE.MatchString(key) {
					p.errorf(k, kpath, "field name must use only letters, digits, _ and -")
					return
				}
				if near := nearest(key, knownFields); near != "" && near != key {
					p.errorf(k, kpath, "unknown field; did you mean %s? (other names are kept as extra fields, but this one looks misspelt)", near)
					return
				}
				s, ok := p.str(v, kpath)
				if !ok {
					return
				}
				f, err := parseField(key, s, item)
				if err != nil {
					p.errorf(v, kpath, "%v", err)
					return
				}
				ls.Fields = append(ls.Fields, f)
			})
		}
	}
	return ls
}

// parseField splits "selector@attr". The split is at the last '@' whose tail is an
// attribute name and whose head compiles as a selector, so "a[href*='@']" stays whole.
func parseField(name, s string, itemMode bool) (Field, error) {
	s = strings.TrimSpace(s)
	f := Field{Name: name, Selector: s}
	if i := strings.LastIndexByte(s, '@'); i >= 0 && attrRE.MatchString(s[i+1:]) {
		sel := strings.TrimSpace(s[:i])
		if sel == "" || checkSelector(sel) == nil {
			f.Selector, f.Attr = sel, s[i+1:]
		}
	}
	if f.Selector == "" {
		if f.Attr != "" && itemMode {
			return f, nil
		}
		if f.Attr != "" {
			return f, fmt.Errorf("empty selector before @%s (only allowed in item mode, for the item itself)", f.Attr)
		}
		return f, fmt.Errorf("empty selector")
	}
	return f, checkSelector(f.Selector)
}

// setting parses one Settings key into s; it reports false if key is not a settings key.
func (p *parser) setting(key, path string, v *yaml.Node, s *Settings) bool {
	switch key {
	case "user_agent":
		if str, ok := p.str(v, path); ok {
			if str == "" {
				p.errorf(v, path, "must not be empty")
			} else {
				s.UserAgent = str
			}
		}
	case "requests_per_second":
		if f, ok := p.float(v, path); ok {
			if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				p.errorf(v, path, "must be a positive number, got %s", v.Value)
			} else {
				s.RequestsPerSecond = f
			}
		}
	case "burst":
		p.intMin(v, path, 1, &s.Burst)
	case "concurrency":
		p.intMin(v, path, 1, &s.Concurrency)
	case "max_pages":
		p.intMin(v, path, 1, &s.MaxPages)
	case "max_depth":
		p.intMin(v, path, 0, &s.MaxDepth)
	case "max_body_bytes":
		var n int
		if p.intMin(v, path, 1, &n) {
			s.MaxBodyBytes = int64(n)
		}
	case "timeout":
		if str, ok := p.str(v, path); ok {
			d, err := time.ParseDuration(str)
			switch {
			case err != nil:
				p.errorf(v, path, "invalid duration %q (want e.g. 30s, 2m)", str)
			case d <= 0:
				p.errorf(v, path, "must be positive, got %s", str)
			default:
				s.Timeout = d
			}
		}
	case "robots":
		if str, ok := p.str(v, path); ok {
			if str != RobotsRespect && str != RobotsIgnore {
				p.errorf(v, path, "must be respect or ignore, got %q", str)
			} else {
				s.Robots = str
			}
		}
	case "proxy":
		if str, ok := p.str(v, path); ok {
			if err := checkProxy(str); err != nil {
				p.errorf(v, path, "%v", err)
			} else {
				s.Proxy = str
			}
		}
	case "schedule":
		if str, ok := p.str(v, path); ok {
			if err := checkSchedule(str); err != nil {
				p.errorf(v, path, "%v", err)
			} else {
				s.Schedule = str
			}
		}
	case "cookies_file":
		if str, ok := p.str(v, path); ok {
			if str != "" && !filepath.IsAbs(str) {
				str = filepath.Join(p.dir, str)
			}
			s.CookiesFile = str
		}
	case "retries":
		p.intMin(v, path, 0, &s.Retries)
	case "archive":
		if str, ok := p.str(v, path); ok {
			if str != ArchiveListings && str != ArchiveAll {
				p.errorf(v, path, "must be listings or all, got %q", str)
			} else {
				s.Archive = str
			}
		}
	case "screenshots":
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
			p.errorf(v, path, "must be true or false, got %q", v.Value)
		} else {
			s.Screenshots = strings.EqualFold(v.Value, "true")
		}
	case "gates":
		s.Gates = append(slices.Clip(s.Gates), p.gates(v, path)...)
	case "headers":
		if isNull(v) {
			return true
		}
		if v.Kind != yaml.MappingNode {
			p.errorf(v, path, "must be a mapping of header name to value")
			return true
		}
		p.mapping(v, path, func(key, kpath string, k, hv *yaml.Node) {
			if !validHeaderName(key) {
				p.errorf(k, kpath, "invalid header name")
				return
			}
			val, ok := p.str(hv, kpath)
			if !ok {
				return
			}
			if strings.ContainsAny(val, "\r\n") {
				p.errorf(hv, kpath, "header value must not contain line breaks")
				return
			}
			if s.Headers == nil {
				s.Headers = map[string]string{}
			}
			s.Headers[key] = val
		})
	default:
		return false
	}
	return true
}

// gates parses a list of {name, text, selector} mappings.
func (p *parser) gates(v *yaml.Node, path string) []Gate {
	var out []Gate
	for i, item := range p.list(v, path) {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, ipath, "must be a mapping with name, text and/or selector")
			continue
		}
		var g Gate
		var nameNode, textNode, selNode *yaml.Node
		ok := true
		p.mapping(item, ipath, func(key, kpath string, k, kv *yaml.Node) {
			if key != "name" && key != "text" && key != "selector" {
				p.errorf(k, kpath, "unknown key (want name, text or selector)")
				ok = false
				return
			}
			str, isStr := p.str(kv, kpath)
			if !isStr {
				ok = false
				return
			}
			switch key {
			case "name":
				nameNode = kv
				if !gateNameRE.MatchString(str) {
					p.errorf(kv, kpath, "%q must be non-empty and use only a-z, 0-9, _ and -", str)
					ok = false
				}
				g.Name = str
			case "text":
				textNode = kv
				if str == "" {
					return
				}
				re, err := regexp.Compile("(?i)" + str)
				if err != nil {
					p.errorf(kv, kpath, "invalid regex: %v", err)
					ok = false
					return
				}
				g.Text = re
			case "selector":
				selNode = kv
				if str == "" {
					return
				}
				if err := checkSelector(str); err != nil {
					p.errorf(kv, kpath, "%v", err)
					ok = false
					return
				}
				g.Selector = str
			}
		})
		if nameNode == nil {
			p.errorf(item, ipath+".name", "missing")
			ok = false
		}
		if ok && g.Text == nil && g.Selector == "" {
			n := item
			if textNode != nil {
				n = textNode
			} else if selNode != nil {
				n = selNode
			}
			p.errorf(n, ipath, "needs text or selector")
			ok = false
		}
		if ok {
			out = append(out, g)
		}
	}
	return out
}

func (p *parser) str(v *yaml.Node, path string) (string, bool) {
	if isNull(v) {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, path, "must be a string")
		return "", false
	}
	return v.Value, true
}

func (p *parser) float(v *yaml.Node, path string) (float64, bool) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		p.errorf(v, path, "must be a number")
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil {
		p.errorf(v, path, "must be a number, got %q", v.Value)
		return 0, false
	}
	return f, true
}

func (p *parser) intMin(v *yaml.Node, path string, min int, dst *int) bool {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		p.errorf(v, path, "must be an integer")
		return false
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		p.errorf(v, path, "must be an integer, got %q", v.Value)
		return false
	}
	if n < min {
		p.errorf(v, path, "must be at least %d, got %d", min, n)
		return false
	}
	*dst = n
	return true
}

func (p *parser) list(v *yaml.Node, path string) []*yaml.Node {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, path, "must be a list")
		return nil
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, n := range v.Content {
		out[i] = resolve(n)
	}
	return out
}

func (p *parser) regexps(v *yaml.Node, path string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for i, item := range p.list(v, path) {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		s, ok := p.str(item, ipath)
		if !ok {
			continue
		}
		re, err := regexp.Compile(s)
		if err != nil {
			p.errorf(item, ipath, "invalid regex: %v", err)
			continue
		}
		out = append(out, re)
	}
	return out
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func checkSelector(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty selector")
	}
	if _, err := cascadia.Compile(s); err != nil {
		return fmt.Errorf("invalid CSS selector %q: %v", s, err)
	}
	return nil
}

func checkStartURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func checkProxy(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid proxy URL %q: %v", s, err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("proxy %q: scheme must be http, https, socks5 or socks5h", s)
	}
	if u.Host == "" || u.Port() == "" {
		return fmt.Errorf("proxy %q: needs host:port", s)
	}
	return nil
}

func checkSchedule(s string) error {
	if s == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d <= 0 {
			return fmt.Errorf("invalid schedule %q: @every needs a positive duration such as 6h", s)
		}
		return nil
	}
	if !strings.HasPrefix(s, "@") && len(strings.Fields(s)) != 5 {
		return fmt.Errorf("invalid schedule %q: want 5 cron fields (minute hour day month weekday) or @every DURATION", s)
	}
	if _, err := cronParser.Parse(s); err != nil {
		return fmt.Errorf("invalid schedule %q: %v", s, err)
	}
	return nil
}

// defaultAllow is ^scheme://host/ for each distinct start URL origin.
func defaultAllow(starts []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	seen := map[string]bool{}
	for _, s := range starts {
		u, err := url.Parse(s)
		if err != nil {
			continue
		}
		origin := strings.ToLower(u.Scheme + "://" + u.Host)
		if seen[origin] {
			continue
		}
		seen[origin] = true
		out = append(out, regexp.MustCompile("^(?i:"+regexp.QuoteMeta(origin)+")/"))
	}
	return out
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// startsAllowed reports each start URL that no allow pattern matches or a
// deny pattern matches: the sweep could never fetch it.
func (p *parser) startsAllowed(startNode *yaml.Node, path string, m Market, checkAllow bool) {
	if startNode == nil {
		return
	}
	for i, item := range resolve(startNode).Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode {
			continue
		}
		s := item.Value
		if checkAllow && !slices.ContainsFunc(m.Allow, func(re *regexp.Regexp) bool { return re.MatchString(s) }) {
			p.errorf(item, fmt.Sprintf("%s[%d]", path, i), "%q is outside allow: no allow pattern matches it, so it would never be fetched", s)
		} else if d := slices.IndexFunc(m.Deny, func(re *regexp.Regexp) bool { return re.MatchString(s) }); d >= 0 {
			p.errorf(item, fmt.Sprintf("%s[%d]", path, i), "%q matches deny pattern %q, so it would never be fetched", s, m.Deny[d].String())
		}
	}
}
