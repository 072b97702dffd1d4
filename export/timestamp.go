package export

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// RFC 3161 time stamps. snoop asks a time-stamping authority (TSA) to stamp
// the sha256 of manifest.json and stores the TSA's reply (a DER
// TimeStampResp) as manifest.json.tsr. Reading and checking the reply is
// left to github.com/digitorus/timestamp and github.com/digitorus/pkcs7:
// the token's CMS signature is verified with the TSA certificate the token
// carries, the stamped imprint must be manifest.json's hash, and, given the
// TSA's CA certificates, the signer's chain must lead to one of them and
// allow time stamping at the stamped time. The same check with OpenSSL:
//
//	openssl ts -verify -in manifest.json.tsr -data manifest.json -CAfile tsa-ca.pem

// Timestamp is what a checked manifest.json.tsr says.
type Timestamp struct {
	Time   time.Time // the TSA's genTime
	Serial string    // hex serial number of the token
	// TSA is the subject of the certificate that signed the token.
	TSA string
	// ChainChecked reports that the signer's certificate chain was checked
	// against the CA certificates given to the verifier.
	ChainChecked bool
}

// requestTimestamp asks the TSA at url to stamp data's sha256 and returns
// the DER reply after checking it: its signature, its imprint and its nonce.
func requestTimestamp(ctx context.Context, client *http.Client, url string, data []byte) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(data), &timestamp.RequestOptions{
		Hash: crypto.SHA256, Certificates: true, Nonce: nonce,
	})
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("timestamp: TSA answered %s", resp.Status)
	}
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	ts, err := checkTimestamp(reply, data, nil)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	if ts.nonce == nil || ts.nonce.Cmp(nonce) != 0 {
		return nil, errors.New("timestamp: the TSA's reply does not carry the nonce of the request")
	}
	return reply, nil
}

// checkedTimestamp is a Timestamp with the nonce the token carries.
type checkedTimestamp struct {
	Timestamp
	nonce *big.Int
}

// checkTimestamp checks that reply is a signed time stamp of data: the
// token's signature verifies with the certificate it carries, and it
// stamps data's hash. With roots, the signer's certificate must chain to
// one of them and allow time stamping, at the stamped time.
func checkTimestamp(reply, data []byte, roots *x509.CertPool) (checkedTimestamp, error) {
	ts, err := timestamp.ParseResponse(reply) // verifies the signature when the token carries a certificate
	if err != nil {
		return checkedTimestamp{}, fmt.Errorf("time-stamp reply: %w", err)
	}
	if len(ts.Certificates) == 0 {
		return checkedTimestamp{}, errors.New("time-stamp token carries no TSA certificate, so its signature cannot be checked")
	}
	if !ts.HashAlgorithm.Available() {
		return checkedTimestamp{}, fmt.Errorf("time stamp uses unsupported hash %v", ts.HashAlgorithm)
	}
	h := ts.HashAlgorithm.New()
	h.Write(data)
	if sum := h.Sum(nil); !bytes.Equal(ts.HashedMessage, sum) {
		return checkedTimestamp{}, fmt.Errorf("time stamp is for %v %x, manifest.json has %x", ts.HashAlgorithm, ts.HashedMessage, sum)
	}
	out := checkedTimestamp{Timestamp: Timestamp{Time: ts.Time.UTC()}, nonce: ts.Nonce}
	if ts.SerialNumber != nil {
		out.Serial = ts.SerialNumber.Text(16)
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return checkedTimestamp{}, fmt.Errorf("time-stamp token: %w", err)
	}
	if signer := p7.GetOnlySigner(); signer != nil {
		out.TSA = signer.Subject.String()
	}
	if roots != nil {
		err := p7.VerifyWithOpts(x509.VerifyOptions{
			Roots: roots, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		})
		if err != nil {
			return checkedTimestamp{}, fmt.Errorf("time-stamp signer %q is not trusted by the given TSA CA certificates: %w", out.TSA, err)
		}
		out.ChainChecked = true
	}
	return out, nil
}

// LoadCertPool reads PEM certificates (e.g. a TSA's CA) from path.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load certificates: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("load certificates %s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("load certificates %s: no PEM CERTIFICATE block", path)
	}
	return pool, nil
}
