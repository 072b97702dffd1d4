package export

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
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

	"snoop/store"
)

// tsaStandIn is a minimal RFC 3161 time-stamping authority: it answers a
// TimeStampReq with a granted TimeStampResp whose (unsigned) token stamps
// the request's imprint at a fixed time.
func tsaStandIn(tb testing.TB, genTime time.Time) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req timeStampReq
		if _, err := asn1.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tst, err := asn1.Marshal(tstInfo{
			Version: 1, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1},
			MessageImprint: req.MessageImprint, SerialNumber: big.NewInt(4242), GenTime: genTime,
		})
		if err != nil {
			tb.Error(err)
			return
		}
		octets, _ := asn1.Marshal(tst) // OCTET STRING holding the TSTInfo
		sd, err := asn1.Marshal(struct {
			Version          int
			DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
			EncapContentInfo encapContentInfo
			SignerInfos      []asn1.RawValue `asn1:"set"`
		}{
			Version:          3,
			DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: oidSHA256}},
			EncapContentInfo: encapContentInfo{EContentType: oidTSTInfo, EContent: asn1.RawValue{FullBytes: explicit0(octets)}},
			SignerInfos:      []asn1.RawValue{},
		})
		if err != nil {
			tb.Error(err)
			return
		}
		token, _ := asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{FullBytes: explicit0(sd)}})
		resp, err := asn1.Marshal(struct {
			Status struct{ Status int }
			Token  asn1.RawValue
		}{Token: asn1.RawValue{FullBytes: token}})
		if err != nil {
			tb.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) []byte {
	b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der})
	return b
}

func TestTimestamp(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	seed(t, db, seedOptions{pages: 2})
	genTime := time.Date(2026, 2, 5, 10, 0, 1, 0, time.UTC)
	tsa := tsaStandIn(t, genTime)
	out := filepath.Join(t.TempDir(), "case.zip")
	if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Now: fixedNow(), TSAURL: tsa.URL}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(out, nil)
	if err != nil {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	if rep.Timestamp == nil || !rep.Timestamp.Time.Equal(genTime) || rep.Timestamp.Serial != "1092" {
		t.Errorf("timestamp = %+v", rep.Timestamp)
	}

	t.Run("stamp of another manifest", func(t *testing.T) {
		files, order := zipFiles(t, out)
		other := filepath.Join(t.TempDir(), "other.zip")
		if _, err := Write(ctx, db, other, Options{Filter: anyStatus, Case: "other", Now: fixedNow(), TSAURL: tsa.URL}); err != nil {
			t.Fatal(err)
		}
		otherFiles, _ := zipFiles(t, other)
		files[SumsFile] = []byte(strings.Replace(string(files[SumsFile]), sha256hex(files[TimestampFile]), sha256hex(otherFiles[TimestampFile]), 1))
		files[TimestampFile] = otherFiles[TimestampFile]
		rep, err := Verify(rezip(t, files, order), nil)
		if err == nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "manifest.json.tsr: timestamp: time stamp is for sha256") {
			t.Fatalf("err = %v, problems %v", err, rep.Problems)
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
