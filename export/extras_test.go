package export

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"snoop/store"
)

// testTSA is a time-stamping authority for tests: a throwaway CA, a TSA
// certificate it issued for time stamping, and an HTTP server that answers
// RFC 3161 requests with tokens that the TSA key signs (through
// github.com/digitorus/timestamp, as a real TSA would).
type testTSA struct {
	*httptest.Server
	caPEM   []byte
	genTime time.Time
	// tamper, if set, changes the reply before it is sent.
	tamper func(req *timestamp.Request, ts *timestamp.Timestamp)
}

func newTestTSA(tb testing.TB, genTime time.Time) *testTSA {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "snoop test TSA CA"},
		NotBefore: genTime.Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), // the library signs with the current time as signing time
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	tsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tsaTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "snoop test TSA"},
		NotBefore: genTime.Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), // the library signs with the current time as signing time
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	tsaDER, err := x509.CreateCertificate(rand.Reader, tsaTmpl, caCert, &tsaKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	tsaCert, _ := x509.ParseCertificate(tsaDER)
	t := &testTSA{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), genTime: genTime}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := &timestamp.Timestamp{
			HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: t.genTime,
			Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1},
			Accuracy: time.Second, AddTSACertificate: req.Certificates,
		}
		if t.tamper != nil {
			t.tamper(req, ts)
		}
		resp, err := ts.CreateResponseWithOpts(tsaCert, tsaKey, crypto.SHA256)
		if err != nil {
			tb.Error(err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	tb.Cleanup(t.Close)
	return t
}

func TestTimestamp(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2})
	genTime := time.Date(2026, 2, 5, 10, 0, 1, 0, time.UTC)
	tsa := newTestTSA(t, genTime)
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), TSAURL: tsa.URL}); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "tsa-ca.pem")
	if err := os.WriteFile(caFile, tsa.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	roots, err := LoadCertPool(caFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("signature and chain", func(t *testing.T) {
		rep, err := VerifyWith(out, VerifyOptions{TSARoots: roots})
		if err != nil {
			t.Fatalf("%v %v", err, rep.Problems)
		}
		if ts := rep.Timestamp; ts == nil || !ts.Time.Equal(genTime) || !ts.ChainChecked || !strings.Contains(ts.TSA, "snoop test TSA") {
			t.Errorf("timestamp = %+v", rep.Timestamp)
		}
		if !strings.Contains(rep.String(), "signature valid, TSA trusted") {
			t.Errorf("report:\n%s", rep)
		}
	})
	t.Run("signature only, without the CA", func(t *testing.T) {
		rep, err := Verify(out, nil)
		if err != nil {
			t.Fatalf("%v %v", err, rep.Problems)
		}
		if rep.Timestamp == nil || rep.Timestamp.ChainChecked || !strings.Contains(strings.Join(rep.Notes, " "), "pass the TSA's CA certificate") {
			t.Errorf("timestamp %+v, notes %v", rep.Timestamp, rep.Notes)
		}
	})
	t.Run("another CA", func(t *testing.T) {
		other := newTestTSA(t, genTime)
		f := filepath.Join(t.TempDir(), "other-ca.pem")
		os.WriteFile(f, other.caPEM, 0o600)
		otherRoots, _ := LoadCertPool(f)
		rep, err := VerifyWith(out, VerifyOptions{TSARoots: otherRoots})
		if err == nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Detail, "is not trusted by the given TSA CA certificates") {
			t.Fatalf("err = %v, problems %v", err, rep.Problems)
		}
	})

	files, order := zipFiles(t, out)
	withTSR := func(t *testing.T, tsr []byte) *Report {
		t.Helper()
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		f[SumsFile] = []byte(strings.Replace(string(f[SumsFile]), sha256hex(f[TimestampFile]), sha256hex(tsr), 1))
		f[TimestampFile] = tsr
		rep, err := VerifyWith(rezip(t, f, order), VerifyOptions{TSARoots: roots})
		if err == nil {
			t.Fatal("verified")
		}
		return rep
	}
	t.Run("stamp of another manifest", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.zip")
		if _, err := Write(ctx, db, other, Options{Filter: anyStatus, Case: "other", Now: fixedNow(), TSAURL: tsa.URL}); err != nil {
			t.Fatal(err)
		}
		otherFiles, _ := zipFiles(t, other)
		rep := withTSR(t, otherFiles[TimestampFile])
		if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "manifest.json.tsr: timestamp: time stamp is for SHA-256") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("signature broken", func(t *testing.T) {
		tsr := bytes.Clone(files[TimestampFile])
		// The genTime digits sit inside the signed TSTInfo: change one.
		i := bytes.Index(tsr, []byte("20260205100001"))
		if i < 0 {
			t.Fatal("genTime not found in the reply")
		}
		tsr[i+13] = '2'
		rep := withTSR(t, tsr)
		if len(rep.Problems) != 1 || rep.Problems[0].Kind != "timestamp" || !strings.Contains(rep.Problems[0].Detail, "time-stamp reply") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("token without certificate", func(t *testing.T) {
		tsa.tamper = func(_ *timestamp.Request, ts *timestamp.Timestamp) { ts.AddTSACertificate = false }
		defer func() { tsa.tamper = nil }()
		req, _ := timestamp.CreateRequest(bytes.NewReader(files[ManifestFile]), &timestamp.RequestOptions{Hash: crypto.SHA256})
		resp, err := http.Post(tsa.URL, "application/timestamp-query", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		tsr, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rep := withTSR(t, tsr)
		if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Detail, "carries no TSA certificate") {
			t.Fatalf("problems %v", rep.Problems)
		}
	})
	t.Run("TSA ignores the nonce", func(t *testing.T) {
		tsa.tamper = func(_ *timestamp.Request, ts *timestamp.Timestamp) { ts.Nonce = big.NewInt(7) }
		defer func() { tsa.tamper = nil }()
		_, err := Write(ctx, db, filepath.Join(t.TempDir(), "n.zip"), Options{Filter: anyStatus, Now: fixedNow(), TSAURL: tsa.URL})
		if err == nil || !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("TSA down", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		out := filepath.Join(t.TempDir(), "fail.zip")
		if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), TSAURL: dead.URL}); err == nil || !strings.Contains(err.Error(), "timestamp") {
			t.Fatalf("err = %v, want a timestamp error", err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Error("package written although the time stamp failed")
		}
	})
}

func testPNG(tb testing.TB, c color.Color) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestScreenshots(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 3})
	shot := testPNG(t, color.RGBA{200, 0, 0, 255})
	out := filepath.Join(t.TempDir(), "case.zip")
	sum, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), Screenshots: func(_ context.Context, h store.Hit) ([]byte, error) {
		switch h.ID {
		case 1:
			return shot, nil
		case 2:
			return nil, io.ErrUnexpectedEOF // logged, hit exported without one
		}
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Hits != 3 {
		t.Errorf("hits = %d", sum.Hits)
	}
	files, _ := zipFiles(t, out)
	if !bytes.Equal(files["screenshots/hit-1.png"], shot) {
		t.Error("screenshots/hit-1.png missing or changed")
	}
	if _, ok := files["screenshots/hit-2.png"]; ok {
		t.Error("failed screenshot stored")
	}
	if !strings.Contains(string(files[ReportFile]), `src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(shot)+`"`) {
		t.Error("report.html does not embed the screenshot")
	}
	if !strings.Contains(string(files[ManifestFile]), `"screenshots": 1`) {
		t.Error("manifest does not count the screenshot")
	}
	if rep, err := Verify(out, nil); err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
}

// TestSignatureOpenSSL checks the documented OpenSSL command verifies the
// signature, so a recipient needs no snoop binary.
func TestSignatureOpenSSL(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 1})
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "KEY")
	if err := GenerateKey(keyPath); err != nil {
		t.Fatal(err)
	}
	priv, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), SignKey: priv}); err != nil {
		t.Fatal(err)
	}
	files, _ := zipFiles(t, out)
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(files[SignatureFile])))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sig.bin"), sig, 0o644)
	os.WriteFile(filepath.Join(dir, ManifestFile), files[ManifestFile], 0o644)
	cmd := exec.Command(bin, "pkeyutl", "-verify", "-pubin", "-inkey", keyPath+".pub", "-rawin", "-in", ManifestFile, "-sigfile", "sig.bin")
	cmd.Dir = dir
	if outb, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(outb), "Signature Verified Successfully") {
		t.Fatalf("openssl: %v\n%s", err, outb)
	}
}
