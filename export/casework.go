package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"snoop/store"
)

// applyPolicy turns the filter's status into the one the store applies,
// and returns in words which hits it selects: "" packs confirmed hits only,
// StatusAny every hit.
func applyPolicy(f *store.HitFilter) (string, error) {
	var what string
	switch f.Status {
	case "":
		f.Status = store.StatusConfirmed
		what = "confirmed hits only (the default)"
	case StatusAny:
		f.Status = ""
		what = "hits of every status"
	default:
		if !store.ValidStatus(f.Status) {
			return "", fmt.Errorf("invalid status %q (want confirmed, false_positive, new or any)", f.Status)
		}
		what = "hits with status " + f.Status
	}
	var more []string
	if len(f.IDs) > 0 {
		ids := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		more = append(more, "hit "+strings.Join(ids, ", "))
	}
	if f.SweepID != 0 {
		more = append(more, "sweep "+strconv.FormatInt(f.SweepID, 10))
	}
	if !f.Since.IsZero() {
		more = append(more, "detected since "+f.Since.UTC().Format(time.RFC3339))
	}
	if f.Market != "" {
		more = append(more, "marketplace "+f.Market)
	}
	if f.Substance != "" {
		more = append(more, "substance "+f.Substance)
	}
	if len(more) > 0 {
		what += ", " + strings.Join(more, ", ")
	}
	return what, nil
}

// selectionSentence is the report's sentence about what was packed.
func selectionSentence(selection string) string {
	return "This package holds " + selection + "."
}

// reportHit gathers what report.html shows about one hit: the decision
// and review history, the context terms and the highlighted text.
func (b *builder) reportHit(ctx context.Context, h store.Hit) (reportHit, error) {
	rh := reportHit{H: h}
	seen := map[string]bool{}
	for _, s := range h.Substances {
		if !seen[s.Name] {
			seen[s.Name] = true
			rh.Names = append(rh.Names, s.Name)
		}
	}
	reviews, err := b.db.Reviews(ctx, h.ID)
	if err != nil {
		return rh, err
	}
	rh.Reviews = reviews
	if n := len(reviews); n > 0 {
		rh.Decision = &reviews[n-1]
	}
	spans := make([]span, 0, len(h.Substances))
	for _, s := range h.Substances {
		spans = append(spans, span{Start: s.Start, End: s.End, Class: "substance", Term: s.Name})
	}
	if c := b.opts.Classifier; c != nil {
		rh.RuleVersion = c.RuleSet().Version()
		for _, m := range c.Analyze(h.Text).Matches {
			class := contextClass(m.Kind)
			if class == "" || m.Start < 0 || m.End > len(h.Text) || m.Start >= m.End {
				continue
			}
			rh.Contexts = append(rh.Contexts, contextMatch{Rule: m.Rule, Kind: m.Kind, Text: h.Text[m.Start:m.End],
				Class: class, Start: m.Start, End: m.End})
			spans = append(spans, span{Start: m.Start, End: m.End, Class: class, Term: m.Rule})
		}
	}
	rh.Segments = highlightSpans(h.Text, spans)
	if h.Description != "" && !strings.Contains(h.Text, h.Description) {
		rh.Description = h.Description
	}
	return rh, nil
}

// contextClass is the mark class of a context match, "" for a substance
// match (those come from the stored hit).
func contextClass(kind string) string {
	switch kind {
	case "sales":
		return "sales"
	case "exclude":
		return "exclude"
	case "support":
		return "support"
	}
	return ""
}

// printPDF prints report.html as report.pdf with Options.PDF.
func (b *builder) printPDF(ctx context.Context) error {
	if b.opts.PDF == nil {
		b.noPDF = "no PDF printer configured"
		return nil
	}
	pdf, err := b.opts.PDF.PrintPDF(ctx, filepath.Join(b.tmp, ReportFile))
	if errors.Is(err, ErrNoChromium) {
		b.noPDF = err.Error()
		b.opts.Logger.Warn("no report.pdf made", "reason", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("report.pdf: %w", err)
	}
	if len(pdf) < 5 || string(pdf[:5]) != "%PDF-" {
		return errors.New("report.pdf: the printer did not return a PDF")
	}
	if err := os.WriteFile(filepath.Join(b.tmp, ReportPDFFile), pdf, 0o600); err != nil {
		return fmt.Errorf("report.pdf: %w", err)
	}
	b.pdf = true
	return nil
}

// withheldRun stands in custody.log for audit rows From..To that concern
// other cases: PrevHash is row From's prev_hash and Hash row To's hash, so
// the chain of the rows given in full can be followed from row 1 to the
// last, while what the other rows say stays out of the package.
type withheldRun struct {
	From  int64 `json:"from"`
	To    int64 `json:"to"`
	Count int64 `json:"count"`
}

// withheldLine is a custody.log line for a run of withheld rows.
type withheldLine struct {
	Withheld withheldRun `json:"withheld"`
	PrevHash string      `json:"prev_hash"`
	Hash     string      `json:"hash"`
}

// writeCustody writes custody.log: every audit row that concerns the
// exported hits, their sweeps or their rule sets in full, and each run of
// other rows as one withheld line carrying the hashes that link the chain.
func (b *builder) writeCustody(ctx context.Context) error {
	f, err := b.spool(CustodyFile)
	if err != nil {
		return err
	}
	entries, err := b.db.AuditEntries(ctx, time.Time{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false) // details stay byte for byte as hashed
	var run *withheldLine
	flush := func() error {
		if run == nil {
			return nil
		}
		err := enc.Encode(run)
		run = nil
		return err
	}
	for _, e := range entries {
		b.head = e
		if !b.relevant(e) {
			if run == nil {
				run = &withheldLine{Withheld: withheldRun{From: e.ID}, PrevHash: e.PrevHash}
			}
			run.Withheld.To, run.Hash = e.ID, e.Hash
			run.Withheld.Count++
			b.withheld++
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := enc.Encode(custodyLine{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action,
			Details: e.Details, PrevHash: e.PrevHash, Hash: e.Hash}); err != nil {
			return err
		}
		b.custody++
	}
	if err := flush(); err != nil {
		return err
	}
	return f.Close()
}

// custodyInfo is the manifest's description of custody.log.
func (b *builder) custodyInfo() *CustodyInfo {
	return &CustodyInfo{Rows: b.custody, Withheld: b.withheld, LastID: b.head.ID, LastHash: b.head.Hash}
}

// custodySentence explains custody.log in the report.
func (b *builder) custodySentence() string {
	s := fmt.Sprintf("This extract holds %d row(s) in full: those about the hits in this package, the sweeps that found them and their rule sets.", b.custody)
	if b.withheld > 0 {
		s += fmt.Sprintf(" %d other row(s) concern other work and are withheld: each run of them is one line giving only the hash that links the chain across it, so the chain can still be followed from the first row to row %d; the withheld rows themselves can be checked against the agency's database with snoop audit verify.", b.withheld, b.head.ID)
	}
	s += " The export of this package is recorded in the audit log after the package is made, so it is not in this extract."
	return s
}

// custodyLine is one audit row given in full in custody.log.
type custodyLine struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}
