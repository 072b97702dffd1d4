package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"snoop/classify"
	"snoop/internal/termsafe"
	"snoop/rules"
)

const rulesUsage = `usage: snoop rules lint|test|explain|backtest [flags]

  lint     [--rules DIR]                       validate rule files; problems as file:line: msg
  test     --corpus FILE.jsonl | --reviews      score the rules on a labelled corpus or on the
           [--db FILE] [--rules DIR]           analysts' confirmed and false-positive decisions
  explain  [--rules DIR] [--kind K] TEXT       show how a text is classified (TEXT or stdin)
  backtest [--rules DIR]                       re-classify stored listings, print what would change
`

// runRules dispatches the "rules" subcommands.
func runRules(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, rulesUsage)
		return usagef("rules: no subcommand given")
	}
	switch args[0] {
	case "lint":
		return runRulesLint(ctx, e, args[1:])
	case "test":
		return runRulesTest(ctx, e, args[1:])
	case "explain":
		return runRulesExplain(ctx, e, args[1:])
	case "backtest":
		return runRulesBacktest(ctx, e, args[1:])
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.stdout, rulesUsage)
		return nil
	}
	fmt.Fprint(e.stderr, rulesUsage)
	return usagef("rules: unknown subcommand %q", args[0])
}

func runRulesLint(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "rules lint", "",
		"Validate rule files: syntax, unknown keys and classes, bad patterns and weights,\n"+
			"CAS check digits, duplicate and shadowing terms. Each problem is printed as file:line: msg.")
	dbFlag(fs, "snoop.db")
	dir := fs.String("rules", "", "rule directory `DIR` (default: the embedded rules)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("rules lint: unexpected argument %q", pos[0])
	}
	var probs []rules.Problem
	name := "embedded rules"
	if *dir == "" {
		probs = rules.Lint(rules.DefaultFS())
	} else {
		name = *dir
		st, err := os.Stat(*dir)
		if err != nil {
			return fmt.Errorf("rules lint: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("rules lint: %s is not a directory", *dir)
		}
		probs = rules.Lint(os.DirFS(*dir))
		for i := range probs {
			if probs[i].File != "." {
				probs[i].File = strings.TrimSuffix(*dir, "/") + "/" + probs[i].File
			}
		}
	}
	for _, p := range probs {
		fmt.Fprintln(e.stdout, termsafe.Escape(p.String()))
	}
	if len(probs) > 0 {
		return fmt.Errorf("rules lint: %d problem(s) in %s", len(probs), name)
	}
	rs, err := rulesFor(*dir)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, s := range rs.Substances {
		counts[s.Class]++
	}
	fmt.Fprintf(e.stdout, "ok: %d files, %d substances (%d fentanyl-analogue, %d nitazene, %d other-nso, %d precursor), %d families, %d contexts, %s\n",
		len(rs.Files), len(rs.Substances), counts["fentanyl-analogue"], counts["nitazene"], counts["other-nso"], counts["precursor"],
		len(rs.Families), len(rs.Contexts), rs.Version())
	return nil
}

// rulesFor loads the rule set from dir, or the embedded default when dir is
// empty.
func rulesFor(dir string) (*rules.RuleSet, error) {
	if dir == "" {
		return rules.Default()
	}
	return rules.LoadDir(dir)
}

func runRulesTest(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "rules test", "--corpus FILE.jsonl | --reviews [--db FILE] [--rules DIR]",
		"Score the rules on a labelled corpus (JSON Lines: id, title, text, label, substances, optional kind):\n"+
			"per-class and per-substance tables, every false positive and false negative with its matched spans,\n"+
			"and a last line precision=… recall=… f1=…. With --reviews the corpus is every hit of the database an\n"+
			"analyst confirmed (positive) or marked a false positive (negative); with both, the two together.")
	dbPath := dbFlag(fs, "snoop.db")
	dir := fs.String("rules", "", "rule directory `DIR` (default: the embedded rules)")
	corpus := fs.String("corpus", "", "labelled corpus `FILE.jsonl`")
	reviews := fs.Bool("reviews", false, "score against the analysts' decisions stored in the database (--db)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("rules test: unexpected argument %q", pos[0])
	}
	if *corpus == "" && !*reviews {
		fs.Usage()
		return usagef("rules test: --corpus or --reviews is required")
	}
	var examples []classify.Example
	if *corpus != "" {
		data, err := os.ReadFile(*corpus)
		if err != nil {
			return fmt.Errorf("rules test: %w", err)
		}
		if examples, err = classify.ParseCorpus(data); err != nil {
			return fmt.Errorf("rules test: %s: %w", *corpus, err)
		}
	}
	if *reviews {
		if _, err := os.Stat(*dbPath); err != nil {
			return fmt.Errorf("rules test: --reviews: database %s: %w (give its path with --db)", *dbPath, err)
		}
		db, err := openDB(ctx, *dbPath)
		if err != nil {
			return fmt.Errorf("rules test: %w", err)
		}
		defer db.Close()
		rev, err := reviewExamples(ctx, db)
		if err != nil {
			return fmt.Errorf("rules test: %w", err)
		}
		if len(rev) == 0 {
			return fmt.Errorf("rules test: --reviews: %s holds no confirmed or false-positive hit yet; triage hits first (snoop review)", *dbPath)
		}
		examples = append(examples, rev...)
	}
	_, c, err := loadRules(*dir)
	if err != nil {
		return err
	}
	out := termsafe.NewWriter(e.stdout)
	if err := classify.Evaluate(c, examples).WriteReport(out); err != nil {
		return err
	}
	return out.Close()
}

func runRulesExplain(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "rules explain", "[TEXT]",
		"Show the normalised text, every matched term with its span, rule and weight, and the final\n"+
			"score and verdict. With no TEXT the text is read from standard input.")
	dbFlag(fs, "snoop.db")
	dir := fs.String("rules", "", "rule directory `DIR` (default: the embedded rules)")
	kind := fs.String("kind", rules.DefaultSiteKind, "site kind the text comes from: "+strings.Join(rules.SiteKinds, ", "))
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if !slices.Contains(rules.SiteKinds, *kind) {
		return usagef("rules explain: --kind %q: want one of %s", *kind, strings.Join(rules.SiteKinds, ", "))
	}
	var text string
	if len(pos) > 0 {
		text = strings.Join(pos, " ")
	} else {
		if e.stdin == nil {
			return usagef("rules explain: no TEXT given")
		}
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return fmt.Errorf("rules explain: read stdin: %w", err)
		}
		text = string(b)
	}
	_, c, err := loadRules(*dir)
	if err != nil {
		return err
	}
	out := termsafe.NewWriter(e.stdout)
	if err := c.ExplainAs(out, text, *kind); err != nil {
		return err
	}
	return out.Close()
}
