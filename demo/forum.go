package demo

import (
	"io/fs"
	"net/http"
	"strconv"
)

// forumPerPage is the number of threads on one board page.
const forumPerPage = 5

// forum is demo-forum: a Tor-market-style vendor forum swept in page mode.
//
//	/                        home: boards with thread counts
//	/board/{slug}?page=N     paginated thread list (table.threads a.thread, div.pages a)
//	/thread/{id}             thread: h1, first post .listing with .price, .vendor, .description; replies
//	/vendor/{name}           vendor profile and the vendor's threads (not a listing)
//	/login, /cart            denied by the config
//
// It serves no robots.txt (404), as many hidden services do.
type forum struct {
	data *siteData
	tpl  templates
}

// newForum loads demo-forum's embedded data and templates.
func newForum(fsys fs.FS) (*forum, error) {
	d, err := loadData(fsys, "forum")
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates(fsys, "forum", "home", "board", "thread", "vendor", "simple")
	if err != nil {
		return nil, err
	}
	return &forum{data: d, tpl: t}, nil
}

func (f *forum) name() string               { return "demo-forum" }
func (f *forum) listings() []item           { return f.data.Items }
func (f *forum) listingPath(it item) string { return "/thread/" + strconv.Itoa(it.ID) }

func (f *forum) stanza() stanza {
	return stanza{
		deny:       []string{"/cart", "/login"},
		follow:     []string{"a[href]"},
		urlPattern: `/thread/\d+$`,
		fields: [][2]string{
			{"title", "h1"},
			{"description", ".listing .description"},
			{"price", ".listing .price"},
			{"vendor", ".listing .vendor"},
		},
	}
}

func (f *forum) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.home)
	mux.HandleFunc("GET /board/{slug}", f.board)
	mux.HandleFunc("GET /thread/{id}", f.thread)
	mux.HandleFunc("GET /vendor/{name}", f.vendor)
	simple := func(status int, title, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.tpl.render(w, status, "simple", page{Site: f.data, Title: title, Message: msg})
		}
	}
	mux.HandleFunc("/login", simple(http.StatusOK, "Login", "Enter username, password and the captcha. Sessions expire after 30 minutes."))
	mux.HandleFunc("/cart", simple(http.StatusOK, "Orders", "Log in to see your orders and escrow."))
	mux.HandleFunc("/", simple(http.StatusNotFound, "404", "Nothing here."))
	return mux
}

// boardCount is a board with its number of threads, for the home page.
type boardCount struct {
	section
	Count int
}

func (f *forum) home(w http.ResponseWriter, r *http.Request) {
	var counts []boardCount
	for _, s := range f.data.Sections {
		counts = append(counts, boardCount{s, len(inSection(f.data.Items, s.Slug))})
	}
	f.tpl.render(w, http.StatusOK, "home", struct {
		page
		Counts []boardCount
	}{page{Site: f.data, Title: f.data.Title}, counts})
}

func (f *forum) board(w http.ResponseWriter, r *http.Request) {
	sec, err := sectionBySlug(f.data.Sections, r.PathValue("slug"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	items, p := paginate(inSection(f.data.Items, sec.Slug), atoiPage(r.URL.Query().Get("page")), forumPerPage, "/board/"+sec.Slug)
	f.tpl.render(w, http.StatusOK, "board", page{Site: f.data, Title: sec.Name, Section: sec, Items: items, Pager: p})
}

func (f *forum) thread(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	it, err := byID(f.data.Items, id)
	if !ok || err != nil {
		f.tpl.render(w, http.StatusNotFound, "simple", page{Site: f.data, Title: "404", Message: "Thread not found or deleted by a moderator."})
		return
	}
	sec, _ := sectionBySlug(f.data.Sections, it.Section)
	f.tpl.render(w, http.StatusOK, "thread", page{Site: f.data, Title: it.Title, Section: sec, Item: it})
}

func (f *forum) vendor(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, v := range f.data.Vendors {
		if v.Name == name {
			var items []item
			for _, it := range f.data.Items {
				if it.Vendor == name {
					items = append(items, it)
				}
			}
			f.tpl.render(w, http.StatusOK, "vendor", page{Site: f.data, Title: "Vendor " + name, Vendor: v, Items: items})
			return
		}
	}
	f.tpl.render(w, http.StatusNotFound, "simple", page{Site: f.data, Title: "404", Message: "No such vendor."})
}
