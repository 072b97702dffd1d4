package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// wireResponse is html gzip-encoded and chunked, with header fields in the
// server's case, as the crawler stores a response; cut drops that many
// bytes from the end (a truncated capture).
func wireResponse(t *testing.T, html string, cut int) []byte {
	t.Helper()
	gzipped := gz(t, html)
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n")
	for len(gzipped) > 0 {
		n := min(len(gzipped), 300)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(gzipped[:n])
		b.WriteString("\r\n")
		gzipped = gzipped[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()[:b.Len()-cut]
}

// saveWire stores a capture of url with one hit listing and returns it.
func saveWire(t *testing.T, f *fixture, url string, at time.Time, resp []byte, truncated bool) store.SaveResult {
	t.Helper()
	res, err := f.db.SavePage(context.Background(), store.PageRecord{SweepID: f.sweep, Market: "shop", URL: url, Status: 200,
		Evidence: store.Evidence{FetchedAt: at, RequestBytes: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ResponseBytes: resp, Truncated: truncated}},
		[]store.ListingRecord{{URL: url, Title: "Protonitazene 1g", Text: "protonitazene 1g for sale", Hit: &store.HitRecord{Score: 0.9, RuleVersion: f.rulesV,
			Substances: []store.Substance{{Name: "protonitazene", Class: "nitazene", Matched: "protonitazene", Start: 0, End: 13}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const wireHTML = `<html><body><h1>Protonitazene wire page</h1><script>document.title="pwned"</script><img src=x onerror="alert(1)"></body></html>`

func TestEvidenceWireBytes(t *testing.T) {
	f := newFixture(t, nil)
	u := "https://shop.test/wire"
	first := saveWire(t, f, u, testNow.Add(-20*time.Minute), wireResponse(t, wireHTML, 0), false)
	second := saveWire(t, f, u, testNow.Add(-10*time.Minute), wireResponse(t, wireHTML, 0), false)
	cut := saveWire(t, f, "https://shop.test/cut", testNow.Add(-5*time.Minute), wireResponse(t, strings.Repeat(wireHTML, 50), 60), true)
	if first.Revisit || !second.Revisit {
		t.Fatalf("revisit = %v, %v; want the second capture to be a revisit", first.Revisit, second.Revisit)
	}

	for _, tc := range []struct {
		name string
		id   int64
		want string
	}{
		{"chunked gzip", first.EvidenceID, "<h1>Protonitazene wire page</h1>"},
		{"revisit shows the original", second.EvidenceID, "<h1>Protonitazene wire page</h1>"},
		{"truncated chunked gzip", cut.EvidenceID, "<h1>Protonitazene wire page</h1>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(t, req{path: fmt.Sprintf("/evidence/%d/page", tc.id)})
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			checkCSP(t, w, cspEvidence)
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("body %.200q lacks the decoded page", w.Body.String())
			}
		})
	}

	raw := f.do(t, req{path: fmt.Sprintf("/evidence/%d/raw", second.EvidenceID)})
	ev, _ := f.db.Evidence(context.Background(), second.EvidenceID)
	if !bytes.Equal(raw.Body.Bytes(), ev.ResponseBytes) || !bytes.HasSuffix(ev.ResponseBytes, []byte("chunked\r\n\r\n")) {
		t.Errorf("raw revisit = %q, want its stored headers", raw.Body.Bytes())
	}
	if got := raw.Header().Get("X-Snoop-Revisit-Of"); got != fmt.Sprintf("/evidence/%d/raw", first.EvidenceID) {
		t.Errorf("X-Snoop-Revisit-Of = %q", got)
	}

	// The hit page shows the revisit's original page, escaped.
	hitID := second.Listings[0].HitID
	w := f.do(t, req{path: fmt.Sprintf("/hits/%d", hitID)})
	body := w.Body.String()
	for _, want := range []string{"&lt;h1&gt;Protonitazene wire page&lt;/h1&gt;", fmt.Sprintf("unchanged since evidence %d", first.EvidenceID), "revisit: payload identical"} {
		if !strings.Contains(body, want) {
			t.Errorf("hit page lacks %q", want)
		}
	}
	if strings.Contains(body, `<script>document.title`) || strings.Contains(body, `onerror="alert`) {
		t.Error("hit page carries active markup from the evidence")
	}

	det := decode[hitDetailJSON](t, f.do(t, req{path: fmt.Sprintf("/api/hits/%d/detail", hitID)}))
	if n := len(det.Evidence); n != 2 || !det.Evidence[1].Revisit || det.Evidence[1].RefersTo != first.EvidenceID || det.Evidence[1].PayloadSHA256 != det.Evidence[0].PayloadSHA256 {
		t.Errorf("detail evidence = %+v", det.Evidence)
	}
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestScreenshotFromStore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	hit := f.hits[0]
	if w := f.do(t, req{path: fmt.Sprintf("/screenshots/%d.png", hit)}); w.Code != 404 {
		t.Errorf("screenshot before any = %d", w.Code)
	}
	if body := f.do(t, req{path: fmt.Sprintf("/hits/%d", hit)}).Body.String(); strings.Contains(body, `id="screenshot"`) {
		t.Error("hit page shows a screenshot before one was taken")
	}
	shot := testPNG(t)
	if _, err := f.db.SaveScreenshot(ctx, store.Screenshot{HitID: hit, TakenAt: testNow, PNG: shot}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fmt.Sprintf("/screenshots/%d.png", hit), fmt.Sprintf("/hits/%d/screenshot", hit)} {
		w := f.do(t, req{path: path})
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), shot) {
			t.Fatalf("%s = %d, %d bytes", path, w.Code, w.Body.Len())
		}
		if ct, ns := w.Header().Get("Content-Type"), w.Header().Get("X-Content-Type-Options"); ct != "image/png" || ns != "nosniff" {
			t.Errorf("%s: Content-Type %q, X-Content-Type-Options %q", path, ct, ns)
		}
	}
	body := f.do(t, req{path: fmt.Sprintf("/hits/%d", hit)}).Body.String()
	if !strings.Contains(body, fmt.Sprintf(`id="screenshot" src="/screenshots/%d.png"`, hit)) || !strings.Contains(body, sha256hex(shot)) {
		t.Error("hit page does not show the stored screenshot with its sha256")
	}
	h := decode[store.Hit](t, f.do(t, req{path: fmt.Sprintf("/api/hits/%d", hit)}))
	if h.Screenshot == nil || h.Screenshot.SHA256 != sha256hex(shot) {
		t.Errorf("API hit screenshot = %+v", h.Screenshot)
	}
	for _, path := range []string{"/screenshots/x.png", fmt.Sprintf("/screenshots/%d.jpg", hit), "/screenshots/9999.png"} {
		if w := f.do(t, req{path: path}); w.Code == 200 {
			t.Errorf("%s = 200", path)
		}
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestEvidenceJSONHidesProxyCredentials(t *testing.T) {
	// A proxy written without a scheme used to be shown as it was stored.
	got := toEvidenceJSON(store.Evidence{ID: 1, Proxy: "analyst:hunter2@proxy.example:3128"}).Proxy
	if strings.Contains(got, "hunter2") || strings.Contains(got, "analyst") {
		t.Errorf("proxy shown as %q, want its credentials hidden", got)
	}
}
