package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"snoop/store"
	"snoop/triage"
)

func runReview(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "review", "HIT_ID",
		"Triage a hit. The decision, note and reviewer are recorded in the audit log.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	status := fs.String("status", "", "new status: `confirmed|false_positive|new` (required)")
	note := fs.String("note", "", "reason for the decision (`TEXT`)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("review: want exactly one HIT_ID")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("review: HIT_ID %q is not a positive number", pos[0])
	}
	if !store.ValidStatus(*status) {
		return usagef("review: --status %q: want confirmed, false_positive or new", *status)
	}
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
	}
	db, err := openDBAs(ctx, *dbPath, analyst, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := triage.New(db, nil).Review(ctx, []int64{id}, *status, *note, analyst); err != nil {
		if errors.Is(err, triage.ErrInvalid) {
			return usagef("review: %v", err)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("review: no hit with ID %d in %s (list them with snoop hits)", id, *dbPath)
		}
		return fmt.Errorf("review hit %d: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "hit %d marked %s\n", id, *status)
	return nil
}
