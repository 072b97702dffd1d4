package identify

import (
	"encoding/hex"
	"html"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
)

var (
	rePGPBlock = regexp.MustCompile(`(?s)-----BEGIN PGP PUBLIC KEY BLOCK-----.*?-----END PGP PUBLIC KEY BLOCK-----`)
	reTag      = regexp.MustCompile(`<[^>]*>`)
)

// rePGPFingerprint is a v4 fingerprint written out after a label:
// "PGP fingerprint: 0A1B 2C3D …" (40 hex digits, spaced or not).
var rePGPFingerprint = regexp.MustCompile(`(?i)(?:fingerprint|pgp|gpg)[^0-9a-f\n]{0,20}((?:[0-9a-f]{4}[ \t]{0,2}){9}[0-9a-f]{4})\b`)

// findPGPFingerprints finds fingerprints written out after a label.
func findPGPFingerprints(text string) []candidate {
	var out []candidate
	for _, m := range rePGPFingerprint.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[2], m[3]
		fp := strings.ToUpper(strings.Join(strings.Fields(text[s:e]), ""))
		if len(fp) != 40 || strings.Count(fp, fp[:1]) == 40 {
			continue
		}
		out = append(out, candidate{Match: Match{Kind: PGP, Value: fp, Raw: text[s:e], Start: s, End: e}, prio: prioPGP})
	}
	return out
}

// findPGP reduces each armored public key block to its primary key's
// fingerprint. A block that does not parse (damaged, truncated or a
// placeholder) yields nothing. Blocks inside HTML may have tags (<br>) and
// entities between their lines.
func findPGP(text string) []candidate {
	var out []candidate
	for _, loc := range rePGPBlock.FindAllStringIndex(text, -1) {
		block := text[loc[0]:loc[1]]
		fp, ok := pgpFingerprint(block)
		if !ok && strings.ContainsAny(block, "<&") {
			fp, ok = pgpFingerprint(html.UnescapeString(reTag.ReplaceAllString(block, "\n")))
		}
		if !ok {
			continue
		}
		out = append(out, candidate{Match: Match{Kind: PGP, Value: fp, Raw: block, Start: loc[0], End: loc[1]}, prio: prioPGP})
	}
	return out
}

// pgpFingerprint returns the upper-case hex fingerprint of the first key
// in an armored block, if it is a v4 key.
func pgpFingerprint(block string) (string, bool) {
	// Armor needs each line on its own; pages often indent them.
	var b strings.Builder
	for line := range strings.SplitSeq(block, "\n") {
		b.WriteString(strings.TrimSpace(line))
		b.WriteByte('\n')
	}
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(b.String()))
	if err != nil || len(el) == 0 || el[0].PrimaryKey == nil {
		return "", false
	}
	pk := el[0].PrimaryKey
	if pk.Version != 4 || len(pk.Fingerprint) != 20 {
		return "", false
	}
	return strings.ToUpper(hex.EncodeToString(pk.Fingerprint)), true
}
