package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"unicode"

	"snoop/store"
)

// analystFlag registers --analyst on a command that changes data.
func analystFlag(fs *flag.FlagSet) *string {
	return fs.String("analyst", "", "who does this, for the audit log (default $SNOOP_ANALYST, else the OS user)")
}

// resolveAnalyst names who performs a command, for the audit log: the
// --analyst value, else $SNOOP_ANALYST, else the OS user's login name, else
// "uid:N". It never answers a placeholder such as "unknown".
func resolveAnalyst(flagValue string) (string, error) {
	name, from := strings.TrimSpace(flagValue), "--analyst"
	if name == "" {
		name, from = strings.TrimSpace(os.Getenv("SNOOP_ANALYST")), "SNOOP_ANALYST"
	}
	if name == "" {
		return osUser(), nil
	}
	if len(name) > 128 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", usagef("%s %q: want a name of at most 128 characters without control characters", from, name)
	}
	return name, nil
}

// osUser names the operating-system user running snoop.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return "uid:" + strconv.Itoa(os.Getuid())
}

// errNoDatabase is wrapped when --db names a file that does not exist.
var errNoDatabase = errors.New("database does not exist")

// openDB opens the existing store at path; a missing file is an error,
// since only sweep, demo, serve and user add create a database.
func openDB(ctx context.Context, path string) (*store.DB, error) {
	if !strings.Contains(path, "://") {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s (check --db or SNOOP_DB; snoop sweep, demo, serve and user add create one)", errNoDatabase, path)
		}
	}
	return createDB(ctx, path)
}

// createDB opens the store at path, creating it if needed.
func createDB(ctx context.Context, path string) (*store.DB, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return db, nil
}

// openDBAs opens the existing store at path with who as the actor of the
// audit rows the store writes on its own (sweeps, screenshots).
func openDBAs(ctx context.Context, path, who string, create bool) (*store.DB, error) {
	open := openDB
	if create {
		open = createDB
	}
	db, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	db.Actor = who
	return db, nil
}
