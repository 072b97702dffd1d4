package demo

import (
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
)

// boardPerPage is the number of ads on one section page.
const boardPerPage = 5

// board is demo-board: a classifieds board swept in item mode.
//
//	/                      home: sections with ad counts, news headlines
//	/c/{slug}?page=N       paginated ads: article.ad with h2.title a.permalink, p.text,
//	                       .price, .seller, .location, time; nav.pager a
//	/ad/{id}               one ad, same article.ad markup
//	/news, /news/{id}      news section (no listings)
//	/post, /login, /cart   denied by the config
type board struct {
	data *siteData
	tpl  templates
}

// newBoard loads demo-board's embedded data and templates.
func newBoard(fsys fs.FS) (*board, error) {
	d, err := loadData(fsys, "board")
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates(fsys, "board", "home", "section", "ad", "news", "article", "simple")
	if err != nil {
		return nil, err
	}
	return &board{data: d, tpl: t}, nil
}

func (b *board) name() string               { return "demo-board" }
func (b *board) listings() []item           { return b.data.Items }
func (b *board) listingPath(it item) string { return "/ad/" + strconv.Itoa(it.ID) }

func (b *board) stanza() stanza {
	return stanza{
		deny:   []string{"/cart", "/login", "/post"},
		follow: []string{"nav.sections a", "nav.pager a", "a.news"},
		item:   "article.ad",
		fields: [][2]string{
			{"title", ".title"},
			{"description", ".text"},
			{"price", ".price"},
			{"vendor", ".seller"},
			{"url", "a.permalink@href"},
		},
	}
}

func (b *board) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", b.home)
	mux.HandleFunc("GET /c/{slug}", b.section)
	mux.HandleFunc("GET /ad/{id}", b.ad)
	mux.HandleFunc("GET /news", b.news)
	mux.HandleFunc("GET /news/{id}", b.article)
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "User-agent: *\nDisallow: /post\n")
	})
	simple := func(status int, title, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b.tpl.render(w, status, "simple", page{Site: b.data, Title: title, Message: msg})
		}
	}
	mux.HandleFunc("/post", simple(http.StatusOK, "Post an ad", "Sign in to post an ad. Posting is free."))
	mux.HandleFunc("/login", simple(http.StatusOK, "Sign in", "Sign in with your e-mail address."))
	mux.HandleFunc("/cart", simple(http.StatusOK, "Saved ads", "You have no saved ads."))
	mux.HandleFunc("/", simple(http.StatusNotFound, "Not found", "That page does not exist or the ad has expired."))
	return mux
}

// sectionCount is a section with its number of ads, for the home page.
type sectionCount struct {
	section
	Count int
}

func (b *board) home(w http.ResponseWriter, r *http.Request) {
	var counts []sectionCount
	for _, s := range b.data.Sections {
		counts = append(counts, sectionCount{s, len(inSection(b.data.Items, s.Slug))})
	}
	b.tpl.render(w, http.StatusOK, "home", struct {
		page
		Counts []sectionCount
	}{page{Site: b.data, Title: b.data.Title, Items: b.data.News}, counts})
}

func (b *board) section(w http.ResponseWriter, r *http.Request) {
	sec, err := sectionBySlug(b.data.Sections, r.PathValue("slug"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	items, p := paginate(inSection(b.data.Items, sec.Slug), atoiPage(r.URL.Query().Get("page")), boardPerPage, "/c/"+sec.Slug)
	b.tpl.render(w, http.StatusOK, "section", page{Site: b.data, Title: sec.Name, Section: sec, Items: items, Pager: p})
}

func (b *board) ad(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	it, err := byID(b.data.Items, id)
	if !ok || err != nil {
		b.tpl.render(w, http.StatusNotFound, "simple", page{Site: b.data, Title: "Ad not found", Message: "This ad has expired or was removed."})
		return
	}
	sec, _ := sectionBySlug(b.data.Sections, it.Section)
	b.tpl.render(w, http.StatusOK, "ad", page{Site: b.data, Title: it.Title, Section: sec, Item: it})
}

func (b *board) news(w http.ResponseWriter, r *http.Request) {
	b.tpl.render(w, http.StatusOK, "news", page{Site: b.data, Title: "Local news", Items: b.data.News})
}

func (b *board) article(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	it, err := byID(b.data.News, id)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	b.tpl.render(w, http.StatusOK, "article", page{Site: b.data, Title: it.Title, Item: it})
}
