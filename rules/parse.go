package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"snoop/internal/yamlbound"
)

// unset marks a weight not given in the file.
const unset = -1.0

type parser struct {
	rs         *RuleSet
	probs      Problems
	scoringPos *Pos
	file       string
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line} }

// fields walks a mapping node, calling fn for each key; unknown keys are
// reported.
func (p *parser) fields(n *yaml.Node, what string, known map[string]func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fn, ok := known[k.Value]
		if !ok {
			p.errorf(k.Line, "%s: unknown key %q", what, k.Value)
			continue
		}
		if seen[k.Value] {
			p.errorf(k.Line, "%s: key %q given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k, v)
	}
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "%s: want a string", what)
		return ""
	}
	return n.Value
}

func (p *parser) weight(n *yaml.Node, what string) float64 {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "%s: want a number", what)
		return unset
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.errorf(n.Line, "%s: bad weight %q: want a number from 0 to 1", what, n.Value)
		return unset
	}
	if f < 0 || f > 1 {
		p.errorf(n.Line, "%s: bad weight %v: want a number from 0 to 1", what, f)
		return unset
	}
	return f
}

// list reads a sequence of scalars (or a single scalar) with their lines.
func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			return nil
		}
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		out := make([]*yaml.Node, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				p.errorf(c.Line, "%s: want a string", what)
				continue
			}
			if strings.TrimSpace(c.Value) == "" {
				p.errorf(c.Line, "%s: empty term", what)
				continue
			}
			out = append(out, c)
		}
		return out
	}
	p.errorf(n.Line, "%s: want a list", what)
	return nil
}

func (p *parser) parseFile(f file) {
	p.file = f.name
	doc, err := yamlbound.Parse(f.data, yamlbound.Limits{MaxBytes: MaxFileBytes})
	if err != nil {
		var e *yamlbound.Error
		switch {
		case errors.As(err, &e) && e.Limit:
			p.errorf(max(e.Line, 1), "%s", e.Msg)
		case errors.As(err, &e):
			p.errorf(max(e.Line, 1), "yaml: %s", e.Msg)
		default:
			p.errorf(1, "yaml: %v", err)
		}
		return
	}
	if len(doc.Content) == 0 {
		return // empty file
	}
	root := doc.Content[0]
	p.fields(root, "file", map[string]func(k, v *yaml.Node){
		"scoring":    func(k, v *yaml.Node) { p.parseScoring(k, v) },
		"substances": func(_, v *yaml.Node) { p.seq(v, "substances", p.parseSubstance) },
		"families":   func(_, v *yaml.Node) { p.seq(v, "families", p.parseFamily) },
		"contexts":   func(_, v *yaml.Node) { p.seq(v, "contexts", p.parseContext) },
	})
}

func (p *parser) seq(n *yaml.Node, what string, fn func(*yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "%s: want a list", what)
		return
	}
	for _, c := range n.Content {
		fn(c)
	}
}

func (p *parser) parseScoring(k, n *yaml.Node) {
	if p.scoringPos != nil {
		p.errorf(k.Line, "scoring: given twice (first at %s)", *p.scoringPos)
		return
	}
	pos := p.pos(k)
	p.scoringPos = &pos
	sc := &p.rs.Scoring
	sc.Pos = pos
	set := func(dst *float64, what string) func(k, v *yaml.Node) {
		return func(_, v *yaml.Node) {
			if w := p.weight(v, what); w != unset {
				*dst = w
			}
		}
	}
	p.fields(n, "scoring", map[string]func(k, v *yaml.Node){
		"threshold": func(_, v *yaml.Node) {
			w := p.weight(v, "scoring: threshold")
			if w == 0 {
				p.errorf(v.Line, "scoring: threshold must be above 0")
			} else if w != unset {
				sc.Threshold = w
			}
		},
		"sales_cap":   set(&sc.SalesCap, "scoring: sales_cap"),
		"exclude_cap": set(&sc.ExcludeCap, "scoring: exclude_cap"),
		"weak_shield": set(&sc.WeakShield, "scoring: weak_shield"),
		"shield_from": func(_, v *yaml.Node) {
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 20 {
				p.errorf(v.Line, "scoring: shield_from: bad count %q: want a whole number from 0 to 20", v.Value)
				return
			}
			sc.ShieldFrom = n
		},
		"window": func(_, v *yaml.Node) {
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 10000 {
				p.errorf(v.Line, "scoring: window: bad count %q: want a whole number of words from 0 (off) to 10000", v.Value)
				return
			}
			sc.Window = n
		},
		"far_cap":     set(&sc.FarCap, "scoring: far_cap"),
		"bind_weight": set(&sc.BindWeight, "scoring: bind_weight"),
		"near_miss":   set(&sc.NearMiss, "scoring: near_miss"),
		"bind": func(_, v *yaml.Node) {
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 10000 {
				p.errorf(v.Line, "scoring: bind: bad count %q: want a whole number of words from 0 (off) to 10000", v.Value)
				return
			}
			sc.Bind = n
		},
		"kinds": func(_, v *yaml.Node) {
			known := map[string]func(k, v *yaml.Node){}
			for _, kind := range SiteKinds {
				known[kind] = func(_, v *yaml.Node) {
					f, err := strconv.ParseFloat(v.Value, 64)
					if v.Kind != yaml.ScalarNode || err != nil || f < -1 || f > 1 {
						p.errorf(v.Line, "scoring: kinds: %s: bad prior %q: want a number from -1 to 1", kind, v.Value)
						return
					}
					sc.Kinds[kind] = f
				}
			}
			p.fields(v, "scoring: kinds", known)
		},
		"weights": func(_, v *yaml.Node) {
			p.fields(v, "scoring: weights", map[string]func(k, v *yaml.Node){
				"name":   set(&sc.Weights.Name, "scoring: weights: name"),
				"cas":    set(&sc.Weights.CAS, "scoring: weights: cas"),
				"street": set(&sc.Weights.Street, "scoring: weights: street"),
				"family": set(&sc.Weights.Family, "scoring: weights: family"),
				"fuzzy":  set(&sc.Weights.Fuzzy, "scoring: weights: fuzzy"),
			})
		},
	})
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9 ,'()\-]*$`)

func (p *parser) parseSubstance(n *yaml.Node) {
	s := Substance{Pos: p.pos(n), Weight: unset}
	var termNodes []struct {
		n    *yaml.Node
		kind string
		lang string
	}
	add := func(nodes []*yaml.Node, kind, lang string) {
		for _, t := range nodes {
			termNodes = append(termNodes, struct {
				n    *yaml.Node
				kind string
				lang string
			}{t, kind, lang})
		}
	}
	var street []Term
	p.fields(n, "substance", map[string]func(k, v *yaml.Node){
		"name": func(_, v *yaml.Node) {
			s.Name = p.str(v, "substance: name")
			s.Pos = p.pos(v)
		},
		"class":    func(_, v *yaml.Node) { s.Class = p.str(v, "substance: class") },
		"weight":   func(_, v *yaml.Node) { s.Weight = p.weight(v, "substance: weight") },
		"synonyms": func(_, v *yaml.Node) { add(p.list(v, "substance: synonyms"), TermSynonym, "") },
		"names": func(_, v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				p.errorf(v.Line, "substance: names: want a mapping of language codes to lists")
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				lk, lv := v.Content[i], v.Content[i+1]
				if !langRE.MatchString(lk.Value) {
					p.errorf(lk.Line, "substance: names: bad language code %q (want ISO 639-1, e.g. es)", lk.Value)
					continue
				}
				add(p.list(lv, "substance: names: "+lk.Value), TermLang, lk.Value)
			}
		},
		"cas": func(_, v *yaml.Node) {
			for _, c := range p.list(v, "substance: cas") {
				num, err := ParseCAS(c.Value)
				if err != nil {
					p.errorf(c.Line, "substance %s: cas: %v", s.Name, err)
					continue
				}
				s.CAS = append(s.CAS, CAS{Number: num, Pos: p.pos(c)})
			}
		},
		"street": func(_, v *yaml.Node) { street = append(street, p.parseStreet(v)...) },
	})
	if s.Name == "" {
		p.errorf(n.Line, "substance: missing name")
		return
	}
	if s.Name != strings.ToLower(s.Name) || !nameRE.MatchString(s.Name) {
		p.errorf(s.Pos.Line, "substance %q: name must be lower case letters, digits and - , ' ( )", s.Name)
	}
	if s.Class == "" {
		p.errorf(s.Pos.Line, "substance %s: missing class", s.Name)
	} else if !contains(Classes, s.Class) {
		p.errorf(s.Pos.Line, "substance %s: unknown class %q (want one of %s)", s.Name, s.Class, strings.Join(Classes, ", "))
	}
	// A street group may demote the canonical name itself (an ambiguous
	// abbreviation such as "npp"); then the name is not a strong term.
	demoted := false
	for _, t := range street {
		if termKey(t.Text) == termKey(s.Name) {
			demoted = true
		}
	}
	if !demoted {
		s.Terms = append(s.Terms, Term{Text: s.Name, Kind: TermName, Weight: s.Weight, Pos: s.Pos})
	}
	for _, t := range termNodes {
		s.Terms = append(s.Terms, Term{Text: t.n.Value, Kind: t.kind, Lang: t.lang, Weight: s.Weight, Pos: p.pos(t.n)})
	}
	s.Terms = append(s.Terms, street...)
	p.rs.Substances = append(p.rs.Substances, s)
}

var langRE = regexp.MustCompile(`^[a-z]{2}$`)

func (p *parser) parseStreet(n *yaml.Node) []Term {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "substance: street: want a list of {terms, requires, unless, weight}")
		return nil
	}
	var out []Term
	for _, g := range n.Content {
		var terms []*yaml.Node
		var req, unless []string
		var class string
		w := unset
		p.fields(g, "substance: street", map[string]func(k, v *yaml.Node){
			"class": func(_, v *yaml.Node) {
				class = p.str(v, "street: class")
				if class != ClassCounterfeitPill {
					p.errorf(v.Line, "substance: street: class %q: only %s may be given to a street group", class, ClassCounterfeitPill)
					class = ""
				}
			},
			"terms":    func(_, v *yaml.Node) { terms = p.list(v, "street: terms") },
			"requires": func(_, v *yaml.Node) { req = values(p.list(v, "street: requires")) },
			"unless":   func(_, v *yaml.Node) { unless = values(p.list(v, "street: unless")) },
			"weight":   func(_, v *yaml.Node) { w = p.weight(v, "street: weight") },
		})
		if len(terms) == 0 {
			p.errorf(g.Line, "substance: street: no terms")
		}
		if len(req) == 0 {
			p.errorf(g.Line, "substance: street: requires is empty; street names need supporting context")
		}
		for _, t := range terms {
			out = append(out, Term{Text: t.Value, Kind: TermStreet, Weight: w, Requires: req, Unless: unless, Class: class, Pos: p.pos(t)})
		}
	}
	return out
}

func values(ns []*yaml.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Value
	}
	return out
}

func (p *parser) parseFamily(n *yaml.Node) {
	f := Family{Pos: p.pos(n), Weight: unset, Report: "$0", Lookup: "$0"}
	var pat string
	patLine := n.Line
	p.fields(n, "family", map[string]func(k, v *yaml.Node){
		"name":  func(_, v *yaml.Node) { f.Name = p.str(v, "family: name") },
		"class": func(_, v *yaml.Node) { f.Class = p.str(v, "family: class") },
		"stem":  func(_, v *yaml.Node) { f.Stem = p.str(v, "family: stem") },
		"pattern": func(_, v *yaml.Node) {
			pat = p.str(v, "family: pattern")
			patLine = v.Line
		},
		"report":  func(_, v *yaml.Node) { f.Report = p.str(v, "family: report") },
		"lookup":  func(_, v *yaml.Node) { f.Lookup = p.str(v, "family: lookup") },
		"exclude": func(_, v *yaml.Node) { f.Exclude = values(p.list(v, "family: exclude")) },
		"weight":  func(_, v *yaml.Node) { f.Weight = p.weight(v, "family: weight") },
		"generic": func(_, v *yaml.Node) { f.Generic = p.boolean(v, "family: generic") },
	})
	if f.Name == "" {
		p.errorf(n.Line, "family: missing name")
	}
	if !contains(Classes, f.Class) {
		p.errorf(n.Line, "family %s: unknown class %q (want one of %s)", f.Name, f.Class, strings.Join(Classes, ", "))
	}
	if f.Stem == "" {
		p.errorf(n.Line, "family %s: missing stem", f.Name)
	}
	if pat == "" {
		p.errorf(n.Line, "family %s: missing pattern", f.Name)
	} else {
		re, err := regexp.Compile(pat)
		switch {
		case err != nil:
			p.errorf(patLine, "family %s: bad pattern: %v", f.Name, err)
		case f.Stem != "" && !strings.Contains(pat, f.Stem):
			p.errorf(patLine, "family %s: pattern does not contain the stem %q", f.Name, f.Stem)
		case re.MatchString(""):
			p.errorf(patLine, "family %s: bad pattern: matches the empty string", f.Name)
		default:
			f.Pattern = re
		}
	}
	p.rs.Families = append(p.rs.Families, f)
}

func (p *parser) parseContext(n *yaml.Node) {
	c := Context{Pos: p.pos(n), Weight: unset}
	p.fields(n, "context", map[string]func(k, v *yaml.Node){
		"name":   func(_, v *yaml.Node) { c.Name = p.str(v, "context: name") },
		"kind":   func(_, v *yaml.Node) { c.Kind = p.str(v, "context: kind") },
		"weight": func(_, v *yaml.Node) { c.Weight = p.weight(v, "context: weight") },
		"side":   func(_, v *yaml.Node) { c.Side = p.str(v, "context: side") },
		"weak":   func(_, v *yaml.Node) { c.Weak = p.boolean(v, "context: weak") },
		"bound":  func(_, v *yaml.Node) { c.Bound = p.boolean(v, "context: bound") },
		"terms": func(_, v *yaml.Node) {
			for _, t := range p.list(v, "context: terms") {
				c.Terms = append(c.Terms, Term{Text: t.Value, Kind: TermContext, Pos: p.pos(t)})
			}
		},
		"detect": func(_, v *yaml.Node) {
			for _, d := range p.list(v, "context: detect") {
				if !contains(Detectors, d.Value) {
					p.errorf(d.Line, "context %s: unknown detector %q (want one of %s)", c.Name, d.Value, strings.Join(Detectors, ", "))
					continue
				}
				c.Detect = append(c.Detect, d.Value)
			}
		},
		"patterns": func(_, v *yaml.Node) {
			for _, pn := range p.list(v, "context: patterns") {
				re, err := regexp.Compile(pn.Value)
				if err != nil {
					p.errorf(pn.Line, "context %s: bad pattern: %v", c.Name, err)
					continue
				}
				if re.MatchString("") {
					p.errorf(pn.Line, "context %s: bad pattern %q: matches the empty string", c.Name, pn.Value)
					continue
				}
				c.Patterns = append(c.Patterns, re)
			}
		},
	})
	if c.Name == "" {
		p.errorf(n.Line, "context: missing name")
	}
	switch c.Kind {
	case KindSales, KindExclude, KindSupport, KindNegate:
	case "":
		p.errorf(n.Line, "context %s: missing kind", c.Name)
	default:
		p.errorf(n.Line, "context %s: unknown kind %q (want sales, exclude, support or negate)", c.Name, c.Kind)
	}
	switch {
	case c.Kind == KindNegate && c.Side == "":
		c.Side = SideBefore
	case c.Kind == KindNegate && c.Side != SideBefore && c.Side != SideAfter:
		p.errorf(n.Line, "context %s: bad side %q (want before or after)", c.Name, c.Side)
	case c.Kind != KindNegate && c.Side != "":
		p.errorf(n.Line, "context %s: side is only for negate contexts", c.Name)
	}
	if c.Weak && c.Kind != KindExclude {
		p.errorf(n.Line, "context %s: weak is only for exclude contexts", c.Name)
	}
	if c.Bound && (c.Kind != KindExclude || c.Weak) {
		p.errorf(n.Line, "context %s: bound is only for strong exclude contexts", c.Name)
	}
	if c.Kind == KindNegate && (len(c.Detect) > 0 || len(c.Patterns) > 0) {
		p.errorf(n.Line, "context %s: negate contexts take terms only", c.Name)
	}
	if c.Weight == unset {
		if c.Kind == KindSupport || c.Kind == KindNegate {
			c.Weight = 0
		} else {
			p.errorf(n.Line, "context %s: missing weight", c.Name)
			c.Weight = 0
		}
	}
	if len(c.Terms) == 0 && len(c.Detect) == 0 && len(c.Patterns) == 0 {
		p.errorf(n.Line, "context %s: no terms, detect or patterns", c.Name)
	}
	for i := range c.Terms {
		c.Terms[i].Weight = c.Weight
	}
	p.rs.Contexts = append(p.rs.Contexts, c)
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "true":
			return true
		case "false":
			return false
		}
	}
	p.errorf(n.Line, "%s: want true or false", what)
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// applyDefaults fills unset weights from the scoring block.
func (p *parser) applyDefaults() {
	w := p.rs.Scoring.Weights
	for i := range p.rs.Substances {
		s := &p.rs.Substances[i]
		if s.Weight == unset {
			s.Weight = w.Name
		}
		for j := range s.Terms {
			t := &s.Terms[j]
			if t.Weight != unset {
				continue
			}
			if t.Kind == TermStreet {
				t.Weight = w.Street
			} else {
				t.Weight = s.Weight
			}
		}
	}
	for i := range p.rs.Families {
		if p.rs.Families[i].Weight == unset {
			p.rs.Families[i].Weight = w.Family
		}
	}
}
