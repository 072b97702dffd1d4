package demo

import (
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
)

// shopPerPage is the number of products on one category page.
const shopPerPage = 6

// shop is demo-shop: a clearnet-style web shop swept in page mode.
//
//	/                         home: categories, featured products
//	/category/{slug}?page=N   paginated category (nav.pagination a.page, a[rel=next])
//	/product/{id}             product: nav.breadcrumbs, h1, .price, .vendor, .description, ul.related
//	/cart, /login             denied by the config
//	/admin                    disallowed by robots.txt
//	/about, /robots.txt
type shop struct {
	data *siteData
	tpl  templates
}

// newShop loads demo-shop's embedded data and templates.
func newShop(fsys fs.FS) (*shop, error) {
	d, err := loadData(fsys, "shop")
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates(fsys, "shop", "home", "category", "product", "simple")
	if err != nil {
		return nil, err
	}
	return &shop{data: d, tpl: t}, nil
}

func (s *shop) name() string               { return "demo-shop" }
func (s *shop) listings() []item           { return s.data.Items }
func (s *shop) listingPath(it item) string { return "/product/" + strconv.Itoa(it.ID) }

func (s *shop) stanza() stanza {
	return stanza{
		deny:       []string{"/cart", "/login"},
		follow:     []string{"a[href]"},
		urlPattern: `/product/\d+$`,
		fields: [][2]string{
			{"title", "h1"},
			{"description", ".description"},
			{"price", ".price"},
			{"vendor", ".vendor"},
		},
	}
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /category/{slug}", s.category)
	mux.HandleFunc("GET /product/{id}", s.product)
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "User-agent: *\nDisallow: /admin\n")
	})
	simple := func(status int, title, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.tpl.render(w, status, "simple", page{Site: s.data, Title: title, Message: msg})
		}
	}
	mux.HandleFunc("/cart", simple(http.StatusOK, "Your cart", "Your cart is empty. Sign in to see saved items."))
	mux.HandleFunc("/login", simple(http.StatusOK, "Sign in", "Sign in with your Brightmart account."))
	mux.HandleFunc("/admin", simple(http.StatusForbidden, "Admin", "Staff only. This area is not for crawlers."))
	mux.HandleFunc("GET /about", simple(http.StatusOK, "About Brightmart",
		"Brightmart is an independent marketplace for third-party sellers. We ship worldwide from partner warehouses."))
	mux.HandleFunc("/", simple(http.StatusNotFound, "Page not found", "We could not find that page."))
	return mux
}

func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	var featured []item
	for _, sec := range s.data.Sections {
		if items := inSection(s.data.Items, sec.Slug); len(items) > 0 {
			featured = append(featured, items[0])
		}
	}
	s.tpl.render(w, http.StatusOK, "home", page{Site: s.data, Title: s.data.Title, Items: featured})
}

func (s *shop) category(w http.ResponseWriter, r *http.Request) {
	sec, err := sectionBySlug(s.data.Sections, r.PathValue("slug"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	items, p := paginate(inSection(s.data.Items, sec.Slug), atoiPage(r.URL.Query().Get("page")), shopPerPage, "/category/"+sec.Slug)
	s.tpl.render(w, http.StatusOK, "category", page{Site: s.data, Title: sec.Name, Section: sec, Items: items, Pager: p})
}

func (s *shop) product(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	it, err := byID(s.data.Items, id)
	if !ok || err != nil {
		s.tpl.render(w, http.StatusNotFound, "simple", page{Site: s.data, Title: "Product not found", Message: "This product is no longer available."})
		return
	}
	sec, _ := sectionBySlug(s.data.Sections, it.Section)
	var related []item
	for _, o := range inSection(s.data.Items, it.Section) {
		if o.ID != it.ID && len(related) < 4 {
			related = append(related, o)
		}
	}
	s.tpl.render(w, http.StatusOK, "product", page{Site: s.data, Title: it.Title, Section: sec, Item: it, Related: related})
}
