// Package benchmarket generates a large, deterministic marketplace for
// benchmarks: a shop of N product pages reachable through paginated category
// pages, where about one product in fifty offers an opioid. Pages are built
// on request from the product number, so the fixture costs no disk and the
// same N always serves the same bytes.
package benchmarket

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// PerPage is the number of product links on each category page.
const PerPage = 50

// Handler serves a shop with n products:
//
//	/                    links to the first category page
//	/list/P              PerPage product links and a link to page P+1
//	/product/ID          one listing: h1, .description, .price, .vendor
//
// Category pages are numbered in the path, not the query: a crawler's trap
// guard that caps the query variants of one path (snoop's allows 50) would
// otherwise stop after the first few thousand products.
func Handler(n int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writePage(w, "Bench shop", `<a href="/list/1">All products</a>`)
	})
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /cart\n")
	})
	mux.HandleFunc("GET /list/{page}", func(w http.ResponseWriter, r *http.Request) {
		page, err := strconv.Atoi(r.PathValue("page"))
		pages := (n + PerPage - 1) / PerPage
		if err != nil || page < 1 || page > pages {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("<ul>")
		for id := (page-1)*PerPage + 1; id <= page*PerPage && id <= n; id++ {
			fmt.Fprintf(&b, `<li><a href="/product/%d">%s</a></li>`, id, title(id))
		}
		b.WriteString("</ul>")
		if page < pages {
			fmt.Fprintf(&b, `<a class="next" href="/list/%d">next</a>`, page+1)
		}
		writePage(w, fmt.Sprintf("Products, page %d", page), b.String())
	})
	mux.HandleFunc("GET /product/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 1 || id > n {
			http.NotFound(w, r)
			return
		}
		body := fmt.Sprintf(`<h1>%s</h1><div class="description">%s</div><span class="price">$%d.%02d</span><span class="vendor">vendor%d</span>
<p>%s</p><a href="/list/1">back</a> <a href="/cart">cart</a>`,
			title(id), description(id), 10+id%490, id%100, id%37, filler)
		writePage(w, title(id), body)
	})
	return mux
}

// Pages reports how many HTML pages a crawl of Handler(n) that follows every
// link but /cart fetches: the home page, the category pages and the products.
func Pages(n int) int {
	return 1 + (n+PerPage-1)/PerPage + n
}

// Listings reports how many product pages Handler(n) serves and how many of
// them offer an opioid.
func Listings(n int) (products, offers int) {
	for id := 1; id <= n; id++ {
		if isOffer(id) {
			offers++
		}
	}
	return n, offers
}

var goods = []string{"USB-C charger 65 W", "Oak side table", "Trail running shoes", "Espresso grinder",
	"Hiking backpack 40 l", "LED desk lamp", "Wool scarf", "Bluetooth speaker", "Cast iron pan", "Yoga mat"}

var offers = []string{"Isotonitazene powder", "Fentanyl HCl", "Carfentanil 1g", "Metonitazene", "Protonitazene 5 g"}

func isOffer(id int) bool { return id%50 == 7 }

func title(id int) string {
	if isOffer(id) {
		// Offers are 50 apart, so id%len(offers) would pick one name for all.
		return fmt.Sprintf("%s, lot %d", offers[(id/50)%len(offers)], id)
	}
	return fmt.Sprintf("%s #%d", goods[id%len(goods)], id)
}

func description(id int) string {
	if isOffer(id) {
		return "High purity, lab tested. Stealth shipping worldwide, pay in BTC or XMR, escrow accepted. Wickr in profile."
	}
	return "Good condition, ships within two days. Returns accepted within 30 days of delivery."
}

// filler makes product pages about the size of a real shop page's text.
var filler = strings.Repeat("Customers who viewed this item also viewed similar items in this category. ", 40)

func writePage(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title></head><body><nav><a href=\"/\">Home</a></nav>%s</body></html>", title, body)
}
