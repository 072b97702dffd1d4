package evidence

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	iawarc "github.com/internetarchive/gowarc"
	nlnwa "github.com/nlnwa/gowarc/v3"
)

// chunk frames parts as a chunked body, with the last chunk and an empty
// trailer.
func chunk(parts ...[]byte) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i == 1 {
			fmt.Fprintf(&b, "%x;ext=1\r\n", len(p)) // a chunk extension
		} else {
			fmt.Fprintf(&b, "%X\r\n", len(p))
		}
		b.Write(p)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func brBytes(s string) []byte {
	var b bytes.Buffer
	zw := brotli.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// split cuts b into n roughly equal parts.
func split(b []byte, n int) [][]byte {
	var out [][]byte
	size := (len(b) + n - 1) / n
	for len(b) > 0 {
		k := min(size, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

const page = "<html><body><h1>Isotonitazene</h1><p>pure powder, ships worldwide</p></body></html>\n"

// wireFixtures are responses as the crawler stores them: header fields in
// the server's case and order, bodies exactly as on the wire.
func wireFixtures() []struct {
	name      string
	raw       []byte
	payload   []byte // entity body: de-chunked, content coding kept
	decoded   string // content coding removed too
	chunked   bool
	cut, bad  bool // Incomplete, BadFraming
	truncated bool // Fetch.Truncated
} {
	gz := gzipBytes(strings.Repeat(page, 20))
	br := brBytes(page)
	chunkedGz := chunk(split(gz, 3)...)
	chunkedPlain := chunk(split([]byte(page), 4)...)
	return []struct {
		name      string
		raw       []byte
		payload   []byte
		decoded   string
		chunked   bool
		cut, bad  bool
		truncated bool
	}{
		{name: "identity", raw: []byte("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nContent-Length: " + fmt.Sprint(len(page)) + "\r\n\r\n" + page),
			payload: []byte(page), decoded: page},
		{name: "chunked", raw: append([]byte("HTTP/1.1 200 OK\r\nDate: Mon, 02 Mar 2026 10:00:00 GMT\r\ntransfer-encoding: chunked\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"), chunkedPlain...),
			payload: []byte(page), decoded: page, chunked: true},
		{name: "gzip+chunked", raw: append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nVary: Accept-Encoding\r\n\r\n"), chunkedGz...),
			payload: gz, decoded: strings.Repeat(page, 20), chunked: true},
		{name: "br", raw: append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\nContent-Length: "+fmt.Sprint(len(br))+"\r\n\r\n"), br...),
			payload: br, decoded: page},
		{name: "truncated chunked gzip", raw: append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), chunkedGz[:len(chunkedGz)/2]...),
			payload: nil /* computed below */, chunked: true, cut: true, truncated: true},
		{name: "truncated in size line", raw: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1"),
			payload: []byte("hello"), decoded: "hello", chunked: true, cut: true, truncated: true},
		{name: "truncated identity", raw: []byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + page[:40]),
			payload: []byte(page[:40]), decoded: page[:40], cut: true, truncated: true},
		{name: "bad framing", raw: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot chunked at all"),
			payload: []byte("not chunked at all"), decoded: "not chunked at all", chunked: true, bad: true},
		{name: "chunked with trailer", raw: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n"),
			payload: []byte("abc"), decoded: "abc", chunked: true},
		{name: "no body", raw: []byte("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), payload: []byte{}, decoded: ""},
	}
}

func TestReadHTTPResponse(t *testing.T) {
	for _, tt := range wireFixtures() {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadHTTPResponse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if r.Chunked != tt.chunked || r.Incomplete != tt.cut || r.BadFraming != tt.bad {
				t.Errorf("chunked, incomplete, bad = %v, %v, %v; want %v, %v, %v", r.Chunked, r.Incomplete, r.BadFraming, tt.chunked, tt.cut, tt.bad)
			}
			if tt.payload != nil && !bytes.Equal(r.Payload, tt.payload) {
				t.Errorf("payload = %q, want %q", r.Payload, tt.payload)
			}
			if !bytes.HasPrefix(tt.raw, r.Head) || !bytes.HasSuffix(r.Head, []byte("\n")) {
				t.Errorf("head %q is not the start of the bytes", r.Head)
			}
			// Go's own parser agrees on the payload (it de-chunks and
			// keeps the content coding).
			if !tt.bad {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(tt.raw)), nil)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				if tt.cut != (err != nil) {
					t.Errorf("net/http read error %v, want one only for a cut body", err)
				}
				if !bytes.Equal(body, r.Payload) {
					t.Errorf("payload = %q, net/http reads %q", r.Payload, body)
				}
				if resp.StatusCode != r.Status {
					t.Errorf("status = %d, net/http %d", r.Status, resp.StatusCode)
				}
			}
			status, h, payload, err := ParseHTTPResponse(tt.raw)
			if err != nil || status != r.Status || !bytes.Equal(payload, r.Payload) || h.Get("Transfer-Encoding") != r.Header.Get("Transfer-Encoding") {
				t.Errorf("ParseHTTPResponse = %d, %v, %q, %v", status, h, payload, err)
			}

			d, err := DecodeHTTPResponse(tt.raw, 0)
			if tt.decoded != "" || !tt.cut {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if string(d.Body) != tt.decoded {
					t.Errorf("decoded body = %q, want %q", d.Body, tt.decoded)
				}
			}
			if d != nil && d.Cut != tt.cut {
				t.Errorf("decoded Cut = %v, want %v", d.Cut, tt.cut)
			}
			if tt.name == "truncated chunked gzip" && (d == nil || len(d.Body) == 0 || !strings.HasPrefix(strings.Repeat(page, 20), string(d.Body))) {
				t.Errorf("truncated gzip: decoded %d bytes, want a prefix of the page", len(d.Body))
			}
		})
	}

	for _, raw := range []string{"", "HTTP/1.1 200 OK\r\nA: b\r\n", "garbage\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n"} {
		if _, err := ReadHTTPResponse([]byte(raw)); !errors.Is(err, ErrNotHTTP) {
			t.Errorf("ReadHTTPResponse(%q) err = %v, want ErrNotHTTP", raw, err)
		}
	}
	if _, err := DecodeHTTPResponse([]byte("HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\nxx"), 0); err == nil {
		t.Error("unknown content coding accepted")
	}
	d, err := DecodeHTTPResponse([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n0123456789"), 4)
	if err != nil || string(d.Body) != "0123" || !d.Cut || d.ContentType != "text/html" || d.Charset != "ISO-8859-1" {
		t.Errorf("limited decode = %+v, %v", d, err)
	}
}

// TestDechunkerByteAtATime feeds chunked bodies one byte at a time, as the
// streaming WARC reader does.
func TestDechunkerByteAtATime(t *testing.T) {
	for _, tt := range wireFixtures() {
		if !tt.chunked {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			want, err := ReadHTTPResponse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			p := &payloadHasher{newHash: newSHA256, maxHead: maxHeaderBytes}
			for i := range tt.raw {
				p.Write(tt.raw[i : i+1])
			}
			if got := fmt.Sprintf("%x", p.result().Sum(nil)); got != sha256Hex(want.Payload) {
				t.Errorf("streamed payload digest %s, want %s", got, sha256Hex(want.Payload))
			}
		})
	}
}

// TestWireBytesWARC writes the wire fixtures as WARC records and reads them
// back with internetarchive/gowarc: every block is the stored bytes, and
// every payload digest is the digest of the body that net/http reads (de-
// chunked, content coding kept), as internetarchive/gowarc computes it when
// it records.
func TestWireBytesWARC(t *testing.T) {
	dir := t.TempDir()
	fixtures := wireFixtures()
	var fetches []Fetch
	for i, fx := range fixtures {
		f := testFetch(t, i, "x", false)
		f.ResponseBytes = fx.raw
		f.Truncated = fx.truncated
		fetches = append(fetches, f)
	}
	w, _ := writeDir(t, dir, 0, fetches)
	path := filepath.Join(dir, w.Files()[0].Name)
	if res := validateFile(t, path); len(res.Problems) > 0 {
		t.Errorf("own reader: %v", res.Problems)
	}

	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := iawarc.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		rec, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		block, err := io.ReadAll(rec.Content)
		rec.Content.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Header.Get("WARC-Type") != "response" {
			continue
		}
		fx := fixtures[n]
		n++
		t.Run(fx.name, func(t *testing.T) {
			if !bytes.Equal(block, fx.raw) {
				t.Fatalf("block differs from the stored bytes")
			}
			if got, want := rec.Header.Get("WARC-Block-Digest"), "sha256:"+hexSum(block); got != want {
				t.Errorf("block digest %s, recomputed %s", got, want)
			}
			if got := rec.Header.Get("WARC-Truncated"); (got == "length") != fx.truncated {
				t.Errorf("WARC-Truncated = %q", got)
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := iawarc.GetDigest(resp.Body, iawarc.SHA256Base16)
			if fx.cut {
				// net/http refuses a cut body; digest what it read.
				resp, _ = http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), nil)
				body, _ := io.ReadAll(resp.Body)
				want, err = "sha256:"+hexSum(body), nil
			}
			if fx.bad {
				want, err = "sha256:"+hexSum(fx.payload), nil
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Header.Get("WARC-Payload-Digest"); got != want {
				t.Errorf("payload digest %s, independent %s", got, want)
			}
		})
	}
	if n != len(fixtures) {
		t.Errorf("read %d response records, want %d", n, len(fixtures))
	}
}

func TestRevisitRecord(t *testing.T) {
	dir := t.TempDir()
	orig := testFetch(t, 0, page, true)
	payload, _ := httpPayload(orig.ResponseBytes)
	head, _, _ := splitHead(orig.ResponseBytes)
	rv := testFetch(t, 1, page, true)
	rv.ResponseBytes = head
	rv.Revisit = &Revisit{RefersTo: orig.ResponseRecordID, TargetURI: orig.URL, Date: orig.FetchedAt, PayloadDigest: "sha256:" + hexSum(payload)}
	w, refs := writeDir(t, dir, 0, []Fetch{orig, rv})
	if refs[1][1].Type != "revisit" || refs[1][1].PayloadDigest != refs[0][1].PayloadDigest {
		t.Errorf("revisit ref = %+v, original %+v", refs[1][1], refs[0][1])
	}
	path := filepath.Join(dir, w.Files()[0].Name)
	if res := validateFile(t, path); len(res.Problems) > 0 || res.ByType["revisit"] != 1 {
		t.Errorf("own reader: %v %v", res.ByType, res.Problems)
	}
	recs := readAll(t, path)
	var got *rawRecord
	for i := range recs {
		if recs[i].h.Get("WARC-Type") == "revisit" {
			got = &recs[i]
		}
	}
	if got == nil {
		t.Fatal("no revisit record")
	}
	for k, want := range map[string]string{
		"WARC-Profile":              ProfileIdenticalPayloadDigest,
		"WARC-Refers-To":            "<" + orig.ResponseRecordID + ">",
		"WARC-Refers-To-Target-URI": orig.URL,
		"WARC-Refers-To-Date":       orig.FetchedAt.UTC().Format(time.RFC3339Nano),
		"WARC-Payload-Digest":       "sha256:" + hexSum(payload),
		"WARC-Block-Digest":         "sha256:" + hexSum(head),
		"Content-Type":              ContentTypeResponse,
		"WARC-Truncated":            "",
	} {
		if v := got.h.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if !bytes.Equal(got.block, head) {
		t.Errorf("revisit block = %q, want the headers", got.block)
	}
	bad := rv
	bad.Revisit = &Revisit{}
	if _, err := NewWriter(WriterOptions{Create: func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }}).WriteFetch(bad); err == nil {
		t.Error("revisit without a reference written")
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func FuzzReadHTTPResponse(f *testing.F) {
	for _, fx := range wireFixtures() {
		f.Add(fx.raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ReadHTTPResponse(raw)
		if err != nil {
			return
		}
		p := &payloadHasher{newHash: newSHA256, maxHead: maxHeaderBytes}
		p.Write(raw)
		if got := fmt.Sprintf("%x", p.result().Sum(nil)); got != sha256Hex(r.Payload) {
			t.Errorf("streamed digest %s differs from ReadHTTPResponse's %s", got, sha256Hex(r.Payload))
		}
		DecodeHTTPResponse(raw, 1<<16)
	})
}

func newSHA256() hash.Hash { return sha256.New() }

// TestNlnwaReadsWireRecords reads the wire fixtures and a revisit with
// nlnwa/gowarc in strict mode: every record is valid, and the only
// digest it disputes is the payload digest of chunked bodies, which it
// computes over the chunked framing (see the package documentation).
func TestNlnwaReadsWireRecords(t *testing.T) {
	dir := t.TempDir()
	fixtures := wireFixtures()
	var fetches []Fetch
	for i, fx := range fixtures {
		f := testFetch(t, i, "x", false)
		f.ResponseBytes = fx.raw
		f.Truncated = fx.truncated
		fetches = append(fetches, f)
	}
	orig := testFetch(t, len(fixtures), page, true)
	payload, _ := httpPayload(orig.ResponseBytes)
	head, _, _ := splitHead(orig.ResponseBytes)
	rv := testFetch(t, len(fixtures)+1, page, true)
	rv.ResponseBytes = head
	rv.Revisit = &Revisit{RefersTo: orig.ResponseRecordID, TargetURI: orig.URL, Date: orig.FetchedAt, PayloadDigest: "sha256:" + hexSum(payload)}
	w, _ := writeDir(t, dir, 0, append(fetches, orig, rv))
	// Strict checks, reported as warnings so that every one is seen.
	r, err := nlnwa.NewWarcFileReader(filepath.Join(dir, w.Files()[0].Name), 0,
		nlnwa.WithStrictValidation(), nlnwa.WithSpecViolationPolicy(nlnwa.ErrWarn), nlnwa.WithSyntaxErrorPolicy(nlnwa.ErrWarn))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	byURL := map[string]int{}
	for i, f := range fetches {
		byURL[f.URL] = i
	}
	revisits := 0
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatal(err)
		}
		wr := rec.WarcRecord
		if wr.Type() == nlnwa.Revisit {
			revisits++
		}
		digestErrs, err := wr.ValidateDigest()
		if err != nil {
			t.Fatal(err)
		}
		i, isFixture := byURL[wr.WarcHeader().Get("WARC-Target-URI")]
		chunked := wr.Type() == nlnwa.Response && isFixture && fixtures[i].chunked && !fixtures[i].bad
		var problems []error
		for _, p := range append(rec.Validation, digestErrs...) {
			if !(chunked && strings.HasPrefix(p.Error(), "payload: wrong digest")) {
				problems = append(problems, p)
			}
		}
		if len(problems) > 0 {
			t.Errorf("%s %s: %v", wr.Type(), wr.WarcHeader().Get("WARC-Target-URI"), problems)
		}
		rec.Close()
	}
	if revisits != 1 {
		t.Errorf("read %d revisit records, want 1", revisits)
	}
}
