package autolist

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// template reads the pages of one platform (shop software, forum software,
// a channel preview): which pages are listings, where their fields are,
// and how its URLs reach one listing several ways.
type template struct {
	name   string
	detect func(p *pageInfo) bool
	// skip returns why a page of this platform holds no listing, or "".
	skip func(p *pageInfo) string
	// product matches on a page that is one listing; its fields are read
	// with the selectors below ("sel" for text, "sel@attr" for an attribute).
	product                           string
	productWhen                       func(p *pageInfo) bool // alternative test (a URL route)
	title, price, description, vendor []string
	// posts matches each listing of a page that holds several (forum
	// posts, channel messages).
	posts                                   string
	postTitle, postBody, postAuthor, thread []string
	permalink                               func(p *pageInfo, post *goquery.Selection) string
	// cleanURL removes category paths and view parameters from a listing URL.
	cleanURL func(u *url.URL)
	// extra reads platform-specific fields (CAS number, purity).
	extra func(p *pageInfo, l *Listing)
	// loose templates let pages they do not recognise go to the generic
	// steps; on the others such pages hold no listing.
	loose bool
}

// Templates returns the names of the built-in templates, for `template:`.
func Templates() []string {
	out := make([]string, len(templates))
	for i, t := range templates {
		out[i] = t.name
	}
	return out
}

func templateByName(name string) *template {
	for _, t := range templates {
		if t.name == name {
			return t
		}
	}
	return nil
}

// template returns the chosen template, or the first whose detector fires.
func (p *pageInfo) template() *template {
	if p.opts.Template != "" {
		return templateByName(p.opts.Template)
	}
	for _, t := range templates {
		if t.detect(p) {
			return t
		}
	}
	return nil
}

func (t *template) isListingPage(p *pageInfo) bool {
	if t.product != "" && p.doc.Find(t.product).Length() > 0 {
		return true
	}
	if t.productWhen != nil && t.productWhen(p) {
		return true
	}
	return t.posts != "" && p.doc.Find(t.posts).Length() > 0
}

// extract reads the listings of a page by the template's selectors.
func (t *template) extract(p *pageInfo) []Listing {
	src := "template:" + t.name
	if t.posts != "" {
		thread := firstValue(p.doc.Selection, t.thread...)
		var out []Listing
		p.doc.Find(t.posts).Each(func(_ int, post *goquery.Selection) {
			body := post
			if len(t.postBody) > 0 {
				if b := firstSel(post, t.postBody...); b != nil {
					body = b
				}
			}
			l := Listing{Source: src, Node: post, Description: text(body)}
			l.Title = strings.TrimSpace(reRE.ReplaceAllString(firstValue(post, t.postTitle...), ""))
			if l.Title == "" {
				l.Title = thread
			}
			if l.Title == "" {
				l.Title = clip(firstLine(body), 120)
			}
			l.Vendor = firstValue(post, t.postAuthor...)
			l.Price, _ = ParsePrice(l.Description)
			if t.permalink != nil {
				l.URL = t.permalink(p, post)
			}
			if l.URL == "" || l.Description == "" {
				return
			}
			out = append(out, l)
		})
		return out
	}
	if !t.isListingPage(p) {
		return nil
	}
	d := p.doc.Selection
	l := Listing{Source: src, Node: d, Page: true}
	l.Title = firstValue(d, t.title...)
	l.Description = firstValue(d, t.description...)
	l.Vendor = stripLabel(firstValue(d, t.vendor...))
	for _, spec := range t.price {
		v := value(d, spec)
		if v == "" {
			continue
		}
		if pr, ok := ParsePrice(v); ok {
			l.Price = pr
			break
		}
		if pr, ok := PriceFrom(v, p.currencyNear(d.Find(strings.SplitN(spec, "@", 2)[0]).First())); ok && pr.Currency != "" {
			l.Price = pr
			break
		}
	}
	if l.Price.Amount == "" {
		l.Price, _ = p.findPrice(p.mainContent())
	}
	if t.extra != nil {
		t.extra(p, &l)
	}
	if l.Title == "" {
		return nil
	}
	return []Listing{l}
}

func firstSel(s *goquery.Selection, sels ...string) *goquery.Selection {
	for _, sel := range sels {
		if f := s.Find(sel).First(); f.Length() > 0 {
			return f
		}
	}
	return nil
}

var reRE = regexp.MustCompile(`(?i)^\s*(re|aw|ответ)\s*:\s*`)

// firstLine is the text of s up to the first line break or block end.
func firstLine(s *goquery.Selection) string {
	var b strings.Builder
	done := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if done {
			return
		}
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.Data == "br":
			if strings.TrimSpace(b.String()) != "" {
				done = true
			}
			return
		case n.Type == html.ElementNode && skipText[n.Data]:
			return
		}
		for c := n.FirstChild; c != nil && !done; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode && !inline[n.Data] && strings.TrimSpace(b.String()) != "" {
			done = true
		}
	}
	for _, n := range s.Nodes {
		walk(n)
	}
	return collapse(b.String())
}

// has reports whether the page has an element matching sel.
func (p *pageInfo) has(sel string) bool { return p.doc.Find(sel).Length() > 0 }

// bodyReasons maps <body>/<html> classes and ids to skip reasons.
func (p *pageInfo) bodyReason(m map[string]string) string {
	for c, r := range m {
		if p.hasBodyClass(c) {
			return r
		}
	}
	return ""
}

// lastSegment keeps only the last path segment when it matches re
// ("/opioids/strong/item.html" becomes "/item.html").
func lastSegment(re *regexp.Regexp) func(u *url.URL) {
	return func(u *url.URL) {
		last := path.Base(u.Path)
		if strings.Count(strings.Trim(u.Path, "/"), "/") > 0 && re.MatchString(last) {
			u.Path, u.RawPath = "/"+last, ""
		}
	}
}

var (
	chemTextRE = regexp.MustCompile(`(?i)\bCAS(\s*(No\.?|Number|#|RN))?\s*[:：]?\s*\d{2,7}-\d{2}-\d\b`)
	chemB2BRE  = regexp.MustCompile(`(?i)\b(MOQ|min\.? order|minimum order|send inquiry|send enquiry|inquire now|get (a )?quote|supplier|purity|fob price)\b`)
	casRE      = regexp.MustCompile(`\b\d{2,7}-\d{2}-\d\b`)
)

// templates are tried in this order when detecting.
var templates = []*template{
	{
		name: "telegram",
		detect: func(p *pageInfo) bool {
			h := strings.ToLower(p.url.Hostname())
			return ((h == "t.me" || h == "telegram.me") && strings.HasPrefix(p.url.Path, "/s/")) || p.has(".tgme_widget_message[data-post]")
		},
		posts:      ".tgme_widget_message[data-post]",
		postBody:   []string{".tgme_widget_message_text"},
		postAuthor: []string{".tgme_widget_message_owner_name", ".tgme_widget_message_author"},
		permalink: func(p *pageInfo, post *goquery.Selection) string {
			if d := post.AttrOr("data-post", ""); d != "" {
				return "https://t.me/" + strings.TrimPrefix(d, "/")
			}
			return post.Find(".tgme_widget_message_date").AttrOr("href", "")
		},
	},
	{
		name: "discourse",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "discourse") || p.has("meta[name=discourse_theme_id], meta[name=discourse_current_homepage], .crawler-post, #data-discourse-setup")
		},
		skip: func(p *pageInfo) string {
			if p.has(".topic-list") && !p.has(".crawler-post") {
				return skipCategory
			}
			return ""
		},
		posts:      ".crawler-post, [itemtype$='DiscussionForumPosting'][id^=post_]",
		postBody:   []string{"[itemprop=text]", "[itemprop=articleBody]", ".post", ".cooked"},
		postAuthor: []string{".creator [itemprop=name]", "[itemprop=author] [itemprop=name]", ".creator a", ".username"},
		thread:     []string{"#topic-title h1", "h1 a", "h1"},
		permalink: func(p *pageInfo, post *goquery.Selection) string {
			n := strings.TrimPrefix(post.AttrOr("id", ""), "post_")
			if n == "" {
				n = post.Find("[itemprop=position]").AttrOr("content", "")
			}
			topic := p.canonical()
			if u, err := url.Parse(topic); err == nil {
				// /t/slug/123 or /t/slug/123/4: keep the topic part.
				segs := strings.Split(strings.Trim(u.Path, "/"), "/")
				if len(segs) >= 3 && segs[0] == "t" {
					u.Path = "/" + strings.Join(segs[:3], "/")
				}
				u.RawQuery, u.Fragment = "", ""
				topic = u.String()
			}
			if n == "" {
				return ""
			}
			return topic + "/" + n
		},
	},
	{
		name: "xenforo",
		detect: func(p *pageInfo) bool {
			return p.hasBodyClass("#xf") || strings.Contains(p.generator, "xenforo") || p.has("[data-xf-init], .p-body-header .p-title")
		},
		skip: func(p *pageInfo) string {
			if p.has(".structItem--thread, .node--forum") && !p.has("article.message") {
				return skipCategory
			}
			return ""
		},
		posts:      "article.message--post, article.message[data-content^=post-], li.message[data-author][id^=post-]",
		postBody:   []string{".message-body .bbWrapper", ".bbWrapper", ".message-content", ".messageText"},
		postAuthor: []string{"@data-author", ".message-name .username", ".message-name", ".username"},
		thread:     []string{"h1.p-title-value", ".p-title h1", "h1"},
		permalink: func(p *pageInfo, post *goquery.Selection) string {
			if id := strings.TrimPrefix(firstNonEmpty(post.AttrOr("data-content", ""), post.AttrOr("id", "")), "post-"); id != "" && strings.Trim(id, "0123456789") == "" {
				root := "/"
				if i := strings.Index(p.url.Path, "/threads/"); i >= 0 {
					root = p.url.Path[:i+1]
				}
				return root + "posts/" + id + "/"
			}
			return firstValue(post, ".message-attribution-main a@href", "a[href*='/posts/']@href")
		},
	},
	{
		name: "vbulletin",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "vbulletin") || p.has("li.postcontainer, li.postbitlegacy, [id^=post_message_], li.b-post")
		},
		skip: func(p *pageInfo) string {
			if p.has("#threads, ol.threads, .threadbit, .topic-list-item, .forumbit_post") && !p.has("li.postcontainer, li.b-post, [id^=post_message_]") {
				return skipCategory
			}
			return ""
		},
		posts:      "li.postcontainer, li.postbitlegacy, li.b-post, div.postbit_wrapper",
		postTitle:  []string{"h2.title", ".posttitle", ".b-post__title"},
		postBody:   []string{"blockquote.postcontent", ".postcontent", "[id^=post_message_]", ".js-post__content-text", ".b-post__content"},
		postAuthor: []string{".username strong", "a.username", ".b-post__author .author a", ".author a", ".username"},
		thread:     []string{"#pagetitle .threadtitle", ".threadtitle", "h1.main-title", "h1"},
		permalink: func(p *pageInfo, post *goquery.Selection) string {
			if h := firstValue(post, "a.postcounter@href", "a.b-post__count@href", "a[href*='showthread.php?p=']@href", "a[href*='#post']@href"); h != "" {
				return h
			}
			id := strings.TrimPrefix(firstNonEmpty(post.AttrOr("id", ""), post.AttrOr("data-node-id", "")), "post_")
			if id == "" {
				return ""
			}
			return "showthread.php?p=" + id
		},
		cleanURL: func(u *url.URL) {
			if u.Query().Get("p") != "" {
				dropParams(u, func(k string) bool { return k != "p" })
			}
		},
	},
	{
		name: "phpbb",
		detect: func(p *pageInfo) bool {
			return p.hasBodyClass("#phpbb") || strings.Contains(p.generator, "phpbb") || p.has("#phpbb, div.post.bg1, div.post.bg2")
		},
		skip: func(p *pageInfo) string {
			if p.has("ul.topiclist.topics, ul.topiclist.forums") && !p.has("div.post") {
				return skipCategory
			}
			return ""
		},
		posts:      "div.post[id^=p]",
		postTitle:  []string{".postbody h3 a", ".postbody h3"},
		postBody:   []string{".postbody .content", ".content"},
		postAuthor: []string{".author .username", ".author .username-coloured", ".postprofile dt a.username", ".postprofile dt a", ".author strong a", ".author strong"},
		thread:     []string{"h2.topic-title a", "h2.topic-title", "#page-body h2 a", "h2"},
		permalink: func(p *pageInfo, post *goquery.Selection) string {
			id := strings.TrimPrefix(post.AttrOr("id", ""), "p")
			if id == "" {
				return ""
			}
			return "viewtopic.php?p=" + id
		},
		cleanURL: func(u *url.URL) {
			if u.Query().Get("p") != "" {
				dropParams(u, func(k string) bool { return k != "p" })
			}
		},
	},
	{
		name: "shopify",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "shopify") || p.has("link[href*='cdn.shopify.com'], script[src*='cdn.shopify.com'], [id^=shopify-section], meta[name=shopify-checkout-api-token]")
		},
		skip: func(p *pageInfo) string {
			return p.bodyReason(map[string]string{
				"template-collection": skipCategory, "template-list-collections": skipCategory, "template-search": skipSearch,
				"template-page": skipInfo, "template-blog": skipBlog, "template-article": skipBlog, "template-cart": skipCart,
				"template-customers-login": skipLogin, "template-customers-register": skipLogin, "template-customers-account": skipLogin,
				"template-index": skipCategory,
			})
		},
		product:     "body.template-product, body[class*=template-product], product-info, .product-single, [data-section-type=product]",
		title:       []string{".product__title h1", "h1.product__title", "h1.product-single__title", ".product-single__title", ".product-meta__title", "h1[itemprop=name]", "h1"},
		price:       []string{".price__sale .price-item--sale", ".price-item--regular", "[data-product-price]", ".product__price", ".product-single__price", ".price"},
		description: []string{".product__description", ".product-single__description", ".product-description", "[itemprop=description]", ".rte"},
		vendor:      []string{".product__vendor", ".product-single__vendor", ".product-meta__vendor", ".product-vendor", "p.product__text"},
		cleanURL: func(u *url.URL) {
			if i := strings.Index(u.Path, "/products/"); i > 0 {
				u.Path, u.RawPath = u.Path[i:], ""
			}
			dropParams(u, func(k string) bool { return k == "variant" })
		},
	},
	{
		name: "magento",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "magento") || p.has(`script[type="text/x-magento-init"], [data-mage-init], script[src*="mage/requirejs"]`) ||
				p.hasBodyClass("catalog-product-view", "catalog-category-view", "cms-index-index")
		},
		skip: func(p *pageInfo) string {
			return p.bodyReason(map[string]string{
				"catalog-category-view": skipCategory, "catalogsearch-result-index": skipSearch, "catalogsearch-advanced-index": skipSearch,
				"cms-page-view": skipInfo, "cms-index-index": skipCategory, "contact-index-index": skipInfo,
				"checkout-cart-index": skipCart, "checkout-index-index": skipCart, "customer-account-login": skipLogin,
				"customer-account-create": skipLogin, "customer-account-index": skipLogin, "blog-post-view": skipBlog,
			})
		},
		product:     "body.catalog-product-view",
		title:       []string{"h1.page-title .base", "h1.page-title", "[data-ui-id=page-title-wrapper]", ".product-name h1", "h1"},
		price:       []string{".product-info-main .price-box .price", ".product-info-price .price", ".product-info-main [data-price-amount]@data-price-amount", ".product-shop .price-box .special-price .price", ".product-shop .price-box .price"},
		description: []string{".product.attribute.description .value", ".product.attribute.overview .value", "#description", ".product.info.detailed .description"},
		vendor:      []string{".seller-name", ".product-seller a", ".marketplace-seller-name", ".wk-mp-collection-seller-title", "[class*=seller-title]"},
		cleanURL:    lastSegment(regexp.MustCompile(`\.html?$`)),
	},
	{
		name: "prestashop",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "prestashop") || p.has("script[src*='prestashop'], link[href*='/themes/classic/']") ||
				strings.Contains(p.doc.Find("script").Text(), "var prestashop")
		},
		skip: func(p *pageInfo) string {
			return p.bodyReason(map[string]string{
				"#category": skipCategory, "#search": skipSearch, "#cms": skipInfo, "#cart": skipCart, "#order": skipCart,
				"#checkout": skipCart, "#authentication": skipLogin, "#registration": skipLogin, "#my-account": skipLogin,
				"#index": skipCategory, "#contact": skipInfo, "#manufacturer": skipCategory, "#supplier": skipCategory,
				"#prices-drop": skipCategory, "#new-products": skipCategory, "#best-sales": skipCategory, "#sitemap": skipInfo,
			})
		},
		product:     "body#product",
		title:       []string{"h1[itemprop=name]", "h1.product-title", "h1.h1", ".product-title", "h1"},
		price:       []string{".current-price-value", ".current-price [itemprop=price]", ".product-price .current-price", ".product-prices .price", ".current-price", "#our_price_display"},
		description: []string{"[id^=product-description-short]", ".product-description-short", ".product-description", "#description"},
		vendor:      []string{".seller-name", ".product-seller a", "[class*=seller] a"},
	},
	{
		name: "opencart",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "opencart") || p.has("a[href*='index.php?route='], link[href*='catalog/view/theme'], script[src*='catalog/view/javascript']")
		},
		skip: func(p *pageInfo) string {
			for sel, r := range map[string]string{"#product-category": skipCategory, "#product-search": skipSearch,
				"#product-manufacturer": skipCategory, "#checkout-cart": skipCart, "#account-login": skipLogin,
				"#account-register": skipLogin, "#information-information": skipInfo, "#information-contact": skipInfo,
				"#common-home": skipCategory, "#product-special": skipCategory} {
				if p.has(sel) {
					return r
				}
			}
			return ""
		},
		product: "#product-product, [id^=product-product], #product-info",
		productWhen: func(p *pageInfo) bool {
			return p.url.Query().Get("route") == "product/product" || p.url.Query().Get("product_id") != ""
		},
		title:       []string{"#content h1", "h1"},
		price:       []string{"#content .price-new", "#content ul.list-unstyled h2", "#content .price", "#product .price", ".product-price"},
		description: []string{"#tab-description", "#description", ".product-description"},
		vendor:      []string{".seller-name", "[class*=seller] a", ".vendor-name"},
		cleanURL: func(u *url.URL) {
			if u.Query().Get("product_id") != "" {
				dropParams(u, func(k string) bool {
					return slices.Contains([]string{"path", "search", "category_id", "manufacturer_id", "tag", "description", "page", "sub_category", "filter"}, k)
				})
			}
		},
	},
	{
		name: "woocommerce",
		detect: func(p *pageInfo) bool {
			return strings.Contains(p.generator, "woocommerce") || p.hasBodyClass("woocommerce", "woocommerce-page", "single-product") ||
				p.has("link[href*='woocommerce'], .woocommerce")
		},
		skip: func(p *pageInfo) string {
			if p.hasBodyClass("single-product") {
				return ""
			}
			return p.bodyReason(map[string]string{
				"tax-product_cat": skipCategory, "tax-product_tag": skipCategory, "post-type-archive-product": skipCategory,
				"archive": skipCategory, "search": skipSearch, "search-results": skipSearch, "woocommerce-cart": skipCart,
				"woocommerce-checkout": skipCart, "woocommerce-account": skipLogin, "single-post": skipBlog, "blog": skipBlog,
				"home": skipCategory, "page": skipInfo,
			})
		},
		product:     "body.single-product, .single-product div.product, h1.product_title",
		title:       []string{"h1.product_title", ".product_title", ".summary h1", "h1"},
		price:       []string{".summary .price ins .amount", ".summary .price .amount", ".entry-summary .price ins .amount", ".entry-summary .price .amount", "p.price ins .amount", "p.price .amount", "p.price"},
		description: []string{".woocommerce-product-details__short-description", "#tab-description", ".woocommerce-Tabs-panel--description", "[itemprop=description]"},
		vendor:      []string{".wcfm_store_name", ".wcfmmp_sold_by_store a", ".dokan-vendor-name", ".wcv-store-name", ".sold-by a", ".product_meta .vendor a", "#tab-vendor .store-name"},
	},
	{
		name:  "b2b-chemical",
		loose: true,
		detect: func(p *pageInfo) bool {
			t := text(p.mainContent())
			if len(t) > 20000 {
				t = t[:20000]
			}
			return chemTextRE.MatchString(t) && chemB2BRE.MatchString(t)
		},
		productWhen: func(p *pageInfo) bool {
			return p.mainContent().Find("h1").Length() > 0 && len(p.priceBlocks()) < minBlocks && casRE.MatchString(p.labelled(p.mainContent(), []string{"cas", "cas no", "cas no.", "cas number", "cas #", "cas rn"}))
		},
		title:       []string{".product-name h1", "h1.product-title", ".product-title h1", "h1"},
		price:       nil,
		description: []string{".product-desc", ".product-description", "#description", ".description"},
		vendor:      []string{".company-name", ".supplier-name", ".seller-name", "[class*=company] a", "[class*=supplier] a"},
		extra: func(p *pageInfo, l *Listing) {
			m := p.mainContent()
			if l.Vendor == "" {
				l.Vendor = p.labelled(m, append([]string{"company name", "supplier name", "manufacturer"}, vendorLabels...))
			}
			if v := p.labelled(m, priceLabels); v != "" {
				if pr, ok := ParsePrice(v); ok {
					l.Price = pr
				}
			}
			if l.Description == "" {
				l.Description = p.labelled(m, descLabels)
			}
			l.Extra = map[string]string{}
			if v := p.labelled(m, []string{"cas", "cas no", "cas no.", "cas number", "cas #", "cas rn"}); v != "" {
				l.Extra["cas"] = casRE.FindString(v)
			}
			if v := p.labelled(m, []string{"purity", "assay"}); v != "" {
				l.Extra["purity"] = v
			}
			if v := p.labelled(m, []string{"moq", "min. order", "minimum order", "min order"}); v != "" {
				l.Extra["moq"] = v
			}
		},
	},
}
