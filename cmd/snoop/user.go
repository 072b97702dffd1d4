package main

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"snoop/web"
)

// userName is what an account name may look like.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, "usage: snoop user add NAME [--db FILE]   (password read from stdin)")
			return nil
		}
		fmt.Fprintln(e.stderr, "usage: snoop user add NAME [--db FILE]   (password read from stdin)")
		return usagef("user: want the subcommand add")
	}
	fs := newFlagSet(e, "user add", "NAME",
		"Create a web UI account, or set the password of an existing one (which signs it out everywhere).\n"+
			"The password is the first line of standard input, at least 10 characters; only its bcrypt\n"+
			"hash is stored. With an account, `snoop serve` requires signing in.\n"+
			"Example: printf '%s\\n' \"$PASSWORD\" | snoop user add alice")
	dbPath := dbFlag(fs, "snoop.db")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("user add: want exactly one NAME")
	}
	name := pos[0]
	if !userName.MatchString(name) {
		return usagef("user add: name %q: want letters, digits, '.', '_', '@' or '-' (at most 64)", name)
	}
	if isTerminal(e.stderr) {
		fmt.Fprint(e.stderr, "password (shown as typed; pipe it in to hide it): ")
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("user add: read the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	hash, err := web.HashPassword(password)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	if err := db.PutUser(ctx, name, hash, now); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if err := db.Audit(ctx, actor(), "user.add", map[string]string{"user": name}, now); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(e.stdout, "account %s saved in %s; snoop serve now requires signing in\n", name, *dbPath)
	return nil
}
