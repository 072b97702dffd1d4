package main

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "", "Print snoop's version, the commit it was built from and the version of the embedded rule set.")
	rulesDir := fs.String("rules", "", "rule directory to report instead of the embedded rules")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	rs, _, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snoop %s\ncommit %s\nrules %s\n%s\n", version, commit(), rs.Version(), runtime.Version())
	return nil
}
