package identify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// randomBytes returns n bytes from a deterministic-enough source for
// address tests.
func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// MakeBTC etc. build addresses of the real formats from random key hashes.
func makeBase58(t testing.TB, version byte) string {
	return Base58CheckEncode(append([]byte{version}, randomBytes(t, 20)...))
}

func makeXMR(t testing.TB, netbyte byte) string {
	body := append([]byte{netbyte}, randomBytes(t, 64)...)
	return MoneroEncode(append(body, keccak(body)[:4]...))
}

func makeETH(t testing.TB) string { return "0x" + EIP55(hex.EncodeToString(randomBytes(t, 20))) }

// flip changes one character of s (at i) to another of the same alphabet
// class, so the checksum fails.
func flip(s string, i int) string {
	b := []byte(s)
	switch {
	case b[i] >= 'a' && b[i] < 'z' && b[i] != 'k':
		b[i]++
	case b[i] >= '2' && b[i] < '9':
		b[i]++
	default:
		b[i] = 'a'
		if s[i] == 'a' {
			b[i] = 'b'
		}
	}
	return string(b)
}

// makePGP returns an armored public key block and its fingerprint.
func makePGP(t testing.TB, name string) (string, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@proton.me", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.String(), strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

type want struct {
	kind  Kind
	value string
}

func TestExtract(t *testing.T) {
	btc := makeBase58(t, 0x00)
	btcP2SH := makeBase58(t, 0x05)
	ltc := makeBase58(t, 0x30)
	trx := makeBase58(t, 0x41)
	xmr := makeXMR(t, 18)
	xmrSub := makeXMR(t, 42)
	eth := makeETH(t)
	bcq := SegwitEncode("bc", 0, randomBytes(t, 20))
	bcp := SegwitEncode("bc", 1, randomBytes(t, 32))
	ltcq := SegwitEncode("ltc", 0, randomBytes(t, 20))
	key, fp := makePGP(t, "isoking")
	htmlKey := strings.ReplaceAll(key, "\n", "<br>\n")

	tests := []struct {
		name string
		text string
		want []want
	}{
		{"email plain", "write to IsoKing@Proton.me today", []want{{Email, "isoking@proton.me"}}},
		{"email brackets", "isoking [at] proton [dot] me", []want{{Email, "isoking@proton.me"}}},
		{"email parens", "iso.king(at)tutanota(dot)com", []want{{Email, "iso.king@tutanota.com"}}},
		{"email words", "mail: chemlab at gmail dot com", []want{{Email, "chemlab@gmail.com"}}},
		{"email country domain", "sales@chem-direct.co.uk", []want{{Email, "sales@chem-direct.co.uk"}}},
		{"email placeholder", "you@example.com or name@domain.com or user@test.test or vendor@yourshop.com", nil},
		{"email with zero-width spaces", "mail iso\u200bking@pro\u200dton.me now", []want{{Email, "isoking@proton.me"}}},
		{"telegram with a soft hyphen", "TG: @iso\u00adking_77", []want{{Telegram, "isoking_77"}}},
		{"email fullwidth at", "isoking＠proton.me", []want{{Email, "isoking@proton.me"}}},
		{"phone uk", "WhatsApp: +44 7400 123456", []want{{WhatsApp, "+447400123456"}}},
		{"phone plain", "call +1 506-234-5678 now", []want{{Phone, "+15062345678"}}},
		{"phone 00 prefix", "tel 0049 1512 3456789", []want{{Phone, "+4915123456789"}}},
		{"phone placeholder", "+1234567890 and +1 111 111 1111", nil},
		{"phone needs country", "CAS 14188-81-9, lot 2024-0915-8831, call 020 7946 0018", nil},
		{"telegram at", "DM @iso_king for prices", []want{{Telegram, "iso_king"}}},
		{"telegram url", "https://t.me/IsoKing_Shop", []want{{Telegram, "isoking_shop"}}},
		{"telegram label", "TG: isoking2", []want{{Telegram, "isoking2"}}},
		{"telegram label at", "Telegram - @Iso_King", []want{{Telegram, "iso_king"}}},
		{"telegram placeholder", "Telegram: @username, t.me/username", nil},
		{"telegram invite", "t.me/+AbCdEfGh12 t.me/joinchat/AAAAAE", nil},
		{"telegram prose", "Telegram before ordering please", nil},
		{"instagram is not telegram", "IG: @iso_king_pics", nil},
		{"whatsapp url", "wa.me/447400123456", []want{{WhatsApp, "+447400123456"}}},
		{"whatsapp api url", "https://api.whatsapp.com/send?phone=447400123456", []want{{WhatsApp, "+447400123456"}}},
		{"whatsapp digits without plus", "WhatsApp: 447400123456", []want{{WhatsApp, "+447400123456"}}},
		{"whatsapp spaced without plus", "WhatsApp 44 7400 123456 any time", []want{{WhatsApp, "+447400123456"}}},
		{"phone with national prefix in brackets", "call +44 (0)7400 123456", []want{{Phone, "+447400123456"}}},
		{"telegram app link", "tg://resolve?domain=iso_king", []want{{Telegram, "iso_king"}}},
		{"signal username", "Signal: iso.01", []want{{Signal, "iso.01"}}},
		{"signal url", "signal.me/#p/+447400123456", []want{{Signal, "+447400123456"}}},
		{"wickr", "Wickr Me: isoking_w", []want{{Wickr, "isoking_w"}}},
		{"threema", "Threema ID: X7K2M9QA", []want{{Threema, "x7k2m9qa"}}},
		{"threema digits only", "Threema: 20240915", nil},
		{"session", "Session: 05" + strings.Repeat("ab12", 16), []want{{Session, "05" + strings.Repeat("ab12", 16)}}},
		{"wechat", "WeChat: isoking88", []want{{WeChat, "isoking88"}}},
		{"jabber label", "XMPP: isoking@jabber.ccc.de", []want{{Jabber, "isoking@jabber.ccc.de"}}},
		{"jabber host", "isoking@exploit.im", []want{{Jabber, "isoking@exploit.im"}}},
		{"website url", "see https://www.isoking-shop.co.uk/products/1", []want{{Website, "isoking-shop.co.uk"}}},
		{"website bare", "order at chem-direct.com.", []want{{Website, "chem-direct.com"}}},
		{"website not file", "photo.png and notes.txt", nil},
		{"website not messenger", "https://telegram.org/apps", nil},
		{"website not a platform", "pics: https://imgur.com/a/xyz, pay: see https://bitcoin.org/en/buy", nil},
		{"btc p2pkh", "BTC: " + btc, []want{{BTC, btc}}},
		{"btc p2sh", btcP2SH, []want{{BTC, btcP2SH}}},
		{"btc genesis", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", []want{{BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}},
		{"btc bad checksum", flip(btc, 10), nil},
		{"btc bech32", bcq, []want{{BTC, bcq}}},
		{"btc bech32 upper", strings.ToUpper(bcq), []want{{BTC, bcq}}},
		{"btc bech32m", bcp, []want{{BTC, bcp}}},
		{"btc bech32 bad", flip(bcq, 20), nil},
		{"btc v1 with bech32 checksum", SegwitEncode("bc", 0, randomBytes(t, 32))[:0] + "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", nil},
		{"btc placeholder", "1111111111111111111114oLvT2", nil},
		{"ltc", "LTC " + ltc, []want{{LTC, ltc}}},
		{"ltc bech32", ltcq, []want{{LTC, ltcq}}},
		{"trx", "USDT TRC20: " + trx, []want{{TRX, trx}}},
		{"trx usdt contract is nobody's wallet", "USDT TRC20 (contract TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t)", nil},
		{"trx bad", flip(trx, 5), nil},
		{"xmr", "XMR " + xmr, []want{{XMR, xmr}}},
		{"xmr subaddress", xmrSub, []want{{XMR, xmrSub}}},
		{"xmr real", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
			[]want{{XMR, "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"}}},
		{"xmr bad", flip(xmr, 40), nil},
		{"eth checksummed", eth, []want{{ETH, strings.ToLower(eth)}}},
		{"eth eip55 vector", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", []want{{ETH, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}}},
		{"eth bad checksum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", nil},
		{"eth lower", strings.ToLower(eth), []want{{ETH, strings.ToLower(eth)}}},
		{"eth zero", "0x0000000000000000000000000000000000000000", nil},
		{"eth tx hash is not an address", "0x" + strings.Repeat("ab", 32), nil},
		{"pgp", "My key:\n" + key, []want{{PGP, fp}}},
		{"pgp in html", "<pre>" + htmlKey + "</pre>", []want{{PGP, fp}}},
		{"pgp fingerprint written out", "PGP fingerprint: " + spaced(fp), []want{{PGP, fp}}},
		{"pgp fingerprint lower case", "gpg " + strings.ToLower(fp), []want{{PGP, fp}}},
		{"sha256 is not a fingerprint", "sha256: " + strings.Repeat("ab12", 16), nil},
		{"pgp damaged", strings.Replace(key, key[len(key)/2:len(key)/2+8], "AAAAAAAA", 1), nil},
		{"pgp placeholder", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n(your key here)\n-----END PGP PUBLIC KEY BLOCK-----", nil},
		{"batch and product codes", "SKU: FNT-2024-X9, batch #A7F3K9Q2M8, item ID 4f9a2c", nil},
		{"cas numbers", "CAS: 79-01-6; 14188-81-9 and 437-38-7", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.text, Options{})
			if len(got) != len(tt.want) {
				t.Fatalf("Extract(%q) = %+v, want %v", tt.text, got, tt.want)
			}
			for i, g := range got {
				if g.Kind != tt.want[i].kind || g.Value != tt.want[i].value {
					t.Errorf("match %d = %s %q, want %s %q", i, g.Kind, g.Value, tt.want[i].kind, tt.want[i].value)
				}
				if tt.text[g.Start:g.End] != g.Raw {
					t.Errorf("match %d span %d..%d = %q, Raw %q", i, g.Start, g.End, tt.text[g.Start:g.End], g.Raw)
				}
			}
		})
	}
}

func TestExtractOwnDomain(t *testing.T) {
	got := Extract("Browse https://darkbazaar.shop/vendor/9 or mirror darkbazaar.shop", Options{OwnDomains: []string{"darkbazaar.shop"}})
	if len(got) != 0 {
		t.Errorf("own domain reported: %+v", got)
	}
}

func TestLinkKey(t *testing.T) {
	if LinkKey(WhatsApp, "+447400123456") != LinkKey(Phone, "+447400123456") {
		t.Error("a WhatsApp number and the same phone number have different link keys")
	}
	if LinkKey(Signal, "iso.01") == LinkKey(Telegram, "iso.01") {
		t.Error("a Signal username and a Telegram handle share a link key")
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("isoking [at] proton [dot] me TG: @iso_king +44 7400 123456 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
	f.Fuzz(func(t *testing.T, s string) {
		prev := -1
		for _, m := range Extract(s, Options{}) {
			if m.Start < prev || m.End > len(s) || s[m.Start:m.End] != m.Raw || !ValidKind(m.Kind) || m.Value == "" {
				t.Fatalf("bad match %+v", m)
			}
			prev = m.End
		}
	})
}

// spaced writes a fingerprint in groups of four, as key tools print it.
func spaced(fp string) string {
	var parts []string
	for i := 0; i < len(fp); i += 4 {
		parts = append(parts, fp[i:i+4])
	}
	return strings.Join(parts, " ")
}
