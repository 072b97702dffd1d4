package main

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"snoop/export"
)

func runVerify(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "verify", "FILE.zip [--pub-key FILE] [--tsa-ca FILE]",
		"Re-check a case package: every file's sha256 against SHA256SUMS and manifest.json, no missing or\n"+
			"extra file, the WARC records' digests, and the signature when there is one (required with --pub-key),\n"+
			"the custody log's hash chain, and the RFC 3161 time stamp's signature and imprint (with --tsa-ca, also\n"+
			"that the time-stamping authority chains to that CA).")
	pubKey := fs.String("pub-key", "", "ed25519 public key (KEY.pub from snoop keygen) the package must be signed with")
	tsaCA := fs.String("tsa-ca", "", "PEM CA certificate(s) the time-stamping authority must chain to")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("verify: want exactly one FILE.zip")
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
		fmt.Fprint(e.stdout, rep.String())
	}
	if err != nil {
		return err // names the package and its first problem; the report above lists them all
	}
	return nil
}
