package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// parseDate parses a time flag value: RFC 3339, or a date YYYY-MM-DD
// (midnight UTC; with endOfDay the midnight after it, for bounds such as
// --until that include the whole day). Empty means no bound.
func parseDate(name, s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want a date YYYY-MM-DD or an RFC 3339 time such as 2026-01-02T15:04:05Z", name, s)
	}
	if endOfDay {
		t = t.Add(24 * time.Hour)
	}
	return t, nil
}

// plainText makes text from the database safe to print on a terminal:
// control characters (escape sequences included) and Unicode format
// characters such as bidi overrides are shown as \x.. or \u.... escapes.
func plainText(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			b.WriteString(quoteRune(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
}

func quoteRune(r rune) string {
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}
