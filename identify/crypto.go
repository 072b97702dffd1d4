package identify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"regexp"
	"strings"

	"golang.org/x/crypto/sha3"
)

// base58Alphabet is the Bitcoin base58 alphabet (also Tron's and Monero's).
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int {
	var idx [256]int
	for i := range idx {
		idx[i] = -1
	}
	for i := range len(base58Alphabet) {
		idx[base58Alphabet[i]] = i
	}
	return idx
}()

// base58Decode decodes s as a big-endian base58 number with leading '1's
// standing for zero bytes.
func base58Decode(s string) ([]byte, bool) {
	n := new(big.Int)
	b58 := big.NewInt(58)
	for i := range len(s) {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, false
		}
		n.Mul(n, b58)
		n.Add(n, big.NewInt(int64(d)))
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	return append(make([]byte, zeros), n.Bytes()...), true
}

// base58Encode is base58Decode's inverse.
func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	b58 := big.NewInt(58)
	mod := new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, b58, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func doubleSHA256(b []byte) []byte {
	h1 := sha256.Sum256(b)
	h2 := sha256.Sum256(h1[:])
	return h2[:]
}

// base58Check decodes a base58check string: payload plus a four-byte
// double-SHA-256 checksum. It returns the payload (version byte included).
func base58Check(s string) ([]byte, bool) {
	b, ok := base58Decode(s)
	if !ok || len(b) < 5 {
		return nil, false
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	if !bytes.Equal(doubleSHA256(payload)[:4], sum) {
		return nil, false
	}
	return payload, true
}

// Base58CheckEncode encodes payload (version byte first) with its
// checksum; tests use it to make valid addresses.
func Base58CheckEncode(payload []byte) string {
	return base58Encode(append(append([]byte{}, payload...), doubleSHA256(payload)[:4]...))
}

// allSame reports whether b is one byte repeated (all zeros: a burn or
// placeholder address).
func allSame(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

// classifyBase58 names the coin of a base58check address, or "".
func classifyBase58(s string) Kind {
	p, ok := base58Check(s)
	if !ok || len(p) != 21 || allSame(p[1:]) {
		return ""
	}
	switch p[0] {
	case 0x00, 0x05:
		return BTC
	case 0x30, 0x32:
		return LTC
	case 0x41:
		return TRX
	}
	return ""
}

// bech32 (BIP 173) and bech32m (BIP 350).
const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := range len(hrp) {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := range len(hrp) {
		out = append(out, hrp[i]&31)
	}
	return out
}

// bech32Decode splits a bech32/bech32m string into its human-readable part
// and data (5-bit groups, checksum removed) and says which constant its
// checksum used (0 if neither).
func bech32Decode(s string) (hrp string, data []byte, constant uint32) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, 0 // mixed case is invalid
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) || len(s) > 90 {
		return "", nil, 0
	}
	hrp = s[:pos]
	for _, c := range s[pos+1:] {
		d := strings.IndexRune(bech32Charset, c)
		if d < 0 {
			return "", nil, 0
		}
		data = append(data, byte(d))
	}
	switch bech32Polymod(append(bech32HRPExpand(hrp), data...)) {
	case bech32Const:
		constant = bech32Const
	case bech32mConst:
		constant = bech32mConst
	default:
		return "", nil, 0
	}
	return hrp, data[:len(data)-6], constant
}

// convertBits regroups bits (5 to 8 for a witness program).
func convertBits(data []byte, from, to uint, pad bool) ([]byte, bool) {
	var acc, bits uint
	maxv := uint(1)<<to - 1
	var out []byte
	for _, v := range data {
		if uint(v)>>from != 0 {
			return nil, false
		}
		acc = acc<<from | uint(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || acc<<(to-bits)&maxv != 0 {
		return nil, false
	}
	return out, true
}

// segwitValid checks a segwit address for hrp: witness version 0 with
// bech32 and a 20- or 32-byte program, versions 1..16 with bech32m.
func segwitValid(addr, wantHRP string) bool {
	hrp, data, constant := bech32Decode(addr)
	if hrp != wantHRP || len(data) < 1 {
		return false
	}
	ver := data[0]
	prog, ok := convertBits(data[1:], 5, 8, false)
	if !ok || ver > 16 || len(prog) < 2 || len(prog) > 40 || allSame(prog) {
		return false
	}
	if ver == 0 {
		return constant == bech32Const && (len(prog) == 20 || len(prog) == 32)
	}
	return constant == bech32mConst
}

// SegwitEncode returns the bech32 (version 0) or bech32m address of a
// witness program; tests use it to make valid addresses.
func SegwitEncode(hrp string, version byte, program []byte) string {
	conv, _ := convertBits(program, 8, 5, true)
	data := append([]byte{version}, conv...)
	constant := uint32(bech32Const)
	if version > 0 {
		constant = bech32mConst
	}
	values := append(bech32HRPExpand(hrp), data...)
	pm := bech32Polymod(append(values, 0, 0, 0, 0, 0, 0)) ^ constant
	for i := range 6 {
		data = append(data, byte(pm>>(5*(5-i))&31))
	}
	var b strings.Builder
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, d := range data {
		b.WriteByte(bech32Charset[d])
	}
	return b.String()
}

// ethChecksumOK applies EIP-55: a mixed-case address must have each hex
// letter upper case exactly where the Keccak-256 of the lower-case address
// has a nibble >= 8. All-lower and all-upper addresses carry no checksum.
func ethChecksumOK(hexPart string) bool {
	lower := strings.ToLower(hexPart)
	if hexPart == lower || hexPart == strings.ToUpper(hexPart) {
		return true
	}
	return EIP55(lower) == hexPart
}

// EIP55 returns the checksummed spelling of a 40-digit hex address
// (without 0x).
func EIP55(hexLower string) string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(hexLower))
	sum := hex.EncodeToString(h.Sum(nil))
	out := []byte(hexLower)
	for i, c := range out {
		if c >= 'a' && c <= 'f' && sum[i] >= '8' {
			out[i] = c - 32
		}
	}
	return string(out)
}

// Monero addresses use base58 in 8-byte blocks: a full block is 11
// characters, a shorter last block uses moneroBlockChars[len].
var moneroBlockChars = [9]int{0, 2, 3, 5, 6, 7, 9, 10, 11}

func moneroDecode(s string) ([]byte, bool) {
	var out []byte
	for len(s) > 0 {
		n := min(11, len(s))
		size := -1
		for i, c := range moneroBlockChars {
			if c == n {
				size = i
			}
		}
		if size < 0 {
			return nil, false
		}
		v, ok := base58Decode(s[:n])
		if !ok {
			return nil, false
		}
		// base58Decode keeps leading '1's as zero bytes; strip them to the value.
		v = bytes.TrimLeft(v, "\x00")
		if len(v) > size {
			return nil, false
		}
		out = append(out, make([]byte, size-len(v))...)
		out = append(out, v...)
		s = s[n:]
	}
	return out, true
}

// MoneroEncode is moneroDecode's inverse; tests use it.
func MoneroEncode(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		n := min(8, len(b))
		enc := base58Encode(bytes.TrimLeft(b[:n], "\x00"))
		if enc == "" {
			enc = ""
		}
		want := moneroBlockChars[n]
		out.WriteString(strings.Repeat("1", want-len(enc)))
		out.WriteString(enc)
		b = b[n:]
	}
	return out.String()
}

func keccak(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)
}

// moneroValid checks a mainnet standard (4…, 95 chars), subaddress (8…,
// 95) or integrated (4…, 106) address: its last four bytes must be the
// Keccak-256 of the rest.
func moneroValid(s string) bool {
	b, ok := moneroDecode(s)
	if !ok || len(b) < 5 {
		return false
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if !bytes.Equal(keccak(body)[:4], sum) {
		return false
	}
	switch {
	case len(s) == 95 && (body[0] == 18 || body[0] == 42) && len(body) == 65:
	case len(s) == 106 && body[0] == 19 && len(body) == 73:
	default:
		return false
	}
	return !allSame(body[1:33])
}

var (
	// Base58 runs long enough for a BTC/LTC/TRX address.
	reBase58 = regexp.MustCompile(`[1-9A-HJ-NP-Za-km-z]{25,35}`)
	// Monero runs: 95 or 106 characters.
	reMonero = regexp.MustCompile(`[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?`)
	reBech32 = regexp.MustCompile(`(?i)(?:bc|ltc)1[02-9ac-hj-np-z]{8,87}`)
	reETH    = regexp.MustCompile(`0[xX][0-9a-fA-F]{40}`)
)

// isWordBoundary reports whether the bytes around text[start:end] are not
// letters or digits, so that an address is not the middle of a longer
// token.
func isWordBoundary(text string, start, end int) bool {
	isAlnum := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return (start == 0 || !isAlnum(text[start-1])) && (end == len(text) || !isAlnum(text[end]))
}

// wellKnown are valid addresses that belong to no seller: the token
// contracts of USDT and USDC (sellers name them to say which token they
// take) and burn addresses. Keys are lower case.
var wellKnown = map[string]bool{
	"tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t":         true, // USDT (TRC-20) contract
	"0xdac17f958d2ee523a2206206994597c13d831ec7": true, // USDT (ERC-20) contract
	"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": true, // USDC (ERC-20) contract
	"0x000000000000000000000000000000000000dead": true, // burn address
}

func findCrypto(text string) []candidate {
	var out []candidate
	add := func(k Kind, v string, s, e int) {
		if wellKnown[strings.ToLower(v)] {
			return
		}
		out = append(out, candidate{Match: Match{Kind: k, Value: v, Raw: text[s:e], Start: s, End: e}, prio: prioCrypto})
	}
	for _, loc := range reMonero.FindAllStringIndex(text, -1) {
		if isWordBoundary(text, loc[0], loc[1]) && moneroValid(text[loc[0]:loc[1]]) {
			add(XMR, text[loc[0]:loc[1]], loc[0], loc[1])
		}
	}
	for _, loc := range reBase58.FindAllStringIndex(text, -1) {
		s := text[loc[0]:loc[1]]
		if !isWordBoundary(text, loc[0], loc[1]) {
			continue
		}
		if k := classifyBase58(s); k != "" {
			add(k, s, loc[0], loc[1])
		}
	}
	for _, loc := range reBech32.FindAllStringIndex(text, -1) {
		s := text[loc[0]:loc[1]]
		if !isWordBoundary(text, loc[0], loc[1]) {
			continue
		}
		low := strings.ToLower(s)
		switch {
		case strings.HasPrefix(low, "bc1") && segwitValid(s, "bc"):
			add(BTC, low, loc[0], loc[1])
		case strings.HasPrefix(low, "ltc1") && segwitValid(s, "ltc"):
			add(LTC, low, loc[0], loc[1])
		}
	}
	for _, loc := range reETH.FindAllStringIndex(text, -1) {
		s := text[loc[0]:loc[1]]
		if !isWordBoundary(text, loc[0], loc[1]) {
			continue
		}
		hexPart := s[2:]
		low := strings.ToLower(hexPart)
		if !ethChecksumOK(hexPart) || strings.Count(low, low[:1]) == len(low) {
			continue
		}
		add(ETH, "0x"+low, loc[0], loc[1])
	}
	return out
}
