package classify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"snoop/rules"
)

func defaultClassifier(tb testing.TB) *Classifier {
	tb.Helper()
	rs, err := rules.Default()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := New(rs)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func evalFile(t *testing.T, path string) *Evaluation {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseCorpus(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ev := Evaluate(defaultClassifier(t), ex)
	var b strings.Builder
	if err := ev.WriteReport(&b); err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Log("\n" + b.String())
	}
	return ev
}

// TestDevCorpus scores the default rules on the shared dev corpus when it
// is present next to the repository (../shared/corpus/dev.jsonl).
func TestDevCorpus(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "corpus", "dev.jsonl")
	if _, err := os.Stat(path); err != nil {
		t.Skip("dev corpus not present")
	}
	ev := evalFile(t, path)
	if f1 := ev.Listings.F1(); f1 < 0.97 {
		t.Errorf("dev corpus F1 = %.3f, want >= 0.97", f1)
	}
}

// TestExternalCorpus scores the default rules on the corpus named by
// SNOOP_EVAL_CORPUS, for evaluation sets that must not live in the
// repository.
func TestExternalCorpus(t *testing.T) {
	path := os.Getenv("SNOOP_EVAL_CORPUS")
	if path == "" {
		t.Skip("SNOOP_EVAL_CORPUS not set")
	}
	ev := evalFile(t, path)
	t.Logf("precision=%.3f recall=%.3f f1=%.3f", ev.Listings.Precision(), ev.Listings.Recall(), ev.Listings.F1())
}

// TestLabelledQuality scores the default rules on the labelled sets under
// testdata and fails if listing precision or recall drops below 0.95:
// tricks.jsonl (one case per normalisation trick), heldout.jsonl (other
// sites, languages, unseen analogues, disguises and hard negatives, written
// apart from the dev corpus) and validation.jsonl (written after the rules
// were tuned on heldout.jsonl, as a check on over-fitting) and
// robustness.jsonl (offers that contain a weak exclusion word, and news,
// harm-reduction, test-strip and job texts full of sales words) and
// pages.jsonl (whole-page text as a crawl without fields sees it: offers
// inside site chrome full of exclusion words, and news, harm-reduction,
// shop and forum pages whose sidebars carry drug and sales words) and
// unseen.jsonl (written after all of those and scored blind: unseen names
// and abbreviations, nine more languages, new disguises, and treatment,
// pharmacy, test-strip and news texts) and formats.jsonl (blind too:
// forum, channel, menu, vendor-page and JSON shapes, more currencies and
// scripts, and look-alike codes and channel posts that sell nothing) and
// titles.jsonl (blind: listings that are a title alone, as on darknet
// markets).
func TestLabelledQuality(t *testing.T) {
	tests := []struct {
		file     string
		minP     float64
		minR     float64
		minLines int
	}{
		{"tricks.jsonl", 0.95, 0.95, 50},
		{"heldout.jsonl", 0.95, 0.95, 150},
		{"validation.jsonl", 0.95, 0.95, 50},
		{"robustness.jsonl", 0.95, 0.95, 60},
		{"pages.jsonl", 0.95, 0.95, 80},
		{"unseen.jsonl", 0.95, 0.95, 70},
		{"formats.jsonl", 0.95, 0.95, 50},
		// Title-only listings: two of the 25 offers use short forms ("Eto",
		// "Proto") that count only beside a nitazene word, deliberately.
		{"titles.jsonl", 0.95, 0.90, 40},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := evalFile(t, filepath.Join("testdata", tt.file))
			n := ev.Listings.TP + ev.Listings.FP + ev.Listings.FN + ev.TN
			if n < tt.minLines {
				t.Fatalf("%s has %d listings, want at least %d", tt.file, n, tt.minLines)
			}
			p, r := ev.Listings.Precision(), ev.Listings.Recall()
			t.Logf("%s: precision=%.3f recall=%.3f f1=%.3f", tt.file, p, r, ev.Listings.F1())
			if p < tt.minP || r < tt.minR {
				for _, o := range append(ev.FalsePositives, ev.FalseNegatives...) {
					t.Logf("miss %s score=%.3f %q", o.Example.ID, o.Result.Score, o.Example.Input())
				}
				t.Errorf("%s: precision=%.3f recall=%.3f, want >= %.2f and >= %.2f", tt.file, p, r, tt.minP, tt.minR)
			}
		})
	}
}
