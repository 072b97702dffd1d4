package web

// The vendor pages (/vendors, /vendors/{id}) and their JSON API
// (/api/vendors). Every handler parses its input, calls one method of the
// vendor service (package vendors), which holds the rules the command line
// follows too, and renders the result.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"snoop/store"
	"snoop/vendors"
)

// vendorRoutes registers the vendor pages and API on m.
func (s *Server) vendorRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /vendors", s.vendorsPage)
	m.HandleFunc("GET /vendors/{id}", s.vendorPage)
	m.HandleFunc("POST /vendors/{id}/status", s.vendorStatusForm)
	m.HandleFunc("POST /vendors/{id}/split", s.vendorSplitForm)
	m.HandleFunc("POST /vendors/merge", s.vendorMergeForm)
	m.HandleFunc("GET /hits/{id}/vendor", s.hitVendor)

	m.HandleFunc("GET /api/vendors", s.apiVendors)
	m.HandleFunc("GET /api/vendors/{id}", s.apiVendor)
	m.HandleFunc("POST /api/vendors/{id}/status", s.apiVendorStatus)
	m.HandleFunc("POST /api/vendors/{id}/split", s.apiVendorSplit)
	m.HandleFunc("POST /api/vendors/merge", s.apiVendorMerge)
}

// vendorService is the vendor service on the server's database.
func (s *Server) vendorService() *vendors.Service {
	return vendors.NewService(s.opts.DB, vendors.Options{Now: s.opts.Now, Logger: s.log})
}

// vendorStatus maps a vendor service error to an HTTP status.
func vendorStatus(err error) int {
	switch vendors.ErrorCode(err) {
	case vendors.Invalid:
		return http.StatusBadRequest
	case vendors.NotFound:
		return http.StatusNotFound
	case vendors.Conflict:
		return http.StatusConflict
	}
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// vendorFail answers a vendor service error as JSON or HTML.
func (s *Server) vendorFail(w http.ResponseWriter, r *http.Request, err error) {
	code := vendorStatus(err)
	if code == http.StatusInternalServerError {
		s.serverErrorAny(w, r, err)
		return
	}
	s.deny(w, r, code, err.Error())
}

// vendorFilter reads the list filters from a query.
func vendorFilter(q url.Values) vendors.Filter {
	all, _ := strconv.ParseBool(q.Get("all"))
	return vendors.Filter{All: all, Market: q.Get("market"), Substance: strings.ToLower(q.Get("substance")), Status: vendors.Status(q.Get("status"))}
}

// GET /api/vendors: the vendors the query selects (as snoop vendors).
func (s *Server) apiVendors(w http.ResponseWriter, r *http.Request) {
	vs, err := s.vendorService().List(r.Context(), vendorFilter(r.URL.Query()))
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	if vs == nil {
		vs = []vendors.Vendor{}
	}
	writeJSON(w, http.StatusOK, vs)
}

// GET /api/vendors/{id}: one vendor's profile.
func (s *Server) apiVendor(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	p, err := s.vendorService().Get(r.Context(), id)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

type vendorStatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

// POST /api/vendors/{id}/status {"status": "target", "note": "…"}.
func (s *Server) apiVendorStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	var req vendorStatusRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.vendorService().SetStatus(r.Context(), id, vendors.Status(req.Status), req.Note, identityFrom(r.Context()).actor); err != nil {
		s.vendorFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": req.Status})
}

type vendorSplitRequest struct {
	Listings []int64 `json:"listings"`
	Note     string  `json:"note"`
}

// POST /api/vendors/{id}/split {"listings": [12, 14], "note": "…"}.
func (s *Server) apiVendorSplit(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	var req vendorSplitRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	nid, err := s.vendorService().Split(r.Context(), id, req.Listings, req.Note, identityFrom(r.Context()).actor)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": nid})
}

type vendorMergeRequest struct {
	IDs  []int64 `json:"ids"`
	Note string  `json:"note"`
}

// POST /api/vendors/merge {"ids": [3, 9], "note": "…"}.
func (s *Server) apiVendorMerge(w http.ResponseWriter, r *http.Request) {
	var req vendorMergeRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := s.vendorService().Merge(r.Context(), req.IDs, req.Note, identityFrom(r.Context()).actor)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id})
}

type vendorsPageData struct {
	Vendors  []vendors.Vendor
	Query    url.Values
	Markets  []string
	Statuses []vendors.Status
	All      bool
	Error    string
}

// GET /vendors: the vendor list with filters.
func (s *Server) vendorsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := vendorFilter(q)
	d := vendorsPageData{Query: q, All: f.All, Statuses: []vendors.Status{vendors.StatusNew, vendors.StatusTarget, vendors.StatusMonitor, vendors.StatusDismissed}}
	svc := s.vendorService()
	vs, err := svc.List(r.Context(), f)
	if err != nil {
		if vendorStatus(err) != http.StatusBadRequest {
			s.serverError(w, r, err)
			return
		}
		d.Error = err.Error()
	}
	d.Vendors = vs
	if runs, err := s.opts.DB.MarketRuns(r.Context()); err == nil {
		for _, m := range runs {
			d.Markets = append(d.Markets, m.Market)
		}
	}
	s.render(w, r, http.StatusOK, "vendors", "Vendors", d)
}

type vendorPageData struct {
	P        vendors.Profile
	Notice   string
	Statuses []vendors.Status
	// Where maps listing id to its listing, for the sightings table.
	Where map[int64]vendors.Listing
}

// GET /vendors/{id}: one vendor's profile.
func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	p, err := s.vendorService().Get(r.Context(), id)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	if p.ID != id {
		http.Redirect(w, r, fmt.Sprintf("/vendors/%d?notice=merged", p.ID), http.StatusSeeOther)
		return
	}
	d := vendorPageData{P: p, Where: map[int64]vendors.Listing{},
		Statuses: []vendors.Status{vendors.StatusTarget, vendors.StatusMonitor, vendors.StatusDismissed, vendors.StatusNew}}
	for _, l := range p.Listings {
		d.Where[l.ID] = l
	}
	switch r.URL.Query().Get("notice") {
	case "status":
		d.Notice = "Status recorded."
	case "split":
		d.Notice = "Listings split off into this vendor."
	case "merged":
		d.Notice = "Vendors merged into this one."
	}
	s.render(w, r, http.StatusOK, "vendor", fmt.Sprintf("Vendor %d", p.ID), d)
}

// POST /vendors/{id}/status (form: status, note).
func (s *Server) vendorStatusForm(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	err := s.vendorService().SetStatus(r.Context(), id, vendors.Status(r.PostFormValue("status")), r.PostFormValue("note"), identityFrom(r.Context()).actor)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/vendors/%d?notice=status", id), http.StatusSeeOther)
}

// POST /vendors/{id}/split (form: listing=ID..., note).
func (s *Server) vendorSplitForm(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "vendor ID must be a positive number")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "bad form")
		return
	}
	var ls []int64
	for _, v := range r.PostForm["listing"] {
		l, ok := pathID(v)
		if !ok {
			s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("listing ID %q is not a positive number", v))
			return
		}
		ls = append(ls, l)
	}
	nid, err := s.vendorService().Split(r.Context(), id, ls, r.PostFormValue("note"), identityFrom(r.Context()).actor)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/vendors/%d?notice=split", nid), http.StatusSeeOther)
}

// POST /vendors/merge (form: id=ID..., note).
func (s *Server) vendorMergeForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "bad form")
		return
	}
	var ids []int64
	for _, v := range r.PostForm["id"] {
		for _, f := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' }) {
			id, ok := pathID(f)
			if !ok {
				s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("vendor ID %q is not a positive number", f))
				return
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	id, err := s.vendorService().Merge(r.Context(), ids, r.PostFormValue("note"), identityFrom(r.Context()).actor)
	if err != nil {
		s.vendorFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/vendors/%d?notice=merged", id), http.StatusSeeOther)
}

// GET /hits/{id}/vendor: the vendor page of a hit's listing.
func (s *Server) hitVendor(w http.ResponseWriter, r *http.Request) {
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	vid, err := s.vendorService().VendorOfListing(r.Context(), h.ListingID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if vid == 0 {
		s.errorPage(w, r, http.StatusNotFound, "this hit's listing has no vendor yet")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/vendors/%d", vid), http.StatusSeeOther)
}
