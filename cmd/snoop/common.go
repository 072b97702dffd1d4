package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"snoop/classify"
	"snoop/rules"
	"snoop/store"
)

// dbFlag registers --db on fs with the given default.
func dbFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("db", def, "SQLite database `FILE`")
}

// openDB opens the store at path.
func openDB(ctx context.Context, path string) (*store.DB, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return db, nil
}

// loadRules loads the rule set from dir, or the embedded default when dir
// is empty, and builds its classifier.
func loadRules(dir string) (*rules.RuleSet, *classify.Classifier, error) {
	rs, err := rulesFor(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load rules: %w", err)
	}
	c, err := classify.New(rs)
	if err != nil {
		return nil, nil, fmt.Errorf("build classifier: %w", err)
	}
	return rs, c, nil
}

// actor names who performs an action, for the audit log.
func actor() string {
	name := os.Getenv("USER")
	if name == "" {
		name = "unknown"
	}
	host, _ := os.Hostname()
	if host != "" {
		name += "@" + host
	}
	return name
}

// parseSince parses an RFC 3339 time flag value; empty means no bound.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--since %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
