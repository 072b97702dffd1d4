package export

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"snoop/store"
)

// CSVHeader is the header row of hits.csv and `snoop hits --format csv`.
var CSVHeader = []string{
	"id", "marketplace", "url", "title", "price", "vendor", "score", "status",
	"substances", "classes", "matched", "rule_version", "sweep_id",
	"first_seen", "last_seen", "evidence_sha256", "warc_record_id",
}

// WriteJSONL writes hits as JSON Lines, one object a line, in the documented hits format
// shape. Times are written in UTC.
func WriteJSONL(w io.Writer, hits []store.Hit) error {
	jw := newJSONLWriter(w)
	for _, h := range hits {
		if err := jw.Write(h); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes hits as CSV (RFC 4180) with CSVHeader as the first row,
// safe to open in a spreadsheet. substances, classes and matched hold one
// entry per substance, joined with ";". A text cell, or a part of one after
// a ",", ";" or tab (which spreadsheets in some locales read as separators),
// that a spreadsheet would run as a formula (it starts with =, +, -, @, a
// tab or carriage return, or their full-width forms) gets a single quote
// before it; hits.jsonl and WriteRawCSV keep the exact text.
func WriteCSV(w io.Writer, hits []store.Hit) error {
	return writeCSV(w, hits, false)
}

// WriteRawCSV is WriteCSV with every cell exactly as stored, for tools that
// need exact values. It is not safe to open in a spreadsheet.
func WriteRawCSV(w io.Writer, hits []store.Hit) error {
	return writeCSV(w, hits, true)
}

func writeCSV(w io.Writer, hits []store.Hit, raw bool) error {
	cw, err := newCSVWriter(w)
	if err != nil {
		return err
	}
	cw.raw = raw
	for _, h := range hits {
		if err := cw.Write(h); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// jsonlWriter writes one hit a line.
type jsonlWriter struct{ enc *json.Encoder }

func newJSONLWriter(w io.Writer) *jsonlWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonlWriter{enc: enc}
}

func (j *jsonlWriter) Write(h store.Hit) error {
	h = normalizeHit(h)
	if err := j.enc.Encode(h); err != nil {
		return fmt.Errorf("write hit %d as json: %w", h.ID, err)
	}
	return nil
}

// csvWriter writes one hit a row after the header.
type csvWriter struct {
	w   *csv.Writer
	raw bool // cells as stored, not neutralised
}

func newCSVWriter(w io.Writer) (*csvWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return nil, fmt.Errorf("write csv header: %w", err)
	}
	return &csvWriter{w: cw}, nil
}

func (c *csvWriter) Write(h store.Hit) error {
	h = normalizeHit(h)
	var names, classes, matched []string
	for _, s := range h.Substances {
		names = append(names, s.Name)
		classes = append(classes, s.Class)
		matched = append(matched, s.Matched)
	}
	SafeCell := SafeCell
	if c.raw {
		SafeCell = func(s string) string { return s }
	}
	row := []string{
		strconv.FormatInt(h.ID, 10),
		SafeCell(h.Marketplace),
		SafeCell(h.URL),
		SafeCell(h.Title),
		SafeCell(h.Price),
		SafeCell(h.Vendor),
		strconv.FormatFloat(h.Score, 'f', -1, 64),
		SafeCell(h.Status),
		SafeCell(strings.Join(names, ";")),
		SafeCell(strings.Join(classes, ";")),
		SafeCell(strings.Join(matched, ";")),
		SafeCell(h.RuleVersion),
		strconv.FormatInt(h.SweepID, 10),
		formatTime(h.FirstSeen),
		formatTime(h.LastSeen),
		h.Evidence.SHA256,
		h.Evidence.WARCRecordID,
	}
	if err := c.w.Write(row); err != nil {
		return fmt.Errorf("write hit %d as csv: %w", h.ID, err)
	}
	return nil
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// normalizeHit puts times in UTC and gives nil substances an empty list,
// so that output does not depend on the caller's time zone.
func normalizeHit(h store.Hit) store.Hit {
	h.FirstSeen = h.FirstSeen.UTC()
	h.LastSeen = h.LastSeen.UTC()
	if h.Substances == nil {
		h.Substances = []store.Substance{}
	}
	return h
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// SafeCell defuses spreadsheet formula injection: a single quote goes
// before a formula trigger at the start of the cell and at the start of
// every part after a separator a spreadsheet may split on (",", ";", tab),
// spaces skipped.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	start := true // at the start of the cell or of a separated part
	for _, r := range s {
		if start {
			switch r {
			case ' ':
				b.WriteRune(r)
				continue
			case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
				b.WriteByte('\'')
			}
		}
		start = r == ',' || r == ';' || r == '\t'
		b.WriteRune(r)
	}
	return b.String()
}
