package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain lets tests run this test binary as the snoop command in a child
// process: with SNOOP_CHILD_ARGS set (a JSON array of arguments) it runs
// snoop with them and exits with its exit code instead of running tests.
func TestMain(m *testing.M) {
	if raw := os.Getenv("SNOOP_CHILD_ARGS"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			os.Stderr.WriteString("bad SNOOP_CHILD_ARGS: " + err.Error() + "\n")
			os.Exit(3)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(exitCode(err, os.Stderr))
	}
	os.Exit(m.Run())
}
