package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"snoop/evidence"
	"snoop/internal/termsafe"
	"snoop/store"
)

// ErrInvalid is wrapped by the error Verify returns for a package that is
// not intact.
var ErrInvalid = errors.New("case package is not intact")

// Problem is one thing wrong with a package.
type Problem struct {
	File string // path inside the package; "" for the package as a whole
	// Kind is one of: changed, missing, extra, damaged, manifest, sums,
	// signature, timestamp, warc, hits, custody, path.
	Kind     string
	Detail   string
	Expected string // what the manifest, SHA256SUMS or header says, if any
	Got      string // what the content gives, if any
}

// String gives the problem as "file: kind: detail (expected …, got …)",
// the line `snoop verify` prints after FAIL.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	b.WriteString(p.Kind)
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	if p.Expected != "" || p.Got != "" {
		fmt.Fprintf(&b, " (expected %s, got %s)", orNone(p.Expected), orNone(p.Got))
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// Report is the outcome of Verify.
type Report struct {
	Path        string
	Files       int // files in the package, SHA256SUMS included, every one read
	WARCRecords int // WARC records whose digests were recomputed
	Hits        int // lines of hits.jsonl
	Signed      bool
	SignatureOK bool
	// SignedBy is the fingerprint of the key the signature verified with.
	SignedBy string
	// SignerKnown is true when that key is the one the caller gave, false
	// when it is the key manifest.json names: a signature that verifies
	// with the manifest's own key proves integrity, not who signed.
	SignerKnown bool
	// Timestamp is set when manifest.json.tsr stamps manifest.json.
	Timestamp *Timestamp
	Problems  []Problem
	// Notes are remarks that are not problems (e.g. which key was used).
	Notes []string
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// String returns the report as text: a summary line, the signature and
// time stamp, then one "FAIL <problem>" line per problem, or "OK".
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

// WriteTo writes the report as String does. File names and details come
// from the package and may be hostile: control characters in them are
// escaped (see package termsafe), so the report is safe on a terminal.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	line := func(format string, args ...any) {
		b.WriteString(termsafe.Escape(fmt.Sprintf(format, args...)))
		b.WriteByte('\n')
	}
	line("%s: %d files in the package, %d WARC records, %d hits checked", r.Path, r.Files, r.WARCRecords, r.Hits)
	switch {
	case r.SignatureOK && r.SignerKnown:
		line("signature: valid, signed by the given key %s", r.SignedBy)
	case r.SignatureOK:
		line("signature: intact, but signed by an unknown key %s (the key manifest.json names); pass --pub-key to check who signed", r.SignedBy)
	case !r.Signed:
		line("signature: none")
	}
	if r.Timestamp != nil {
		trust := "signature valid"
		if r.Timestamp.ChainChecked {
			trust = "signature valid, TSA trusted"
		}
		line("timestamp: %s (serial %s, %s, TSA %s)", r.Timestamp.Time.Format("2006-01-02T15:04:05Z"), r.Timestamp.Serial, trust, r.Timestamp.TSA)
	}
	for _, n := range r.Notes {
		line("note: %s", n)
	}
	for _, p := range r.Problems {
		line("FAIL %s", p)
	}
	if r.OK() {
		b.WriteString("OK\n")
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// Size limits for the files Verify reads whole. snoop's manifest.json and
// SHA256SUMS take about 150 bytes per file packed, so these hold packages of
// over 100,000 files; a crafted package whose manifest compresses from a few
// megabytes to hundreds is reported instead of decoded.
const (
	MaxManifestBytes = 16 << 20
	maxSmallBytes    = 1 << 20
)

// Verify checks a case package: a zip file, or the directory it was
// unzipped into. It recomputes every file's sha256 against SHA256SUMS and
// manifest.json and reports changed, missing and extra files; recomputes the
// digests of every WARC record under evidence/; checks that every revisit
// record's original is in the package with the same payload digest, that
// each hit's warc_record_id is in the evidence, that custody.log's hashes are intact,
// and the signature and time stamp if present. With pub non-nil the package
// must be signed by that key; with pub nil a signature is checked against
// the key manifest.json names (which proves integrity, not who signed).
// The report lists every problem; the error wraps ErrInvalid when there is
// any, and reports other failures (an unreadable path) on their own.
func Verify(pkgPath string, pub ed25519.PublicKey) (*Report, error) {
	return VerifyWith(pkgPath, VerifyOptions{PublicKey: pub})
}

// VerifyOptions say what Verify trusts.
type VerifyOptions struct {
	// PublicKey, if set, is the key the package must be signed with.
	PublicKey ed25519.PublicKey
	// TSARoots, if set, are the CA certificates a time stamp's signer
	// must chain to; nil checks the token's signature with the certificate
	// it carries only (integrity, not who stamped).
	TSARoots *x509.CertPool
}

// VerifyWith is Verify with options.
func VerifyWith(pkgPath string, opts VerifyOptions) (*Report, error) {
	pub := opts.PublicKey
	r := &Report{Path: pkgPath}
	fsys, names, closeFn, err := openPackage(pkgPath, r)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", pkgPath, err)
	}
	defer closeFn()
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}

	// SHA256SUMS.
	sums := map[string]string{}
	var sumOrder []string
	if data, ok := readSmall(fsys, SumsFile, MaxManifestBytes, present, r); ok {
		for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if !ok {
				sum, name, ok = strings.Cut(line, " *")
			}
			if !ok || len(sum) != 64 {
				r.add(Problem{File: SumsFile, Kind: "sums", Detail: fmt.Sprintf("line %d is not \"<sha256>  <path>\": %q", i+1, truncate(line, 80))})
				continue
			}
			if _, dup := sums[name]; dup {
				r.add(Problem{File: SumsFile, Kind: "sums", Detail: fmt.Sprintf("line %d lists %s twice", i+1, name)})
			}
			sums[name] = strings.ToLower(sum)
			sumOrder = append(sumOrder, name)
		}
	}

	// manifest.json.
	var m Manifest
	manifestJSON, haveManifest := readSmall(fsys, ManifestFile, MaxManifestBytes, present, r)
	listed := map[string]FileEntry{}
	if haveManifest {
		if err := json.Unmarshal(manifestJSON, &m); err != nil {
			r.add(Problem{File: ManifestFile, Kind: "manifest", Detail: "not valid JSON: " + err.Error()})
			haveManifest = false
		} else {
			for _, e := range m.Files {
				if _, dup := listed[e.Path]; dup {
					r.add(Problem{File: ManifestFile, Kind: "manifest", Detail: "lists " + e.Path + " twice"})
				}
				listed[e.Path] = e
			}
		}
	}
	derived := map[string]bool{ManifestFile: true, SumsFile: true, SignatureFile: true, TimestampFile: true}

	// Hash every file once, checking WARC records on the way.
	idx := &warcIndex{responses: map[string]string{}, revisits: map[string]string{}}
	r.Files = len(names)
	for _, name := range names {
		if name == SumsFile {
			continue
		}
		got, size, err := hashFile(fsys, name, r, idx)
		if err != nil {
			r.add(Problem{File: name, Kind: "damaged", Detail: "cannot be read: " + err.Error()})
			continue
		}
		want, inSums := sums[name]
		switch {
		case !inSums:
			r.add(Problem{File: name, Kind: "extra", Detail: "not listed in SHA256SUMS"})
		case want != got:
			r.add(Problem{File: name, Kind: "changed", Detail: "sha256 differs from SHA256SUMS", Expected: want, Got: got})
		}
		if haveManifest && !derived[name] {
			e, inManifest := listed[name]
			switch {
			case !inManifest:
				r.add(Problem{File: name, Kind: "extra", Detail: "not listed in manifest.json"})
			case !strings.EqualFold(e.SHA256, got):
				r.add(Problem{File: name, Kind: "changed", Detail: "sha256 differs from manifest.json", Expected: e.SHA256, Got: got})
			case e.Size != size:
				r.add(Problem{File: name, Kind: "changed", Detail: "size differs from manifest.json", Expected: fmt.Sprint(e.Size), Got: fmt.Sprint(size)})
			}
		}
	}
	for _, name := range sumOrder {
		if !present[name] {
			detail := "listed in SHA256SUMS"
			if _, ok := listed[name]; ok {
				detail = "listed in SHA256SUMS and manifest.json"
			}
			r.add(Problem{File: name, Kind: "missing", Detail: detail, Expected: "sha256 " + sums[name]})
		}
	}
	if haveManifest {
		for _, e := range m.Files {
			if !present[e.Path] {
				if _, inSums := sums[e.Path]; !inSums {
					r.add(Problem{File: e.Path, Kind: "missing", Detail: "listed in manifest.json", Expected: "sha256 " + e.SHA256})
				} else if sums[e.Path] != strings.ToLower(e.SHA256) {
					r.add(Problem{File: e.Path, Kind: "missing", Detail: "listed in manifest.json with another hash than SHA256SUMS", Expected: e.SHA256, Got: sums[e.Path]})
				}
			}
		}
		if m.Counts.WARCRecords != r.WARCRecords {
			r.add(Problem{File: ManifestFile, Kind: "manifest", Detail: "WARC record count differs from evidence/", Expected: fmt.Sprint(m.Counts.WARCRecords), Got: fmt.Sprint(r.WARCRecords)})
		}
	}
	if haveManifest && len(manifestJSON) > 0 {
		if _, ok := sums[ManifestFile]; !ok && present[SumsFile] {
			r.add(Problem{File: ManifestFile, Kind: "sums", Detail: "manifest.json is not listed in SHA256SUMS"})
		}
	}

	checkSignature(fsys, present, manifestJSON, haveManifest, &m, pub, r)
	if present[TimestampFile] && haveManifest {
		if tsr, ok := readSmall(fsys, TimestampFile, maxSmallBytes, present, r); ok {
			ts, err := checkTimestamp(tsr, manifestJSON, opts.TSARoots)
			if err != nil {
				r.add(Problem{File: TimestampFile, Kind: "timestamp", Detail: err.Error()})
			} else {
				r.Timestamp = &ts.Timestamp
				if !ts.ChainChecked {
					r.Notes = append(r.Notes, "time stamp's signature checked with the TSA certificate the token carries ("+ts.TSA+"); pass the TSA's CA certificate to check who stamped")
				}
			}
		}
	}
	idx.checkRevisits(r)
	if present[HitsJSONLFile] {
		checkHits(fsys, idx, haveManifest, &m, r)
	}
	if present[CustodyFile] {
		var info *CustodyInfo
		if haveManifest {
			info = m.Custody
		}
		checkCustody(fsys, r, info)
	}

	if !r.OK() {
		return r, fmt.Errorf("verify %s: %d problem(s), first: %s: %w", pkgPath, len(r.Problems), r.Problems[0], ErrInvalid)
	}
	return r, nil
}

// openPackage opens a zip file or a directory and lists its regular files.
func openPackage(p string, r *Report) (fs.FS, []string, func() error, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.IsDir() {
		fsys := os.DirFS(p)
		var names []string
		err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				names = append(names, name)
			} else if !d.IsDir() {
				r.add(Problem{File: name, Kind: "extra", Detail: "not a regular file"})
			}
			return nil
		})
		if err != nil {
			return nil, nil, nil, err
		}
		return fsys, names, func() error { return nil }, nil
	}
	zr, err := zip.OpenReader(p)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, nil, nil, err
	}
	overlaps := overlappingEntries(zr.File)
	seen := map[string]bool{}
	var names []string
	for _, f := range zr.File {
		name := f.Name
		if overlaps[f] {
			r.add(Problem{File: name, Kind: "damaged", Detail: "its data overlaps another file's in the zip, as in a zip bomb; not read"})
			continue
		}
		if strings.HasSuffix(name, "/") && f.UncompressedSize64 == 0 {
			continue // directory entry
		}
		if !fs.ValidPath(name) || strings.Contains(name, `\`) {
			r.add(Problem{File: name, Kind: "path", Detail: "unsafe file name in zip"})
			continue
		}
		if seen[name] {
			r.add(Problem{File: name, Kind: "extra", Detail: "appears twice in the zip"})
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	return zr, names, zr.Close, nil
}

// overlappingEntries returns the zip entries whose compressed data starts
// inside an earlier entry's, or whose local header cannot be read. snoop
// never writes such entries; a crafted zip uses them to make a small file
// expand to terabytes (a non-recursive zip bomb), which Verify would
// otherwise spend hours reading.
func overlappingEntries(files []*zip.File) map[*zip.File]bool {
	type span struct {
		f          *zip.File
		start, end int64
	}
	bad := map[*zip.File]bool{}
	var spans []span
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			bad[f] = true
			continue
		}
		spans = append(spans, span{f, off, off + int64(f.CompressedSize64)})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var end int64
	for _, s := range spans {
		if s.start < end {
			bad[s.f] = true
			continue
		}
		end = s.end
	}
	return bad
}

// readSmall reads a file whole, reporting it missing or too large.
func readSmall(fsys fs.FS, name string, limit int64, present map[string]bool, r *Report) ([]byte, bool) {
	if !present[name] {
		r.add(Problem{File: name, Kind: "missing", Detail: "required file"})
		return nil, false
	}
	f, err := fsys.Open(name)
	if err != nil {
		r.add(Problem{File: name, Kind: "damaged", Detail: err.Error()})
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		r.add(Problem{File: name, Kind: "damaged", Detail: err.Error()})
		return nil, false
	}
	if int64(len(data)) > limit {
		r.add(Problem{File: name, Kind: "damaged", Detail: fmt.Sprintf("larger than %d bytes", limit)})
		return nil, false
	}
	return data, true
}

// hashFile returns a file's sha256 and size; WARC files under evidence/
// have their records checked in the same read.
func hashFile(fsys fs.FS, name string, r *Report, idx *warcIndex) (string, int64, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	cr := &evidence.CountingWriter{W: h}
	src := io.TeeReader(f, cr)
	if strings.HasPrefix(name, EvidenceDir) && (strings.HasSuffix(name, ".warc.gz") || strings.HasSuffix(name, ".warc")) {
		checkWARC(name, src, r, idx)
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), cr.N, nil
}

// warcIndex collects what the response and revisit records of a package
// say, to check revisits and hits against once every file is read.
type warcIndex struct {
	responses map[string]string // record id -> payload digest
	revisits  map[string]string // record id -> payload digest
	refs      []revisitRef
}

// revisitRef is one revisit record's reference to its original.
type revisitRef struct {
	file, id, refersTo, payloadDigest string
	offset                            int64
}

// checkRevisits reports revisit records whose original is not in the
// package or has another payload digest.
func (idx *warcIndex) checkRevisits(r *Report) {
	for _, v := range idx.refs {
		where := fmt.Sprintf("revisit record %s at offset %d", v.id, v.offset)
		orig, ok := idx.responses[v.refersTo]
		switch {
		case v.refersTo == "":
			r.add(Problem{File: v.file, Kind: "warc", Detail: where + " has no WARC-Refers-To"})
		case !ok:
			r.add(Problem{File: v.file, Kind: "warc", Detail: where + " refers to " + v.refersTo + ", which is not a response record in evidence/"})
		case !strings.EqualFold(orig, v.payloadDigest):
			r.add(Problem{File: v.file, Kind: "warc", Detail: where + ": WARC-Payload-Digest differs from the one of the record it refers to (" + v.refersTo + ")",
				Expected: orig, Got: v.payloadDigest})
		}
	}
}

func checkWARC(name string, src io.Reader, r *Report, idx *warcIndex) {
	rd, err := evidence.NewReader(src)
	if err != nil {
		r.add(Problem{File: name, Kind: "warc", Detail: err.Error()})
		return
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			r.add(Problem{File: name, Kind: "warc", Detail: err.Error()})
			return
		}
		r.WARCRecords++
		switch rec.Type() {
		case "response":
			idx.responses[rec.ID()] = rec.Header.Get("WARC-Payload-Digest")
		case "revisit":
			pd := rec.Header.Get("WARC-Payload-Digest")
			idx.revisits[rec.ID()] = pd
			idx.refs = append(idx.refs, revisitRef{file: name, id: rec.ID(), offset: rec.Offset,
				refersTo: strings.Trim(rec.Header.Get("WARC-Refers-To"), "<>"), payloadDigest: pd})
		}
		for _, e := range rec.Check() {
			p := Problem{File: name, Kind: "warc", Detail: fmt.Sprintf("%s record %s at offset %d: %v", rec.Type(), rec.ID(), rec.Offset, e)}
			var de *evidence.DigestError
			if errors.As(e, &de) {
				p.Detail = fmt.Sprintf("%s record %s at offset %d: %s does not match the content", rec.Type(), rec.ID(), rec.Offset, de.Field)
				p.Expected, p.Got = de.Want, de.Got
			}
			r.add(p)
		}
	}
}

func checkSignature(fsys fs.FS, present map[string]bool, manifestJSON []byte, haveManifest bool, m *Manifest, pub ed25519.PublicKey, r *Report) {
	if !present[SignatureFile] {
		if pub != nil {
			r.add(Problem{File: SignatureFile, Kind: "signature", Detail: "package is not signed, but a public key was given"})
		} else if haveManifest && m.Signature != nil {
			r.add(Problem{File: SignatureFile, Kind: "missing", Detail: "manifest.json says the package is signed"})
		}
		return
	}
	r.Signed = true
	data, ok := readSmall(fsys, SignatureFile, maxSmallBytes, present, r)
	if !ok || !haveManifest {
		return
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		r.add(Problem{File: SignatureFile, Kind: "signature", Detail: "not the base64 of a 64-byte ed25519 signature"})
		return
	}
	key := pub
	if key == nil {
		if m.Signature == nil {
			r.add(Problem{File: SignatureFile, Kind: "signature", Detail: "no public key given and manifest.json names none"})
			return
		}
		raw, err := base64.StdEncoding.DecodeString(m.Signature.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			r.add(Problem{File: ManifestFile, Kind: "signature", Detail: "signature.public_key is not a base64 ed25519 public key"})
			return
		}
		key = raw
	}
	if !ed25519.Verify(key, manifestJSON, sig) {
		r.add(Problem{File: SignatureFile, Kind: "signature", Detail: "does not verify over manifest.json with key " + KeyFingerprint(key)})
		return
	}
	r.SignatureOK = true
	r.SignedBy = KeyFingerprint(key)
	r.SignerKnown = pub != nil
}

// checkHits checks each hit's evidence reference and the hit count.
func checkHits(fsys fs.FS, idx *warcIndex, haveManifest bool, m *Manifest, r *Report) {
	f, err := fsys.Open(HitsJSONLFile)
	if err != nil {
		return // reported by hashing
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		var h struct {
			ID       int64 `json:"id"`
			Evidence struct {
				WARCRecordID string `json:"warc_record_id"`
			} `json:"evidence"`
		}
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			r.add(Problem{File: HitsJSONLFile, Kind: "hits", Detail: fmt.Sprintf("line %d is not a JSON object: %v", line, err)})
			continue
		}
		r.Hits++
		id := h.Evidence.WARCRecordID
		_, isResponse := idx.responses[id]
		_, isRevisit := idx.revisits[id]
		if !isResponse && !isRevisit {
			r.add(Problem{File: HitsJSONLFile, Kind: "hits", Detail: fmt.Sprintf("line %d: hit %d's warc_record_id %s is not a response or revisit record in evidence/", line, h.ID, orNone(id))})
		}
	}
	if err := sc.Err(); err != nil {
		r.add(Problem{File: HitsJSONLFile, Kind: "hits", Detail: err.Error()})
	}
	if haveManifest && m.Counts.Hits != r.Hits {
		r.add(Problem{File: HitsJSONLFile, Kind: "hits", Detail: "number of hits differs from manifest.json", Expected: fmt.Sprint(m.Counts.Hits), Got: fmt.Sprint(r.Hits)})
	}
}

// checkCustody recomputes the hash of every custody.log row given in full
// and checks the links between consecutive lines, withheld runs included.
// With info (packages that record it), the lines must run without a gap
// from audit row 1 to info.LastID and end at info.LastHash.
func checkCustody(fsys fs.FS, r *Report, info *CustodyInfo) {
	f, err := fsys.Open(CustodyFile)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var (
		prevHash = store.GenesisHash
		prevID   int64 // last row id covered by the previous line
		havePrev = info != nil
		line     int
		rows, wh int
		broken   bool
	)
	for sc.Scan() {
		line++
		var c struct {
			custodyLine
			Withheld *withheldRun `json:"withheld"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			r.add(Problem{File: CustodyFile, Kind: "custody", Detail: fmt.Sprintf("line %d is not a JSON object: %v", line, err)})
			havePrev, broken = false, true
			continue
		}
		first, last := c.ID, c.ID
		what := fmt.Sprintf("line %d (audit row %d)", line, c.ID)
		if c.Withheld != nil {
			first, last = c.Withheld.From, c.Withheld.To
			what = fmt.Sprintf("line %d (withheld rows %d..%d)", line, first, last)
			if first <= 0 || last < first || c.Withheld.Count != last-first+1 {
				r.add(Problem{File: CustodyFile, Kind: "custody", Detail: what + ": not a valid run of rows"})
			}
			wh += int(last - first + 1)
		} else {
			rows++
			var details bytes.Buffer
			if err := json.Compact(&details, c.Details); err != nil {
				details.Reset()
				details.Write(c.Details)
			}
			want := store.AuditHash(store.AuditEntry{ID: c.ID, At: c.At, Actor: c.Actor, Action: c.Action, Details: details.Bytes(), PrevHash: c.PrevHash})
			if want != c.Hash {
				r.add(Problem{File: CustodyFile, Kind: "custody", Detail: what + ": hash does not match the row", Expected: c.Hash, Got: want})
			}
		}
		switch {
		case line > 1 && first <= prevID:
			r.add(Problem{File: CustodyFile, Kind: "custody", Detail: fmt.Sprintf("%s is out of order after row %d", what, prevID)})
		case (havePrev || line > 1) && first == prevID+1 && c.PrevHash != prevHash:
			r.add(Problem{File: CustodyFile, Kind: "custody", Detail: fmt.Sprintf("%s: prev_hash does not link to row %d", what, prevID), Expected: prevHash, Got: c.PrevHash})
		case info != nil && first != prevID+1:
			r.add(Problem{File: CustodyFile, Kind: "custody", Detail: fmt.Sprintf("%s: rows %d..%d are missing", what, prevID+1, first-1)})
		}
		prevID, prevHash, havePrev = last, c.Hash, true
	}
	if err := sc.Err(); err != nil {
		r.add(Problem{File: CustodyFile, Kind: "custody", Detail: err.Error()})
		return
	}
	if info == nil || broken {
		return
	}
	if prevID != info.LastID || prevHash != info.LastHash {
		r.add(Problem{File: CustodyFile, Kind: "custody", Detail: "does not end at the audit row manifest.json names",
			Expected: fmt.Sprintf("row %d %s", info.LastID, info.LastHash), Got: fmt.Sprintf("row %d %s", prevID, prevHash)})
	}
	if rows != info.Rows || wh != info.Withheld {
		r.add(Problem{File: CustodyFile, Kind: "custody", Detail: "row counts differ from manifest.json",
			Expected: fmt.Sprintf("%d in full, %d withheld", info.Rows, info.Withheld), Got: fmt.Sprintf("%d in full, %d withheld", rows, wh)})
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
