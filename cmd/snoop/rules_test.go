package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRulesLint runs "snoop rules lint" on the embedded rules, on a good and
// a broken rule directory, and on a path that is not a directory.
func TestRulesLint(t *testing.T) {
	ctx := context.Background()
	good := t.TempDir()
	writeRulesFile(t, good, "r.yaml", "substances:\n  - name: foo\n    class: nitazene\n")
	bad := t.TempDir()
	writeRulesFile(t, bad, "r.yaml", "substances:\n  - name: foo\n    class: opioid\n    synonyms: [bar, Bar]\n")
	file := filepath.Join(good, "r.yaml")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // regexp
		stderr   string // substring
		noStdout bool
	}{
		{"embedded", []string{"rules", "lint"}, 0, `^ok: \d+ files, \d+ substances .* sha256:[0-9a-f]{64}\n$`, "", false},
		{"good dir", []string{"rules", "lint", "--rules", good}, 0, `^ok: 1 files, 1 substances \(0 fentanyl-analogue, 1 nitazene`, "", false},
		{"bad dir", []string{"rules", "lint", "--rules", bad}, 1, `(?m)^` + regexp.QuoteMeta(bad) + `/r\.yaml:2: .*unknown class "opioid"`, "2 problem(s)", false},
		{"not a dir", []string{"rules", "lint", "--rules", file}, 1, "", "is not a directory", true},
		{"extra argument", []string{"rules", "lint", "x"}, 2, "", "unexpected argument", true},
		{"no subcommand", []string{"rules"}, 2, "", "no subcommand", true},
		{"unknown subcommand", []string{"rules", "frob"}, 2, "", "unknown subcommand", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, ctx, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.stdout != "" && !regexp.MustCompile(tt.stdout).MatchString(out) {
				t.Errorf("stdout %q does not match %q", out, tt.stdout)
			}
			if tt.noStdout && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.stderr)
			}
		})
	}
}

var scoreLine = regexp.MustCompile(`(?m)^precision=(\d\.\d{3}) recall=(\d\.\d{3}) f1=(\d\.\d{3})\n\z`)

// TestRulesTest runs "snoop rules test" on the labelled sets of
// classify/testdata and on small corpora written here.
func TestRulesTest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	small := writeRulesFile(t, dir, "small.jsonl",
		`{"id":"p1","title":"Carfentanil 1g","text":"escrow, tracked","label":"positive","substances":["carfentanil"]}`+"\n"+
			`{"id":"p2","title":"Sells stuff","text":"ask me","label":"positive","substances":["fentanyl"]}`+"\n"+
			`{"id":"n1","title":"Fentanyl test strips","text":"25 pack, free shipping","label":"negative","substances":[]}`+"\n")
	broken := writeRulesFile(t, dir, "broken.jsonl", `{"id":"x","label":"maybe"}`+"\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
		p, r   string // expected score line values, "" to skip
	}{
		{"small", []string{"rules", "test", "--corpus", small}, 0,
			[]string{"false negatives (1)", "  p2 score=0.000", "carfentanil", "listings=3 tp=1 fp=0 fn=1 tn=1"}, "", "1.000", "0.500"},
		{"heldout", []string{"rules", "test", "--corpus", filepath.Join("..", "..", "classify", "testdata", "heldout.jsonl")}, 0,
			[]string{"class (listings)", "nitazene", "false positives ("}, "", "", ""},
		{"tricks", []string{"rules", "test", "--corpus", filepath.Join("..", "..", "classify", "testdata", "tricks.jsonl")}, 0,
			[]string{"substance "}, "", "", ""},
		{"missing corpus flag", []string{"rules", "test"}, 2, nil, "--corpus or --reviews is required", "", ""},
		{"missing file", []string{"rules", "test", "--corpus", filepath.Join(dir, "nope.jsonl")}, 1, nil, "no such file", "", ""},
		{"bad label", []string{"rules", "test", "--corpus", broken}, 1, nil, "line 1: label \"maybe\"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, ctx, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.stderr)
			}
			if code != 0 {
				return
			}
			m := scoreLine.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("stdout does not end with the score line:\n%s", out)
			}
			if tt.p != "" && (m[1] != tt.p || m[2] != tt.r) {
				t.Errorf("precision=%s recall=%s, want %s and %s", m[1], m[2], tt.p, tt.r)
			}
			if tt.p == "" && (m[1] < "0.950" || m[2] < "0.950") {
				t.Errorf("precision=%s recall=%s, want both >= 0.950", m[1], m[2])
			}
		})
	}
}

// TestRulesExplain runs "snoop rules explain" with TEXT arguments, with
// standard input, and with a rule directory.
func TestRulesExplain(t *testing.T) {
	ctx := context.Background()
	custom := t.TempDir()
	writeRulesFile(t, custom, "r.yaml", "substances:\n  - name: widgetine\n    class: other-nso\n    weight: 0.9\n")
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout []string
	}{
		{"hit", []string{"rules", "explain", "Fеntаnуl 10g,", "stealth"}, "", 0, []string{
			"normalised: fentanyl 10g stealth", "substance fentanyl", `"Fеntаnуl"`, "context quantity",
			"fentanyl (fentanyl-analogue)", "verdict=HIT", "rules:      sha256:"}},
		{"negated", []string{"rules", "explain", "MDMA 84%, no fentanyl"}, "", 0, []string{
			"negated", "context negation", "verdict=no hit"}},
		{"stdin", []string{"rules", "explain"}, "Nitazenes in stock: iso, proto. DM for prices\n", 0, []string{
			"isotonitazene (nitazene)", "protonitazene (nitazene)", "verdict=HIT"}},
		{"no match", []string{"rules", "explain", "a walnut coffee table"}, "", 0, []string{
			"matches:\n  (none)", "substances:\n  (none)", "score=0.000", "verdict=no hit"}},
		{"custom rules", []string{"rules", "explain", "--rules", custom, "widgetine"}, "", 0, []string{
			"substance widgetine", "verdict=HIT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(ctx, tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code := exitCode(err, &errb); code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout does not contain %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func writeRulesFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRulesTestReviews sweeps the demo marketplaces into a database,
// triages two hits (one confirmed, one a false positive) and scores the
// rules against those decisions with "rules test --reviews".
func TestRulesTestReviews(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "snoop.db")
	if out, errOut, code := runCmd(t, ctx, "rules", "test", "--reviews", "--db", db); code != 1 || !strings.Contains(errOut, "database") {
		t.Fatalf("no database: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if out, errOut, code := runCmd(t, ctx, "demo", "--db", db, "--out", filepath.Join(dir, "case.zip")); code != 0 {
		t.Fatalf("demo: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if _, errOut, code := runCmd(t, ctx, "rules", "test", "--reviews", "--db", db); code != 1 || !strings.Contains(errOut, "no confirmed or false-positive hit") {
		t.Fatalf("no decisions yet: exit %d, stderr %s", code, errOut)
	}
	for _, r := range [][2]string{{"1", "confirmed"}, {"2", "false_positive"}} {
		if out, errOut, code := runCmd(t, ctx, "review", r[0], "--status", r[1], "--db", db); code != 0 {
			t.Fatalf("review %s: exit %d\nstdout: %s\nstderr: %s", r[0], code, out, errOut)
		}
	}
	out, errOut, code := runCmd(t, ctx, "rules", "test", "--reviews", "--db", db)
	if code != 0 {
		t.Fatalf("rules test --reviews: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	// The rules that flagged both hits still flag both: the confirmed one
	// is a true positive and the other a false positive.
	if !strings.Contains(out, "listings=2 tp=1 fp=1 fn=0 tn=0") || !strings.Contains(out, "false positives (1)") || !strings.Contains(out, "hit-2") {
		t.Errorf("rules test --reviews:\n%s", out)
	}
}
