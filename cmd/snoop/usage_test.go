package main

import (
	"archive/zip"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"snoop/export"
)

// TestUsageNamesEveryFlag runs every command with --help and checks that
// its usage line names each flag the flag list shows.
func TestUsageNamesEveryFlag(t *testing.T) {
	var cmds [][]string
	for _, c := range commands() {
		switch c.name {
		case "rules":
			for _, sub := range []string{"lint", "test", "explain", "backtest"} {
				cmds = append(cmds, []string{"rules", sub})
			}
		case "audit":
			cmds = append(cmds, []string{"audit", "verify"}, []string{"audit", "log"})
		case "user":
			cmds = append(cmds, []string{"user", "add"}, []string{"user", "list"}, []string{"user", "remove"})
		case "markets":
			cmds = append(cmds, []string{"markets", "check"}, []string{"markets", "import"})
		default:
			cmds = append(cmds, []string{c.name})
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)
	for _, args := range cmds {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runCmd(t, context.Background(), append(args, "--help")...)
			if code != 0 {
				t.Fatalf("--help exit %d: %s", code, stderr)
			}
			help := stdout + stderr
			usage, rest, ok := strings.Cut(help, "\n\n")
			if !ok || !strings.HasPrefix(usage, "usage: snoop "+strings.Join(args, " ")) {
				t.Fatalf("help does not start with a usage line:\n%s", help)
			}
			_, list, ok := strings.Cut(rest, "\nflags:\n")
			if !ok {
				t.Fatalf("help has no flag list:\n%s", help)
			}
			flags := flagLine.FindAllStringSubmatch(list, -1)
			if len(flags) == 0 {
				t.Fatalf("no flags found in:\n%s", list)
			}
			for _, f := range flags {
				if !regexp.MustCompile(`--` + regexp.QuoteMeta(f[1]) + `\b`).MatchString(usage) {
					t.Errorf("usage line lacks --%s:\n%s", f[1], usage)
				}
			}
		})
	}
}

// TestCaseFileCountsAgree checks that export and verify count the files of
// a package as the zip and manifest.json do.
func TestCaseFileCountsAgree(t *testing.T) {
	db := seedHostile(t)
	pkg := filepath.Join(t.TempDir(), "case.zip")
	out, errOut, code := runCmd(t, context.Background(), "export", "--db", db, "--out", pkg, "--status", "any")
	if code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	zr, err := zip.OpenReader(pkg)
	if err != nil {
		t.Fatal(err)
	}
	entries := len(zr.File)
	zr.Close()
	m, err := export.ReadManifest(pkg)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d files in the zip (%d of them listed", entries, len(m.Files))
	if !strings.Contains(out, want) {
		t.Errorf("export says %q, want %q", out, want)
	}
	vout, _, code := runCmd(t, context.Background(), "verify", pkg)
	if code != 0 || !strings.Contains(vout, fmt.Sprintf(": %d files in the package", entries)) {
		t.Errorf("verify says %q, want %d files", vout, entries)
	}
}
