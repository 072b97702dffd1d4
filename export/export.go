package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"snoop/classify"
	"snoop/evidence"
	"snoop/store"
)

// ActionExport is the audit-log action of a case export.
const ActionExport = "export"

// StatusAny as Options.Filter.Status packs hits of every status. An empty
// status packs confirmed hits only.
const StatusAny = "any"

// ErrEmptySelection is returned by Write when no hit matches the selection;
// no package is written.
var ErrEmptySelection = errors.New("no hit matches the selection")

// Options configure Write. Zero values are documented per field.
type Options struct {
	// Case names the case; "" gives "snoop-case-<created_at>".
	Case string
	// Filter selects the hits. Its Status "" packs confirmed hits only
	// (the export policy: only what an analyst confirmed leaves the
	// workbench); StatusAny packs hits of every status.
	Filter store.HitFilter
	// Classifier, if set, finds the context terms (sales, exclusions) that
	// report.html highlights next to the substances; nil highlights the
	// recorded substance matches only.
	Classifier *classify.Classifier
	// PDF, if set, prints report.html as report.pdf; nil makes no PDF.
	// A printer that fails with ErrNoChromium leaves the PDF out and says
	// so in Summary.NoPDF; any other failure fails the export.
	PDF PDFPrinter
	// SignKey signs manifest.json; nil leaves the package unsigned.
	SignKey ed25519.PrivateKey
	// ToolVersion and RuleVersion (the rule set in force) go to the
	// manifest, the warcinfo records and the report.
	ToolVersion string
	RuleVersion string
	// Actor is who exports, for the audit log; "" means the store's actor.
	Actor string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// MaxWARCSize is the compressed size at which a new evidence file is
	// started; 0 means evidence.DefaultMaxFileSize.
	MaxWARCSize int64
	// Screenshots, if set, is asked for a PNG of each hit's page; it
	// returns nil for none. An error is logged and the hit is exported
	// without a screenshot. Nil means the latest screenshot of each hit in
	// the store (store.DB.LatestScreenshot), if any.
	Screenshots func(ctx context.Context, h store.Hit) ([]byte, error)
	// TSAURL, if set, is an RFC 3161 time-stamping authority asked to
	// stamp manifest.json; the reply is stored as manifest.json.tsr. A
	// failure fails the export.
	TSAURL string
	// HTTPClient talks to the TSA; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Extra are more files for the package (a vendor dossier, say),
	// listed in the manifest and checksummed like the others.
	Extra []ExtraFile
}

// Summary describes a written package.
type Summary struct {
	Path     string
	Hits     int
	Evidence int // fetches in evidence/
	// Files counts every file in the zip, SHA256SUMS included; Listed
	// those manifest.json lists with their sha256 (all but manifest.json,
	// SHA256SUMS, signature and manifest.json.tsr).
	Files, Listed int
	Bytes         int64 // size of the zip
	// ManifestSHA256 is the hex sha256 of manifest.json, also recorded in
	// the audit log.
	ManifestSHA256 string
	// Selection says in words which hits were packed (e.g. "confirmed
	// hits only").
	Selection string
	// PDF reports that report.pdf was written; NoPDF says why not.
	PDF   bool
	NoPDF string
}

// ErrExists is returned when the file or directory an export or archive
// would create is already there: nothing is ever overwritten.
var ErrExists = errors.New("already exists: refusing to overwrite")

// Write exports the hits selected by opts.Filter, with their evidence, as a
// case package at path (see the package documentation). It refuses a path
// that exists (ErrExists). It writes a new temporary file of a random name
// next to path, created exclusively (mode 0600), and gives it the name path
// on success, still refusing to replace a file that appeared meanwhile;
// then it appends an "export" row to the audit log, and if that fails the
// package is removed.
func Write(ctx context.Context, db *store.DB, path string, opts Options) (Summary, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Actor == "" {
		opts.Actor = db.Actor
	}
	if opts.Actor == "" {
		return Summary{}, fmt.Errorf("export %s: no actor: name who exports (Options.Actor)", path)
	}
	now := opts.Now().UTC()
	selection, err := applyPolicy(&opts.Filter)
	if err != nil {
		return Summary{}, fmt.Errorf("export %s: %w", path, err)
	}
	if n, err := db.CountHits(ctx, opts.Filter); err != nil {
		return Summary{}, fmt.Errorf("export %s: %w", path, err)
	} else if n == 0 {
		return Summary{}, fmt.Errorf("export %s: %w (%s)", path, ErrEmptySelection, selection)
	}
	if opts.Case == "" {
		opts.Case = "snoop-case-" + now.Format("20060102T150405Z")
	}
	if _, err := os.Lstat(path); err == nil {
		return Summary{}, fmt.Errorf("export %s: %w", path, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Summary{}, fmt.Errorf("export %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".snoop-export-")
	if err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	defer os.RemoveAll(tmp)

	b := &builder{
		db: db, opts: opts, now: now, tmp: tmp,
		written:   map[int64]evLoc{},
		hitSet:    map[int64]bool{},
		sweepSet:  map[int64]bool{},
		ruleSet:   map[string]bool{},
		byStatus:  map[string]int{},
		bySubst:   map[string]int{},
		selection: selection,
	}
	defer b.closeAll()
	sum, err := b.run(ctx, path)
	if err != nil {
		return Summary{}, fmt.Errorf("export %s: %w", path, err)
	}
	return sum, nil
}

// evLoc is where an evidence record went in the package.
type evLoc struct {
	file, respID, reqID string
	offset              int64
	block, payload      string
	refersTo            string // a revisit's original response record id
}

// builder holds the state of one export.
type builder struct {
	db   *store.DB
	opts Options
	now  time.Time
	tmp  string

	written   map[int64]evLoc // evidence id -> location
	hitIDs    []int64
	hitSet    map[int64]bool
	sweepSet  map[int64]bool
	ruleSet   map[string]bool
	byStatus  map[string]int
	bySubst   map[string]int
	shots     []string // screenshot file names, in order
	records   int
	custody   int
	withheld  int
	head      store.AuditEntry // the last audit row at export time
	selection string
	pdf       bool
	noPDF     string
	stillOpen []io.Closer
}

func (b *builder) closeAll() {
	for _, c := range b.stillOpen {
		c.Close()
	}
	b.stillOpen = nil
}

// spool is a buffered temporary file.
type spool struct {
	f *os.File
	*bufio.Writer
}

func (b *builder) spool(name string) (*spool, error) {
	f, err := os.Create(filepath.Join(b.tmp, name))
	if err != nil {
		return nil, err
	}
	b.stillOpen = append(b.stillOpen, f)
	return &spool{f: f, Writer: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *spool) Close() error {
	if err := s.Flush(); err != nil {
		return err
	}
	return s.f.Close()
}

func (b *builder) run(ctx context.Context, path string) (Summary, error) {
	log := b.opts.Logger
	// A first, cheap pass names the sweeps for the warcinfo records.
	var preSweeps []int64
	if err := b.db.HitsEach(ctx, b.opts.Filter, func(h store.Hit) error {
		if !slices.Contains(preSweeps, h.SweepID) {
			preSweeps = append(preSweeps, h.SweepID)
		}
		return nil
	}); err != nil {
		return Summary{}, err
	}
	slices.Sort(preSweeps)

	jsonlF, err := b.spool(HitsJSONLFile)
	if err != nil {
		return Summary{}, err
	}
	csvF, err := b.spool(HitsCSVFile)
	if err != nil {
		return Summary{}, err
	}
	indexF, err := b.spool("report-index.part")
	if err != nil {
		return Summary{}, err
	}
	hitsF, err := b.spool("report-hits.part")
	if err != nil {
		return Summary{}, err
	}
	for _, d := range []string{EvidenceDir, ScreenshotDir} {
		if err := os.Mkdir(filepath.Join(b.tmp, d), 0o700); err != nil {
			return Summary{}, err
		}
	}
	jw := newJSONLWriter(jsonlF)
	cw, err := newCSVWriter(csvF)
	if err != nil {
		return Summary{}, err
	}
	ww := evidence.NewWriter(evidence.WriterOptions{
		Create: func(name string) (io.WriteCloser, error) {
			return os.Create(filepath.Join(b.tmp, EvidenceDir, name))
		},
		MaxFileSize: b.opts.MaxWARCSize,
		Info: evidence.Info{
			Software:    "snoop/" + b.opts.ToolVersion,
			RuleVersion: b.opts.RuleVersion,
			Case:        b.opts.Case,
			Sweeps:      preSweeps,
			Operator:    b.opts.Actor,
			Description: "evidence of snoop case " + b.opts.Case,
		},
		Now:    func() time.Time { return b.now },
		Logger: log,
	})

	err = b.db.HitsEach(ctx, b.opts.Filter, func(h store.Hit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		h = normalizeHit(h)
		if b.hitSet[h.ID] {
			return nil
		}
		b.hitSet[h.ID] = true
		b.hitIDs = append(b.hitIDs, h.ID)
		b.sweepSet[h.SweepID] = true
		if h.RuleVersion != "" {
			b.ruleSet[h.RuleVersion] = true
		}
		b.byStatus[h.Status]++
		seen := map[string]bool{}
		for _, s := range h.Substances {
			if !seen[s.Name] {
				seen[s.Name] = true
				b.bySubst[s.Name]++
			}
		}
		if err := jw.Write(h); err != nil {
			return err
		}
		if err := cw.Write(h); err != nil {
			return err
		}
		rh, err := b.reportHit(ctx, h)
		if err != nil {
			return err
		}
		evs, err := b.db.HitEvidence(ctx, h.ID)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			loc, err := b.writeEvidence(ctx, ww, ev, h)
			if err != nil {
				return err
			}
			re := reportEvidence{
				URL: ev.URL, Method: ev.Method, Status: ev.Status, FetchedAt: ev.FetchedAt, SHA256: ev.SHA256,
				File: EvidenceDir + loc.file, Offset: loc.offset, ResponseID: loc.respID, RequestID: loc.reqID,
				BlockDigest: loc.block, PayloadDigest: loc.payload,
				Proxy: evidence.RedactProxy(ev.Proxy), RemoteAddr: ev.RemoteAddr, ExcerptLimit: excerptBytes,
			}
			page := ev.ResponseBytes
			if ev.Revisit {
				// The page is the original's; this fetch kept its headers.
				orig, err := b.db.Evidence(ctx, ev.RefersTo)
				if err != nil {
					return fmt.Errorf("evidence %d: original of revisit: %w", ev.ID, err)
				}
				re.RevisitOf, re.RevisitOfFetched, page = loc.refersTo, orig.FetchedAt, orig.ResponseBytes
			}
			re.Excerpt = pageExcerpt(page)
			rh.Evidence = append(rh.Evidence, re)
		}
		if n := len(rh.Evidence); n > 0 && rh.Evidence[n-1].URL != h.URL {
			rh.OtherURL = rh.Evidence[n-1].URL
		}
		rh.Shot = b.screenshot(ctx, h)
		if err := reportTmpl.ExecuteTemplate(indexF, "index", rh); err != nil {
			return fmt.Errorf("report hit %d: %w", h.ID, err)
		}
		if err := reportTmpl.ExecuteTemplate(hitsF, "hit", rh); err != nil {
			return fmt.Errorf("report hit %d: %w", h.ID, err)
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	if err := cw.Flush(); err != nil {
		return Summary{}, err
	}
	if err := ww.Close(); err != nil {
		return Summary{}, err
	}
	for _, s := range []*spool{jsonlF, csvF, indexF, hitsF} {
		if err := s.Close(); err != nil {
			return Summary{}, err
		}
	}
	b.stillOpen = nil

	m, err := b.manifest(ctx, ww.Files())
	if err != nil {
		return Summary{}, err
	}
	if err := b.writeCustody(ctx); err != nil {
		return Summary{}, err
	}
	m.Counts.CustodyEvents = b.custody
	m.Custody = b.custodyInfo()
	if err := b.writeReport(m); err != nil {
		return Summary{}, err
	}
	if err := b.printPDF(ctx); err != nil {
		return Summary{}, err
	}

	// Assemble the zip.
	var names []string
	names = append(names, HitsJSONLFile, HitsCSVFile)
	for _, f := range ww.Files() {
		names = append(names, EvidenceDir+f.Name)
	}
	for _, s := range b.shots {
		names = append(names, ScreenshotDir+s)
	}
	names = append(names, ReportFile)
	if b.pdf {
		names = append(names, ReportPDFFile)
	}
	names = append(names, CustodyFile)
	extra, err := b.writeExtra()
	if err != nil {
		return Summary{}, err
	}
	names = append(names, extra...)

	// A new file of a random name, created exclusively: never a path that
	// exists already, such as a symbolic link planted at PATH.tmp.
	out, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return Summary{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	zipHash := sha256.New()
	counter := &evidence.CountingWriter{W: io.MultiWriter(out, zipHash)}
	z := &zipper{zw: zip.NewWriter(counter), modified: b.now} // zip.Writer buffers and flushes on Close
	for _, name := range names {
		if err := z.addFile(name, filepath.Join(b.tmp, filepath.FromSlash(name))); err != nil {
			return Summary{}, err
		}
	}
	m.Files = z.entries
	if b.opts.SignKey != nil {
		pub, ok := b.opts.SignKey.Public().(ed25519.PublicKey)
		if !ok || len(b.opts.SignKey) != ed25519.PrivateKeySize {
			return Summary{}, errors.New("sign key is not an ed25519 private key")
		}
		m.Signature = &SignatureInfo{
			Algorithm: "ed25519", File: SignatureFile, Encoding: "base64", Signed: ManifestFile,
			PublicKey: base64.StdEncoding.EncodeToString(pub), Fingerprint: KeyFingerprint(pub),
		}
	}
	manifestJSON, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Summary{}, err
	}
	manifestJSON = append(manifestJSON, '\n')
	if err := z.addBytes(ManifestFile, manifestJSON); err != nil {
		return Summary{}, err
	}
	if b.opts.SignKey != nil {
		sig := ed25519.Sign(b.opts.SignKey, manifestJSON)
		if err := z.addBytes(SignatureFile, []byte(base64.StdEncoding.EncodeToString(sig)+"\n")); err != nil {
			return Summary{}, err
		}
	}
	if b.opts.TSAURL != "" {
		tsr, err := requestTimestamp(ctx, b.opts.HTTPClient, b.opts.TSAURL, manifestJSON)
		if err != nil {
			return Summary{}, err
		}
		if err := z.addBytes(TimestampFile, tsr); err != nil {
			return Summary{}, err
		}
	}
	var sums bytes.Buffer
	for _, e := range z.all {
		fmt.Fprintf(&sums, "%s  %s\n", e.SHA256, e.Path)
	}
	if err := z.addBytes(SumsFile, sums.Bytes()); err != nil {
		return Summary{}, err
	}
	if err := z.zw.Close(); err != nil {
		return Summary{}, err
	}
	if err := out.Sync(); err != nil {
		return Summary{}, err
	}
	if err := out.Close(); err != nil {
		return Summary{}, err
	}
	if err := placeNew(out.Name(), path); err != nil {
		return Summary{}, err
	}

	mSum := sha256.Sum256(manifestJSON)
	sum := Summary{
		Path: path, Hits: len(b.hitIDs), Evidence: len(b.written), Files: len(z.all) + 1, Listed: len(z.entries),
		Bytes: counter.N, ManifestSHA256: hex.EncodeToString(mSum[:]),
		Selection: b.selection, PDF: b.pdf, NoPDF: b.noPDF,
	}
	details := map[string]any{
		"case": b.opts.Case, "file": filepath.Base(path), "hits": sum.Hits, "hit_ids": b.hitIDs,
		"sweeps": sortedKeys(b.sweepSet), "evidence": sum.Evidence, "files": sum.Files,
		"manifest_sha256": sum.ManifestSHA256, "package_sha256": hex.EncodeToString(zipHash.Sum(nil)),
		"filter": m.Filter,
	}
	if m.Signature != nil {
		details["signed_by"] = m.Signature.Fingerprint
	}
	if err := b.db.Audit(ctx, b.opts.Actor, ActionExport, details, b.now); err != nil {
		os.Remove(path)
		return Summary{}, fmt.Errorf("record export in audit log (package removed): %w", err)
	}
	log.Info("case package written", "path", path, "hits", sum.Hits, "evidence", sum.Evidence,
		"files", sum.Files, "bytes", sum.Bytes, "manifest_sha256", sum.ManifestSHA256)
	return sum, nil
}

// writeEvidence writes ev's records unless an earlier hit already did. A
// revisit's original is written first (once), even when it belongs to no
// exported hit, so that the package holds what every revisit points at.
func (b *builder) writeEvidence(ctx context.Context, ww *evidence.Writer, ev store.Evidence, h store.Hit) (evLoc, error) {
	if loc, ok := b.written[ev.ID]; ok {
		return loc, nil
	}
	sum := sha256.Sum256(ev.ResponseBytes)
	if got := hex.EncodeToString(sum[:]); ev.SHA256 != "" && !strings.EqualFold(got, ev.SHA256) {
		return evLoc{}, fmt.Errorf("evidence %d (%s): stored sha256 %s does not match its response bytes (%s): the database was altered",
			ev.ID, ev.URL, ev.SHA256, got)
	}
	f := evidence.Fetch{
		URL: ev.URL, Method: ev.Method, FetchedAt: ev.FetchedAt,
		RequestBytes: ev.RequestBytes, ResponseBytes: ev.ResponseBytes,
		RequestRecordID: ev.RequestRecordID, ResponseRecordID: ev.WARCRecordID,
		RemoteAddr: ev.RemoteAddr, Proxy: ev.Proxy, TLS: ev.TLS, Truncated: ev.Truncated,
		Extra: map[string]any{"evidence_id": ev.ID, "marketplace": h.Marketplace, "status": ev.Status, "case": b.opts.Case},
	}
	if ev.Revisit {
		orig, err := b.db.Evidence(ctx, ev.RefersTo)
		if err != nil {
			return evLoc{}, fmt.Errorf("evidence %d: original of revisit: %w", ev.ID, err)
		}
		if orig.Revisit {
			return evLoc{}, fmt.Errorf("evidence %d: revisit refers to evidence %d, itself a revisit", ev.ID, orig.ID)
		}
		origLoc, err := b.writeEvidence(ctx, ww, orig, h)
		if err != nil {
			return evLoc{}, err
		}
		if want := "sha256:" + ev.PayloadSHA256; !strings.EqualFold(origLoc.payload, want) {
			return evLoc{}, fmt.Errorf("evidence %d (%s): stored payload sha256 %s differs from the payload of the original, evidence %d (%s): the database was altered",
				ev.ID, ev.URL, want, orig.ID, origLoc.payload)
		}
		f.Revisit = &evidence.Revisit{RefersTo: origLoc.respID, TargetURI: orig.URL, Date: orig.FetchedAt, PayloadDigest: origLoc.payload}
		if ev.Status == http.StatusNotModified {
			f.Revisit.Profile = evidence.ProfileServerNotModified
		}
		f.Extra["revisit_of_evidence_id"] = orig.ID
	}
	refs, err := ww.WriteFetch(f)
	if err != nil {
		return evLoc{}, fmt.Errorf("evidence %d: %w", ev.ID, err)
	}
	var loc evLoc
	if f.Revisit != nil {
		loc.refersTo = f.Revisit.RefersTo
	}
	for _, r := range refs {
		b.records++
		switch r.Type {
		case "response", "revisit":
			loc.file, loc.respID, loc.offset, loc.block, loc.payload = r.File, r.ID, r.Offset, r.BlockDigest, r.PayloadDigest
		case "request":
			loc.reqID = r.ID
		}
	}
	b.written[ev.ID] = loc
	return loc, nil
}

// screenshot fetches, spools and describes a hit's screenshot: from
// Options.Screenshots when set, else the latest one in the store.
func (b *builder) screenshot(ctx context.Context, h store.Hit) *reportShot {
	var (
		png     []byte
		err     error
		shotURL string
		shotAt  time.Time
	)
	switch {
	case b.opts.Screenshots != nil:
		png, err = b.opts.Screenshots(ctx, h)
	case h.Screenshot != nil:
		var s store.Screenshot
		if s, err = b.db.LatestScreenshot(ctx, h.ID); err == nil {
			png, shotURL, shotAt = s.PNG, s.URL, s.TakenAt
		}
	}
	if err != nil {
		b.opts.Logger.Warn("screenshot skipped", "hit", h.ID, "err", err)
		return nil
	}
	if len(png) == 0 {
		return nil
	}
	name := "hit-" + strconv.FormatInt(h.ID, 10) + ".png"
	if err := os.WriteFile(filepath.Join(b.tmp, ScreenshotDir, name), png, 0o600); err != nil {
		b.opts.Logger.Warn("screenshot skipped", "hit", h.ID, "err", err)
		return nil
	}
	b.shots = append(b.shots, name)
	sum := sha256.Sum256(png)
	shot := &reportShot{Path: ScreenshotDir + name, SHA256: hex.EncodeToString(sum[:]), DataURI: pngDataURI(png), URL: shotURL, TakenAt: shotAt}
	if shotURL == "" && h.Screenshot != nil {
		shot.TakenAt = h.Screenshot.TakenAt
	}
	return shot
}

// manifest builds the manifest without its file list.
func (b *builder) manifest(ctx context.Context, files []evidence.File) (*Manifest, error) {
	m := &Manifest{
		Format: FormatVersion, Case: b.opts.Case, CreatedAt: b.now, Tool: "snoop",
		ToolVersion: b.opts.ToolVersion, RuleVersion: b.opts.RuleVersion,
		RuleVersions: sortedKeys(b.ruleSet), CreatedBy: b.opts.Actor,
		Sweeps: []SweepInfo{},
		Counts: Counts{
			Hits: len(b.hitIDs), HitsByStatus: b.byStatus, Substances: b.bySubst,
			Evidence: len(b.written), WARCFiles: len(files), Screenshots: len(b.shots),
		},
	}
	f := b.opts.Filter
	m.Filter = ManifestFilter{IDs: f.IDs, SweepID: f.SweepID, Market: f.Market, Substance: f.Substance, Status: f.Status}
	if m.Filter.Status == "" {
		m.Filter.Status = StatusAny
	}
	if !f.Since.IsZero() {
		s := f.Since.UTC()
		m.Filter.Since = &s
	}
	for _, wf := range files {
		m.Counts.WARCRecords += wf.Records
	}
	for _, id := range sortedKeys(b.sweepSet) {
		s, err := b.db.Sweep(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			b.opts.Logger.Warn("sweep of a hit not found", "sweep", id)
			continue
		} else if err != nil {
			return nil, err
		}
		si := SweepInfo{ID: s.ID, Markets: s.Markets, Status: s.Status, StartedAt: s.StartedAt.UTC(), RuleVersion: s.RuleVersion}
		if si.Markets == nil {
			si.Markets = []string{}
		}
		if !s.FinishedAt.IsZero() {
			t := s.FinishedAt.UTC()
			si.FinishedAt = &t
		}
		m.Sweeps = append(m.Sweeps, si)
	}
	if m.RuleVersions == nil {
		m.RuleVersions = []string{}
	}
	return m, nil
}

// relevant reports whether an audit row concerns the export: it names an
// exported hit or one of their sweeps, or a rule set that produced them.
func (b *builder) relevant(e store.AuditEntry) bool {
	var d map[string]json.RawMessage
	if json.Unmarshal(e.Details, &d) != nil {
		return false
	}
	ids := func(key string) []int64 {
		raw, ok := d[key]
		if !ok {
			return nil
		}
		var one int64
		if json.Unmarshal(raw, &one) == nil {
			return []int64{one}
		}
		var many []int64
		json.Unmarshal(raw, &many)
		return many
	}
	for _, k := range []string{"hit_id", "hit_ids"} {
		for _, id := range ids(k) {
			if b.hitSet[id] {
				return true
			}
		}
	}
	for _, k := range []string{"sweep_id", "sweeps", "sweep_ids"} {
		for _, id := range ids(k) {
			if b.sweepSet[id] {
				return true
			}
		}
	}
	if strings.HasPrefix(e.Action, "rules") {
		for _, k := range []string{"rule_version", "version"} {
			var v string
			if json.Unmarshal(d[k], &v) == nil && b.ruleSet[v] {
				return true
			}
		}
	}
	return false
}

// writeReport assembles report.html from its head and the spooled parts.
func (b *builder) writeReport(m *Manifest) error {
	f, err := b.spool(ReportFile)
	if err != nil {
		return err
	}
	head := reportHead{CSP: reportCSP, M: m, Selection: selectionSentence(b.selection), Custody: b.custodySentence()}
	if err := reportTmpl.ExecuteTemplate(f, "head", head); err != nil {
		return err
	}
	if err := appendFile(f, filepath.Join(b.tmp, "report-index.part")); err != nil {
		return err
	}
	if err := reportTmpl.ExecuteTemplate(f, "middle", head); err != nil {
		return err
	}
	if err := appendFile(f, filepath.Join(b.tmp, "report-hits.part")); err != nil {
		return err
	}
	if err := reportTmpl.ExecuteTemplate(f, "foot", nil); err != nil {
		return err
	}
	return f.Close()
}

func appendFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// zipper adds files to a zip, hashing each.
type zipper struct {
	zw       *zip.Writer
	modified time.Time
	entries  []FileEntry // files the manifest lists
	all      []FileEntry // every file, for SHA256SUMS
}

func (z *zipper) create(name string) (io.Writer, error) {
	method := zip.Deflate
	if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".png") {
		method = zip.Store // already compressed
	}
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: z.modified})
}

func (z *zipper) addFile(name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := z.create(name)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	e := FileEntry{Path: name, SHA256: hexSum(h), Size: n}
	z.entries = append(z.entries, e)
	z.all = append(z.all, e)
	return nil
}

// addBytes adds a derived file (not listed in the manifest).
func (z *zipper) addBytes(name string, data []byte) error {
	w, err := z.create(name)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	if name != SumsFile {
		z.all = append(z.all, FileEntry{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))})
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func sortedKeys[K int64 | string](m map[K]bool) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
