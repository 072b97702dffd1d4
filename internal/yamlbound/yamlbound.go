// Package yamlbound parses YAML documents whose size and alias expansion
// are bounded, so that a hostile or broken file (a "billion laughs" alias
// bomb, a huge upload) is rejected in milliseconds instead of taking
// minutes and gigabytes to walk.
//
// YAML aliases (*name) repeat the node their anchor (&name) marks. A file of
// a few kilobytes can nest them so that the document it stands for has
// billions of nodes; yaml.Unmarshal into a yaml.Node keeps the aliases as
// they are, but every consumer that follows them walks the expansion. Parse
// counts the nodes of the expanded document without expanding it (each
// anchored node's size is computed once) and refuses the file when the
// count is over the limit.
package yamlbound

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits bound a document. Zero fields take the defaults below.
type Limits struct {
	// MaxBytes is the largest file accepted; 0 means DefaultMaxBytes.
	MaxBytes int
	// MaxNodes is the largest number of nodes of the document with every
	// alias expanded; 0 means DefaultMaxNodes.
	MaxNodes int
	// MaxAliasGrowth bounds how many nodes aliases may add beyond the
	// nodes written in the file, as a multiple of those; 0 means
	// DefaultMaxAliasGrowth. Aliases that repeat a block a few times are
	// fine; aliases that multiply the document are not.
	MaxAliasGrowth int
}

// Defaults of Limits.
const (
	DefaultMaxBytes       = 4 << 20
	DefaultMaxNodes       = 1_000_000
	DefaultMaxAliasGrowth = 4
)

// Error is a document refused or not parsed, at a line of the file (0 when
// unknown).
type Error struct {
	Line int
	Msg  string
	// Limit is true when the document was refused for its size or alias
	// expansion, false when it is not valid YAML.
	Limit bool
}

// Error returns "line N: msg", or msg when the line is unknown.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses data as one YAML document into a node tree, after checking
// its size, and checks the size of its alias expansion. It returns the
// document node, or an *Error naming the line of the problem.
func Parse(data []byte, lim Limits) (*yaml.Node, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, &Error{Limit: true, Msg: fmt.Sprintf("file is %d bytes, more than the %d allowed", len(data), lim.MaxBytes)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{Line: line, Msg: m[2]}
		}
		return nil, &Error{Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	if err := Check(&doc, lim); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Check counts the nodes of n as written and with every alias expanded,
// and returns an *Error when the expansion exceeds lim. It runs in time
// proportional to the nodes written, whatever the expansion.
func Check(n *yaml.Node, lim Limits) error {
	lim = lim.withDefaults()
	c := counter{memo: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}, max: lim.MaxNodes}
	expanded := c.walk(n, true)
	if c.err != nil {
		return c.err
	}
	growth := expanded - c.written
	if allowed := lim.MaxAliasGrowth * max(c.written, 2500); growth > allowed {
		return &Error{Limit: true, Line: c.firstAlias, Msg: fmt.Sprintf("aliases expand %d nodes to %d, more than %d times the size of the file: refusing a document that multiplies itself (an alias bomb)",
			c.written, expanded, lim.MaxAliasGrowth)}
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxAliasGrowth <= 0 {
		l.MaxAliasGrowth = DefaultMaxAliasGrowth
	}
	return l
}

// counter counts expanded nodes, remembering the size of every node an
// alias points at.
type counter struct {
	memo       map[*yaml.Node]int
	open       map[*yaml.Node]bool // nodes being counted, to stop on cycles
	written    int                 // nodes in the tree, aliases not followed
	max        int
	firstAlias int // line of the first alias seen
	err        *Error
}

// walk counts n; tally says whether its nodes are counted as written
// (false when n is reached only through an alias).
func (c *counter) walk(n *yaml.Node, tally bool) int {
	if c.err != nil {
		return 0
	}
	if c.open[n] {
		c.err = &Error{Limit: true, Line: n.Line, Msg: "alias refers to a node that contains it"}
		return 0
	}
	if v, ok := c.memo[n]; ok {
		return v
	}
	if tally {
		c.written++
	}
	c.open[n] = true
	total := 1
	if n.Kind == yaml.AliasNode {
		if c.firstAlias == 0 {
			c.firstAlias = n.Line
		}
		if n.Alias != nil {
			total += c.walk(n.Alias, false)
		}
	} else {
		for _, ch := range n.Content {
			total += c.walk(ch, tally)
			if total > c.max {
				total = c.max + 1
			}
		}
	}
	delete(c.open, n)
	if total > c.max {
		total = c.max + 1
		if c.err == nil {
			line := c.firstAlias
			if line == 0 {
				line = n.Line
			}
			c.err = &Error{Limit: true, Line: line, Msg: fmt.Sprintf("document has more than %d nodes once its aliases are expanded: refusing it (an alias bomb, or a file too large)", c.max)}
		}
	}
	c.memo[n] = total
	return total
}
