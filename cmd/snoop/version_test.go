package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveBuild(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name            string
		version, commit string
		info            *debug.BuildInfo
		wantVersion     string
		wantLine        string
	}{
		{"nothing", "", "", nil, "dev", "commit unknown (built without VCS information"},
		{"buildvcs off", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev", "commit unknown"},
		{"vcs", "", "", vcs, "dev", "commit abc123 (with uncommitted changes)"},
		{"ldflags win", "v1.2.3", "def456", vcs, "v1.2.3", "commit def456 (2026-12-01T10:00:00Z)"},
		{"module version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0", "commit unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := resolveBuild(tt.version, tt.commit, tt.info)
			if b.Version != tt.wantVersion {
				t.Errorf("version = %q, want %q", b.Version, tt.wantVersion)
			}
			if got := b.commitLine(); !strings.HasPrefix(got, tt.wantLine) {
				t.Errorf("commit line = %q, want prefix %q", got, tt.wantLine)
			}
		})
	}
}
