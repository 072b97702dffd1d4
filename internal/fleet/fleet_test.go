package fleet

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFleetServes(t *testing.T) {
	for _, mode := range []Mode{Fast, Slow} {
		f, err := Start(Options{Markets: 3, Listings: 2, Delay: time.Millisecond, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.URLs()) != 3 || f.Pages() != 3 {
			t.Fatalf("%s: %d URLs, %d pages", mode, len(f.URLs()), f.Pages())
		}
		for _, u := range f.URLs() {
			for _, path := range []string{"", "p/1", "p/2"} {
				resp, err := http.Get(u + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), "<html>") {
					t.Errorf("%s %s%s: %d %q", mode, u, path, resp.StatusCode, body)
				}
			}
			if resp, err := http.Get(u + "p/3"); err != nil || resp.StatusCode != 404 {
				t.Errorf("%s %sp/3: %v, want 404", mode, u, err)
			} else {
				resp.Body.Close()
			}
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, err := Start(Options{Markets: MaxMarkets + 1}); err == nil {
		t.Error("a fleet over MaxMarkets started")
	}
}
