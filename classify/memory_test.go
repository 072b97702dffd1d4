package classify

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestExplainMemoryBounded explains 10 MiB of one repeated name, as a
// hostile page may hold, and checks what the analysis allocates: the
// matches kept per rule are bounded, so the bytes allocated stay within a
// small multiple of the text, far below the 600 MB "snoop rules explain"
// may use; and the result says what it did not keep.
func TestExplainMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MiB input")
	}
	text := strings.Repeat("fentanyl ", (10<<20)/len("fentanyl "))
	for _, tc := range []struct {
		name string
		run  func(c *Classifier)
	}{
		{"Explain", func(c *Classifier) { _ = c.Explain(io.Discard, text) }},
		{"Analyze", func(c *Classifier) { _ = c.Analyze(text) }},
		{"Classify", func(c *Classifier) { _ = c.Classify(text) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A new classifier: its buffers are not yet grown by an
			// earlier call.
			c := defaultClassifier(t)
			alloc := allocatedBy(func() { tc.run(c) })
			t.Logf("%s of %d bytes allocated %d MB", tc.name, len(text), alloc>>20)
			if limit := uint64(450 << 20); alloc > limit {
				t.Errorf("%s of 10 MiB allocated %d MB, want at most %d MB", tc.name, alloc>>20, limit>>20)
			}
		})
	}
	c := defaultClassifier(t)
	r := c.Analyze(text)
	subs := 0
	for _, m := range r.Matches {
		if m.Rule == "substance fentanyl" {
			subs++
		}
	}
	if subs == 0 || subs > MaxMatchesPerRule {
		t.Errorf("kept %d matches of substance fentanyl, want 1..%d", subs, MaxMatchesPerRule)
	}
	dropped := 0
	for _, o := range r.Omitted {
		if o.Rule == "substance fentanyl" {
			dropped = o.Dropped
		}
	}
	if dropped == 0 {
		t.Errorf("Omitted = %v: want the dropped matches of substance fentanyl counted", r.Omitted)
	}
	var sb strings.Builder
	if err := c.Explain(&sb, "fentanyl 5g"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), "not kept") {
		t.Errorf("an ordinary listing reports omitted matches:\n%s", sb.String())
	}
}

// allocatedBy returns the bytes allocated on the heap while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkExplainHostile explains 10 MiB of one repeated name; with
// -benchmem its B/op is the memory one "snoop rules explain" of such a
// page allocates.
func BenchmarkExplainHostile(b *testing.B) {
	c := defaultClassifier(b)
	text := strings.Repeat("fentanyl ", (10<<20)/len("fentanyl "))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = c.Explain(io.Discard, text)
	}
}

// BenchmarkClassifyHostile is BenchmarkExplainHostile for Classify.
func BenchmarkClassifyHostile(b *testing.B) {
	c := defaultClassifier(b)
	text := strings.Repeat("fentanyl ", (10<<20)/len("fentanyl "))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = c.Classify(text)
	}
}
