package main

import (
	"context"
	"fmt"
	"time"
)

func runAudit(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, "usage: snoop audit verify [--db FILE]\n\nRe-check the hash chain of the audit log; exit 0 only if no row was edited, deleted or reordered.")
			return nil
		}
		return usagef("audit: want the subcommand verify (snoop audit verify)")
	}
	fs := newFlagSet(e, "audit verify", "",
		"Re-check the hash chain of the audit log; exit 0 only if no row was edited, deleted or reordered.")
	dbPath := dbFlag(fs, "snoop.db")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.VerifyAudit(ctx); err != nil {
		return fmt.Errorf("audit log of %s is NOT intact: %w", *dbPath, err)
	}
	entries, err := db.AuditEntries(ctx, time.Time{})
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries, hash chain verified\n", len(entries))
	return nil
}
