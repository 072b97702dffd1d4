package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"snoop/classify"
	"snoop/rules"
)

// dbFlag registers --db on fs with the given default.
func dbFlag(fs *flag.FlagSet, def string) *string {
	if env := os.Getenv("SNOOP_DB"); env != "" && def == "snoop.db" {
		def = env
	}
	return fs.String("db", def, "SQLite database `FILE` (default $SNOOP_DB, else snoop.db)")
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

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
