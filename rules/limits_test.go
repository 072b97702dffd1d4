package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// problemAt returns the problems of err, failing unless one is at
// file:line and contains want.
func problemAt(t *testing.T, err error, file string, line int, want string) {
	t.Helper()
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	for _, p := range probs {
		if p.File == file && p.Line == line && strings.Contains(p.Msg, want) {
			return
		}
	}
	t.Fatalf("problems:\n%v\nwant one at %s:%d containing %q", err, file, line, want)
}

func TestParseRejectsAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("substances:\n  - name: lol\n    class: nitazene\n    synonyms: &a0 [lolnitazene]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	_, err := Parse("bomb.yaml", []byte(b.String()))
	problemAt(t, err, "bomb.yaml", 5, "alias")
}

func TestParseRejectsLongTerm(t *testing.T) {
	data := "substances:\n  - name: foonitazene\n    class: nitazene\n    synonyms:\n      - " + strings.Repeat("x", MaxTermBytes+1) + "\n"
	_, err := Parse("long.yaml", []byte(data))
	problemAt(t, err, "long.yaml", 5, "longer than")
}

func TestParseRejectsCostlyPattern(t *testing.T) {
	// Valid RE2, but its program has thousands of instructions.
	data := "contexts:\n  - name: costly\n    kind: sales\n    weight: 0.1\n    patterns: ['x[a-z]{1,999}y']\n"
	_, err := Parse("costly.yaml", []byte(data))
	problemAt(t, err, "costly.yaml", 2, "instructions")
}

func TestParseRejectsTooManyPatterns(t *testing.T) {
	var b strings.Builder
	b.WriteString("contexts:\n  - name: many\n    kind: sales\n    weight: 0.1\n    patterns:\n")
	for i := 0; i <= MaxPatterns; i++ {
		fmt.Fprintf(&b, "      - 'word%d'\n", i)
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	problemAt(t, err, "many.yaml", 2, fmt.Sprintf("more than %d patterns", MaxPatterns))
}

func TestParseRejectsTooManyTerms(t *testing.T) {
	var b strings.Builder
	b.WriteString("contexts:\n  - name: many\n    kind: sales\n    weight: 0.1\n    terms:\n")
	for i := 0; i <= MaxTerms; i++ {
		fmt.Fprintf(&b, "      - w%d\n", i)
	}
	_, err := Parse("terms.yaml", []byte(b.String()))
	problemAt(t, err, "terms.yaml", 6+MaxTerms, fmt.Sprintf("more than %d terms", MaxTerms))
}

func TestLoadRejectsLargeFile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "big.yaml is") || !strings.Contains(err.Error(), "allowed") {
		t.Fatalf("LoadDir = %v, want a size error naming big.yaml", err)
	}
}

func TestLoadRejectsTooManyFiles(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := 0; i <= MaxFiles; i++ {
		fsys[fmt.Sprintf("r%03d.yaml", i)] = &fstest.MapFile{Data: []byte("{}\n")}
	}
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "rule files") {
		t.Fatalf("Load = %v, want a file count error", err)
	}
}

func TestDefaultWithinLimits(t *testing.T) {
	if _, err := Default(); err != nil {
		t.Fatalf("default rules: %v", err)
	}
}

func TestLoadRejectsLargeSet(t *testing.T) {
	fsys := fstest.MapFS{}
	big := []byte("# " + strings.Repeat("x", MaxFileBytes-10) + "\n")
	for i := 0; i*len(big) <= MaxSetBytes; i++ {
		fsys[fmt.Sprintf("r%02d.yaml", i)] = &fstest.MapFile{Data: big}
	}
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "allowed for a set") {
		t.Fatalf("Load = %v, want a set size error", err)
	}
}
