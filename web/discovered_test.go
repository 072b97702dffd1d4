package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"snoop/store"
)

func TestDiscoveredSites(t *testing.T) {
	var added []string
	f := newFixture(t, func(o *Options) {
		o.AddMarketplace = func(_ context.Context, d store.Discovered) (string, error) {
			if d.Site == "broken.example" {
				return "", errors.New("marketplaces[3].proxy: bad proxy")
			}
			added = append(added, d.StartURL)
			return "iso-king-shop-example", nil
		}
	})
	ctx := context.Background()
	err := f.db.SaveDiscovered(ctx, []store.Discovered{
		{Site: "iso-king-shop.example", StartURL: "https://iso-king-shop.example/", Market: "shop", SourceURL: "https://shop.example/p/1", LastSeen: testNow},
		{Site: "t.me/isoking", StartURL: "https://t.me/s/isoking", Market: "shop", SourceURL: "https://shop.example/p/1", LastSeen: testNow},
		{Site: "broken.example", StartURL: "https://broken.example/", Market: "shop", SourceURL: "https://shop.example/p/2", LastSeen: testNow},
	})
	if err != nil {
		t.Fatal(err)
	}
	list := decode[[]store.Discovered](t, f.do(t, req{path: "/api/discovered?status=new"}))
	if len(list) != 3 {
		t.Fatalf("discovered = %+v", list)
	}
	page := f.do(t, req{path: "/"}).Body.String()
	if !strings.Contains(page, `id="discovered"`) || !strings.Contains(page, "t.me/isoking") || !strings.Contains(page, `value="add"`) {
		t.Error("dashboard does not list the discovered sites with their actions")
	}
	// Dismiss by API, add by the dashboard form.
	if w := f.do(t, req{method: "POST", path: "/api/discovered", body: `{"site":"t.me/isoking","action":"dismiss"}`, ctype: "application/json"}); w.Code != 200 {
		t.Fatalf("dismiss: %d %s", w.Code, w.Body)
	}
	cookies, tok := f.csrf(t)
	w := f.do(t, req{method: "POST", path: "/discovered", body: form("csrf", tok, "site", "iso-king-shop.example", "action", "add"), ctype: formType,
		cookies: cookies, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/?notice=discovered-added" {
		t.Fatalf("add form: %d %s", w.Code, w.Header().Get("Location"))
	}
	if len(added) != 1 || added[0] != "https://iso-king-shop.example/" {
		t.Errorf("added %v", added)
	}
	// A config problem is the analyst's to fix: 400 with the reason.
	w = f.do(t, req{method: "POST", path: "/api/discovered", body: `{"site":"broken.example","action":"add"}`, ctype: "application/json"})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "bad proxy") {
		t.Errorf("broken add: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		body string
		code int
	}{
		{`{"site":"iso-king-shop.example","action":"add"}`, http.StatusBadRequest}, // already added
		{`{"site":"nowhere.example","action":"dismiss"}`, http.StatusNotFound},
		{`{"site":"broken.example","action":"delete"}`, http.StatusBadRequest},
	} {
		if w := f.do(t, req{method: "POST", path: "/api/discovered", body: tt.body, ctype: "application/json"}); w.Code != tt.code {
			t.Errorf("%s: %d, want %d (%s)", tt.body, w.Code, tt.code, w.Body)
		}
	}
	left := decode[[]store.Discovered](t, f.do(t, req{path: "/api/discovered?status=new"}))
	if len(left) != 1 || left[0].Site != "broken.example" {
		t.Errorf("still new: %+v", left)
	}
	if w := f.do(t, req{method: "POST", path: "/discovered", body: form("site", "broken.example", "action", "dismiss"), ctype: formType}); w.Code != http.StatusForbidden {
		t.Errorf("form without CSRF token: %d", w.Code)
	}
}
