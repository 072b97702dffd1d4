// Command snoop sweeps web marketplaces for offers of fentanyl, nitazenes and
// other novel synthetic opioids, keeps every hit with its evidence, and
// exports case packages.
//
// Run "snoop help" for the list of commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"snoop/internal/termsafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on w and maps it to the process exit code:
// 0 on success, 2 on bad usage, 1 on any other failure.
func exitCode(err error, w io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	var u *usageError
	if errors.As(err, &u) {
		if u.msg != "" {
			fmt.Fprintf(w, "snoop: %s\n", termsafe.Lines(u.msg))
		}
		return 2
	}
	fmt.Fprintf(w, "snoop: %s\n", termsafe.Lines(err.Error()))
	return 1
}

// usageError marks an error caused by bad command-line usage (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// env is what every command gets from the process: its streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one snoop subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands lists every subcommand in the order "snoop help" shows them.
func commands() []command {
	return []command{
		{"demo", "sweep the built-in demo marketplaces and write a case package", runDemo},
		{"sweep", "sweep the configured marketplaces once", runSweep},
		{"serve", "run scheduled sweeps and the analyst web UI", runServe},
		{"user", "web UI accounts: user add NAME (password on stdin), user list, user remove NAME", runUser},
		{"hits", "list hits", runHits},
		{"show", "one hit: text with matches, score, evidence, history, reviews", runShow},
		{"listings", "list stored listings, hits or not, gone ones included", runListings},
		{"review", "triage a hit", runReview},
		{"vendors", "list vendors: the sellers behind the listings", runVendors},
		{"vendor", "show, triage, merge or split one vendor", runVendor},
		{"report", "write the intelligence report on vendors with new or changed hits", runReport},
		{"export", "write a case package", runExport},
		{"archive", "write every evidence record of a sweep as WARC files", runArchive},
		{"keygen", "write an ed25519 key pair for signing case packages", runKeygen},
		{"audit", "the audit log: audit log [--since T] prints it, audit verify checks its chain", runAudit},
		{"verify", "check every hash and signature of a case package", runVerify},
		{"rules", "lint, test, explain and backtest detection rules", runRules},
		{"markets", "check a marketplace's listings, or import marketplaces from a list", runMarkets},
		{"version", "print version, commit and rule-set version", runVersion},
		{"health", "check that a running snoop serve answers (container health checks)", runHealth},
	}
}

// Run executes the snoop command line args (without the program name).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printHelp(stderr)
		return usagef("no command given")
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		printHelp(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	printHelp(stderr)
	return usagef("unknown command %q", name)
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: snoop COMMAND [flags]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Every command takes --db PATH (default $SNOOP_DB, else snoop.db) and --help. Commands that change")
	fmt.Fprintln(w, "data take --analyst NAME (default $SNOOP_ANALYST, else the OS user), named in the audit log.")
}
