package rules

import (
	"fmt"
	"io/fs"
	"regexp"
	"regexp/syntax"
)

// Bounds of a rule set. Rule sets are uploaded as candidates through the
// workbench and backtested against every stored listing, so their size and
// the cost of their patterns are bounded: a rule set over these is refused
// with the file and line of the first rule past the bound. The shipped rule
// set uses a small fraction of each.
const (
	// MaxFileBytes is the largest rule file read.
	MaxFileBytes = 1 << 20
	// MaxFiles is the largest number of rule files in a set.
	MaxFiles = 64
	// MaxSetBytes is the largest size of all the files of a set together.
	MaxSetBytes = 8 << 20
	// MaxTerms is the largest number of terms (names, synonyms,
	// other-language and street names, context terms) in a set.
	MaxTerms = 20_000
	// MaxTermBytes is the longest term.
	MaxTermBytes = 200
	// MaxPatterns is the largest number of regular expressions (family
	// and context patterns) in a set.
	MaxPatterns = 200
	// MaxPatternBytes is the longest pattern as written.
	MaxPatternBytes = 1000
	// MaxPatternInsts bounds one compiled pattern's program: the work a
	// pattern does per byte of text grows with it.
	MaxPatternInsts = 2000
	// MaxTotalPatternInsts bounds the programs of all patterns together.
	MaxTotalPatternInsts = 20_000
)

// checkFileSize refuses a rule file larger than MaxFileBytes, or one that
// takes the set's total (*total, updated) over MaxSetBytes, before it is
// read.
func checkFileSize(fsys fs.FS, name string, total *int64) error {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return fmt.Errorf("read rule file: %w", err)
	}
	if st.Size() > MaxFileBytes {
		return fmt.Errorf("rule file %s is %d bytes, more than the %d allowed", name, st.Size(), MaxFileBytes)
	}
	*total += st.Size()
	if *total > MaxSetBytes {
		return fmt.Errorf("rule files up to %s hold %d bytes, more than the %d allowed for a set", name, *total, MaxSetBytes)
	}
	return nil
}

// checkLimits reports where the parsed set first exceeds each bound.
func (p *parser) checkLimits() {
	rs := p.rs
	add := func(pos Pos, format string, args ...any) {
		p.probs = append(p.probs, Problem{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf(format, args...)})
	}
	if len(rs.Files) > MaxFiles {
		add(Pos{File: ".", Line: 0}, "%d rule files, more than the %d allowed", len(rs.Files), MaxFiles)
	}
	terms := 0
	termOver := false
	checkTerm := func(t Term) {
		terms++
		if len(t.Text) > MaxTermBytes {
			add(t.Pos, "term is %d bytes, longer than the %d allowed", len(t.Text), MaxTermBytes)
		}
		if terms > MaxTerms && !termOver {
			termOver = true
			add(t.Pos, "more than %d terms in the rule set: refusing the rest", MaxTerms)
		}
	}
	for _, s := range rs.Substances {
		for _, t := range s.Terms {
			checkTerm(t)
		}
	}
	for _, c := range rs.Contexts {
		for _, t := range c.Terms {
			checkTerm(t)
		}
	}
	patterns, insts := 0, 0
	patOver, instOver := false, false
	checkPattern := func(re *regexp.Regexp, pos Pos) {
		patterns++
		src := re.String()
		if len(src) > MaxPatternBytes {
			add(pos, "pattern is %d bytes, longer than the %d allowed", len(src), MaxPatternBytes)
		}
		n := patternInsts(src)
		if n > MaxPatternInsts {
			add(pos, "pattern compiles to %d instructions, more than the %d allowed: simplify it (fewer alternatives, smaller repeat counts)", n, MaxPatternInsts)
		}
		insts += n
		if patterns > MaxPatterns && !patOver {
			patOver = true
			add(pos, "more than %d patterns in the rule set", MaxPatterns)
		}
		if insts > MaxTotalPatternInsts && !instOver {
			instOver = true
			add(pos, "the patterns together compile to more than %d instructions", MaxTotalPatternInsts)
		}
	}
	for _, f := range rs.Families {
		if f.Pattern != nil {
			checkPattern(f.Pattern, f.Pos)
		}
	}
	for _, c := range rs.Contexts {
		for _, re := range c.Patterns {
			checkPattern(re, c.Pos)
		}
	}
}

// patternInsts returns the size of the program RE2 runs for src.
func patternInsts(src string) int {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return 0 // reported where the pattern was compiled
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}
