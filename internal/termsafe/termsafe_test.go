package termsafe

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain title 10 g", "plain title 10 g"},
		{"изотонитазен 芬太尼 فنتانيل", "изотонитазен 芬太尼 فنتانيل"},
		{"\x1b[2J\x1b]0;pwned\x07title", `\x1b[2J\x1b]0;pwned\x07title`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"iso\u2066late\u2069", `iso\u2066late\u2069`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeLeavesNoControl(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	got := Escape(all.String())
	for _, r := range got {
		if r < 0x20 || r == 0x7f || unsafeRune(r) {
			t.Fatalf("Escape left %U", r)
		}
	}
}

func TestLines(t *testing.T) {
	got := Lines("ok line\nFAIL \x1b[1A\x1b[2KOK\n")
	want := "ok line\nFAIL \\x1b[1A\\x1b[2KOK\n"
	if got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[31mred")
	f.Add("\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Escape(s) {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("Escape(%q) left %U", s, r)
			}
		}
	})
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	// "и" split across writes stays one rune; ESC is escaped; lines and
	// tabs pass.
	for _, part := range []string{"a\tb\n\x1b[31m", "\xd0", "\xb8\n", "end\xd0"} {
		if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
			t.Fatalf("Write(%q) = %d, %v", part, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "a\tb\n\\x1b[31mи\nend\\xd0"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
