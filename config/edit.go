package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NewMarket is a marketplace to add to a configuration file in auto mode
// (`listing: auto`). Empty fields are left out.
type NewMarket struct {
	Name     string
	URL      string // the start URL
	Kind     string
	Proxy    string
	Schedule string
}

// AppendMarkets returns the configuration text data with ms added at the
// end of its `marketplaces:` list. It edits the YAML node tree, so the
// file's comments, key order and quoting are kept; only the spacing before
// line comments may change. The caller validates the result with Parse.
func AppendMarkets(data []byte, ms []NewMarket) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("append marketplaces: invalid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("append marketplaces: the config is not a mapping with defaults and marketplaces")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "marketplaces" {
			list = root.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, scalar("marketplaces"), list)
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		*list = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", HeadComment: list.HeadComment, LineComment: list.LineComment}
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("append marketplaces: line %d: marketplaces is not a list", list.Line)
	}
	list.Style &^= yaml.FlowStyle
	for _, m := range ms {
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		n.Content = append(n.Content, scalar("name"), scalar(m.Name),
			scalar("start_urls"), &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Content: []*yaml.Node{quoted(m.URL)}},
			scalar("listing"), scalar("auto"))
		for _, kv := range [][2]string{{"kind", m.Kind}, {"proxy", m.Proxy}, {"schedule", m.Schedule}} {
			if kv[1] != "" {
				n.Content = append(n.Content, scalar(kv[0]), quoted(kv[1]))
			}
		}
		list.Content = append(list.Content, n)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indentOf(data))
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("append marketplaces: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("append marketplaces: %w", err)
	}
	return b.Bytes(), nil
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

// indentOf is the indentation of the first indented line (2 if none).
func indentOf(data []byte) int {
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if n := len(line) - len(trimmed); n > 0 && trimmed != "" && !strings.HasPrefix(trimmed, "#") && !strings.HasPrefix(trimmed, "- ") {
			return min(n, 8)
		}
	}
	return 2
}
