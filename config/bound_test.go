package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// aliasBombConfig returns a config of about 30 KB in which one marketplace
// with n allow patterns is repeated n times through aliases: n×n patterns
// to compile once expanded.
func aliasBombConfig(n int) string {
	var b strings.Builder
	b.WriteString("defaults:\n  burst: 1\nmarketplaces:\n  - &m\n    name: shop\n    start_urls: [\"https://shop.example/\"]\n    allow:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "      - '^https://shop\\.example/p%d/'\n", i)
	}
	for i := 1; i < n; i++ {
		b.WriteString("  - *m\n")
	}
	return b.String()
}

func TestParseRejectsAliasAmplification(t *testing.T) {
	data := aliasBombConfig(1200)
	_, err := Parse("bomb.yaml", []byte(data))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Parse = %v, want one error", err)
	}
	e := list[0]
	firstAlias := strings.Count(data[:strings.Index(data, "*m")], "\n") + 1
	if e.File != "bomb.yaml" || e.Line != firstAlias || !strings.Contains(e.Msg, "alias") {
		t.Errorf("error = %q, want bomb.yaml:%d: … alias …", e.Error(), firstAlias)
	}
}

func TestParseRejectsBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("defaults:\n  headers:\n    X-A: &a0 lol\nmarketplaces:\n")
	b.WriteString("  - name: shop\n    start_urls: [\"https://shop.example/\"]\n    follow: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n")
	for i := 2; i <= 9; i++ {
		fmt.Fprintf(&b, "    deny%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	_, err := Parse("laughs.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "laughs.yaml:7: ") || !strings.Contains(err.Error(), "alias") {
		t.Fatalf("Parse = %v, want laughs.yaml:7: … alias …", err)
	}
}

func TestParseAcceptsRepeatedDefaultsByAlias(t *testing.T) {
	data := `defaults:
  timeout: 10s
marketplaces:
  - name: a
    start_urls: ["https://a.example/"]
    listing: auto
    headers: &h {X-Case: lantern}
  - name: b
    start_urls: ["https://b.example/"]
    listing: auto
    headers: *h
`
	cfg, err := Parse("ok.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if got := cfg.Marketplaces[1].Headers["X-Case"]; got != "lantern" {
		t.Errorf("b's X-Case = %q, want lantern", got)
	}
}

func TestLoadRejectsLargeFileUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: Load must refuse it after reading MaxFileBytes+1.
	if err := f.Truncate(1 << 40); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), "huge.yaml: file is") || !strings.Contains(err.Error(), "allowed") {
		t.Fatalf("Load = %v, want a size error naming the file", err)
	}
}

// BenchmarkParseAliasBomb measures the time and memory taken to refuse a
// config whose aliases repeat a marketplace of n patterns n times, against
// parsing the same marketplace once without aliases (the baseline); run
// with -benchmem.
func BenchmarkParseAliasBomb(b *testing.B) {
	for _, n := range []int{300, 1200} {
		bomb := []byte(aliasBombConfig(n))
		once := []byte(aliasBombConfig(n)[:strings.Index(aliasBombConfig(n), "  - *m")])
		b.Run(fmt.Sprintf("baseline-once/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(once)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("once.yaml", once); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("bomb/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(bomb)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("bomb.yaml", bomb); err == nil {
					b.Fatal("alias bomb accepted")
				}
			}
		})
	}
}
