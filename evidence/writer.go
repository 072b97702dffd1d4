package evidence

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	gowarc "github.com/nlnwa/gowarc/v3"
)

// DefaultMaxFileSize is the size (compressed bytes) at which a Writer
// starts a new file when WriterOptions.MaxFileSize is zero.
const DefaultMaxFileSize = 1 << 30

// ProfileIdenticalPayloadDigest is the WARC-Profile of a revisit record
// whose payload is identical to the one of the record it refers to.
const ProfileIdenticalPayloadDigest = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

// ProfileServerNotModified is the WARC-Profile of a revisit record for a
// 304 Not Modified answer to a conditional request: the server said the
// page is the one the record refers to.
const ProfileServerNotModified = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

// Content types of the records a Writer produces.
const (
	ContentTypeRequest  = "application/http;msgtype=request"
	ContentTypeResponse = "application/http;msgtype=response"
	ContentTypeMetadata = "application/json"
)

// namespace is the UUID v5 namespace of the ids a Writer derives.
var namespace = uuid.MustParse("6f1c1c36-3c2e-4bde-9d3b-3c8f3a0d5e1a")

// Info is the content of the warcinfo record that opens every file.
type Info struct {
	Software    string  // tool name and version, e.g. "snoop/1.4.0"
	RuleVersion string  // rule-set version, "sha256:…"
	Case        string  // case name, "" outside a case package
	Sweeps      []int64 // sweeps whose pages the file holds
	Operator    string  // who made the file, "" if unknown
	Description string  // free text
}

// WriterOptions configure a Writer. Create is required.
type WriterOptions struct {
	// Create opens a new file with the given name (e.g.
	// "snoop-00001.warc.gz"); the Writer closes it when the file is
	// complete.
	Create func(name string) (io.WriteCloser, error)
	// Prefix starts every file name; default "snoop".
	Prefix string
	// MaxFileSize is the compressed size after which the next fetch goes
	// to a new file; 0 means DefaultMaxFileSize. A file always holds at
	// least one fetch, so it may exceed the limit by one fetch.
	MaxFileSize int64
	// Info fills each file's warcinfo record.
	Info Info
	// Now stamps the warcinfo records; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings about malformed HTTP messages (the records
	// are still written); nil discards them.
	Logger *slog.Logger
}

// File describes one finished WARC file.
type File struct {
	Name    string
	Records int
	Bytes   int64 // compressed size
}

// RecordRef locates one written record.
type RecordRef struct {
	ID            string // "urn:uuid:…" without angle brackets
	Type          string // request, response, metadata, warcinfo
	File          string
	Offset        int64 // of its gzip member within File
	Length        int64 // compressed length of its gzip member
	BlockDigest   string
	PayloadDigest string // "" for records without an HTTP payload
}

// Writer writes fetches as WARC 1.1 records, one gzip member per record,
// rotating files at a size limit. It is not safe for concurrent use.
type Writer struct {
	opts   WriterOptions
	seq    int
	cur    *CountingWriter // nil when no file is open
	closer io.Closer
	name   string
	infoID string
	recs   int
	gz     *gzip.Writer
	files  []File
	log    *slog.Logger
}

// NewWriter returns a Writer; no file is created before the first fetch.
func NewWriter(opts WriterOptions) *Writer {
	if opts.Prefix == "" {
		opts.Prefix = "snoop"
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Writer{opts: opts, log: log}
}

// Files lists the files finished so far, in order.
func (w *Writer) Files() []File { return w.files }

// WriteFetch writes f's request (if any), response (or revisit) and
// metadata records to the current file, starting a new file first if the
// current one has reached the size limit. The records of a revisit's
// original are not written by this call: the caller writes them too (see
// Fetch.Revisit).
func (w *Writer) WriteFetch(f Fetch) ([]RecordRef, error) {
	if f.URL == "" {
		return nil, errors.New("write fetch: empty URL")
	}
	if len(f.ResponseBytes) == 0 {
		return nil, fmt.Errorf("write fetch %s: no response bytes", f.URL)
	}
	if f.ResponseRecordID == "" {
		f.ResponseRecordID = deriveID("response", f.URL, f.FetchedAt.UTC().Format(time.RFC3339Nano), sha256Hex(f.ResponseBytes))
	}
	if f.RequestRecordID == "" && len(f.RequestBytes) > 0 {
		f.RequestRecordID = deriveID("request", f.ResponseRecordID)
	}
	if w.cur != nil && w.cur.N >= w.opts.MaxFileSize {
		if err := w.finishFile(); err != nil {
			return nil, err
		}
	}
	if w.cur == nil {
		if err := w.startFile(); err != nil {
			return nil, err
		}
	}

	date := f.FetchedAt
	if date.IsZero() {
		return nil, fmt.Errorf("write fetch %s: no fetch time", f.URL)
	}
	ip := ""
	if f.Proxy == "" {
		ip = remoteIP(f.RemoteAddr)
	}
	var refs []RecordRef
	if len(f.RequestBytes) > 0 {
		fields := []field{
			{"WARC-Record-ID", angle(f.RequestRecordID)},
			{"WARC-Date", date.UTC().Format(time.RFC3339Nano)},
			{"WARC-Target-URI", f.URL},
		}
		if ip != "" {
			fields = append(fields, field{"WARC-IP-Address", ip})
		}
		fields = append(fields,
			field{"WARC-Concurrent-To", angle(f.ResponseRecordID)},
			field{"WARC-Warcinfo-ID", angle(w.infoID)},
			field{"Content-Type", ContentTypeRequest},
		)
		ref, err := w.write(gowarc.Request, fields, f.RequestBytes, true)
		if err != nil {
			return refs, fmt.Errorf("write request record for %s: %w", f.URL, err)
		}
		refs = append(refs, ref)
	}

	fields := []field{
		{"WARC-Record-ID", angle(f.ResponseRecordID)},
		{"WARC-Date", date.UTC().Format(time.RFC3339Nano)},
		{"WARC-Target-URI", f.URL},
	}
	if ip != "" {
		fields = append(fields, field{"WARC-IP-Address", ip})
	}
	if len(f.RequestBytes) > 0 {
		fields = append(fields, field{"WARC-Concurrent-To", angle(f.RequestRecordID)})
	}
	fields = append(fields, field{"WARC-Warcinfo-ID", angle(w.infoID)})
	rt := gowarc.Response
	if rv := f.Revisit; rv != nil {
		if rv.RefersTo == "" || rv.PayloadDigest == "" {
			return refs, fmt.Errorf("write revisit record for %s: the original's record id and payload digest are required", f.URL)
		}
		rt = gowarc.Revisit
		profile := rv.Profile
		if profile == "" {
			profile = ProfileIdenticalPayloadDigest
		}
		fields = append(fields,
			field{"WARC-Profile", profile},
			field{"WARC-Refers-To", angle(rv.RefersTo)},
		)
		if rv.TargetURI != "" {
			fields = append(fields, field{"WARC-Refers-To-Target-URI", rv.TargetURI})
		}
		if !rv.Date.IsZero() {
			fields = append(fields, field{"WARC-Refers-To-Date", rv.Date.UTC().Format(time.RFC3339Nano)})
		}
		fields = append(fields, field{"WARC-Payload-Digest", rv.PayloadDigest})
	}
	if f.Truncated && f.Revisit == nil {
		fields = append(fields, field{"WARC-Truncated", "length"})
	}
	fields = append(fields, field{"Content-Type", ContentTypeResponse})
	ref, err := w.write(rt, fields, f.ResponseBytes, f.Revisit == nil)
	if err != nil {
		return refs, fmt.Errorf("write %s record for %s: %w", rt, f.URL, err)
	}
	if f.Revisit != nil {
		ref.PayloadDigest = f.Revisit.PayloadDigest
	}
	refs = append(refs, ref)

	meta, err := json.MarshalIndent(f.Provenance(), "", "  ")
	if err != nil {
		return refs, fmt.Errorf("write metadata record for %s: %w", f.URL, err)
	}
	meta = append(meta, '\n')
	fields = []field{
		{"WARC-Record-ID", angle(deriveID("metadata", f.ResponseRecordID))},
		{"WARC-Date", date.UTC().Format(time.RFC3339Nano)},
		{"WARC-Target-URI", f.URL},
		{"WARC-Concurrent-To", angle(f.ResponseRecordID)},
		{"WARC-Warcinfo-ID", angle(w.infoID)},
		{"Content-Type", ContentTypeMetadata},
	}
	ref, err = w.write(gowarc.Metadata, fields, meta, false)
	if err != nil {
		return refs, fmt.Errorf("write metadata record for %s: %w", f.URL, err)
	}
	refs = append(refs, ref)
	return refs, nil
}

// Close finishes the current file, if any.
func (w *Writer) Close() error {
	if w.cur == nil {
		return nil
	}
	return w.finishFile()
}

// startFile opens the next file and writes its warcinfo record.
func (w *Writer) startFile() error {
	w.seq++
	name := fmt.Sprintf("%s-%05d.warc.gz", w.opts.Prefix, w.seq)
	wc, err := w.opts.Create(name)
	if err != nil {
		return fmt.Errorf("create warc file %s: %w", name, err)
	}
	w.cur = &CountingWriter{W: wc}
	w.closer = wc
	w.name = name
	w.recs = 0
	now := w.opts.Now().UTC()
	w.infoID = deriveID("warcinfo", name, now.Format(time.RFC3339Nano), w.opts.Info.Case)

	var body bytes.Buffer
	info := w.opts.Info
	put := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&body, "%s: %s\r\n", k, clean(v))
		}
	}
	put("software", info.Software)
	put("format", "WARC File Format 1.1")
	put("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
	put("description", info.Description)
	put("operator", info.Operator)
	put("created", now.Format(time.RFC3339Nano))
	put("snoop-case", info.Case)
	put("snoop-rule-version", info.RuleVersion)
	if len(info.Sweeps) > 0 {
		ids := make([]string, len(info.Sweeps))
		for i, id := range info.Sweeps {
			ids[i] = strconv.FormatInt(id, 10)
		}
		put("snoop-sweeps", strings.Join(ids, ","))
	}
	fields := []field{
		{"WARC-Record-ID", angle(w.infoID)},
		{"WARC-Date", now.Format(time.RFC3339Nano)},
		{"WARC-Filename", name},
		{"Content-Type", "application/warc-fields"},
	}
	if _, err := w.write(gowarc.Warcinfo, fields, body.Bytes(), false); err != nil {
		return fmt.Errorf("write warcinfo to %s: %w", name, err)
	}
	return nil
}

func (w *Writer) finishFile() error {
	f := File{Name: w.name, Records: w.recs, Bytes: w.cur.N}
	w.cur = nil
	if err := w.closer.Close(); err != nil {
		return fmt.Errorf("close warc file %s: %w", f.Name, err)
	}
	w.files = append(w.files, f)
	return nil
}

type field struct{ name, value string }

// write builds one record with gowarc (which checks the fields and our
// digests) and writes it as its own gzip member.
func (w *Writer) write(rt gowarc.RecordType, fields []field, block []byte, http bool) (RecordRef, error) {
	rb := gowarc.NewRecordBuilder(rt,
		gowarc.WithSpecViolationPolicy(gowarc.ErrFail),
		gowarc.WithUnknownRecordTypePolicy(gowarc.ErrFail),
		// Malformed HTTP from a server is evidence too: warn, keep it.
		gowarc.WithSyntaxErrorPolicy(gowarc.ErrWarn),
		gowarc.WithBlockErrorPolicy(gowarc.ErrWarn),
	)
	defer rb.Close()
	ref := RecordRef{Type: rt.String(), File: w.name, BlockDigest: "sha256:" + sha256Hex(block)}
	for _, f := range fields {
		if f.name == "WARC-Record-ID" {
			ref.ID = strings.Trim(f.value, "<>")
		}
		rb.AddWarcHeader(f.name, clean(f.value))
	}
	rb.AddWarcHeader("WARC-Block-Digest", ref.BlockDigest)
	// gowarc checks a payload digest against the bytes after the HTTP
	// header block, which is right unless the body is chunked: WARC 1.1's
	// payload is the entity body with the transfer coding removed (the
	// reading of heritrix3#769 and warcio#74), so a chunked message's
	// digest is added after gowarc has checked the rest.
	lateDigest := false
	if http {
		if payload, dechunked, ok := httpEntity(block); ok {
			ref.PayloadDigest = "sha256:" + sha256Hex(payload)
			if dechunked {
				lateDigest = true
			} else {
				rb.AddWarcHeader("WARC-Payload-Digest", ref.PayloadDigest)
			}
		}
	}
	rb.AddWarcHeaderInt64("Content-Length", int64(len(block)))
	if _, err := rb.Write(block); err != nil {
		return ref, err
	}
	rec, warnings, err := rb.Build()
	if err != nil {
		return ref, fmt.Errorf("build %s record: %w", rt, err)
	}
	defer rec.Close()
	if lateDigest {
		h := rec.WarcHeader()
		h.Delete("Content-Length")
		h.Set("WARC-Payload-Digest", ref.PayloadDigest)
		h.SetInt64("Content-Length", int64(len(block)))
	}
	for _, warn := range warnings {
		w.log.Warn("warc record kept with a format warning", "record", ref.ID, "type", ref.Type, "warning", warn)
	}

	ref.Offset = w.cur.N
	if w.gz == nil {
		w.gz = gzip.NewWriter(w.cur)
	} else {
		w.gz.Reset(w.cur)
	}
	if _, _, err := gowarc.NewMarshaler().Marshal(w.gz, rec, 0); err != nil {
		return ref, fmt.Errorf("write %s record: %w", rt, err)
	}
	if err := w.gz.Close(); err != nil {
		return ref, fmt.Errorf("write %s record: %w", rt, err)
	}
	ref.Length = w.cur.N - ref.Offset
	w.recs++
	return ref, nil
}

// httpPayload returns an HTTP message's payload as WARC defines it: the
// bytes after the header block (which ends at the first line shorter than
// three bytes, as WARC tools split it), with chunked transfer coding removed
// when the headers declare it. ok is false when the header block does not
// end.
func httpPayload(b []byte) (payload []byte, ok bool) {
	payload, _, ok = httpEntity(b)
	return payload, ok
}

// httpEntity is httpPayload that also tells whether chunked framing was
// removed (the payload is then not the tail of b).
func httpEntity(b []byte) (payload []byte, dechunked, ok bool) {
	head, body, ok := splitHead(b)
	if !ok {
		return nil, false, false
	}
	_, fields, _ := bytes.Cut(head, []byte("\n"))
	payload, chunked, _, bad := entityBody(parseFields(fields), body)
	return payload, chunked && !bad, true
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// deriveID returns a name-based "urn:uuid:…" id from parts.
func deriveID(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).URN()
}

// angle wraps an id in the angle brackets WARC wants.
func angle(id string) string {
	if strings.HasPrefix(id, "<") {
		return id
	}
	return "<" + id + ">"
}

// clean keeps a header value on one line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// CountingWriter passes writes on to W and counts in N the bytes W
// accepted. Package export uses it too, to size what it writes.
type CountingWriter struct {
	W io.Writer
	N int64
}

// Write writes p to W and adds the bytes written to N.
func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
