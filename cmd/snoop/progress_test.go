package main

import (
	"bytes"
	"strings"
	"testing"

	"snoop/crawler"
	"snoop/sweep"
)

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressLine(&buf)
	p.terminal = true // as on an interactive terminal
	p.update(sweep.Progress{Progress: crawler.Progress{Market: "shop", Pages: 12, Queued: 30, Listings: 9, Errors: 1, Rate: 2.5}, Hits: 3})
	line := buf.String()
	for _, want := range []string{"shop: 12 pages (2.5/s)", "30 queued", "9 listings", "3 hits", "1 errors"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	// A log line first clears the progress line.
	buf.Reset()
	p.Write([]byte("level=WARN msg=x\n"))
	if !strings.HasPrefix(buf.String(), "\r\033[K") {
		t.Errorf("log line not preceded by a clear: %q", buf.String())
	}

	// Not on a terminal: nothing but the logs.
	buf.Reset()
	q := newProgressLine(&buf)
	q.update(sweep.Progress{Progress: crawler.Progress{Market: "shop", Pages: 1}})
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}
}
