package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"snoop/evidence"
	"snoop/store"
)

// maxDecoded bounds the decoded size of an archived body (a defence
// against compression bombs in evidence).
const maxDecoded = 32 << 20

// decodedBody is the payload of an archived HTTP response.
type decodedBody struct {
	ContentType string // media type as the server declared it ("" if none)
	Charset     string
	Body        []byte // de-chunked and content-decoded (gzip, deflate, br)
	Truncated   bool   // cut at maxDecoded, or the capture itself was cut
}

// decodeResponse parses the exact response bytes of an evidence record
// (status line, headers and body as on the wire) with the parser the WARC
// writer uses, and returns its body with transfer and content coding
// removed.
func decodeResponse(raw []byte) (decodedBody, error) {
	d, err := evidence.DecodeHTTPResponse(raw, maxDecoded)
	if d == nil {
		return decodedBody{}, fmt.Errorf("parse archived response: %w", err)
	}
	out := decodedBody{ContentType: d.ContentType, Charset: d.Charset, Body: d.Body, Truncated: d.Cut}
	if err != nil {
		return out, fmt.Errorf("archived body: %w", err)
	}
	return out, nil
}

// pageBytes returns the response bytes that hold ev's page: its own, or
// for a revisit (headers only) the original's.
func (s *Server) pageBytes(ctx context.Context, ev store.Evidence) ([]byte, error) {
	if !ev.Revisit {
		return ev.ResponseBytes, nil
	}
	orig, err := s.opts.DB.Evidence(ctx, ev.RefersTo)
	if err != nil {
		return nil, fmt.Errorf("original of revisit %d: %w", ev.ID, err)
	}
	return orig.ResponseBytes, nil
}

// evidenceFromPath loads the evidence named by {id}.
func (s *Server) evidenceFromPath(w http.ResponseWriter, r *http.Request) (store.Evidence, bool) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		sandboxError(w, http.StatusBadRequest, "evidence ID must be a positive number")
		return store.Evidence{}, false
	}
	ev, err := s.opts.DB.Evidence(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		sandboxError(w, http.StatusNotFound, fmt.Sprintf("no evidence %d", id))
		return store.Evidence{}, false
	}
	if err != nil {
		s.log.Error("load evidence", "id", id, "err", err)
		sandboxError(w, http.StatusInternalServerError, "internal error (see the server log)")
		return store.Evidence{}, false
	}
	return ev, true
}

// setEvidenceHeaders makes a response safe to carry hostile content: a
// sandbox with no scripts, no plugins, no forms, an opaque origin, nothing
// loaded from anywhere, frameable only by the workbench.
func setEvidenceHeaders(h http.Header) {
	h.Set("Content-Security-Policy", cspEvidence)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func sandboxError(w http.ResponseWriter, code int, msg string) {
	setEvidenceHeaders(w.Header())
	http.Error(w, msg, code)
}

// evidencePage is the workbench page that shows an archived page: its
// record and the body in a sandboxed iframe. The page's frame-src 'self'
// keeps the frame from being navigated anywhere but the workbench, so a
// click on a link of the archived page goes nowhere; an archived page is
// never a top-level document (see evidenceView).
func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r.PathValue("id"))
	if !ok {
		s.errorPage(w, r, http.StatusBadRequest, "evidence ID must be a positive number")
		return
	}
	ev, err := s.opts.DB.Evidence(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, fmt.Sprintf("no evidence %d", id))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", cspDetail)
	s.render(w, r, http.StatusOK, "evidence", fmt.Sprintf("Evidence %d", id), toEvidenceJSON(ev))
}

// framedDest reports whether a request's Sec-Fetch-Dest lets it have an
// archived body: a frame, a fetch, or a client that sends no such header
// (not a browser). A top-level navigation is refused, because a top-level
// document can follow its links whatever its Content-Security-Policy says.
func framedDest(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "", "iframe", "frame", "empty":
		return true
	}
	return false
}

// evidenceView serves an archived page's body for the sandboxed iframe of
// the hit and evidence pages (for a revisit, the original's body). HTML is
// served as HTML, its first maxViewHTML bytes with links made inert (see
// inertHTML; under the sandbox CSP nothing in it runs or loads); other
// text is served as plain text; anything else is offered as a download. A
// browser opening it as a page of its own is sent to the evidence page.
func (s *Server) evidenceView(w http.ResponseWriter, r *http.Request) {
	if !framedDest(r) {
		id, ok := pathID(r.PathValue("id"))
		if !ok || r.Header.Get("Sec-Fetch-Dest") != "document" {
			sandboxError(w, http.StatusForbidden, "an archived page is shown only inside the workbench's sandboxed frame")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/evidence/%d", id), http.StatusSeeOther)
		return
	}
	ev, ok := s.evidenceFromPath(w, r)
	if !ok {
		return
	}
	setEvidenceHeaders(w.Header())
	w.Header().Set("Vary", "Sec-Fetch-Dest")
	raw, err := s.pageBytes(r.Context(), ev)
	if err != nil {
		s.log.Error("load evidence", "id", ev.ID, "err", err)
		sandboxError(w, http.StatusInternalServerError, "internal error (see the server log)")
		return
	}
	d, err := decodeResponse(raw)
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "the archived response cannot be shown: %v\n(download the exact bytes from /evidence/%d/raw)\n", err, ev.ID)
		return
	}
	charset := "utf-8"
	if d.Charset != "" && isToken(d.Charset) {
		charset = d.Charset
	}
	switch {
	case d.ContentType == "text/html" || d.ContentType == "application/xhtml+xml" || d.ContentType == "":
		body := d.Body[:min(len(d.Body), maxViewHTML)]
		inert, err := inertHTML(body)
		if err != nil {
			s.log.Warn("archived page shown as text", "evidence", ev.ID, "err", err)
			w.Header().Set("Content-Type", "text/plain; charset="+charset)
			d.Body = body
			break
		}
		w.Header().Set("Content-Type", "text/html; charset="+charset)
		d.Body = inert
	case strings.HasPrefix(d.ContentType, "text/") || d.ContentType == "application/json":
		w.Header().Set("Content-Type", "text/plain; charset="+charset)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"evidence-%d.bin\"", ev.ID))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Body)))
	w.Write(d.Body)
}

// evidenceRaw sends the exact stored response bytes (status line, headers
// and body as received; a revisit's status line and headers only), whose
// sha256 is the evidence digest.
func (s *Server) evidenceRaw(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidenceFromPath(w, r)
	if !ok {
		return
	}
	setEvidenceHeaders(w.Header())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"evidence-%d.http\"", ev.ID))
	w.Header().Set("Content-Length", strconv.Itoa(len(ev.ResponseBytes)))
	w.Header().Set("X-Snoop-SHA256", ev.SHA256)
	if ev.Revisit {
		w.Header().Set("X-Snoop-Revisit-Of", fmt.Sprintf("/evidence/%d/raw", ev.RefersTo))
	}
	w.Write(ev.ResponseBytes)
}

// screenshot serves a PNG of the hit's page, for /hits/{id}/screenshot and
// /screenshots/{id}.png: from Options.Screenshot when set, else the latest
// screenshot in the store.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) {
	if name := r.PathValue("name"); name != "" {
		id, ok := strings.CutSuffix(name, ".png")
		if !ok {
			sandboxError(w, http.StatusNotFound, "screenshots are named {hit id}.png")
			return
		}
		r.SetPathValue("id", id)
	}
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	var png []byte
	if s.opts.Screenshot != nil {
		var err error
		if png, err = s.opts.Screenshot(r.Context(), h); err != nil {
			s.log.Error("screenshot", "hit", h.ID, "err", err)
			sandboxError(w, http.StatusInternalServerError, "screenshot failed (see the server log)")
			return
		}
	} else {
		shot, err := s.opts.DB.LatestScreenshot(r.Context(), h.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("screenshot", "hit", h.ID, "err", err)
			sandboxError(w, http.StatusInternalServerError, "internal error (see the server log)")
			return
		}
		png = shot.PNG
		if shot.SHA256 != "" {
			w.Header().Set("X-Snoop-SHA256", shot.SHA256)
		}
	}
	if png == nil {
		sandboxError(w, http.StatusNotFound, "no screenshot of this hit")
		return
	}
	setEvidenceHeaders(w.Header())
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
}

// isToken reports whether s is a plain charset name.
func isToken(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return false
		}
	}
	return s != ""
}
