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

// WriteCSV writes hits as CSV (RFC 4180) with CSVHeader as the first row.
// substances, classes and matched hold one entry per substance, joined
// with ";". A text cell that a spreadsheet would run as a formula (it
// starts with =, +, -, @, tab or carriage return) is prefixed with a
// single quote; hits.jsonl keeps the exact text.
func WriteCSV(w io.Writer, hits []store.Hit) error {
	cw, err := newCSVWriter(w)
	if err != nil {
		return err
	}
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
type csvWriter struct{ w *csv.Writer }

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
	row := []string{
		strconv.FormatInt(h.ID, 10),
		safeCell(h.Marketplace),
		safeCell(h.URL),
		safeCell(h.Title),
		safeCell(h.Price),
		safeCell(h.Vendor),
		strconv.FormatFloat(h.Score, 'f', -1, 64),
		safeCell(h.Status),
		safeCell(strings.Join(names, ";")),
		safeCell(strings.Join(classes, ";")),
		safeCell(strings.Join(matched, ";")),
		safeCell(h.RuleVersion),
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

// safeCell defuses spreadsheet formula injection.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
