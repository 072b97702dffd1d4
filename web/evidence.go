package web

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"

	"snoop/store"
)

// maxDecoded bounds the decoded size of an archived body (a defence
// against compression bombs in evidence).
const maxDecoded = 32 << 20

// decodedBody is the payload of an archived HTTP response.
type decodedBody struct {
	ContentType string // media type as the server declared it ("" if none)
	Charset     string
	Body        []byte // content-decoded (gzip, deflate, br)
	Truncated   bool   // cut at maxDecoded
}

// decodeResponse parses the exact response bytes of an evidence record
// (status line, headers, de-chunked body still content-encoded) and
// returns its decoded body.
func decodeResponse(raw []byte) (decodedBody, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return decodedBody{}, fmt.Errorf("parse archived response: %w", err)
	}
	defer resp.Body.Close()
	// The stored body is de-chunked; read to the end regardless of what the
	// headers say about its length.
	resp.Body.Close()
	body := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		body = raw[i+4:]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		body = raw[i+2:]
	} else {
		body = nil
	}
	var d decodedBody
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err == nil {
			d.ContentType, d.Charset = mt, params["charset"]
		}
	}
	var r io.Reader = bytes.NewReader(body)
	for _, enc := range strings.Split(resp.Header.Get("Content-Encoding"), ",") {
		switch strings.ToLower(strings.TrimSpace(enc)) {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return d, fmt.Errorf("archived body: gzip: %w", err)
			}
			r = zr
		case "deflate":
			// "deflate" is zlib-wrapped per RFC 9110, raw in some servers.
			if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
				r = zr
			} else {
				r = flate.NewReader(bytes.NewReader(body))
			}
		case "br":
			r = brotli.NewReader(r)
		default:
			return d, fmt.Errorf("archived body: unknown content encoding %q", enc)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return d, fmt.Errorf("archived body: %w", err)
	}
	if len(b) > maxDecoded {
		b, d.Truncated = b[:maxDecoded], true
	}
	d.Body = b
	return d, nil
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

// evidenceView serves an archived page's body for the sandboxed iframe of
// the hit page. HTML is served as HTML (under the sandbox CSP nothing in it
// runs or loads); other text is served as plain text; anything else is
// offered as a download.
func (s *Server) evidenceView(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.evidenceFromPath(w, r)
	if !ok {
		return
	}
	setEvidenceHeaders(w.Header())
	d, err := decodeResponse(ev.ResponseBytes)
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
		w.Header().Set("Content-Type", "text/html; charset="+charset)
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
// and body as received), whose sha256 is the evidence digest.
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
	w.Write(ev.ResponseBytes)
}

// screenshot serves a PNG of the hit's page, when a screenshot source is
// configured.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) {
	if s.opts.Screenshot == nil {
		sandboxError(w, http.StatusNotFound, "no screenshots in this server")
		return
	}
	h, ok := s.hitFromPath(w, r)
	if !ok {
		return
	}
	png, err := s.opts.Screenshot(r.Context(), h)
	if err != nil {
		s.log.Error("screenshot", "hit", h.ID, "err", err)
		sandboxError(w, http.StatusInternalServerError, "screenshot failed (see the server log)")
		return
	}
	if png == nil {
		sandboxError(w, http.StatusNotFound, "no screenshot of this hit")
		return
	}
	setEvidenceHeaders(w.Header())
	w.Header().Set("Content-Type", "image/png")
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
