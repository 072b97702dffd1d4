package main

import (
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestTableAlignsWideCharacters(t *testing.T) {
	var tb table
	tb.add("TITLE", "PRICE")
	tb.add("芬太尼粉末 10克", "$450")
	tb.add("Изотонитазен", "$1")
	tb.add("café", "€9")
	var b strings.Builder
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := -1
	for _, l := range lines {
		i := strings.LastIndex(l, "  ")
		if i < 0 {
			t.Fatalf("line %q has no column gap", l)
		}
		w := runewidth.StringWidth(l[:i+2])
		if col >= 0 && w != col {
			t.Errorf("second column starts at display column %d in %q, want %d:\n%s", w, l, col, b.String())
		}
		col = w
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
}

func TestClipByDisplayWidth(t *testing.T) {
	got := clip("芬太尼粉末出售，纯度百分之九十九", 10)
	if w := runewidth.StringWidth(got); w > 10 {
		t.Errorf("clip = %q, %d columns wide, want at most 10", got, w)
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("clip = %q, want an ellipsis", got)
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
}
