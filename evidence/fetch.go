package evidence

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/url"
	"strings"
	"time"
)

// Fetch is one captured HTTP exchange, as the store keeps it.
type Fetch struct {
	URL    string
	Method string
	// FetchedAt is when the response headers arrived; it becomes WARC-Date.
	FetchedAt time.Time
	// RequestBytes is the request line, headers and body exactly as sent.
	// A fetch without request bytes gets no request record.
	RequestBytes []byte
	// ResponseBytes is the status line, headers and body exactly as
	// received (see ReadHTTPResponse); for a revisit, the status line and
	// headers only.
	ResponseBytes []byte
	// Revisit, if set, makes the response a revisit record of an earlier
	// capture with an identical payload, instead of a response record.
	Revisit *Revisit
	// RequestRecordID and ResponseRecordID are "urn:uuid:…" ids assigned
	// at capture. Empty ids are derived from the response bytes' digest
	// and the URL, so they stay stable across exports.
	RequestRecordID  string
	ResponseRecordID string
	// RemoteAddr is the server's "ip:port" when fetched directly, "" behind
	// a proxy.
	RemoteAddr string
	// Proxy is the proxy URL used, "" when direct. Passwords are redacted
	// in the metadata record.
	Proxy string
	// TLS is the stored TLS description: a JSON object with the protocol
	// version, the cipher suite and the peer certificates as base64 DER
	// (field names are matched ignoring case and "_"), or nil for plain
	// HTTP.
	TLS json.RawMessage
	// Truncated reports that the body was cut at the size limit; the
	// response record then carries "WARC-Truncated: length".
	Truncated bool
	// Extra is more provenance for the metadata record (marketplace, sweep,
	// evidence id, …).
	Extra map[string]any
}

// Revisit names the original capture a revisit record refers to (WARC 1.1
// section 6.7.2, profile identical-payload-digest).
type Revisit struct {
	RefersTo      string    // "urn:uuid:…" of the original's response record
	TargetURI     string    // the original's WARC-Target-URI
	Date          time.Time // the original's WARC-Date
	PayloadDigest string    // "sha256:<hex>", the payload digest of both
	// Profile is the WARC-Profile: ProfileIdenticalPayloadDigest (the
	// default, when empty) or ProfileServerNotModified for a 304 answer to a
	// conditional request.
	Profile string
}

// Provenance is the JSON document of a fetch's metadata record.
type Provenance struct {
	URL        string         `json:"url"`
	Method     string         `json:"method,omitempty"`
	FetchedAt  time.Time      `json:"fetched_at"`
	RemoteAddr string         `json:"remote_addr,omitempty"`
	Proxy      string         `json:"proxy,omitempty"`
	Direct     bool           `json:"direct"`
	Truncated  bool           `json:"truncated,omitempty"`
	Request    string         `json:"request_record_id,omitempty"`
	Response   string         `json:"response_record_id"`
	SHA256     string         `json:"response_sha256"`
	RevisitOf  string         `json:"revisit_of,omitempty"`
	TLS        *TLSProvenance `json:"tls,omitempty"`
	Extra      map[string]any `json:"extra,omitempty"`
}

// TLSProvenance describes the TLS session a page was fetched over.
type TLSProvenance struct {
	Version      string        `json:"version,omitempty"`
	CipherSuite  string        `json:"cipher_suite,omitempty"`
	Certificates []Certificate `json:"certificates,omitempty"`
	// Raw is the stored TLS description when it could not be read.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Certificate is one certificate of the server's chain, leaf first.
type Certificate struct {
	Subject   string    `json:"subject,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	Serial    string    `json:"serial,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	SHA256    string    `json:"sha256"`
	PEM       string    `json:"pem"`
	// Error says why the certificate could not be parsed.
	Error string `json:"error,omitempty"`
}

// Provenance returns the metadata document for f.
func (f *Fetch) Provenance() Provenance {
	sum := sha256.Sum256(f.ResponseBytes)
	p := Provenance{
		URL:        f.URL,
		Method:     f.Method,
		FetchedAt:  f.FetchedAt.UTC(),
		RemoteAddr: f.RemoteAddr,
		Proxy:      RedactProxy(f.Proxy),
		Direct:     f.Proxy == "",
		Truncated:  f.Truncated,
		Response:   f.ResponseRecordID,
		SHA256:     hex.EncodeToString(sum[:]),
		TLS:        ParseTLS(f.TLS),
		Extra:      f.Extra,
	}
	if len(f.RequestBytes) > 0 {
		p.Request = f.RequestRecordID
	}
	if f.Revisit != nil {
		p.RevisitOf = f.Revisit.RefersTo
	}
	return p
}

// ParseTLS reads a stored TLS description (see [Fetch.TLS]). It returns nil
// for an empty or JSON null description, and keeps unreadable input in Raw.
func ParseTLS(raw json.RawMessage) *TLSProvenance {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return &TLSProvenance{Raw: raw}
	}
	t := &TLSProvenance{}
	for k, v := range fields {
		switch strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k)) {
		case "version":
			t.Version = jsonText(v)
		case "ciphersuite", "cipher":
			t.CipherSuite = jsonText(v)
		case "peercertificates", "certificates", "certs":
			var ders [][]byte
			if err := json.Unmarshal(v, &ders); err != nil {
				t.Raw = raw
				continue
			}
			for _, der := range ders {
				t.Certificates = append(t.Certificates, describeCert(der))
			}
		}
	}
	return t
}

// jsonText returns a JSON string's value, or the raw JSON of anything else
// (a numeric TLS version, say).
func jsonText(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(v)
}

func describeCert(der []byte) Certificate {
	sum := sha256.Sum256(der)
	c := Certificate{
		SHA256: hex.EncodeToString(sum[:]),
		PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	c.Subject = cert.Subject.String()
	c.Issuer = cert.Issuer.String()
	c.Serial = cert.SerialNumber.Text(16)
	c.NotBefore = cert.NotBefore.UTC()
	c.NotAfter = cert.NotAfter.UTC()
	c.DNSNames = cert.DNSNames
	return c
}

// RedactProxy returns a proxy URL fit to show or archive: its user
// information (user name and password, either of which may be the secret,
// e.g. a proxy service's API key given as the user name) is replaced by
// "xxxxx". The WARC metadata records, case reports, the web UI and its API
// all show proxies through it.
func RedactProxy(p string) string {
	if p == "" {
		return ""
	}
	if u, err := url.Parse(p); err == nil && u.Opaque == "" {
		if u.User != nil {
			u.User = url.User("xxxxx")
		}
		return u.String()
	}
	// Not a hierarchical URL ("user:pass@host:port" parses as scheme
	// "user"), but it may still carry credentials before an "@".
	if at := strings.LastIndex(p, "@"); at >= 0 {
		prefix := ""
		if i := strings.Index(p, "://"); i >= 0 && i < at {
			prefix = p[:i+3]
		}
		return prefix + "xxxxx@" + p[at+1:]
	}
	return p
}

// remoteIP returns the IP of an "ip:port" (or bare IP) address, or "".
func remoteIP(addr string) string {
	if addr == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone
		host = host[:i]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return ""
	}
	return ip.String()
}
