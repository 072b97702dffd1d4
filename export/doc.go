// Package export writes and verifies snoop case packages, and writes hits
// as JSON Lines and CSV (the documented hits format).
//
// # Case package
//
// A case package is a zip file:
//
//	manifest.json        case, created_at, tool and rule-set versions, the filter,
//	                     sweeps, counts, and every other file with its sha256 and size
//	hits.jsonl           one hit a line, as `snoop hits --format jsonl`
//	hits.csv             the same hits, as `snoop hits --format csv`
//	evidence/snoop-00001.warc.gz …
//	                     WARC 1.1 request, response (or revisit) and metadata
//	                     records of every fetch linked to an exported hit, plus
//	                     the originals their revisit records refer to, and nothing
//	                     else (see package evidence); rotated at Options.MaxWARCSize
//	screenshots/hit-17.png …
//	                     the latest stored screenshot of each hit that has one
//	                     (or what Options.Screenshots returns), also embedded in
//	                     report.html as a data: URI
//	report.html          one offline HTML file without scripts: a summary table,
//	                     how pages were captured, what the digests prove, how to
//	                     re-check; per hit the decision, the matched substance and
//	                     sales context highlighted, captures, digests, WARC record ids
//	report.pdf           optional: report.html printed by headless Chromium (Options.PDF)
//	custody.log          the audit-log rows about the exported hits and their sweeps,
//	                     one JSON object a line with id, at, actor, action, details,
//	                     prev_hash and hash (store.AuditHash recomputes each hash);
//	                     each run of other rows is one line
//	                     {"withheld":{"from":F,"to":T,"count":N},"prev_hash":…,"hash":…}
//	                     so the chain links from row 1 to manifest.json's custody.last_id
//	signature            optional: base64 of the ed25519 signature of manifest.json
//	manifest.json.tsr    optional: RFC 3161 time-stamp response for manifest.json,
//	                     its signature and imprint checked by Verify
//	SHA256SUMS           "<hex>  <path>" for every other file; `sha256sum -c SHA256SUMS`
//	                     passes in the unzipped package
//
// manifest.json lists every file except itself, SHA256SUMS, signature and
// manifest.json.tsr. So the signature over manifest.json covers every file
// through its hash, and [Verify] can tell a missing, changed or added file
// apart even when SHA256SUMS was rewritten to match.
//
// The signature file holds the standard (padded) base64 encoding of the
// 64-byte ed25519 signature of manifest.json's exact bytes, then a newline.
// With OpenSSL: `base64 -d signature > sig.bin && openssl pkeyutl -verify
// -pubin -inkey KEY.pub -rawin -in manifest.json -sigfile sig.bin`.
//
// # Streaming
//
// [Write] reads each hit once (store.DB.HitsEach) and spools every output
// to temporary files next to the destination, one hit and one evidence
// record at a time, so memory does not grow with the size of the case;
// then it assembles the zip in a new temporary file of a random name,
// created exclusively next to the destination, gives it its name (never
// replacing a file), and records the export in the audit log.
//
// # Sweep archive
//
// [Archive] writes every evidence record of one sweep, hit or not, as plain
// WARC files for web-archiving tools (`snoop archive`):
//
//	DIR/snoop-sweep-7-00001.warc.gz …   warcinfo, then request, response (or revisit)
//	                                    and metadata records of each fetch in evidence
//	                                    id order, plus (once) every earlier sweep's
//	                                    capture a revisit refers to; rotated at a size
//	DIR/SHA256SUMS                      "<hex>  <name>" for each WARC file
//
// Files are written under temporary names and named only when all are
// complete; existing files are never replaced. An "archive" audit row
// records the files and their digests.
package export
