package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextBufCollapses(t *testing.T) {
	for _, parts := range [][]string{
		{"  a  b ", "c", "\n d\t"},
		{"Sel", "ling", " widgets"},
		{"", "  ", "x"},
		{"é\u00a0ü", "\u2003z"},
	} {
		b := newTextBuf(1 << 20)
		for _, p := range parts {
			b.WriteString(p)
		}
		want := strings.Join(strings.Fields(strings.Join(parts, "")), " ")
		if got := b.String(); got != want || b.cut() {
			t.Errorf("%q: got %q (cut %v), want %q", parts, got, b.cut(), want)
		}
	}
}

func TestTextBufCuts(t *testing.T) {
	b := newTextBuf(10)
	b.WriteString("aaaa ééé bbbbbbbb")
	got := b.String()
	if !b.cut() || !strings.HasPrefix(got, "aaaa éé [… cut: 9 of 20 bytes kept") || !utf8.ValidString(got) {
		t.Errorf("got %q (cut %v)", got, b.cut())
	}
}

func FuzzTextBuf(f *testing.F) {
	f.Add("a b  c", 3)
	f.Add("\u00a0ä\tö ü", 2)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		want := strings.Join(strings.Fields(s), " ")
		b := newTextBuf(max)
		b.WriteString(s)
		if b.n != len(want) {
			t.Fatalf("n = %d, want %d", b.n, len(want))
		}
		if !strings.HasPrefix(want, string(b.b)) || len(b.b) > max {
			t.Fatalf("kept %q of %q with max %d", b.b, want, max)
		}
	})
}

// A listing page whose description holds max_body_bytes of text gives a
// listing with bounded fields and text, each cut with a note; the page body
// handed to the sink (the evidence) is whole.
func TestHugeFieldsCut(t *testing.T) {
	desc := strings.Repeat("fentanyl ", (1<<20)/9)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="/product/1">1</a>`)
		default:
			fmt.Fprintf(w, `<html><body><h1>Fentanyl</h1><div class="description">%s</div><span class="price">%s</span></body></html>`, desc, desc)
		}
	}))
	defer srv.Close()
	var sink collector
	st, err := Sweep(context.Background(), market(t, srv.URL, "    max_body_bytes: 4194304\n"), &sink, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	ls := sink.listings()
	if len(ls) != 1 {
		t.Fatalf("listings = %d, want 1", len(ls))
	}
	l := ls[0]
	note := fmt.Sprintf("cut: %d of %d bytes kept; the full page is in the evidence]", MaxFieldBytes, len(strings.TrimSpace(desc)))
	for _, k := range []string{"description", "price"} {
		if v := l.Fields[k]; len(v) > MaxFieldBytes+100 || !strings.HasSuffix(v, note) {
			t.Errorf("%s: %d bytes ending %q, want at most %d and a note %q", k, len(v), v[max(0, len(v)-80):], MaxFieldBytes, note)
		}
	}
	if len(l.Text) > MaxTextBytes+100 || !strings.Contains(l.Text, "[… cut:") {
		t.Errorf("text: %d bytes, want at most %d with a note", len(l.Text), MaxTextBytes)
	}
	if fmt.Sprint(l.Cut) != "[description price text]" || st.ListingsCut != 1 {
		t.Errorf("Cut = %v, ListingsCut = %d; want [description price text] and 1", l.Cut, st.ListingsCut)
	}
	page := sink.byURL()[srv.URL+"/product/1"]
	if page == nil || !strings.Contains(string(page.Body), desc) {
		t.Error("the page body handed to the sink is not whole")
	}
}

func TestCutMarkup(t *testing.T) {
	for _, c := range []struct {
		body string
		max  int
		want int
	}{
		{"<a><b><c>", 2, 6},
		{"<a><b>", 2, 6},
		{"text", 1, 4},
		{"<a>x<b>y<c>z", 3, 12},
		{"<a>x<b>y<c>z", 1, 4},
	} {
		if got := cutMarkup([]byte(c.body), c.max); got != c.want {
			t.Errorf("cutMarkup(%q, %d) = %d, want %d", c.body, c.max, got, c.want)
		}
	}
}
