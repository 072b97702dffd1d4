package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// newFlagSet returns a flag set for a subcommand. Its usage text is
// generated from the flags registered on it, so that it names every one:
// "usage: snoop NAME POSITIONAL --required VALUE [--optional VALUE]...",
// then the summary and the flag list. A flag whose usage text contains
// "(required)" is shown without brackets; a backquoted word in a usage text
// names its value (flag.UnquoteUsage); a repeatable flag is followed by
// "...".
func newFlagSet(e env, name, positional, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "%s\n\n%s\n", usageLine(fs, positional), summary)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// usageLine returns "usage: snoop NAME POSITIONAL FLAGS", wrapped at 100
// columns: required flags first, then the optional ones, each in name
// order.
func usageLine(fs *flag.FlagSet, positional string) string {
	words := []string{"usage:", "snoop", fs.Name()}
	if positional != "" {
		words = append(words, positional)
	}
	var required, optional []string
	fs.VisitAll(func(f *flag.Flag) {
		w := "--" + f.Name
		if v, _ := flag.UnquoteUsage(f); v != "" {
			w += " " + valueName(f, v)
		}
		switch f.Value.(type) {
		case *stringList, *int64List:
			w += "..."
		}
		if strings.Contains(f.Usage, "(required)") {
			required = append(required, w)
		} else {
			optional = append(optional, "["+w+"]")
		}
	})
	words = append(words, required...)
	words = append(words, optional...)
	var b strings.Builder
	col := 0
	for i, w := range words {
		if i > 0 {
			if col+1+len(w) > 100 {
				b.WriteString("\n       ")
				col = 7
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// valueName turns flag.UnquoteUsage's type names into placeholders.
func valueName(f *flag.Flag, v string) string {
	switch v {
	case "string", "value":
		return strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
	case "int", "uint":
		return "N"
	case "duration":
		return "DURATION"
	}
	return v
}

// parseFlags parses args into fs, allowing flags after positional
// arguments, and maps errors to usage errors (exit 2). It reports
// errHelp when --help was asked for, which callers return as is.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &usageError{msg: ""} // flag package already printed the reason and usage
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// errHelp is returned when a command's --help was printed; it exits 0.
var errHelp = errors.New("help requested")

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// int64List is a repeatable integer flag.
type int64List []int64

func (l *int64List) String() string { return fmt.Sprint(*l) }
func (l *int64List) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("want a positive integer ID, got %q", v)
	}
	*l = append(*l, n)
	return nil
}
