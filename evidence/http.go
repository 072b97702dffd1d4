package evidence

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// HTTP messages as stored
//
// The store keeps each response exactly as it was read from the connection:
// the status line and header fields as received (original case and order,
// possibly "Transfer-Encoding: chunked"), an empty line, then the body as it
// was on the wire (chunked framing and Content-Encoding kept), possibly cut
// at the crawler's size limit. Everything that reads those bytes goes through
// the functions below, so that the WARC payload digest, the store's revisit
// detection, the report and the web view agree on what the payload is.
//
// The payload (WARC 1.1, section 6.3.2: the entity body) is the body with the
// transfer coding removed and the content coding kept: a gzip-encoded,
// chunked page has the gzip bytes as its payload. A chunked body that ends
// early (cut at the size limit, or the connection dropped) yields the data of
// the complete and partial chunks received; a body whose chunked framing is
// not valid at all is taken as it is, as warcio does.

// ErrNotHTTP is returned (wrapped) for bytes that do not start with an HTTP
// message head (no header block end, or no valid status line).
var ErrNotHTTP = errors.New("not an HTTP message")

// maxChunkLine bounds a chunk-size line (size, extensions, CRLF) and each
// trailer line.
const maxChunkLine = 4096

// HTTPResponse is a stored HTTP response taken apart.
type HTTPResponse struct {
	Proto  string // "HTTP/1.1"
	Status int    // 200
	Reason string // "OK"
	// Header holds the header fields (canonical keys, values as received).
	Header http.Header
	// Head is the status line, the header fields and the empty line exactly
	// as stored.
	Head []byte
	// Payload is the entity body: transfer coding removed, content coding
	// kept. It aliases the input when the body is not chunked.
	Payload []byte
	// Chunked reports "Transfer-Encoding: chunked".
	Chunked bool
	// Incomplete reports a body that ends before its framing says it
	// should: a chunked body without its last chunk, or fewer bytes than
	// Content-Length.
	Incomplete bool
	// BadFraming reports chunked framing that could not be read; Payload is
	// then the body as stored.
	BadFraming bool
}

// ReadHTTPResponse parses the stored bytes of an HTTP response (see the
// notes above). Only a missing header block end or a bad status line is an
// error; a cut or malformed body is reported in the result's fields.
func ReadHTTPResponse(raw []byte) (*HTTPResponse, error) {
	head, body, ok := splitHead(raw)
	if !ok {
		return nil, fmt.Errorf("parse http response: %w: header block does not end", ErrNotHTTP)
	}
	first, fields, _ := bytes.Cut(head, []byte("\n"))
	line := strings.TrimRight(string(first), "\r")
	proto, rest, _ := strings.Cut(line, " ")
	code, reason, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil || len(code) != 3 || status < 100 {
		return nil, fmt.Errorf("parse http response: %w: bad status line %q", ErrNotHTTP, truncate(line, 60))
	}
	r := &HTTPResponse{Proto: proto, Status: status, Reason: reason, Head: head, Header: parseFields(fields)}
	r.Payload, r.Chunked, r.Incomplete, r.BadFraming = entityBody(r.Header, body)
	return r, nil
}

// ParseHTTPResponse returns the status code, header fields and payload (the
// entity body, de-chunked, still content-encoded) of stored response bytes.
// It is ReadHTTPResponse in short.
func ParseHTTPResponse(raw []byte) (status int, header http.Header, payload []byte, err error) {
	r, err := ReadHTTPResponse(raw)
	if err != nil {
		return 0, nil, nil, err
	}
	return r.Status, r.Header, r.Payload, nil
}

// PayloadSHA256 returns the hex SHA-256 of a stored response's payload, the
// value of its WARC-Payload-Digest, and whether the payload is complete (the
// body was neither cut nor badly framed). It returns "" and false for bytes
// that are not an HTTP response.
func PayloadSHA256(raw []byte) (sum string, complete bool) {
	r, err := ReadHTTPResponse(raw)
	if err != nil {
		return "", false
	}
	return sha256Hex(r.Payload), !r.Incomplete && !r.BadFraming
}

// Decoded is a stored response's body made ready for display.
type Decoded struct {
	*HTTPResponse
	ContentType string // media type as the server declared it, lower case ("" if none)
	Charset     string // its charset parameter ("" if none)
	// Body is the payload with its content coding (gzip, deflate, br)
	// removed, at most the limit given to DecodeHTTPResponse.
	Body []byte
	// Cut reports that Body was cut at the limit, or that the encoded
	// payload ended early (a truncated capture).
	Cut bool
}

// DecodeHTTPResponse parses stored response bytes and removes the content
// coding of the payload, keeping at most limit decoded bytes (a defence
// against compression bombs; limit <= 0 means 32 MiB). An unknown content
// coding is an error; a compressed payload that ends early (a truncated
// capture) gives what could be decoded, with Cut set.
func DecodeHTTPResponse(raw []byte, limit int64) (*Decoded, error) {
	r, err := ReadHTTPResponse(raw)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 32 << 20
	}
	d := &Decoded{HTTPResponse: r}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, params, err := mime.ParseMediaType(ct); err == nil {
			d.ContentType, d.Charset = mt, params["charset"]
		}
	}
	body, cut, err := DecodeContent(r.Header.Values("Content-Encoding"), r.Payload, limit)
	d.Body, d.Cut = body, cut || r.Incomplete
	if err != nil {
		return d, fmt.Errorf("decode http response: %w", err)
	}
	return d, nil
}

// DecodeContent removes the content codings named in the Content-Encoding
// values from payload (applied in the order listed, so removed in reverse)
// and returns at most limit bytes. cut reports that the output was cut at
// limit or that the encoded data ended early; what was decoded up to there
// is returned.
func DecodeContent(encodings []string, payload []byte, limit int64) (body []byte, cut bool, err error) {
	var codings []string
	for _, v := range encodings {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	if len(codings) == 0 {
		if int64(len(payload)) > limit {
			return payload[:limit], true, nil
		}
		return payload, false, nil
	}
	var r io.Reader = bytes.NewReader(payload)
	for i := len(codings) - 1; i >= 0; i-- {
		switch codings[i] {
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF), fmt.Errorf("gzip: %w", err)
			}
			r = zr
		case "deflate":
			// zlib-wrapped per RFC 9110, raw deflate from some servers.
			br := bufio.NewReader(r)
			if hdr, err := br.Peek(2); err == nil && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 && hdr[0]&0x0f == 8 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, false, fmt.Errorf("deflate: %w", err)
				}
				r = zr
			} else {
				r = flate.NewReader(br)
			}
		case "br":
			r = brotli.NewReader(r)
		default:
			return nil, false, fmt.Errorf("unknown content coding %q", codings[i])
		}
	}
	body, err = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true, nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return body, true, nil
	}
	if err != nil {
		return body, false, err
	}
	return body, false, nil
}

// splitHead splits an HTTP message after its header block: after the first
// line shorter than three bytes (an empty "\r\n" or "\n" line), as WARC
// tools split it. ok is false when the header block does not end.
func splitHead(b []byte) (head, body []byte, ok bool) {
	start := 0
	for {
		i := bytes.IndexByte(b[start:], '\n')
		if i < 0 {
			return nil, nil, false
		}
		end := start + i + 1
		if end-start < 3 {
			return b[:end], b[end:], true
		}
		start = end
	}
}

// parseFields reads header field lines leniently: a line without a colon
// is skipped, obsolete line folding is joined.
func parseFields(b []byte) http.Header {
	h := http.Header{}
	var last string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && last != "" {
			vs := h[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h[last] = append(h[last], strings.TrimSpace(value))
	}
	return h
}

// isChunked reports whether the last transfer coding is chunked.
func isChunked(h http.Header) bool {
	var last string
	for _, v := range h.Values("Transfer-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				last = c
			}
		}
	}
	return strings.EqualFold(last, "chunked")
}

// entityBody removes the chunked transfer coding from body when h says so.
func entityBody(h http.Header, body []byte) (payload []byte, chunked, incomplete, bad bool) {
	if !isChunked(h) {
		if cl, err := strconv.ParseInt(strings.TrimSpace(h.Get("Content-Length")), 10, 64); err == nil && cl > int64(len(body)) {
			incomplete = true
		}
		return body, false, incomplete, false
	}
	var out bytes.Buffer
	d := &dechunker{w: &out}
	d.Write(body)
	switch {
	case d.state == chunkBad:
		return body, true, false, true
	case d.state != chunkDone:
		return out.Bytes(), true, true, false
	}
	return out.Bytes(), true, false, false
}

// dechunker states.
const (
	chunkSize    = iota // reading a chunk-size line
	chunkData           // inside chunk data
	chunkDataEnd        // expecting the CRLF after chunk data
	chunkTrailer        // reading trailer lines after the last chunk
	chunkDone           // the message body ended; later bytes are ignored
	chunkBad            // framing error; later bytes are ignored
)

// dechunker removes chunked framing from the bytes written to it, writing
// chunk data to w as it arrives (so a cut body yields what was received).
// Write never fails; the state tells how the body ended.
type dechunker struct {
	w      io.Writer
	state  int
	line   []byte
	remain int64
	sawCR  bool
}

func (d *dechunker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		switch d.state {
		case chunkDone, chunkBad:
			return n, nil
		case chunkSize, chunkTrailer:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				d.line = append(d.line, p...)
				p = nil
				if len(d.line) > maxChunkLine || d.state == chunkSize && !sizePrefix(d.line) {
					d.state = chunkBad
				}
				continue
			}
			d.line = append(d.line, p[:i]...)
			p = p[i+1:]
			line := strings.TrimSpace(string(d.line))
			d.line = d.line[:0]
			if len(line) > maxChunkLine {
				d.state = chunkBad
				continue
			}
			if d.state == chunkTrailer {
				if line == "" {
					d.state = chunkDone
				}
				continue
			}
			size, _, _ := strings.Cut(line, ";")
			v, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
			if err != nil || v < 0 {
				d.state = chunkBad
				continue
			}
			if v == 0 {
				d.state = chunkTrailer
			} else {
				d.state, d.remain = chunkData, v
			}
		case chunkData:
			k := int64(len(p))
			if k > d.remain {
				k = d.remain
			}
			d.w.Write(p[:k])
			p = p[k:]
			if d.remain -= k; d.remain == 0 {
				d.state = chunkDataEnd
			}
		case chunkDataEnd:
			c := p[0]
			p = p[1:]
			switch {
			case c == '\r' && !d.sawCR:
				d.sawCR = true
			case c == '\n':
				d.sawCR = false
				d.state = chunkSize
			default:
				d.state = chunkBad
			}
		}
	}
	return n, nil
}

// sizePrefix reports whether line can start a chunk-size line: hex digits,
// optionally with whitespace around them, up to a ';' that starts the
// extensions.
func sizePrefix(line []byte) bool {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	for _, c := range bytes.TrimSpace(line) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// payloadHasher computes the payload digest of an HTTP message streamed
// through it: it holds the header block (up to maxHead bytes), then hashes
// the entity body, de-chunking when the headers say chunked. If the chunked
// framing turns out bad, the body as stored is used, like entityBody.
type payloadHasher struct {
	newHash  func() hash.Hash // returns a fresh hash
	head     []byte
	maxHead  int
	lineLen  int
	inBody   bool
	overflow bool // header block longer than maxHead

	raw     hash.Hash // of the body as stored
	decoded hash.Hash // of the de-chunked body (nil if not chunked)
	chunks  *dechunker
}

// Write implements io.Writer; it never fails.
func (p *payloadHasher) Write(b []byte) (int, error) {
	n := len(b)
	if !p.inBody {
		for i, c := range b {
			p.lineLen++
			if c != '\n' {
				continue
			}
			if p.lineLen < 3 {
				p.inBody = true
				p.keepHead(b[:i+1])
				b = b[i+1:]
				p.startBody()
				break
			}
			p.lineLen = 0
		}
		if !p.inBody {
			p.keepHead(b)
			return n, nil
		}
	}
	p.raw.Write(b)
	if p.chunks != nil {
		p.chunks.Write(b)
	}
	return n, nil
}

func (p *payloadHasher) keepHead(b []byte) {
	if len(p.head)+len(b) > p.maxHead {
		p.overflow = true
		return
	}
	p.head = append(p.head, b...)
}

func (p *payloadHasher) startBody() {
	p.raw = p.newHash()
	if p.overflow {
		return
	}
	_, fields, _ := bytes.Cut(p.head, []byte("\n"))
	if isChunked(parseFields(fields)) {
		p.decoded = p.newHash()
		p.chunks = &dechunker{w: p.decoded}
	}
	p.head = nil
}

// result returns the hash whose sum is the payload digest, or nil when the
// header block never ended.
func (p *payloadHasher) result() hash.Hash {
	if !p.inBody {
		return nil
	}
	if p.chunks != nil && p.chunks.state != chunkBad {
		return p.decoded
	}
	return p.raw
}
