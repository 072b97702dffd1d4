package yamlbound

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// billionLaughs returns a YAML document of a few hundred bytes whose alias
// expansion has about 10^levels nodes: each level is a list of ten aliases
// of the one before.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestParseRejectsAliasBomb(t *testing.T) {
	_, err := Parse([]byte(billionLaughs(9)), Limits{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(billion laughs) = %v, want *Error", err)
	}
	if e.Line != 2 {
		t.Errorf("line = %d, want 2 (the first alias)", e.Line)
	}
	if !strings.Contains(e.Msg, "alias") {
		t.Errorf("msg = %q, want it to name aliases", e.Msg)
	}
}

func TestParseRejectsMultiplyingAliases(t *testing.T) {
	// 10^4 expanded nodes stay under MaxNodes, but the file holds only a
	// few dozen: aliases multiply it.
	_, err := Parse([]byte(billionLaughs(4)), Limits{MaxAliasGrowth: 1})
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "alias bomb") {
		t.Fatalf("Parse = %v, want an alias bomb error", err)
	}
}

func TestParseAcceptsOrdinaryAliases(t *testing.T) {
	doc := `defaults: &d
  timeout: 30s
  burst: 2
marketplaces:
  - name: a
    <<: *d
  - name: b
    <<: *d
`
	n, err := Parse([]byte(doc), Limits{})
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if len(n.Content) != 1 {
		t.Fatalf("document has %d roots", len(n.Content))
	}
}

func TestParseRejectsLargeFile(t *testing.T) {
	data := []byte("a: " + strings.Repeat("x", 2000) + "\n")
	_, err := Parse(data, Limits{MaxBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "more than the 1000 allowed") {
		t.Fatalf("Parse = %v, want a size error", err)
	}
}

func TestParseSyntaxErrorHasLine(t *testing.T) {
	_, err := Parse([]byte("a: 1\nb: [unclosed\nc: 2\n"), Limits{})
	var e *Error
	if !errors.As(err, &e) || e.Line == 0 {
		t.Fatalf("Parse = %#v, want an error with a line", err)
	}
}

func TestCheckNodeLimit(t *testing.T) {
	// No aliases at all: only MaxNodes applies.
	doc := "[" + strings.Repeat("x, ", 99) + "x]"
	if _, err := Parse([]byte(doc), Limits{MaxNodes: 50}); err == nil {
		t.Fatal("Parse of 101 nodes with MaxNodes 50 succeeded")
	}
	if _, err := Parse([]byte(doc), Limits{MaxNodes: 200}); err != nil {
		t.Fatalf("Parse of 101 nodes with MaxNodes 200: %v", err)
	}
}

// BenchmarkParseAliasBomb measures the time and memory taken to refuse a
// billion-laughs document, against yaml.Unmarshal of the same bytes into a
// node tree (the baseline: parsing without the check); run with -benchmem.
func BenchmarkParseAliasBomb(b *testing.B) {
	data := []byte(billionLaughs(9))
	b.Run("baseline-unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var n yaml.Node
			if err := yaml.Unmarshal(data, &n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse-and-check", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(data, Limits{}); err == nil {
				b.Fatal("alias bomb accepted")
			}
		}
	})
}
