package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"snoop/evidence"
	"snoop/store"
)

// ActionArchive is the audit-log action of a sweep archive.
const ActionArchive = "archive"

// ArchiveOptions configure Archive. Zero values are documented per field.
type ArchiveOptions struct {
	// ToolVersion names the tool version in the warcinfo records.
	ToolVersion string
	// Actor is who archives, for the warcinfo records and the audit log;
	// "" means the store's actor.
	Actor string
	// MaxFileSize is the compressed size at which a new WARC file is
	// started; 0 means evidence.DefaultMaxFileSize.
	MaxFileSize int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
}

// ArchiveFile is one WARC file written by Archive.
type ArchiveFile struct {
	Name    string `json:"name"`    // base name in the directory
	SHA256  string `json:"sha256"`  // hex sha256 of the file
	Records int    `json:"records"` // WARC records, warcinfo included
	Bytes   int64  `json:"bytes"`
}

// ArchiveSummary describes what Archive wrote.
type ArchiveSummary struct {
	Dir   string
	Sweep int64
	Files []ArchiveFile // in order
	// Fetches is the number of the sweep's evidence records written;
	// Originals the number of earlier sweeps' captures written because a
	// revisit of the sweep refers to them.
	Fetches, Originals int
	Records            int   // WARC records in all files
	Bytes              int64 // size of all files
}

// Archive writes every evidence record of sweep sweepID (every fetched
// page, not only hits) into dir as WARC 1.1 files "snoop-sweep-ID-NNNNN.warc.gz",
// one gzip member a record, rotated at opts.MaxFileSize, each opened by a
// warcinfo record naming the tool, its version, the sweep's rule-set
// version and the sweep. Each fetch gives request, response (or revisit)
// and metadata records, in evidence id order; the original a revisit refers
// to is written too, once, when an earlier sweep captured it. Then it writes
// dir/SHA256SUMS ("<hex>  <name>" a line, `sha256sum -c` compatible) and
// appends an "archive" row to the audit log.
//
// Records are read and written one at a time, so memory does not grow with
// the sweep. Files are written under temporary names and get their final
// names only once all of them are complete; Archive refuses to start if
// dir already holds SHA256SUMS or a WARC file of the sweep, and never
// replaces an existing file. On failure nothing but dir itself is left.
func Archive(ctx context.Context, db *store.DB, sweepID int64, dir string, opts ArchiveOptions) (ArchiveSummary, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Actor == "" {
		opts.Actor = db.Actor
	}
	sw, err := db.Sweep(ctx, sweepID)
	if err != nil {
		return ArchiveSummary{}, fmt.Errorf("archive: %w", err)
	}
	a := &archiver{
		db: db, opts: opts, sweep: sw, dir: dir,
		prefix:    fmt.Sprintf("snoop-sweep-%d", sweepID),
		originals: map[int64]bool{},
		sum:       ArchiveSummary{Dir: dir, Sweep: sweepID},
	}
	defer a.cleanup()
	if err := a.run(ctx); err != nil {
		return ArchiveSummary{}, fmt.Errorf("archive sweep %d to %s: %w", sweepID, dir, err)
	}
	return a.sum, nil
}

// archiver holds the state of one Archive call.
type archiver struct {
	db        *store.DB
	opts      ArchiveOptions
	sweep     store.Sweep
	dir       string
	prefix    string
	w         *evidence.Writer
	originals map[int64]bool // earlier sweeps' captures already written
	pending   []*pendingFile // files written under temporary names
	final     []string       // final paths created, removed again on failure
	sum       ArchiveSummary
	done      bool
}

// pendingFile is a WARC file being written under a temporary name.
type pendingFile struct {
	name, tmp string
	f         *os.File
	h         hash.Hash
	closed    bool
}

func (p *pendingFile) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.h.Write(b[:n])
	return n, err
}

// Close syncs and closes the file; the evidence.Writer calls it when the
// file is complete.
func (p *pendingFile) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return err
	}
	return p.f.Close()
}

func (a *archiver) run(ctx context.Context) error {
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return err
	}
	if err := a.checkFree(); err != nil {
		return err
	}
	if a.sweep.Status == "running" {
		a.opts.Logger.Warn("sweep is still running: the archive holds the pages stored so far", "sweep", a.sweep.ID)
	}
	a.w = evidence.NewWriter(evidence.WriterOptions{
		Create:      a.create,
		Prefix:      a.prefix,
		MaxFileSize: a.opts.MaxFileSize,
		Info: evidence.Info{
			Software:    "snoop/" + a.opts.ToolVersion,
			RuleVersion: a.sweep.RuleVersion,
			Sweeps:      []int64{a.sweep.ID},
			Operator:    a.opts.Actor,
			Description: fmt.Sprintf("every fetch of snoop sweep %d (%s, started %s), with the earlier captures its revisit records refer to",
				a.sweep.ID, strings.Join(a.sweep.Markets, ", "), a.sweep.StartedAt.UTC().Format(time.RFC3339)),
		},
		Now:    a.opts.Now,
		Logger: a.opts.Logger,
	})
	err := a.db.EvidenceEach(ctx, a.sweep.ID, func(pe store.PageEvidence) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return a.write(ctx, pe, false)
	})
	if err != nil {
		return err
	}
	if err := a.w.Close(); err != nil {
		return err
	}
	if a.sum.Fetches == 0 {
		return fmt.Errorf("sweep %d has no evidence: nothing to archive", a.sweep.ID)
	}
	return a.commit(ctx)
}

// checkFree refuses a directory that already holds this sweep's archive
// (or any SHA256SUMS), before anything is written.
func (a *archiver) checkFree() error {
	taken, err := filepath.Glob(filepath.Join(a.dir, a.prefix+"-*.warc.gz"))
	if err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(a.dir, SumsFile)); err == nil {
		taken = append(taken, filepath.Join(a.dir, SumsFile))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(taken) > 0 {
		return fmt.Errorf("%s %w", taken[0], ErrExists)
	}
	return nil
}

// create is the evidence.Writer's Create: a temporary file in dir.
func (a *archiver) create(name string) (io.WriteCloser, error) {
	f, err := os.CreateTemp(a.dir, "."+name+".*.tmp")
	if err != nil {
		return nil, err
	}
	p := &pendingFile{name: name, tmp: f.Name(), f: f, h: sha256.New()}
	a.pending = append(a.pending, p)
	return p, nil
}

// write writes one evidence record's fetch; a revisit's original from an
// earlier sweep is written first, once. original marks such an original.
func (a *archiver) write(ctx context.Context, pe store.PageEvidence, original bool) error {
	ev := pe.Evidence
	if got := sha256Hex(ev.ResponseBytes); ev.SHA256 != "" && !strings.EqualFold(got, ev.SHA256) {
		return fmt.Errorf("evidence %d (%s): stored sha256 %s does not match its response bytes (%s): the database was altered",
			ev.ID, ev.URL, ev.SHA256, got)
	}
	f := evidence.Fetch{
		URL: ev.URL, Method: ev.Method, FetchedAt: ev.FetchedAt,
		RequestBytes: ev.RequestBytes, ResponseBytes: ev.ResponseBytes,
		RequestRecordID: ev.RequestRecordID, ResponseRecordID: ev.WARCRecordID,
		RemoteAddr: ev.RemoteAddr, Proxy: ev.Proxy, TLS: ev.TLS, Truncated: ev.Truncated,
		Extra: map[string]any{"evidence_id": ev.ID, "marketplace": pe.Market, "sweep_id": pe.SweepID, "status": ev.Status, "depth": pe.Depth},
	}
	if original {
		f.Extra["archived_for_sweep"] = a.sweep.ID
	}
	if ev.Revisit {
		orig, err := a.db.PageEvidence(ctx, ev.RefersTo)
		if err != nil {
			return fmt.Errorf("evidence %d: original of revisit: %w", ev.ID, err)
		}
		if orig.Revisit {
			return fmt.Errorf("evidence %d: revisit refers to evidence %d, itself a revisit", ev.ID, orig.ID)
		}
		payload, _ := evidence.PayloadSHA256(orig.ResponseBytes)
		if !strings.EqualFold(payload, ev.PayloadSHA256) {
			return fmt.Errorf("evidence %d (%s): stored payload sha256 %s differs from the payload of the original, evidence %d (sha256:%s): the database was altered",
				ev.ID, ev.URL, ev.PayloadSHA256, orig.ID, payload)
		}
		// An original of this sweep has a smaller id: already written.
		if orig.SweepID != a.sweep.ID && !a.originals[orig.ID] {
			a.originals[orig.ID] = true
			if err := a.write(ctx, orig, true); err != nil {
				return err
			}
			a.sum.Originals++
		}
		f.Revisit = &evidence.Revisit{RefersTo: orig.WARCRecordID, TargetURI: orig.URL, Date: orig.FetchedAt, PayloadDigest: "sha256:" + payload}
		f.Extra["revisit_of_evidence_id"] = orig.ID
	}
	if _, err := a.w.WriteFetch(f); err != nil {
		return fmt.Errorf("evidence %d: %w", ev.ID, err)
	}
	if !original {
		a.sum.Fetches++
	}
	return nil
}

// commit gives the finished files their names (never replacing a file),
// writes SHA256SUMS and records the archive in the audit log.
func (a *archiver) commit(ctx context.Context) error {
	var sums bytes.Buffer
	byName := map[string]*pendingFile{}
	for _, p := range a.pending {
		byName[p.name] = p
	}
	for _, wf := range a.w.Files() {
		p := byName[wf.Name]
		if p == nil || !p.closed {
			return fmt.Errorf("%s: not written", wf.Name)
		}
		af := ArchiveFile{Name: wf.Name, SHA256: hex.EncodeToString(p.h.Sum(nil)), Records: wf.Records, Bytes: wf.Bytes}
		if err := a.place(p.tmp, wf.Name); err != nil {
			return err
		}
		a.sum.Files = append(a.sum.Files, af)
		a.sum.Records += af.Records
		a.sum.Bytes += af.Bytes
		fmt.Fprintf(&sums, "%s  %s\n", af.SHA256, af.Name)
	}
	f, err := os.CreateTemp(a.dir, "."+SumsFile+".*.tmp")
	if err != nil {
		return err
	}
	a.pending = append(a.pending, &pendingFile{name: SumsFile, tmp: f.Name(), f: f, closed: true})
	if _, err := f.Write(sums.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := a.place(f.Name(), SumsFile); err != nil {
		return err
	}
	if d, err := os.Open(a.dir); err == nil { // make the new names durable
		d.Sync()
		d.Close()
	}
	abs, err := filepath.Abs(a.dir)
	if err != nil {
		abs = a.dir
	}
	err = a.db.Audit(ctx, a.opts.Actor, ActionArchive, map[string]any{
		"sweep_id": a.sweep.ID, "dir": abs, "files": a.sum.Files, "fetches": a.sum.Fetches,
		"originals": a.sum.Originals, "records": a.sum.Records, "sha256sums": sha256Hex(sums.Bytes()),
	}, a.opts.Now())
	if err != nil {
		return fmt.Errorf("record archive in audit log (files removed): %w", err)
	}
	a.done = true
	a.opts.Logger.Info("sweep archived", "sweep", a.sweep.ID, "dir", a.dir, "files", len(a.sum.Files),
		"fetches", a.sum.Fetches, "originals", a.sum.Originals, "records", a.sum.Records, "bytes", a.sum.Bytes)
	return nil
}

// place gives the temporary file tmp the name name in dir (see placeNew).
func (a *archiver) place(tmp, name string) error {
	final := filepath.Join(a.dir, name)
	if err := placeNew(tmp, final); err != nil {
		return err
	}
	a.final = append(a.final, final)
	return nil
}

// placeNew gives the temporary file tmp the name final, failing with
// ErrExists if that name exists. A hard link makes the check and the
// naming one step; where the file system has no hard links, the check
// precedes a rename.
func placeNew(tmp, final string) error {
	err := os.Link(tmp, final)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s %w", final, ErrExists)
	}
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("%s %w", final, ErrExists)
	}
	return os.Rename(tmp, final)
}

// cleanup removes the temporary files, and on failure the files already
// named.
func (a *archiver) cleanup() {
	for _, p := range a.pending {
		if !p.closed {
			p.f.Close()
		}
		os.Remove(p.tmp)
	}
	if !a.done {
		for _, f := range a.final {
			os.Remove(f)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
