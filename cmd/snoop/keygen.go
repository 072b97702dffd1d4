package main

import (
	"context"
	"fmt"

	"snoop/export"
)

func runKeygen(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "keygen", "",
		"Write an ed25519 key pair for signing case packages: KEY (private, mode 0600) and KEY.pub.\n"+
			"Keep KEY secret; give KEY.pub to whoever verifies the packages.")
	out := fs.String("out", "", "path of the private `KEY` to write, the public key goes to KEY.pub (required)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return usagef("keygen: --out is required")
	}
	if err := export.GenerateKey(*out); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote private key %s (keep it secret) and public key %s.pub\n", *out, *out)
	return nil
}
