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
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iawarc "github.com/internetarchive/gowarc"
	nlnwa "github.com/nlnwa/gowarc/v3"
)

var fetchedAt = time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.UTC)

// testFetch returns a fetch of a page whose body is body, gzip-encoded
// when gz is set.
func testFetch(tb testing.TB, i int, body string, gz bool) Fetch {
	tb.Helper()
	payload := []byte(body)
	hdr := "Content-Type: text/html; charset=utf-8\r\n"
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(payload)
		zw.Close()
		payload = b.Bytes()
		hdr += "Content-Encoding: gzip\r\n"
	}
	u := fmt.Sprintf("https://shop.example/product/%d", i)
	return Fetch{
		URL:              u,
		Method:           "GET",
		FetchedAt:        fetchedAt.Add(time.Duration(i) * time.Second),
		RequestBytes:     []byte(fmt.Sprintf("GET /product/%d HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: snoop-test\r\n\r\n", i)),
		ResponseBytes:    append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n", hdr, len(payload))), payload...),
		RequestRecordID:  fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i),
		ResponseRecordID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i+1),
		RemoteAddr:       "192.0.2.7:443",
		Extra:            map[string]any{"marketplace": "shop", "evidence_id": i},
	}
}

// writeDir writes fetches with a Writer into dir and returns the refs.
func writeDir(tb testing.TB, dir string, maxSize int64, fetches []Fetch) (*Writer, [][]RecordRef) {
	tb.Helper()
	w := NewWriter(WriterOptions{
		Create:      func(name string) (io.WriteCloser, error) { return os.Create(filepath.Join(dir, name)) },
		MaxFileSize: maxSize,
		Info:        Info{Software: "snoop/test", RuleVersion: "sha256:abc", Case: "case\r\nX-Injected: 1", Sweeps: []int64{3, 4}},
		Now:         func() time.Time { return fetchedAt },
	})
	var refs [][]RecordRef
	for _, f := range fetches {
		r, err := w.WriteFetch(f)
		if err != nil {
			tb.Fatalf("WriteFetch: %v", err)
		}
		refs = append(refs, r)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return w, refs
}

func tlsJSON(tb testing.TB) json.RawMessage {
	tb.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	raw, err := json.Marshal(struct {
		Version, CipherSuite string
		PeerCertificates     [][]byte
	}{"TLS 1.3", "TLS_AES_128_GCM_SHA256", [][]byte{srv.Certificate().Raw}})
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func TestWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var fetches []Fetch
	for i := range 12 {
		f := testFetch(t, i, strings.Repeat(fmt.Sprintf("<p>item %d <script>alert(1)</script></p>\n", i), 50), i%2 == 0)
		switch i {
		case 1:
			f.TLS = tlsJSON(t)
		case 2:
			f.Proxy = "socks5h://user:secret@127.0.0.1:9050"
			f.RemoteAddr = ""
		case 3:
			f.Truncated = true
		case 4:
			f.RequestBytes = nil
			f.RequestRecordID = ""
		}
		fetches = append(fetches, f)
	}
	w, refs := writeDir(t, dir, 4096, fetches)
	files := w.Files()
	if len(files) < 2 {
		t.Fatalf("got %d files, want rotation into at least 2", len(files))
	}
	total := 0
	for _, f := range files {
		total += f.Records
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != f.Bytes {
			t.Errorf("%s: File.Bytes = %d, file has %d", f.Name, f.Bytes, st.Size())
		}
	}
	if want := len(files) + 3*12 - 1; total != want {
		t.Errorf("records = %d, want %d", total, want)
	}

	t.Run("own reader", func(t *testing.T) {
		for _, f := range files {
			res := validateFile(t, filepath.Join(dir, f.Name))
			if len(res.Problems) > 0 {
				t.Errorf("%s: problems: %v", f.Name, res.Problems)
			}
			if res.Records != f.Records || res.ByType["warcinfo"] != 1 {
				t.Errorf("%s: %d records %v, want %d with one warcinfo", f.Name, res.Records, res.ByType, f.Records)
			}
		}
	})

	t.Run("nlnwa strict reader", func(t *testing.T) {
		seen := map[string]bool{}
		for _, f := range files {
			r, err := nlnwa.NewWarcFileReader(filepath.Join(dir, f.Name), 0, nlnwa.WithStrictValidation(), nlnwa.WithBlockErrorPolicy(nlnwa.ErrFail))
			if err != nil {
				t.Fatal(err)
			}
			for rec, err := range r.Records() {
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				if len(rec.Validation) > 0 {
					t.Errorf("%s: %s validation: %v", f.Name, rec.WarcRecord.RecordId(), rec.Validation)
				}
				if _, err := rec.WarcRecord.ValidateDigest(); err != nil {
					t.Errorf("%s: digest: %v", f.Name, err)
				}
				seen[strings.Trim(rec.WarcRecord.RecordId(), "<>")] = true
				rec.Close()
			}
			r.Close()
		}
		for i, rs := range refs {
			for _, ref := range rs {
				if !seen[ref.ID] {
					t.Errorf("fetch %d: record %s (%s) not read back", i, ref.ID, ref.Type)
				}
			}
		}
	})

	t.Run("internetarchive reader", func(t *testing.T) {
		byID := map[string]RecordRef{}
		for _, rs := range refs {
			for _, r := range rs {
				byID[r.ID] = r
			}
		}
		byURL := map[string]Fetch{}
		for _, f := range fetches {
			byURL[f.URL] = f
		}
		for _, f := range files {
			fh, err := os.Open(filepath.Join(dir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			r, err := iawarc.NewReader(fh)
			if err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := r.ReadRecord()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				block, err := io.ReadAll(rec.Content)
				if err != nil {
					t.Fatal(err)
				}
				rec.Content.Close()
				id := strings.Trim(rec.Header.Get("WARC-Record-ID"), "<>")
				if got, want := rec.Header.Get("WARC-Block-Digest"), "sha256:"+hexSum(block); got != want {
					t.Errorf("%s: block digest %s, recomputed %s", id, got, want)
				}
				typ := rec.Header.Get("WARC-Type")
				if typ != "request" && typ != "response" {
					continue
				}
				payload, ok := httpPayload(block)
				if got, want := rec.Header.Get("WARC-Payload-Digest"), "sha256:"+hexSum(payload); !ok || got != want {
					t.Errorf("%s: payload digest %s, recomputed %s", id, got, want)
				}
				ref := byID[id]
				if rec.Offset != ref.Offset || rec.Size != ref.Length {
					t.Errorf("%s: member at %d+%d, RecordRef says %d+%d", id, rec.Offset, rec.Size, ref.Offset, ref.Length)
				}
				fe := byURL[rec.Header.Get("WARC-Target-URI")]
				want := fe.ResponseBytes
				if typ == "request" {
					want = fe.RequestBytes
				}
				if !bytes.Equal(block, want) {
					t.Errorf("%s: %s block differs from the stored bytes", id, typ)
				}
				if got, want := rec.Header.Get("WARC-Date"), fe.FetchedAt.Format(time.RFC3339Nano); got != want {
					t.Errorf("%s: WARC-Date %s, want %s", id, got, want)
				}
			}
			fh.Close()
		}
	})
}

func TestRecordFields(t *testing.T) {
	dir := t.TempDir()
	f0 := testFetch(t, 0, "<html>hello</html>", false)
	f0.TLS = tlsJSON(t)
	f1 := testFetch(t, 1, "<html>proxied</html>", false)
	f1.Proxy = "socks5h://user:secret@127.0.0.1:9050"
	f1.Truncated = true
	w, _ := writeDir(t, dir, 0, []Fetch{f0, f1})
	recs := readAll(t, filepath.Join(dir, w.Files()[0].Name))
	if len(recs) != 7 {
		t.Fatalf("got %d records, want 7", len(recs))
	}
	info := recs[0]
	if info.h.Get("WARC-Type") != "warcinfo" || info.h.Get("WARC-Filename") != "snoop-00001.warc.gz" {
		t.Errorf("first record: %v", info.h)
	}
	for _, want := range []string{"software: snoop/test\r\n", "snoop-rule-version: sha256:abc\r\n", "snoop-sweeps: 3,4\r\n", "snoop-case: case  X-Injected: 1\r\n"} {
		if !strings.Contains(string(info.block), want) {
			t.Errorf("warcinfo lacks %q:\n%s", want, info.block)
		}
	}
	infoID := info.h.Get("WARC-Record-ID")

	tests := []struct {
		rec  int
		want map[string]string
	}{
		{1, map[string]string{"WARC-Type": "request", "WARC-Record-ID": "<" + f0.RequestRecordID + ">", "WARC-Concurrent-To": "<" + f0.ResponseRecordID + ">",
			"Content-Type": "application/http;msgtype=request", "WARC-IP-Address": "192.0.2.7", "WARC-Date": "2026-03-04T05:06:07.890123456Z", "WARC-Warcinfo-ID": infoID}},
		{2, map[string]string{"WARC-Type": "response", "WARC-Record-ID": "<" + f0.ResponseRecordID + ">", "WARC-Concurrent-To": "<" + f0.RequestRecordID + ">",
			"Content-Type": "application/http;msgtype=response", "WARC-Target-URI": f0.URL, "WARC-IP-Address": "192.0.2.7",
			"WARC-Payload-Digest": "sha256:" + hexSum([]byte("<html>hello</html>")), "WARC-Block-Digest": "sha256:" + hexSum(f0.ResponseBytes)}},
		{3, map[string]string{"WARC-Type": "metadata", "WARC-Concurrent-To": "<" + f0.ResponseRecordID + ">", "Content-Type": "application/json"}},
		{5, map[string]string{"WARC-Type": "response", "WARC-IP-Address": "", "WARC-Truncated": "length"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rec), func(t *testing.T) {
			for k, want := range tt.want {
				if got := recs[tt.rec].h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := recs[tt.rec].h[0]; got.Name != "WARC-Type" {
				t.Errorf("first field %s, want WARC-Type", got.Name)
			}
		})
	}

	var p0, p1 Provenance
	if err := json.Unmarshal(recs[3].block, &p0); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(recs[6].block, &p1); err != nil {
		t.Fatal(err)
	}
	if p0.TLS == nil || p0.TLS.Version != "TLS 1.3" || p0.TLS.CipherSuite != "TLS_AES_128_GCM_SHA256" || len(p0.TLS.Certificates) != 1 {
		t.Fatalf("tls provenance: %+v", p0.TLS)
	}
	c := p0.TLS.Certificates[0]
	if !strings.HasPrefix(c.PEM, "-----BEGIN CERTIFICATE-----") || c.Subject == "" || c.Error != "" {
		t.Errorf("certificate: %+v", c)
	}
	if !p0.Direct || p0.RemoteAddr != "192.0.2.7:443" || p0.SHA256 != hexSum(f0.ResponseBytes) || p0.Extra["marketplace"] != "shop" {
		t.Errorf("provenance: %+v", p0)
	}
	if p1.Direct || strings.Contains(p1.Proxy, "secret") || !strings.Contains(p1.Proxy, "127.0.0.1:9050") || !p1.Truncated {
		t.Errorf("proxied provenance: %+v", p1)
	}
}

func TestValidateDetectsTampering(t *testing.T) {
	dir := t.TempDir()
	w, refs := writeDir(t, dir, 0, []Fetch{testFetch(t, 0, "<html>genuine listing</html>", false), testFetch(t, 1, "<html>second</html>", false)})
	path := filepath.Join(dir, w.Files()[0].Name)
	recs := readAll(t, path)

	// Rewrite the file uncompressed with one change per case.
	rewrite := func(t *testing.T, edit func(i int, r *rawRecord)) []byte {
		var b bytes.Buffer
		for i, r := range recs {
			c := rawRecord{h: append(Header(nil), r.h...), block: bytes.Clone(r.block)}
			edit(i, &c)
			b.WriteString("WARC/1.1\r\n")
			for _, f := range c.h {
				fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
			}
			b.WriteString("\r\n")
			b.Write(c.block)
			b.WriteString("\r\n\r\n")
		}
		return b.Bytes()
	}
	respIdx := 2
	tests := []struct {
		name string
		edit func(i int, r *rawRecord)
		want []string
	}{
		{"intact", func(int, *rawRecord) {}, nil},
		{"payload byte", func(i int, r *rawRecord) {
			if i == respIdx {
				r.block[len(r.block)-3] ^= 1
			}
		}, []string{"WARC-Block-Digest mismatch", "WARC-Payload-Digest mismatch", refs[0][1].ID}},
		{"header byte", func(i int, r *rawRecord) {
			if i == respIdx {
				r.block[5] ^= 1
			}
		}, []string{"WARC-Block-Digest mismatch"}},
		{"digest field", func(i int, r *rawRecord) {
			if i == respIdx {
				for j := range r.h {
					if r.h[j].Name == "WARC-Payload-Digest" {
						r.h[j].Value = "sha256:" + hexSum([]byte("forged"))
					}
				}
			}
		}, []string{"WARC-Payload-Digest mismatch: header says sha256:" + hexSum([]byte("forged"))}},
		{"short block", func(i int, r *rawRecord) {
			if i == len(recs)-1 {
				r.block = r.block[:len(r.block)-10]
			}
		}, []string{"Content-Length"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Validate(bytes.NewReader(rewrite(t, tt.edit)))
			var msgs []string
			for _, p := range res.Problems {
				msgs = append(msgs, p.String())
			}
			all := strings.Join(msgs, "\n")
			if len(tt.want) == 0 && len(msgs) > 0 {
				t.Fatalf("unexpected problems:\n%s", all)
			}
			if len(tt.want) > 0 && len(msgs) == 0 {
				t.Fatalf("no problem found")
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
		})
	}

	t.Run("flipped compressed byte", func(t *testing.T) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[refs[0][1].Offset+refs[0][1].Length/2] ^= 0x40
		if res := Validate(bytes.NewReader(data)); len(res.Problems) == 0 {
			t.Fatal("no problem found")
		}
	})
}

func TestHTTPPayload(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", "body", true},
		{"HTTP/1.1 200 OK\r\n\r\n", "", true},
		{"HTTP/1.1 200 OK\nA: b\n\nbody\r\n\r\nmore", "body\r\n\r\nmore", true},
		{"HTTP/1.1 200 OK\r\nA: b\r\n", "", false},
	}
	for _, tt := range tests {
		got, ok := httpPayload([]byte(tt.in))
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("httpPayload(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		// The streaming digester must split at the same place.
		d := &digester{want: int64(len(tt.in))}
		d.setPayload(newDigestField("WARC-Payload-Digest", "sha256:"+hexSum([]byte(tt.want))))
		for i := range len(tt.in) {
			d.Write([]byte{tt.in[i]})
		}
		if errs := d.check(); tt.ok && len(errs) > 0 {
			t.Errorf("digester on %q: %v", tt.in, errs)
		}
	}
}

func TestRemoteIP(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1:80": "192.0.2.1", "[2001:db8::1]:443": "2001:db8::1", "": "", "host:80": "", "192.0.2.9": "192.0.2.9"} {
		if got := remoteIP(in); got != want {
			t.Errorf("remoteIP(%q) = %q, want %q", in, got, want)
		}
	}
}

type rawRecord struct {
	h     Header
	block []byte
}

func readAll(tb testing.TB, path string) []rawRecord {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []rawRecord
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rec)
		if err != nil {
			tb.Fatal(err)
		}
		if errs := rec.Check(); len(errs) > 0 {
			tb.Errorf("%s: %v", rec.ID(), errs)
		}
		out = append(out, rawRecord{rec.Header, b})
	}
}

func validateFile(tb testing.TB, path string) Result {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	return Validate(f)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
