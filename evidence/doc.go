// Package evidence writes and checks snoop's web-archive evidence: WARC 1.1
// files built from the exact request and response bytes that the crawler
// captured and the store keeps.
//
// # Files
//
// A WARC file written by [Writer] is a sequence of records, each compressed
// as its own gzip member (".warc.gz", so any record can be extracted by
// offset and length). Every file starts with a warcinfo record naming the
// tool, its version, the rule-set version, the sweeps and the case. Each
// fetch ([Fetch]) then becomes three records, always in the same file:
//
//	WARC/1.1
//	WARC-Type: request
//	WARC-Record-ID: <urn:uuid:…>            (stored at capture time)
//	WARC-Date: 2026-01-02T03:04:05.123456789Z (when the response headers arrived)
//	WARC-Target-URI: https://shop.example/product/9
//	WARC-IP-Address: 192.0.2.7               (only when fetched directly)
//	WARC-Concurrent-To: <urn:uuid:…response…>
//	WARC-Warcinfo-ID: <urn:uuid:…>
//	Content-Type: application/http;msgtype=request
//	WARC-Block-Digest: sha256:<hex>
//	WARC-Payload-Digest: sha256:<hex>
//	Content-Length: 123
//
//	GET /product/9 HTTP/1.1 …                 (the request exactly as sent)
//
// followed by the matching response record (msgtype=response, its block the
// status line, header fields and body exactly as read from the connection:
// original case and order, chunked framing and content coding kept, cut at
// the size limit when WARC-Truncated says so) and a metadata record
// (Content-Type application/json, see [Provenance]) with the proxy, remote
// address and TLS version, cipher suite and server certificate chain (PEM),
// which WARC 1.1 has no fields for. Digests are sha256 in lower-case base16.
//
// The payload digest covers the entity body: the bytes after the HTTP header
// block with the chunked transfer coding removed and the content coding
// (gzip, br) kept, as WARC 1.1 defines the payload and as
// internetarchive/gowarc and warcio (after warcio#74; see also heritrix3#769)
// compute it. [ReadHTTPResponse] is the one parser of stored responses that
// the writer, the reader, the store, the report and the web view share. Tools
// that digest the raw bytes after the headers (nlnwa/gowarc's validator among
// them) disagree on chunked records only.
//
// # Revisits
//
// A fetch whose payload is identical to an earlier capture of the same URL is
// kept by the store as the status line and headers only, and written as a
// revisit record (WARC-Profile
// http://netpreserve.org/warc/1.1/revisit/identical-payload-digest) with
// WARC-Refers-To, WARC-Refers-To-Target-URI and WARC-Refers-To-Date naming
// the original response record and WARC-Payload-Digest its payload digest;
// see [Revisit]. A package holding a revisit also holds the original.
//
// Record ids of requests and responses are the ones the store assigned at
// capture, so a hit's warc_record_id points at the same record in every
// package. The metadata and warcinfo ids are name-based (UUID v5) so that the
// same inputs give the same bytes.
//
// # Library
//
// Records are built and serialised with github.com/nlnwa/gowarc/v3 (National
// Library of Norway, Apache-2.0). It was chosen over
// github.com/internetarchive/gowarc, whose strength is recording live traffic
// under an http.Client: snoop already keeps the exact exchange bytes in
// SQLite and only needs to turn stored bytes into records. For that,
// nlnwa/gowarc's record builder is the better fit: header fields keep the
// order they are added in (internetarchive/gowarc keeps them in a Go map, so
// every write orders them differently), it validates every field, the record
// ids and the supplied block and payload digests before a record is written
// (a mismatch fails the export instead of producing a bad archive), and its
// marshaller writes to any io.Writer, which lets records stream straight into
// a zip entry. internetarchive/gowarc's WriteInfoRecord also forces the
// current time and a random id, which breaks reproducible packages.
//
// # Checking
//
// [Validate] and [Reader] are a small independent reader (standard library
// only) used by `snoop verify`: it walks every record of a file and
// recomputes the block and payload digests (de-chunking on the way). A
// revisit record's payload digest is the original's; package export checks
// it against the original.
package evidence
