package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"snoop/rules"
)

// Example is one labelled listing of a corpus for "snoop rules test".
type Example struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Text       string   `json:"text"`
	Label      string   `json:"label"` // "positive" or "negative"
	Substances []string `json:"substances"`
	// Kind is the site kind the listing comes from (see
	// rules.SiteKinds); "" is rules.DefaultSiteKind.
	Kind string `json:"kind,omitempty"`
}

// Input returns the text classified for the example: the title and the
// text, as a sweep classifies a listing's title and description.
func (e Example) Input() string {
	switch {
	case e.Text == "" || e.Text == e.Title:
		return e.Title
	case e.Title == "":
		return e.Text
	}
	return e.Title + "\n" + e.Text
}

// ParseCorpus parses a JSON Lines corpus. Errors name the line.
func ParseCorpus(data []byte) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e Example
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if e.Label != "positive" && e.Label != "negative" {
			return nil, fmt.Errorf("line %d: label %q: want positive or negative", line, e.Label)
		}
		if e.Kind != "" && !slices.Contains(rules.SiteKinds, e.Kind) {
			return nil, fmt.Errorf("line %d: kind %q: want one of %s", line, e.Kind, strings.Join(rules.SiteKinds, ", "))
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// Outcome is one example's verdict.
type Outcome struct {
	Example Example
	Result  Result
}

// Tally counts agreement for one class or substance.
type Tally struct {
	TP, FP, FN int
}

// Precision is TP/(TP+FP), 1 when nothing was predicted.
func (t Tally) Precision() float64 { return ratio(t.TP, t.TP+t.FP) }

// Recall is TP/(TP+FN), 1 when nothing was expected.
func (t Tally) Recall() float64 { return ratio(t.TP, t.TP+t.FN) }

// F1 is the harmonic mean of precision and recall.
func (t Tally) F1() float64 {
	p, r := t.Precision(), t.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Evaluation is the score of a classifier on a corpus. A listing counts as
// predicted positive iff its Result.Hit.
type Evaluation struct {
	Listings       Tally
	TN             int
	Classes        map[string]*Tally // listing level, by the class of the first labelled (or found) substance
	Substances     map[string]*Tally // substance level, among listings
	SubstanceClass map[string]string
	FalsePositives []Outcome
	FalseNegatives []Outcome
}

// Evaluate classifies every example.
func Evaluate(c *Classifier, examples []Example) *Evaluation {
	ev := &Evaluation{Classes: map[string]*Tally{}, Substances: map[string]*Tally{}, SubstanceClass: map[string]string{}}
	classOf := func(name string) string {
		if s, ok := c.rs.Substance(name); ok {
			return s.Class
		}
		return "unlisted"
	}
	tally := func(m map[string]*Tally, k string) *Tally {
		t := m[k]
		if t == nil {
			t = &Tally{}
			m[k] = t
		}
		return t
	}
	for _, e := range examples {
		r := c.ClassifyAs(e.Input(), e.Kind)
		want := e.Label == "positive"
		o := Outcome{Example: e, Result: r}
		got := map[string]bool{}
		if r.Hit {
			for _, s := range r.Substances {
				got[s.Name] = true
				ev.SubstanceClass[s.Name] = s.Class
			}
		}
		wantSet := map[string]bool{}
		for _, s := range e.Substances {
			wantSet[s] = true
			if _, ok := ev.SubstanceClass[s]; !ok {
				ev.SubstanceClass[s] = classOf(s)
			}
		}
		for s := range wantSet {
			if got[s] {
				tally(ev.Substances, s).TP++
			} else {
				tally(ev.Substances, s).FN++
			}
		}
		for s := range got {
			if !wantSet[s] {
				tally(ev.Substances, s).FP++
			}
		}
		class := "none"
		switch {
		case len(e.Substances) > 0:
			class = classOf(e.Substances[0])
		case r.Hit && len(r.Substances) > 0:
			class = r.Substances[0].Class
		}
		switch {
		case want && r.Hit:
			ev.Listings.TP++
			tally(ev.Classes, class).TP++
		case want && !r.Hit:
			ev.Listings.FN++
			tally(ev.Classes, class).FN++
			// Listed with every context term, to show what was there.
			o.Result = c.AnalyzeAs(e.Input(), e.Kind)
			ev.FalseNegatives = append(ev.FalseNegatives, o)
		case !want && r.Hit:
			ev.Listings.FP++
			tally(ev.Classes, class).FP++
			ev.FalsePositives = append(ev.FalsePositives, o)
		default:
			ev.TN++
		}
	}
	return ev
}

// SubstanceAgreement is the micro-averaged F1 of substance names over all
// listings.
func (ev *Evaluation) SubstanceAgreement() float64 {
	var t Tally
	for _, s := range ev.Substances {
		t.TP += s.TP
		t.FP += s.FP
		t.FN += s.FN
	}
	return t.F1()
}

// WriteReport prints the per-class and per-substance tables, every false
// positive and false negative with its matched spans, and a last line
// "precision=0.xxx recall=0.xxx f1=0.xxx".
func (ev *Evaluation) WriteReport(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-20s %5s %5s %5s %9s %7s\n", "class (listings)", "tp", "fp", "fn", "precision", "recall")
	for _, k := range sortedKeys(ev.Classes) {
		t := ev.Classes[k]
		fmt.Fprintf(bw, "%-20s %5d %5d %5d %9.3f %7.3f\n", k, t.TP, t.FP, t.FN, t.Precision(), t.Recall())
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "%-34s %-18s %5s %5s %5s %9s %7s\n", "substance", "class", "tp", "fp", "fn", "precision", "recall")
	for _, k := range sortedKeys(ev.Substances) {
		t := ev.Substances[k]
		fmt.Fprintf(bw, "%-34s %-18s %5d %5d %5d %9.3f %7.3f\n", k, ev.SubstanceClass[k], t.TP, t.FP, t.FN, t.Precision(), t.Recall())
	}
	fmt.Fprintln(bw)
	writeOutcomes(bw, "false positives", ev.FalsePositives)
	writeOutcomes(bw, "false negatives", ev.FalseNegatives)
	fmt.Fprintf(bw, "listings=%d tp=%d fp=%d fn=%d tn=%d substance_f1=%.3f\n",
		ev.Listings.TP+ev.Listings.FP+ev.Listings.FN+ev.TN, ev.Listings.TP, ev.Listings.FP, ev.Listings.FN, ev.TN, ev.SubstanceAgreement())
	fmt.Fprintf(bw, "precision=%.3f recall=%.3f f1=%.3f\n", ev.Listings.Precision(), ev.Listings.Recall(), ev.Listings.F1())
	return bw.Flush()
}

func writeOutcomes(w io.Writer, title string, os []Outcome) {
	fmt.Fprintf(w, "%s (%d)\n", title, len(os))
	for _, o := range os {
		r := o.Result
		fmt.Fprintf(w, "  %s score=%.3f want=[%s] got=[%s] %q\n", o.Example.ID, r.Score,
			strings.Join(o.Example.Substances, ","), substanceNames(r), clip(o.Example.Input(), 160))
		for _, m := range r.Matches {
			fmt.Fprintf(w, "      %d-%d %q %s %s %q %+.2f\n", m.Start, m.End, m.Matched, m.Rule, m.Kind, m.Term, m.Weight)
		}
	}
	fmt.Fprintln(w)
}

func substanceNames(r Result) string {
	names := make([]string, len(r.Substances))
	for i, s := range r.Substances {
		names[i] = s.Name
	}
	return strings.Join(names, ",")
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func sortedKeys(m map[string]*Tally) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ExplainShown is the most bytes of normalised text Explain writes.
const ExplainShown = 64 << 10

// analyzeShown is Analyze that also returns the first max bytes of the
// normalised text it analysed (cut on a character boundary) and how many
// bytes followed them.
func (c *Classifier) analyzeShown(text, kind string, max int) (Result, string, int) {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	sc.prior = c.prior(kind)
	sc.prepare(text)
	r := c.analyze(text, sc)
	b := sc.n.b
	if len(b) <= max {
		return r, string(b), 0
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return r, string(b[:cut]), len(b) - cut
}

// Explain writes the normalised text, every match with its span, rule and
// weight, and the score and verdict, for "snoop rules explain".
//
// Of a long text, the first ExplainShown bytes of the normalised form are
// written, followed by how many were left out.
func (c *Classifier) Explain(w io.Writer, text string) error {
	return c.ExplainAs(w, text, "")
}

// ExplainAs is Explain for a text from a site of the given kind (see
// ClassifyAs).
func (c *Classifier) ExplainAs(w io.Writer, text, kind string) error {
	r, norm, left := c.analyzeShown(text, kind, ExplainShown)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "normalised: %s", norm)
	if left > 0 {
		fmt.Fprintf(bw, " … (%d more bytes not shown)", left)
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "rules:      %s\n", r.RuleVersion)
	fmt.Fprintln(bw, "matches:")
	if len(r.Matches) == 0 {
		fmt.Fprintln(bw, "  (none)")
	}
	for _, m := range r.Matches {
		fmt.Fprintf(bw, "  %5d-%-5d %-28q %-34s %-12s %+.2f  term %q\n", m.Start, m.End, m.Matched, m.Rule, m.Kind, m.Weight, m.Term)
	}
	for _, o := range r.Omitted {
		fmt.Fprintf(bw, "  (%d more matches of %s not kept: at most %d a rule are kept per text)\n", o.Dropped, o.Rule, MaxMatchesPerRule)
	}
	fmt.Fprintln(bw, "substances:")
	if len(r.Substances) == 0 {
		fmt.Fprintln(bw, "  (none)")
	}
	for _, s := range r.Substances {
		fmt.Fprintf(bw, "  %s (%s) %q at %d-%d\n", s.Name, s.Class, s.Matched, s.Start, s.End)
	}
	verdict := "no hit"
	if r.Hit {
		verdict = "HIT"
	}
	if pt := r.Parts; len(r.Substances) > 0 {
		fmt.Fprintf(bw, "parts:      base %.2f + sales %.2f (%d distinct sales contexts) - exclude %.2f (strong %.2f + weak %.2f - shield %.2f + far %.2f)",
			pt.Base, pt.Sales, pt.SalesKinds, pt.Exclude, pt.Strong, pt.Weak, pt.Shield, pt.Far)
		if pt.Prior != 0 {
			fmt.Fprintf(bw, " + site prior %+.2f", pt.Prior)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintf(bw, "score=%.3f threshold=%.2f verdict=%s\n", r.Score, c.sc.Threshold, verdict)
	return bw.Flush()
}
