package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"snoop/classify"
	"snoop/rules"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// commit returns the VCS revision the binary was built from, if known.
func commit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// dbFlag registers --db on fs with the given default.
func dbFlag(fs *flag.FlagSet, def string) *string {
	if env := os.Getenv("SNOOP_DB"); env != "" && def == "snoop.db" {
		def = env
	}
	return fs.String("db", def, "path of the SQLite database (default $SNOOP_DB, else snoop.db)")
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

// newLogger returns the logger commands use: text lines on w at the given
// level.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
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
