package rules

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDefault(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range rs.Substances {
		counts[s.Class]++
	}
	for class, min := range map[string]int{"fentanyl-analogue": 40, "nitazene": 25, "other-nso": 20, "precursor": 7} {
		if counts[class] < min {
			t.Errorf("%d substances of class %s, want at least %d", counts[class], class, min)
		}
	}
	if !strings.HasPrefix(rs.Version(), "sha256:") || len(rs.Version()) != len("sha256:")+64 {
		t.Errorf("Version() = %q", rs.Version())
	}
	if probs := Lint(DefaultFS()); len(probs) > 0 {
		t.Errorf("default rules have problems: %v", probs)
	}
}

func TestVersionChangesWithContent(t *testing.T) {
	a := fstest.MapFS{"a.yaml": {Data: []byte("substances:\n  - name: fentanyl\n    class: fentanyl-analogue\n")}}
	b := fstest.MapFS{"a.yaml": {Data: []byte("substances:\n  - name: fentanyl\n    class: fentanyl-analogue\n\n")}}
	ra, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Version() == rb.Version() {
		t.Error("versions equal for different contents")
	}
}

// TestParseErrors checks that every problem names the right line.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"unknown top key", "substance:\n  - name: x\n", 1, `unknown key "substance"`},
		{"unknown class", "substances:\n  - name: foo\n    class: opioid\n", 2, `unknown class "opioid"`},
		{"bad cas", "substances:\n  - name: foo\n    class: nitazene\n    cas: [14188-81-8]\n", 4, "check digit is 9"},
		{"bad weight", "substances:\n  - name: foo\n    class: nitazene\n    weight: 1.5\n", 4, "bad weight"},
		{"bad pattern", "families:\n  - name: f\n    class: nitazene\n    stem: nitaz\n    pattern: '(nitaz'\n", 5, "bad pattern"},
		{"stem not in pattern", "families:\n  - name: f\n    class: nitazene\n    stem: nitaz\n    pattern: 'foo'\n", 5, "does not contain the stem"},
		{"duplicate term", "substances:\n  - name: foo\n    class: nitazene\n    synonyms: [bar, Bar]\n", 4, `duplicate term "Bar"`},
		{"shadowing term", "substances:\n  - name: foo\n    class: nitazene\n    synonyms: [u-47, u47]\n", 4, `shadows "u-47"`},
		{"unknown context ref", "substances:\n  - name: foo\n    class: nitazene\n    street:\n      - terms: [fo]\n        requires: [nothing]\n", 5, `"nothing" names no context`},
		{"street without requires", "substances:\n  - name: foo\n    class: nitazene\n    street:\n      - terms: [fo]\n", 5, "requires is empty"},
		{"context kind", "contexts:\n  - name: c\n    kind: boost\n    weight: 0.1\n    terms: [x]\n", 2, `unknown kind "boost"`},
		{"unquoted comma", "substances:\n  - name: foo\n    class: precursor\n    synonyms: [4,4-piperidinediol]\n", 4, "has no letters"},
		{"yaml syntax", "substances:\n  - name: [\n", 2, "yaml:"},
		{"unknown detector", "contexts:\n  - name: c\n    kind: sales\n    weight: 0.1\n    detect: [phone]\n", 5, `unknown detector "phone"`},
		{"bad negate side", "contexts:\n  - name: c\n    kind: negate\n    side: around\n    terms: [no]\n", 2, `bad side "around"`},
		{"side on a sales context", "contexts:\n  - name: c\n    kind: sales\n    weight: 0.1\n    side: after\n    terms: [x]\n", 2, "side is only for negate"},
		{"weak on a sales context", "contexts:\n  - name: c\n    kind: sales\n    weak: true\n    weight: 0.1\n    terms: [x]\n", 2, "weak is only for exclude"},
		{"weak not a boolean", "contexts:\n  - name: c\n    kind: exclude\n    weak: maybe\n    weight: 0.1\n    terms: [x]\n", 4, "context: weak: want true or false"},
		{"bad shield_from", "scoring:\n  shield_from: two\n", 2, "shield_from: bad count"},
		{"bad weak_shield", "scoring:\n  weak_shield: 2\n", 2, "weak_shield: bad weight"},
		{"negate with detectors", "contexts:\n  - name: c\n    kind: negate\n    detect: [price]\n", 2, "negate contexts take terms only"},
		{"bad generic", "families:\n  - name: f\n    class: nitazene\n    stem: nitaz\n    pattern: 'nitaz'\n    generic: maybe\n", 6, "want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.src))
			probs, ok := err.(Problems)
			if !ok {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			for _, p := range probs {
				if p.Line == tt.line && strings.Contains(p.Msg, tt.msg) && p.File == "r.yaml" {
					return
				}
			}
			t.Errorf("problems = %v, want r.yaml:%d: …%s…", probs, tt.line, tt.msg)
		})
	}
}

func TestLintCrossFile(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml": {Data: []byte("substances:\n  - name: foo\n    class: nitazene\n    synonyms: [bar]\n")},
		"b.yaml": {Data: []byte("contexts:\n  - name: c\n    kind: sales\n    weight: 0.1\n    terms: [x, bar]\n")},
	}
	probs := Lint(fsys)
	if len(probs) != 1 || probs[0].String() != `b.yaml:5: context c: duplicate term "bar" (also in substance foo at a.yaml:4)` {
		t.Errorf("Lint = %v", probs)
	}
	if _, err := Load(fsys); err == nil {
		t.Error("Load accepted a rule set with problems")
	}
	if probs := Lint(fstest.MapFS{}); len(probs) != 1 {
		t.Errorf("Lint of an empty directory = %v, want one problem", probs)
	}
}

func TestParseCAS(t *testing.T) {
	for _, ok := range []string{"437-38-7", "21409-26-7", "2785346-75-8", "7732-18-5"} {
		if _, err := ParseCAS(ok); err != nil {
			t.Errorf("ParseCAS(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"437-38-6", "43738-7", "1-23-4", "12345678-12-3", "abc-de-f"} {
		if _, err := ParseCAS(bad); err == nil {
			t.Errorf("ParseCAS(%q) accepted", bad)
		}
	}
}

func TestDemotedName(t *testing.T) {
	rs, err := Parse("r.yaml", []byte("substances:\n  - name: npp\n    class: precursor\n    street:\n      - terms: [npp]\n        requires: [sales]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rs.Substances[0].Terms); n != 1 || !rs.Substances[0].Terms[0].Weak() {
		t.Errorf("terms = %+v, want the name only as a street term", rs.Substances[0].Terms)
	}
}

func TestNegateAndGeneric(t *testing.T) {
	src := "contexts:\n  - name: n\n    kind: negate\n    terms: [no]\n  - name: a\n    kind: negate\n    side: after\n    terms: [free]\n" +
		"families:\n  - name: g\n    class: nitazene\n    stem: nitazen\n    pattern: 'nitazenes?'\n    report: nitazene\n    generic: true\n"
	rs, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Contexts[0].Side; got != SideBefore {
		t.Errorf("default side = %q, want %q", got, SideBefore)
	}
	if got := rs.Contexts[1].Side; got != SideAfter {
		t.Errorf("side = %q, want %q", got, SideAfter)
	}
	if !rs.Families[0].Generic {
		t.Error("family not generic")
	}
}

func TestWeakContext(t *testing.T) {
	src := "scoring:\n  threshold: 0.5\n  weak_shield: 0.1\n  shield_from: 2\n" +
		"contexts:\n  - name: w\n    kind: exclude\n    weak: true\n    weight: 0.2\n    terms: [alert]\n"
	rs, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Contexts[0].Weak {
		t.Error("context not weak")
	}
	if sc := rs.Scoring; sc.WeakShield != 0.1 || sc.ShieldFrom != 2 {
		t.Errorf("scoring = %+v, want weak_shield 0.1 and shield_from 2", sc)
	}
}

func TestEmojiTerm(t *testing.T) {
	src := "contexts:\n  - name: c\n    kind: sales\n    weight: 0.1\n    terms: [\"🔌\", \"💊\"]\n"
	if _, err := Parse("r.yaml", []byte(src)); err != nil {
		t.Errorf("emoji terms rejected: %v", err)
	}
}

// FuzzParse checks that Parse never panics on arbitrary input and that
// every problem it reports names the file and a line.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"families.yaml", "scoring.yaml"} { // small seeds keep minimisation quick
		data, err := DefaultFS().ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("substances:\n  - name: x\n    street: [{terms: [a], requires: [b]}]\n"))
	f.Add([]byte("families:\n  - {name: f, class: nitazene, stem: n, pattern: '(', lookup: $1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("f.yaml", data)
		if rs == nil {
			t.Fatalf("Parse returned a nil rule set (err %v)", err)
		}
		var probs Problems
		if errors.As(err, &probs) {
			for _, p := range probs {
				if p.File != "f.yaml" || p.Line < 0 {
					t.Errorf("problem %q does not name the file and a line", p)
				}
			}
		} else if err != nil {
			t.Fatalf("Parse error %v is not Problems", err)
		}
	})
}
