package demo

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// siteData is the layout of every sites/<name>/data.yaml file.
type siteData struct {
	Title    string    `yaml:"title"`
	Tagline  string    `yaml:"tagline"`
	Sections []section `yaml:"sections"`
	Items    []item    `yaml:"items"`
	News     []item    `yaml:"news"`    // board only: news section (not listings)
	Vendors  []vendor  `yaml:"vendors"` // forum only
}

// section is a shop category, a board section or a forum board.
type section struct {
	Slug  string `yaml:"slug"`
	Name  string `yaml:"name"`
	Blurb string `yaml:"blurb"`
}

// vendor is a forum vendor profile.
type vendor struct {
	Name     string `yaml:"name"`
	Since    string `yaml:"since"`
	Rating   string `yaml:"rating"`
	Sales    int    `yaml:"sales"`
	Ships    string `yaml:"ships"`
	Bio      string `yaml:"bio"`
	PGPShort string `yaml:"pgp"`
}

// item is one listing (or news article) of a demo site.
type item struct {
	ID          int      `yaml:"id"`
	Section     string   `yaml:"section"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Price       string   `yaml:"price"`
	Vendor      string   `yaml:"vendor"`
	Location    string   `yaml:"location"`
	Posted      string   `yaml:"posted"`
	Ships       string   `yaml:"ships"`
	Kind        Kind     `yaml:"kind"`
	Substances  []string `yaml:"substances"`
	// Hostile marks the one listing whose description is served as raw,
	// unescaped HTML: a fixture for evidence-safety tests.
	Hostile bool    `yaml:"hostile"`
	Replies []reply `yaml:"replies"` // forum only
}

// reply is a forum reply under a thread's first post.
type reply struct {
	Author string `yaml:"author"`
	Posted string `yaml:"posted"`
	Text   string `yaml:"text"`
}

// Body returns the description for a template: escaped text normally, raw
// HTML for the hostile fixture.
func (it item) Body() template.HTML {
	if it.Hostile {
		// Deliberately unescaped: this listing's description contains
		// <script>alert(1)</script> and <img src=x onerror=alert(1)> so that
		// evidence-safety tests (WARC viewers, report.html, the web UI) have a
		// live hostile page to prove they never execute captured markup.
		return template.HTML(it.Description) //nolint:gosec // test fixture, see comment
	}
	return template.HTML(template.HTMLEscapeString(it.Description))
}

// loadData reads and validates sites/<dir>/data.yaml.
func loadData(fsys fs.FS, dir string) (*siteData, error) {
	name := "sites/" + dir + "/data.yaml"
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var d siteData
	if err := yaml.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &d, nil
}

// validate checks IDs, sections and labels of the data.
func (d *siteData) validate() error {
	slugs := make(map[string]bool)
	for _, s := range d.Sections {
		if s.Slug == "" || slugs[s.Slug] {
			return fmt.Errorf("section %q: empty or duplicate slug", s.Slug)
		}
		slugs[s.Slug] = true
	}
	vendors := make(map[string]bool)
	for _, v := range d.Vendors {
		vendors[v.Name] = true
	}
	ids := make(map[int]bool)
	for _, it := range append(append([]item(nil), d.Items...), d.News...) {
		if it.ID <= 0 || ids[it.ID] {
			return fmt.Errorf("item %d: non-positive or duplicate id", it.ID)
		}
		ids[it.ID] = true
		if it.Title == "" {
			return fmt.Errorf("item %d: no title", it.ID)
		}
	}
	for _, it := range d.Items {
		if !slugs[it.Section] {
			return fmt.Errorf("item %d: unknown section %q", it.ID, it.Section)
		}
		switch it.Kind {
		case Ordinary, Decoy:
			if len(it.Substances) > 0 {
				return fmt.Errorf("item %d: %s listing with substances", it.ID, it.Kind)
			}
		case Offer:
			if len(it.Substances) == 0 {
				return fmt.Errorf("item %d: offer without substances", it.ID)
			}
		default:
			return fmt.Errorf("item %d: bad kind %q", it.ID, it.Kind)
		}
		if len(d.Vendors) > 0 && !vendors[it.Vendor] {
			return fmt.Errorf("item %d: unknown vendor %q", it.ID, it.Vendor)
		}
	}
	return nil
}

// byID returns the item with the given id.
func byID(items []item, id int) (item, error) {
	for _, it := range items {
		if it.ID == id {
			return it, nil
		}
	}
	return item{}, errNotFound
}

// inSection returns the items of one section, in data order.
func inSection(items []item, slug string) []item {
	var out []item
	for _, it := range items {
		if it.Section == slug {
			out = append(out, it)
		}
	}
	return out
}

// sectionBySlug returns the section with the given slug.
func sectionBySlug(ss []section, slug string) (section, error) {
	for _, s := range ss {
		if s.Slug == slug {
			return s, nil
		}
	}
	return section{}, errNotFound
}

// pager is one page of a paginated list, for templates.
type pager struct {
	Page, Pages int
	Links       []pageLink
	Prev, Next  string // "" on the first / last page
}

// pageLink is one numbered link of a pager.
type pageLink struct {
	N       int
	URL     string
	Current bool
}

// paginate returns the items of page (1-based, clamped) and a pager whose
// links are path?page=N.
func paginate(items []item, page, per int, path string) ([]item, pager) {
	pages := (len(items) + per - 1) / per
	if pages == 0 {
		pages = 1
	}
	page = min(max(page, 1), pages)
	href := func(n int) string { return path + "?" + url.Values{"page": {strconv.Itoa(n)}}.Encode() }
	p := pager{Page: page, Pages: pages}
	for n := 1; n <= pages; n++ {
		p.Links = append(p.Links, pageLink{N: n, URL: href(n), Current: n == page})
	}
	if page > 1 {
		p.Prev = href(page - 1)
	}
	if page < pages {
		p.Next = href(page + 1)
	}
	lo := (page - 1) * per
	hi := min(lo+per, len(items))
	return items[lo:hi], p
}

// templates holds one parsed template per page of a site; each page file
// defines "title" and "content", executed through the site's layout.html.
type templates map[string]*template.Template

// parseTemplates parses sites/<dir>/layout.html with each sites/<dir>/<page>.html.
func parseTemplates(fsys fs.FS, dir string, pages ...string) (templates, error) {
	t := make(templates, len(pages))
	layout := "sites/" + dir + "/layout.html"
	for _, p := range pages {
		tp, err := template.New("layout.html").ParseFS(fsys, layout, "sites/"+dir+"/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s templates: %w", dir, err)
		}
		t[p] = tp
	}
	return t, nil
}

// render executes page with data into a buffer and writes it with status.
func (t templates) render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	tp, ok := t[page]
	if !ok {
		http.Error(w, "no template "+page, http.StatusInternalServerError)
		return
	}
	if err := tp.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		http.Error(w, "render "+page+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// page is the data every template receives.
type page struct {
	Site    *siteData
	Title   string  // document title
	Section section // current category / section / board
	Items   []item  // list pages
	Item    item    // detail pages
	Related []item
	Pager   pager
	Vendor  vendor
	Message string // simple pages
}

// idParam parses the {id} path value of r.
func idParam(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	return id, err == nil && id > 0
}
