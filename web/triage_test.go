package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTriageNiceties(t *testing.T) {
	f := newFixture(t, nil)
	cookies, tok := f.csrf(t)
	post := func(path string, kv ...string) *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: path, body: form(append([]string{"csrf", tok}, kv...)...), ctype: formType, cookies: cookies})
	}

	t.Run("bulk bar above the table, select all, access keys", func(t *testing.T) {
		body := f.do(t, req{path: "/hits"}).Body.String()
		bar, table := strings.Index(body, `<fieldset class="bulk">`), strings.Index(body, `<table class="grid" id="hits">`)
		if bar < 0 || table < 0 || bar > table {
			t.Errorf("bulk bar at %d, table at %d: want the bar above", bar, table)
		}
		for _, want := range []string{`class="confirm" accesskey="c"`, `class="false-positive" accesskey="f"`, `id="select-all"`} {
			if !strings.Contains(body, want) {
				t.Errorf("/hits lacks %s", want)
			}
		}
		if strings.Contains(body, ` checked>`) {
			t.Error("hits ticked without select all")
		}
		all := f.do(t, req{path: "/hits?all=1"}).Body.String()
		if n := strings.Count(all, ` checked>`); n != len(f.hits) {
			t.Errorf("select all ticked %d of %d hits", n, len(f.hits))
		}
	})
	t.Run("nothing ticked", func(t *testing.T) {
		w := post("/hits/review", "status", "confirmed", "back", "/hits")
		if w.Code != 400 || !strings.Contains(w.Body.String(), "Nothing was ticked, so nothing was marked") {
			t.Errorf("got %d: %s", w.Code, w.Body)
		}
	})
	t.Run("next and previous hit", func(t *testing.T) {
		mid := f.hits[1]
		if err := f.db.Review(context.Background(), f.hits[2], "confirmed", "", "a", testNow); err != nil {
			t.Fatal(err)
		}
		body := f.do(t, req{path: fmt.Sprintf("/hits/%d", mid)}).Body.String()
		for _, want := range []string{
			fmt.Sprintf(`<a href="/hits/%d" rel="prev" accesskey="p">`, f.hits[0]),
			fmt.Sprintf(`<a href="/hits/%d" rel="next" accesskey="x">`, f.hits[2]),
			`id="confirm" class="confirm" accesskey="c"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("hit page lacks %s", want)
			}
		}
		if strings.Contains(body, fmt.Sprintf(`<a href="/hits/%d" id="next-new"`, f.hits[2])) {
			t.Error("next new hit points at a confirmed hit")
		}
	})
}
