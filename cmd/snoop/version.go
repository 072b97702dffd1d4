package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped at build time, e.g. by the Dockerfile:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/snoop
//
// Empty values fall back to the module's build information.
var (
	version string
	commit  string
)

// build describes the binary: its version, the commit it was built from,
// whether the work tree had changes, and the commit's time.
type build struct {
	Version  string
	Commit   string // "" when unknown
	Modified bool
	Time     string
}

// buildInfo returns the binary's build description: -ldflags values first,
// then what the go command recorded (the module version when installed as
// a module, vcs.revision when built in a git work tree with VCS stamping
// on).
func buildInfo() build {
	info, _ := debug.ReadBuildInfo()
	return resolveBuild(version, commit, info)
}

// resolveBuild combines stamped values with build information (which may
// be nil).
func resolveBuild(version, commit string, info *debug.BuildInfo) build {
	b := build{Version: version, Commit: commit}
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true" && commit == ""
			case "vcs.time":
				b.Time = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// commitLine gives the commit line of `snoop version`.
func (b build) commitLine() string {
	switch {
	case b.Commit == "":
		return "commit unknown (built without VCS information: build in a git work tree with -buildvcs=true, or stamp it with -ldflags \"-X main.commit=$(git rev-parse HEAD)\")"
	case b.Modified:
		return "commit " + b.Commit + " (with uncommitted changes)"
	case b.Time != "":
		return "commit " + b.Commit + " (" + b.Time + ")"
	}
	return "commit " + b.Commit
}

func runVersion(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "", "Print snoop's version, the commit it was built from and the version of the embedded rule set.")
	rulesDir := fs.String("rules", "", "rule directory `DIR` to report instead of the embedded rules")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	rs, _, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	b := buildInfo()
	fmt.Fprintf(e.stdout, "snoop %s\n%s\nrules %s\n%s\n", b.Version, b.commitLine(), rs.Version(), strings.TrimSpace(runtime.Version()))
	return nil
}
