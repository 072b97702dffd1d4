package main

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The image cannot be built here (no container engine runs on the
// development and CI machines), so these tests run what can be run
// without one: the build stage's RUN steps, on the files .dockerignore
// lets into the build context, with the same flags; and the checks that
// keep evidence out of images.

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// dockerignore is a parsed .dockerignore: patterns in order, later ones
// winning, "!" re-including, a match on a directory covering what is in
// it, as the container engine reads the file.
type dockerignore []ignorePattern

type ignorePattern struct {
	re      *regexp.Regexp
	exclude bool
}

func parseDockerignore(tb testing.TB, data string) dockerignore {
	tb.Helper()
	var d dockerignore
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{exclude: true}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.exclude, line = false, rest
		}
		line = strings.TrimPrefix(path.Clean("/"+line), "/")
		p.re = regexp.MustCompile("^" + globRegexp(line) + "$")
		d = append(d, p)
	}
	return d
}

// globRegexp translates a .dockerignore pattern: ** matches any number of
// directories, * and ? stay within one path element.
func globRegexp(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// excluded reports whether the slash path p stays out of the build context.
func (d dockerignore) excluded(p string) bool {
	out := false
	for _, pat := range d {
		matched := false
		for q := p; q != "." && q != "/" && q != ""; q = path.Dir(q) {
			if pat.re.MatchString(q) {
				matched = true
				break
			}
		}
		if matched {
			out = pat.exclude
		}
	}
	return out
}

func readRepoFile(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestDockerignoreKeepsEvidenceOut(t *testing.T) {
	d := parseDockerignore(t, readRepoFile(t, ".dockerignore"))
	for _, p := range []string{
		".git", ".git/config", "snoop.db", "snoop.db-wal", "snoop-demo.db-shm", "data/cases/lantern.db",
		"snoop-demo-case.zip", "cases/2026/op-lantern.zip", "archive/sweep-7/snoop-sweep-7-00001.warc.gz",
		"archive/sweep-7/SHA256SUMS", "keys/signing.key", "tls/server.pem", "snoop", "testartifacts/shot.png",
	} {
		if !d.excluded(p) {
			t.Errorf(".dockerignore lets %s into the image build", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/snoop/main.go", "rules/fentanyls.yaml", "demo/sites/shop/listings.json", "web/static/app.css", "store/migrations/0001_init.sql"} {
		if d.excluded(p) {
			t.Errorf(".dockerignore keeps %s, which the build needs, out", p)
		}
	}
}

// dockerfileStage is one FROM … stage of the Dockerfile.
type dockerfileStage struct {
	name   string
	args   map[string]string // ARG defaults
	copies []string          // COPY arguments
	runs   []string          // RUN commands, continuation lines joined
	lines  []string          // every instruction
}

func parseDockerfile(tb testing.TB, data string) []*dockerfileStage {
	tb.Helper()
	var stages []*dockerfileStage
	var cur *dockerfileStage
	sc := bufio.NewScanner(strings.NewReader(data))
	var pending string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = pending+line, ""
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			cur = &dockerfileStage{name: rest, args: map[string]string{}}
			stages = append(stages, cur)
		case "ARG":
			k, v, _ := strings.Cut(rest, "=")
			cur.args[k] = v
		case "COPY":
			cur.copies = append(cur.copies, rest)
		case "RUN":
			cur.runs = append(cur.runs, rest)
		}
		if cur != nil {
			cur.lines = append(cur.lines, line)
		}
	}
	return stages
}

// TestDockerfileBuildSteps runs the build stage's RUN steps on the build
// context .dockerignore gives, with the Dockerfile's flags, and checks the
// binary is stamped with the version and commit passed as build args.
func TestDockerfileBuildSteps(t *testing.T) {
	// The first -trimpath build compiles everything, SQLite included:
	// minutes. CI sets the variable (.ci/run); set it to run the test here.
	if os.Getenv("SNOOP_TEST_DOCKERFILE_BUILD") != "1" {
		t.Skip("set SNOOP_TEST_DOCKERFILE_BUILD=1 to run the Dockerfile's build steps (a full cgo build)")
	}
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	if len(stages) != 2 || !strings.HasSuffix(stages[0].name, " AS build") {
		t.Fatalf("want a build stage and a runtime stage, got %d stages", len(stages))
	}
	build := stages[0]
	if want := []string{"go.mod go.sum ./", ". ."}; strings.Join(build.copies, "|") != strings.Join(want, "|") {
		t.Fatalf("build stage copies %q, want %q: update this test with the Dockerfile", build.copies, want)
	}

	// The build context: every file .dockerignore does not exclude.
	ignore := parseDockerignore(t, readRepoFile(t, ".dockerignore"))
	ctxDir := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		for _, ext := range []string{".db", ".zip", ".warc.gz", ".key"} {
			if strings.HasSuffix(rel, ext) {
				t.Errorf("%s would be sent to the image build", rel)
			}
		}
		dst := filepath.Join(ctxDir, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}

	// The RUN steps, with the build args a release build passes.
	outDir := t.TempDir()
	const version, commitID = "v9.9.9-test", "0123456789abcdef0123456789abcdef01234567"
	env := append(os.Environ(), "VERSION="+version, "COMMIT="+commitID)
	sawBuild := false
	for _, run := range build.runs {
		if strings.Contains(run, "go build") {
			sawBuild = true
			for _, flag := range []string{"-trimpath", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "CGO_ENABLED=1"} {
				if !strings.Contains(run, flag) {
					t.Errorf("go build step lacks %s: %s", flag, run)
				}
			}
		}
		cmd := exec.CommandContext(context.Background(), "sh", "-c", strings.ReplaceAll(run, "/out/", outDir+"/"))
		cmd.Dir, cmd.Env = ctxDir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("RUN %s: %v\n%s", run, err, out)
		}
	}
	if !sawBuild {
		t.Fatal("no go build step in the build stage")
	}
	out, err := exec.Command(filepath.Join(outDir, "snoop"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("snoop version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "snoop "+version+"\n") || !strings.Contains(string(out), "commit "+commitID) {
		t.Errorf("snoop version of the image build:\n%s\nwant version %s and commit %s", out, version, commitID)
	}
}

// TestDockerfileRuntime checks the runtime stage: the health check runs an
// existing command, screenshots come with fonts for the rules' scripts, and
// any uid can run the image.
func TestDockerfileRuntime(t *testing.T) {
	stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	rt := stages[len(stages)-1]
	all := strings.Join(rt.lines, "\n")
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \["/usr/local/bin/snoop", "([a-z]+)"`).FindStringSubmatch(all)
	if hc == nil {
		t.Fatalf("no HEALTHCHECK running snoop in:\n%s", all)
	}
	found := false
	for _, c := range commands() {
		found = found || c.name == hc[1]
	}
	if !found {
		t.Errorf("HEALTHCHECK runs snoop %s, which is not a command", hc[1])
	}
	for _, pkg := range []string{"chromium", "fonts-noto-core", "fonts-noto-cjk"} {
		if !strings.Contains(all, pkg) {
			t.Errorf("SCREENSHOTS=1 does not install %s", pkg)
		}
	}
	for _, want := range []string{"ENV HOME=/tmp", "chmod 1777 /data", "USER 10001"} {
		if !strings.Contains(all, want) {
			t.Errorf("runtime stage lacks %q", want)
		}
	}
}
