package autolist

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"$1,250.00", "1250.00 USD"},
		{"1.250,00 €", "1250.00 EUR"},
		{"12,50 €", "12.50 EUR"},
		{"£12.50", "12.50 GBP"},
		{"0.0041 BTC", "0.0041 BTC"},
		{"USD 10.00-20.00 / Kilogram", "10.00 USD"},
		{"Price: 1 500 руб", "1500 RUB"},
		{"USD10 flat", "10 USD"},
		{"model B12 at 5 EUR", "5 EUR"},
		{"5 trays", ""},
		{"US$ 99", "99 USD"},
		{"99 usd", "99 USD"},
		{"Free shipping", ""},
		{"$0.00", ""},
		{"300 EUR per 10g", "300 EUR"},
		{"only 1,500 dollars", "1500 USD"},
		{"0.5 XMR", "0.5 XMR"},
		{"in stock: 12 items", ""},
	}
	for _, tt := range tests {
		got, _ := ParsePrice(tt.in)
		if got.String() != tt.want {
			t.Errorf("ParsePrice(%q) = %q, want %q", tt.in, got.String(), tt.want)
		}
	}
}

func extract(t *testing.T, pageURL, body string, opts Options) Result {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pageURL)
	return Extract(doc, u, opts)
}

func TestStructuredSyntaxes(t *testing.T) {
	tests := []struct {
		name, body           string
		title, price, vendor string
		url                  string
	}{
		{"json-ld graph", `<html><head><link rel="canonical" href="https://s.example/p/1?utm_source=x">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage","name":"x"},
{"@type":["Product"],"name":"Isotonitazene 1g","offers":{"@type":"AggregateOffer","lowPrice":120,"priceCurrency":"EUR","offers":[{"@type":"Offer","seller":{"@type":"Organization","name":"Acme"}}]}}]}</script></head><body><h1>Isotonitazene 1g</h1></body></html>`,
			"Isotonitazene 1g", "120 EUR", "Acme", "https://s.example/p/1"},
		{"rdfa", `<html><body vocab="https://schema.org/"><div typeof="Product"><h1 property="name">Metonitazene</h1>
<div property="offers" typeof="Offer"><span property="price" content="45.5">45,50</span><meta property="priceCurrency" content="GBP">
<div property="seller" typeof="Organization"><span property="name">LabCo</span></div></div></div></body></html>`,
			"Metonitazene", "45.5 GBP", "LabCo", "https://s.example/item/2"},
		{"opengraph", `<html><head><meta property="og:type" content="product"><meta property="og:title" content="Carfentanil 1g">
<meta property="product:price:amount" content="300"><meta property="product:price:currency" content="USD">
<meta property="og:site_name" content="Carf Shop"><meta property="og:url" content="https://s.example/c/3"></head><body><p>x</p></body></html>`,
			"Carfentanil 1g", "300 USD", "Carf Shop", "https://s.example/c/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extract(t, "https://s.example/item/2?sort=asc", tt.body, Options{})
			if len(res.Listings) != 1 {
				t.Fatalf("got %d listings (skip %q), want 1", len(res.Listings), res.Skip)
			}
			l := res.Listings[0]
			if l.Title != tt.title || l.Price.String() != tt.price || l.Vendor != tt.vendor {
				t.Errorf("got %q, %q, %q; want %q, %q, %q", l.Title, l.Price, l.Vendor, tt.title, tt.price, tt.vendor)
			}
			if l.URL != tt.url {
				t.Errorf("URL %q, want %q", l.URL, tt.url)
			}
		})
	}
}

func TestNeverListings(t *testing.T) {
	priced := `<h1>%s</h1><div class="price">$20.00</div><p>Some text about our shop and its prices.</p>`
	tests := []struct{ url, body, skip string }{
		{"https://s.example/about-us", strings.Replace(priced, "%s", "About us", 1), "info"},
		{"https://s.example/cart", strings.Replace(priced, "%s", "Your cart", 1), "cart"},
		{"https://s.example/account/login", `<h1>Log in</h1><form><input type="password"></form>`, "login"},
		{"https://s.example/blog/new-batch", strings.Replace(priced, "%s", "New batch", 1), "blog"},
		{"https://s.example/x?q=fentanyl", strings.Replace(priced, "%s", "Results", 1), "search"},
		{"https://s.example/page/faq", `<script type="application/ld+json">{"@type":"FAQPage"}</script>` + strings.Replace(priced, "%s", "Questions", 1), "info"},
		{"https://s.example/category/opioids", `<h1>Opioids</h1><ul>` + strings.Repeat(`<li class="card"><a href="/p/1">Item</a> <span class="price">$5.00</span> <button>Add to cart</button></li>`, 4) + `</ul>`, "category"},
	}
	for _, tt := range tests {
		res := extract(t, tt.url, "<html><body>"+tt.body+"</body></html>", Options{})
		if len(res.Listings) != 0 || res.Skip != tt.skip {
			t.Errorf("%s: %d listings, skip %q; want none, skip %q", tt.url, len(res.Listings), res.Skip, tt.skip)
		}
	}
}

func TestTemplateByName(t *testing.T) {
	body := `<html><body><div class="tgme_widget_message" data-post="chan/5"><div class="tgme_widget_message_text">Fentanyl 1g<br>Price 50$ only</div><a class="tgme_widget_message_owner_name">Chan</a></div></body></html>`
	res := extract(t, "https://mirror.example/s/chan", body, Options{Template: "telegram"})
	if res.Template != "telegram" || len(res.Listings) != 1 {
		t.Fatalf("template %q, %d listings", res.Template, len(res.Listings))
	}
	l := res.Listings[0]
	if l.URL != "https://t.me/chan/5" || l.Title != "Fentanyl 1g" || l.Price.String() != "50 USD" || l.Vendor != "Chan" {
		t.Errorf("got %+v", l)
	}
}
