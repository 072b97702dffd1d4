package benchmarket

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The offers cycle through every opioid name, not one of them.
func TestOffersUseEveryName(t *testing.T) {
	seen := map[string]bool{}
	for id := 1; id <= 50*len(offers); id++ {
		if !isOffer(id) {
			continue
		}
		for _, o := range offers {
			if strings.HasPrefix(title(id), o+",") {
				seen[o] = true
			}
		}
	}
	if len(seen) != len(offers) {
		t.Errorf("offer titles use %d of the %d names: %v", len(seen), len(offers), seen)
	}
}

// Every page is reachable from the home page by following links, and a crawl
// that skips /cart fetches Pages(n) of them.
func TestPagesReachable(t *testing.T) {
	const n = 333
	h := Handler(n)
	href := regexp.MustCompile(`href="([^"]+)"`)
	seen := map[string]bool{"/": true}
	queue := []string{"/"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, rec.Code)
		}
		body, _ := io.ReadAll(rec.Body)
		for _, m := range href.FindAllStringSubmatch(string(body), -1) {
			if u := m[1]; u != "/cart" && !seen[u] {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	if len(seen) != Pages(n) {
		t.Errorf("reachable pages = %d, want Pages(%d) = %d", len(seen), n, Pages(n))
	}
}
