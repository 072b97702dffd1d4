package evidence

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// maxHeaderBytes bounds a record's WARC header, so a hostile file cannot
// make the reader buffer without limit.
const maxHeaderBytes = 1 << 20

// Field is one WARC header field.
type Field struct{ Name, Value string }

// Header is a record's WARC header fields in file order.
type Header []Field

// Get returns the first value of the named field (case-insensitive), or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Record is one record read by a Reader. Reading it reads its block; the
// digests are computed on the way.
type Record struct {
	// Offset is where the record's gzip member starts in the file (for an
	// uncompressed file, where the record starts).
	Offset  int64
	Version string // "WARC/1.1"
	Header  Header
	// Length is the block length from Content-Length.
	Length int64

	block   io.Reader
	dig     *digester
	drained bool
}

// ID returns the record id without angle brackets.
func (r *Record) ID() string { return strings.Trim(r.Header.Get("WARC-Record-ID"), "<>") }

// Type returns the WARC-Type.
func (r *Record) Type() string { return r.Header.Get("WARC-Type") }

// Read reads the record's block.
func (r *Record) Read(p []byte) (int, error) { return r.block.Read(p) }

// Check reads what is left of the block and returns every problem found:
// a short block and each digest that does not match the content.
func (r *Record) Check() []error {
	if !r.drained {
		r.drained = true
		if _, err := io.Copy(io.Discard, r.block); err != nil {
			return []error{fmt.Errorf("read block: %w", err)}
		}
	}
	return r.dig.check()
}

// DigestError reports a digest field that does not match the content.
type DigestError struct {
	Field string // WARC-Block-Digest or WARC-Payload-Digest
	Want  string // the field's value
	Got   string // computed, same algorithm and encoding
}

// Error names the field and both values.
func (e *DigestError) Error() string {
	return fmt.Sprintf("%s mismatch: header says %s, content gives %s", e.Field, e.Want, e.Got)
}

// Reader reads the records of a WARC file, gzip-compressed (one or many
// members) or not.
type Reader struct {
	cr      *countReader
	src     *bufio.Reader
	gz      *gzip.Reader // nil for an uncompressed file
	br      *bufio.Reader
	started bool
	start   int64 // offset of the current gzip member
	cur     *Record
}

// NewReader returns a Reader over a WARC file's bytes.
func NewReader(r io.Reader) (*Reader, error) {
	cr := &countReader{r: r}
	src := bufio.NewReader(cr)
	rd := &Reader{cr: cr, src: src}
	magic, err := src.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read warc: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		rd.gz = new(gzip.Reader)
	} else {
		rd.br = src
	}
	return rd, nil
}

// Next returns the next record, or io.EOF after the last one. Any unread
// part of the previous record is skipped (and digested).
func (rd *Reader) Next() (*Record, error) {
	if rd.cur != nil {
		prev := rd.cur
		rd.cur = nil
		if !prev.drained {
			prev.drained = true
			if _, err := io.Copy(io.Discard, prev.block); err != nil {
				return nil, fmt.Errorf("record at offset %d: read block: %w", prev.Offset, err)
			}
		}
		var end [4]byte
		if _, err := io.ReadFull(rd.br, end[:]); err != nil || string(end[:]) != "\r\n\r\n" {
			return nil, fmt.Errorf("record at offset %d: block not followed by CRLF CRLF (Content-Length wrong?)", prev.Offset)
		}
	}
	offset, err := rd.advance()
	if err != nil {
		return nil, err
	}

	line, err := readLine(rd.br, maxHeaderBytes)
	if err != nil {
		return nil, fmt.Errorf("record at offset %d: read version: %w", offset, err)
	}
	if line != "WARC/1.1" && line != "WARC/1.0" {
		return nil, fmt.Errorf("record at offset %d: not a WARC record: starts %q", offset, truncate(line, 40))
	}
	rec := &Record{Offset: offset, Version: line}
	size := 0
	for {
		l, err := readLine(rd.br, maxHeaderBytes-size)
		if err != nil {
			return nil, fmt.Errorf("record at offset %d: read header: %w", offset, err)
		}
		size += len(l) + 2
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && len(rec.Header) > 0 {
			rec.Header[len(rec.Header)-1].Value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("record at offset %d: bad header line %q", offset, truncate(l, 60))
		}
		rec.Header = append(rec.Header, Field{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	cl := rec.Header.Get("Content-Length")
	rec.Length, err = strconv.ParseInt(cl, 10, 64)
	if err != nil || rec.Length < 0 {
		return nil, fmt.Errorf("record at offset %d: bad Content-Length %q", offset, cl)
	}
	rec.dig = newDigester(rec)
	rec.block = io.TeeReader(io.LimitReader(rd.br, rec.Length), rec.dig)
	rec.dig.want = rec.Length
	rd.cur = rec
	return rec, nil
}

// advance moves to the start of the next record and returns its offset.
func (rd *Reader) advance() (int64, error) {
	if rd.gz == nil {
		if _, err := rd.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		return rd.cr.n - int64(rd.br.Buffered()), nil
	}
	if rd.started {
		// More records in the same gzip member?
		if _, err := rd.br.Peek(1); err == nil {
			return rd.start, nil
		} else if !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("gzip member at offset %d: %w", rd.start, err)
		}
	}
	if _, err := rd.src.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, err
	}
	rd.start = rd.cr.n - int64(rd.src.Buffered())
	if err := rd.gz.Reset(rd.src); err != nil {
		return 0, fmt.Errorf("gzip member at offset %d: %w", rd.start, err)
	}
	rd.gz.Multistream(false)
	if rd.br == nil {
		rd.br = bufio.NewReader(rd.gz)
	} else {
		rd.br.Reset(rd.gz)
	}
	rd.started = true
	return rd.start, nil
}

// readLine reads a CRLF- (or LF-) terminated line of at most max bytes.
func readLine(br *bufio.Reader, max int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max {
			return "", errors.New("line too long")
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return string(bytes.TrimRight(buf, "\r\n")), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// digester computes a record's block and payload digests as it is read.
type digester struct {
	block, payload *digestField
	got, want      int64
	http           *payloadHasher // splits off and de-chunks the HTTP payload
}

// digestField is one declared digest and the hash that recomputes it.
type digestField struct {
	name, value, alg string
	enc              func([]byte) string
	h                hash.Hash
	newHash          func() hash.Hash
	err              error // the field could not be read
}

func newDigester(rec *Record) *digester {
	d := &digester{}
	d.block = newDigestField("WARC-Block-Digest", rec.Header.Get("WARC-Block-Digest"))
	ct := strings.ToLower(rec.Header.Get("Content-Type"))
	t := strings.ToLower(rec.Type())
	if strings.HasPrefix(ct, "application/http") && t != "revisit" {
		d.setPayload(newDigestField("WARC-Payload-Digest", rec.Header.Get("WARC-Payload-Digest")))
	}
	return d
}

// setPayload makes d check f against the HTTP payload of the block.
func (d *digester) setPayload(f *digestField) {
	d.payload = f
	if f != nil && f.newHash != nil {
		d.http = &payloadHasher{newHash: f.newHash, maxHead: maxHeaderBytes}
	}
}

func newDigestField(name, value string) *digestField {
	if value == "" {
		return nil
	}
	f := &digestField{name: name, value: value}
	alg, enc, ok := strings.Cut(value, ":")
	if !ok {
		f.err = fmt.Errorf("%s: %q is not algorithm:value", name, value)
		return f
	}
	f.alg = strings.ToLower(alg)
	switch f.alg {
	case "sha1", "sha-1":
		f.newHash = sha1.New
	case "sha256", "sha-256":
		f.newHash = sha256.New
	case "sha512", "sha-512":
		f.newHash = sha512.New
	default:
		f.err = fmt.Errorf("%s: unsupported algorithm %q", name, alg)
		return f
	}
	f.h = f.newHash()
	size := f.h.Size()
	switch len(enc) {
	case hex.EncodedLen(size):
		f.enc = hex.EncodeToString
	case base32.StdEncoding.EncodedLen(size), base32.StdEncoding.WithPadding(base32.NoPadding).EncodedLen(size):
		f.enc = func(b []byte) string {
			s := base32.StdEncoding.EncodeToString(b)
			if !strings.HasSuffix(enc, "=") {
				s = strings.TrimRight(s, "=")
			}
			return s
		}
	case base64.StdEncoding.EncodedLen(size), base64.RawStdEncoding.EncodedLen(size):
		f.enc = func(b []byte) string {
			if strings.HasSuffix(enc, "=") {
				return base64.StdEncoding.EncodeToString(b)
			}
			return base64.RawStdEncoding.EncodeToString(b)
		}
	default:
		f.err = fmt.Errorf("%s: %q has the wrong length for %s", name, value, alg)
	}
	return f
}

// Write feeds block bytes to the hashes. The payload is what follows the
// first line shorter than three bytes (the blank line after the HTTP
// headers), with chunked transfer coding removed when the headers declare
// it (see ReadHTTPResponse).
func (d *digester) Write(p []byte) (int, error) {
	d.got += int64(len(p))
	if d.block != nil && d.block.h != nil {
		d.block.h.Write(p)
	}
	if d.http != nil {
		d.http.Write(p)
	}
	return len(p), nil
}

func (d *digester) check() []error {
	var errs []error
	if d.got != d.want {
		errs = append(errs, fmt.Errorf("block is %d bytes, Content-Length says %d", d.got, d.want))
	}
	for _, f := range []*digestField{d.block, d.payload} {
		if f == nil {
			continue
		}
		if f.err != nil {
			errs = append(errs, f.err)
			continue
		}
		h := f.h
		if f == d.payload {
			if h = d.http.result(); h == nil {
				errs = append(errs, fmt.Errorf("%s: HTTP headers do not end, so there is no payload", f.name))
				continue
			}
		}
		got := f.enc(h.Sum(nil))
		_, want, _ := strings.Cut(f.value, ":")
		if !strings.EqualFold(got, want) {
			alg, _, _ := strings.Cut(f.value, ":")
			errs = append(errs, &DigestError{Field: f.name, Want: f.value, Got: alg + ":" + got})
		}
	}
	return errs
}

// Problem is one thing wrong with a WARC file.
type Problem struct {
	Offset   int64  // of the record's gzip member, -1 if not about a record
	RecordID string // "" if unknown
	Type     string // WARC-Type, "" if unknown
	Err      error
}

// String describes the problem with the record it is about, if any.
func (p Problem) String() string {
	if p.RecordID == "" && p.Offset < 0 {
		return p.Err.Error()
	}
	if p.RecordID == "" {
		return fmt.Sprintf("record at offset %d: %v", p.Offset, p.Err)
	}
	return fmt.Sprintf("%s record %s at offset %d: %v", p.Type, p.RecordID, p.Offset, p.Err)
}

// Result is what Validate found.
type Result struct {
	Records  int
	ByType   map[string]int
	Problems []Problem
}

// Validate reads every record of a WARC file, checks that each has an id,
// date, type and length, and recomputes its block and payload digests. A
// file that cannot be read to the end is reported as a problem.
func Validate(r io.Reader) Result {
	res := Result{ByType: map[string]int{}}
	rd, err := NewReader(r)
	if err != nil {
		res.Problems = append(res.Problems, Problem{Offset: -1, Err: err})
		return res
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Problems = append(res.Problems, Problem{Offset: -1, Err: err})
			break
		}
		res.Records++
		res.ByType[rec.Type()]++
		for _, name := range []string{"WARC-Record-ID", "WARC-Date", "WARC-Type"} {
			if rec.Header.Get(name) == "" {
				res.Problems = append(res.Problems, Problem{rec.Offset, rec.ID(), rec.Type(), fmt.Errorf("missing %s", name)})
			}
		}
		if rec.Type() == "response" || rec.Type() == "request" {
			if rec.Header.Get("WARC-Block-Digest") == "" {
				res.Problems = append(res.Problems, Problem{rec.Offset, rec.ID(), rec.Type(), errors.New("missing WARC-Block-Digest")})
			}
		}
		for _, e := range rec.Check() {
			res.Problems = append(res.Problems, Problem{rec.Offset, rec.ID(), rec.Type(), e})
		}
	}
	return res
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
