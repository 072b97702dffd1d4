package rules

import (
	"embed"
	"fmt"
)

//go:embed *.yaml
var defaultFS embed.FS

// Default returns the rule set embedded in the binary (this package's
// *.yaml files).
func Default() (*RuleSet, error) {
	rs, err := Load(defaultFS)
	if err != nil {
		return nil, fmt.Errorf("default rules: %w", err)
	}
	return rs, nil
}

// DefaultFS returns the embedded rule files, for "snoop rules lint" and for
// writing them out as a starting point.
func DefaultFS() embed.FS { return defaultFS }
