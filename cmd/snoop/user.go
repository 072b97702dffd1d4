package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"snoop/store"
	"snoop/web"
)

// userName is what an account name may look like.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

const userUsage = `usage: snoop user add|list|remove [flags]

  add NAME     create a workbench account, or set its password (read from stdin)
  list         list the accounts with their signed-in sessions
  remove NAME  delete an account and sign it out everywhere

Run "snoop user SUBCOMMAND --help" for its flags.`

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, userUsage)
		return usagef("user: want a subcommand: add, list or remove")
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, e, args[1:])
	case "list":
		return runUserList(ctx, e, args[1:])
	case "remove":
		return runUserRemove(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, userUsage)
		return nil
	}
	fmt.Fprintln(e.stderr, userUsage)
	return usagef("user: unknown subcommand %q (want add, list or remove)", args[0])
}

func runUserAdd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "user add", "NAME",
		"Create a web UI account, or set the password of an existing one (which signs it out everywhere).\n"+
			"The password is the first line of standard input, at least 10 characters; only its bcrypt\n"+
			"hash is stored. With an account, `snoop serve` requires signing in.\n"+
			"Example: printf '%s\\n' \"$PASSWORD\" | snoop user add alice")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	pos, err := parseFlags(fs, args)
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
	analyst, err := resolveAnalyst(*who)
	if err != nil {
		return err
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
	db, err := openDBAs(ctx, *dbPath, analyst, true)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UTC()
	if err := db.PutUser(ctx, name, hash, now); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if err := db.Audit(ctx, analyst, store.ActionUserAdd, map[string]string{"user": name}, now); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(e.stdout, "account %s saved in %s; snoop serve now requires signing in\n", name, *dbPath)
	return nil
}

func runUserList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "user list", "[--db FILE]", "List the workbench accounts: name, created, password last set, signed-in sessions.")
	dbPath := dbFlag(fs, "snoop.db")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return usagef("user list: takes no arguments")
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := db.Users(ctx, time.Now().UTC())
	if err != nil {
		return err
	}
	if len(users) == 0 {
		fmt.Fprintln(e.stdout, "no accounts (snoop serve on loopback needs none; add one with snoop user add NAME)")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tPASSWORD SET\tSESSIONS")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", u.Name, u.CreatedAt.Format(time.RFC3339), u.UpdatedAt.Format(time.RFC3339), u.Sessions)
	}
	return tw.Flush()
}

func runUserRemove(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "user remove", "NAME [--db FILE]",
		"Delete a workbench account and end its sessions. Its reviews and audit rows stay as they are.")
	dbPath := dbFlag(fs, "snoop.db")
	who := analystFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("user remove: want exactly one NAME")
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
	if err := db.RemoveUser(ctx, pos[0], analyst, time.Now().UTC()); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("user remove: no account %q in %s (list them with snoop user list)", pos[0], *dbPath)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "account %s removed from %s\n", pos[0], *dbPath)
	return nil
}
