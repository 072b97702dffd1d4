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
