package main

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"snoop/export"
)

func runVerify(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "verify", "FILE.zip",
		"Re-check a case package: every file's sha256 against SHA256SUMS and manifest.json, no missing or\n"+
			"extra file, the WARC records' digests, the custody log's hash chain, the RFC 3161 time stamp's\n"+
			"signature and imprint (with --tsa-ca, also that the time-stamping authority chains to that CA), and\n"+
			"the signature when there is one. Without --pub-key a signature is checked with the key manifest.json\n"+
			"names, which proves the package is intact but not who signed it (\"signed by an unknown key\");\n"+
			"--require-signature --pub-key KEY.pub proves both.")
	pubKey := fs.String("pub-key", "", "ed25519 public key `KEY.pub` (from snoop keygen) the package must be signed with")
	requireSig := fs.Bool("require-signature", false, "fail unless the package is signed with the --pub-key key")
	tsaCA := fs.String("tsa-ca", "", "PEM CA certificate(s) `FILE` the time-stamping authority must chain to")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("verify: want exactly one FILE.zip")
	}
	if *requireSig && *pubKey == "" {
		return usagef("verify: --require-signature needs --pub-key KEY.pub: a signature proves who signed only against a key you trust")
	}
	var pub ed25519.PublicKey
	if *pubKey != "" {
		if pub, err = export.LoadPublicKey(*pubKey); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	opts := export.VerifyOptions{PublicKey: pub}
	if *tsaCA != "" {
		if opts.TSARoots, err = export.LoadCertPool(*tsaCA); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	rep, err := export.VerifyWith(pos[0], opts)
	if rep != nil {
		if _, werr := rep.WriteTo(e.stdout); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err // names the package and its first problem; the report above lists them all
	}
	if *requireSig && !(rep.SignatureOK && rep.SignerKnown) {
		return fmt.Errorf("verify %s: not signed with the key in %s", pos[0], *pubKey)
	}
	return nil
}
