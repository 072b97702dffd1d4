// Package backtest measures what a candidate rule set would change: it
// re-classifies every stored listing and compares the verdicts with the
// stored hits (hits gained, hits lost, substances relabelled). It writes
// nothing, so it is safe to run against a live database.
//
// A backtest is bounded: it stops at Options.Timeout, keeps at most
// Options.MaxRows rows per section (the counts stay complete), classifies at
// most Options.MaxTextBytes of each listing, and ends as soon as its context
// is cancelled, even in the middle of a listing. The size and pattern cost
// of the rule set itself are bounded when it is loaded (package rules).
package backtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"snoop/classify"
	"snoop/store"
)

// Defaults of Options.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultMaxRows      = 1000
	DefaultMaxTextBytes = 1 << 20
)

// ErrTimeout is returned, wrapped, when a backtest runs past its timeout.
var ErrTimeout = errors.New("backtest took longer than its time limit")

// Options bound a backtest. Zero fields take the defaults above.
type Options struct {
	// Timeout bounds the run time.
	Timeout time.Duration
	// MaxRows bounds the rows kept in each of Gained, Lost and Relabeled.
	MaxRows int
	// MaxTextBytes bounds the text classified per listing: a listing's
	// text is cut there, at a character boundary.
	MaxTextBytes int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxTextBytes <= 0 {
		o.MaxTextBytes = DefaultMaxTextBytes
	}
	return o
}

// Result is what a candidate rule set would change against the stored hits.
type Result struct {
	Listings  int   // listings re-classified
	Kept      int   // hits that stay hits
	Gained    []Row // listings that would become hits (at most Options.MaxRows)
	Lost      []Row // hits that would no longer be hits (at most Options.MaxRows)
	Relabeled []Row // hits that stay hits with other substances (at most Options.MaxRows)
	// GainedTotal, LostTotal and RelabeledTotal count every such listing,
	// including those beyond MaxRows.
	GainedTotal, LostTotal, RelabeledTotal int
	// Cut counts the listings whose text was longer than MaxTextBytes.
	Cut int
}

// Row is one listing whose verdict would change. Its Listing has no Text.
type Row struct {
	Listing store.StoredListing
	Before  []string // substances of the stored hit
	After   []string // substances found by the candidate rules
	Score   float64  // the candidate rules' score
}

// Classifier classifies a listing's text; *classify.Classifier is one.
type Classifier interface {
	Classify(text string) classify.Result
}

var _ Classifier = (*classify.Classifier)(nil)

// Run is RunWith with the default Options.
func Run(ctx context.Context, db *store.DB, c Classifier) (Result, error) {
	return RunWith(ctx, db, c, Options{})
}

// RunWith re-classifies every stored listing with c and compares the
// verdicts with the stored hits, within the bounds of opts. When ctx is
// cancelled or the timeout passes it returns what it found so far with an
// error (ErrTimeout for the timeout).
func RunWith(ctx context.Context, db *store.DB, c Classifier, opts Options) (Result, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("%w (%s)", ErrTimeout, opts.Timeout))
	defer cancel()
	var res Result
	err := db.ListingsEach(ctx, func(l store.StoredListing) error {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		text := l.Text
		if len(text) > opts.MaxTextBytes {
			text = cutText(text, opts.MaxTextBytes)
			res.Cut++
		}
		l.Text = "" // rows keep no text: memory does not grow with listings
		r, err := classifyCtx(ctx, c, text)
		if err != nil {
			return err
		}
		res.Listings++
		var before, after []string
		for _, s := range l.Substances {
			before = append(before, s.Name)
		}
		for _, s := range r.Substances {
			after = append(after, s.Name)
		}
		row := Row{Listing: l, Before: before, After: after, Score: r.Score}
		keep := func(rows *[]Row, total *int) {
			*total++
			if len(*rows) < opts.MaxRows {
				*rows = append(*rows, row)
			}
		}
		switch {
		case l.HitID == 0 && r.Hit:
			keep(&res.Gained, &res.GainedTotal)
		case l.HitID != 0 && !r.Hit:
			keep(&res.Lost, &res.LostTotal)
		case l.HitID != 0 && r.Hit:
			res.Kept++
			if strings.Join(before, ",") != strings.Join(after, ",") {
				keep(&res.Relabeled, &res.RelabeledTotal)
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return res, fmt.Errorf("backtest after %d listings: %w", res.Listings, err)
	}
	return res, nil
}

// classifyCtx classifies text, returning early with the context's cause
// when ctx ends first. The classifier takes no context, so an abandoned
// classification finishes in the background; the rule-set bounds keep
// that short.
func classifyCtx(ctx context.Context, c Classifier, text string) (classify.Result, error) {
	done := make(chan classify.Result, 1)
	go func() { done <- c.Classify(text) }()
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return classify.Result{}, context.Cause(ctx)
	}
}

// cutText returns the longest prefix of s of at most n bytes that ends at
// a character boundary.
func cutText(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
