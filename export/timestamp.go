package export

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"
)

// RFC 3161 time stamps. snoop asks a time-stamping authority (TSA) to stamp
// the sha256 of manifest.json and stores the TSA's reply (a DER
// TimeStampResp) as manifest.json.tsr. snoop checks that the reply grants a
// token whose message imprint is manifest.json's hash; it does not check the
// TSA's signature, which needs the TSA's certificate:
//
//	openssl ts -verify -in manifest.json.tsr -data manifest.json -CAfile tsa-ca.pem

var (
	oidSHA256     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
)

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	Nonce          *big.Int `asn1:"optional"`
	CertReq        bool     `asn1:"optional"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString asn1.RawValue  `asn1:"optional"`
	FailInfo     asn1.BitString `asn1:"optional"`
}

type timeStampResp struct {
	Status pkiStatusInfo
	Token  asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time `asn1:"generalized"`
}

// Timestamp is what a checked manifest.json.tsr says.
type Timestamp struct {
	Time   time.Time // the TSA's genTime
	Serial string    // hex serial number of the token
}

// requestTimestamp asks the TSA at url to stamp data's sha256 and returns
// the DER reply after checking it.
func requestTimestamp(ctx context.Context, client *http.Client, url string, data []byte) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	sum := sha256.Sum256(data)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	req, err := asn1.Marshal(timeStampReq{
		Version:        1,
		MessageImprint: messageImprint{pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}, sum[:]},
		Nonce:          nonce,
		CertReq:        true,
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
	info, err := parseTimestamp(reply)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	if !bytes.Equal(info.MessageImprint.HashedMessage, sum[:]) {
		return nil, errors.New("timestamp: the TSA stamped a different hash")
	}
	return reply, nil
}

// parseTimestamp reads a DER TimeStampResp down to its TSTInfo.
func parseTimestamp(reply []byte) (*tstInfo, error) {
	var resp timeStampResp
	if _, err := asn1.Unmarshal(reply, &resp); err != nil {
		return nil, fmt.Errorf("read time-stamp reply: %w", err)
	}
	if s := resp.Status.Status; s != 0 && s != 1 {
		return nil, fmt.Errorf("time stamp refused (PKIStatus %d)", s)
	}
	if len(resp.Token.FullBytes) == 0 {
		return nil, errors.New("time-stamp reply has no token")
	}
	var ci contentInfo
	if _, err := asn1.Unmarshal(resp.Token.FullBytes, &ci); err != nil {
		return nil, fmt.Errorf("read time-stamp token: %w", err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("time-stamp token is %v, want signed data", ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("read time-stamp signed data: %w", err)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("time-stamp content is %v, want TSTInfo", sd.EncapContentInfo.EContentType)
	}
	var octets []byte
	if _, err := asn1.Unmarshal(sd.EncapContentInfo.EContent.Bytes, &octets); err != nil {
		return nil, fmt.Errorf("read time-stamp content: %w", err)
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(octets, &info); err != nil {
		return nil, fmt.Errorf("read TSTInfo: %w", err)
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) {
		return nil, fmt.Errorf("time stamp uses hash %v, want sha256", info.MessageImprint.HashAlgorithm.Algorithm)
	}
	return &info, nil
}

// checkTimestamp checks that reply stamps data and returns its time.
func checkTimestamp(reply, data []byte) (Timestamp, error) {
	info, err := parseTimestamp(reply)
	if err != nil {
		return Timestamp{}, err
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(info.MessageImprint.HashedMessage, sum[:]) {
		return Timestamp{}, fmt.Errorf("time stamp is for sha256 %x, manifest.json has %x", info.MessageImprint.HashedMessage, sum[:])
	}
	ts := Timestamp{Time: info.GenTime.UTC()}
	if info.SerialNumber != nil {
		ts.Serial = info.SerialNumber.Text(16)
	}
	return ts, nil
}
