package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// prosePage is an HTTP response whose body is about n bytes of word salad,
// which compresses like real pages do.
func prosePage(seed uint64, n int) string {
	words := strings.Fields("the a of and to in product price shipping review quality order delivery stars colour size <p> </p> <li> </li>")
	rnd := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[rnd.IntN(len(words))])
		if rnd.IntN(9) == 0 {
			fmt.Fprintf(&b, " %d", rnd.IntN(100000))
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func TestEvidenceCompressedKeepsExactBytes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	s := beginSweep(t, db, t0, "shop")

	// A row written before compression (raw) and one after (zstd).
	db.RawEvidence = true
	oldPage := page(s, "shop", "https://shop.test/p/old", t0, prosePage(1, 30000))
	oldRes := savePage(t, db, oldPage, listing("https://shop.test/p/old", "old", "$1", nil))
	db.RawEvidence = false
	body := prosePage(2, 30000) + "\x00\xff binary \r\n tail"
	p := page(s, "shop", "https://shop.test/p/new", t0, body)
	longText := prosePage(3, 20000)
	l := listing("https://shop.test/p/new", "isotonitazene", "$50", hitOf(0.9, "isotonitazene"))
	l.Text, l.Description = longText, "desc"
	res := savePage(t, db, p, l)

	var encOld, encNew string
	var storedNew int
	db.db.QueryRow(`SELECT encoding FROM evidence WHERE id = ?`, oldRes.EvidenceID).Scan(&encOld)
	db.db.QueryRow(`SELECT encoding, length(response_bytes) FROM evidence WHERE id = ?`, res.EvidenceID).Scan(&encNew, &storedNew)
	if encOld != "" || encNew != "zstd" {
		t.Fatalf("encodings %q, %q; want raw for the old row and zstd for the new", encOld, encNew)
	}
	if storedNew*2 > len(p.Evidence.ResponseBytes) {
		t.Errorf("stored %d bytes for a %d-byte response: not compressed", storedNew, len(p.Evidence.ResponseBytes))
	}

	for _, tc := range []struct {
		id   int64
		want PageRecord
	}{{oldRes.EvidenceID, oldPage}, {res.EvidenceID, p}} {
		e, err := db.Evidence(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(e.ResponseBytes)
		if !bytes.Equal(e.ResponseBytes, tc.want.Evidence.ResponseBytes) || !bytes.Equal(e.RequestBytes, tc.want.Evidence.RequestBytes) ||
			hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("evidence %d: bytes or digest differ after the round trip", tc.id)
		}
		pe, err := db.PageEvidence(ctx, tc.id)
		if err != nil || !bytes.Equal(pe.ResponseBytes, tc.want.Evidence.ResponseBytes) {
			t.Errorf("page evidence %d: %v", tc.id, err)
		}
	}

	// The listing version is packed, read back whole, and not stored twice in full.
	hist, err := db.ListingHistory(ctx, res.Listings[0].ListingID)
	if err != nil || len(hist) != 1 || hist[0].Text != longText || hist[0].Description != "desc" || hist[0].Fields["title"] != "isotonitazene" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	var plain int
	db.db.QueryRow(`SELECT length(text) + length(description) FROM listing_versions WHERE listing_id = ?`, res.Listings[0].ListingID).Scan(&plain)
	if plain != 0 {
		t.Errorf("listing version keeps %d bytes of plain text besides the packed copy", plain)
	}

	// A revisit of the compressed capture is recognised from its payload.
	p2 := page(s, "shop", "https://shop.test/p/new", t0.Add(time.Hour), body)
	if r2 := savePage(t, db, p2); !r2.Revisit {
		t.Error("identical payload not stored as a revisit of the compressed original")
	}
	if n := count(t, db, "evidence"); n != 3 {
		t.Errorf("%d evidence rows", n)
	}
}
