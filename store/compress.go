package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Evidence encodings (the evidence.encoding column).
const (
	encodingRaw  = ""
	encodingZstd = "zstd"
)

// maxDecoded bounds what one stored value may decompress to.
const maxDecoded = 1 << 30

// The codec is shared by every DB: zstd's EncodeAll and DecodeAll are safe
// for concurrent use and keep no state between calls.
var (
	zenc = mustEncoder()
	zdec = mustDecoder()
)

func mustEncoder() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true))
	if err != nil {
		panic(err)
	}
	return e
}

func mustDecoder() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		panic(err)
	}
	return d
}

// pack compresses b with zstd.
func pack(b []byte) []byte {
	return zenc.EncodeAll(b, make([]byte, 0, len(b)/3+64))
}

// unpack decompresses b stored with encoding.
func unpack(b []byte, encoding string) ([]byte, error) {
	switch encoding {
	case encodingRaw:
		return b, nil
	case encodingZstd:
		out, err := zdec.DecodeAll(b, nil)
		if err != nil {
			return nil, fmt.Errorf("stored bytes do not decompress, the database was altered or damaged: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown encoding %q", encoding)
}

// packEvidence returns e's request and response bytes as stored, and their
// encoding.
func (db *DB) packEvidence(e Evidence) (req, resp []byte, encoding string) {
	if db.RawEvidence {
		return e.RequestBytes, e.ResponseBytes, encodingRaw
	}
	resp = e.packed
	if resp == nil || e.packedSum != e.SHA256 { // not packed, or packed before a revisit cut it to its headers
		resp = pack(e.ResponseBytes)
	}
	return pack(e.RequestBytes), resp, encodingZstd
}

// Pack compresses the response bytes ahead of SavePage or ApplyBatch, so
// that a sweep's fetching goroutines pay for the compression rather than its
// single writer. The stored bytes are the same either way; a response
// changed after Pack, or cut to its headers as a revisit, is compressed
// again when stored.
func (e *Evidence) Pack() {
	e.packed, e.packedSum = pack(e.ResponseBytes), sha256Hex(e.ResponseBytes)
}

// versionContent is what listing_versions.packed holds.
type versionContent struct {
	Description string            `json:"description"`
	Fields      map[string]string `json:"fields"`
	Text        string            `json:"text"`
}

func packVersion(description string, fields map[string]string, text string) ([]byte, error) {
	b, err := json.Marshal(versionContent{Description: description, Fields: nonNilMap(fields), Text: text})
	if err != nil {
		return nil, err
	}
	return pack(b), nil
}

func unpackVersion(packed []byte) (versionContent, error) {
	var v versionContent
	b, err := unpack(packed, encodingZstd)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("listing version content: %w", err)
	}
	return v, nil
}

// storedResponse reads the response bytes of evidence id, decompressed.
func storedResponse(ctx context.Context, q querier, id int64) ([]byte, error) {
	var (
		raw      []byte
		encoding string
	)
	if err := q.QueryRowContext(ctx, `SELECT response_bytes, encoding FROM evidence WHERE id = ?`, id).Scan(&raw, &encoding); err != nil {
		return nil, err
	}
	return unpack(raw, encoding)
}

// unpackedSize returns the size of the zstd-compressed b once decompressed,
// without holding the decompressed bytes.
func unpackedSize(b []byte) (int, error) {
	r, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, fmt.Errorf("stored bytes do not decompress, the database was altered or damaged: %w", err)
	}
	return int(n), nil
}
