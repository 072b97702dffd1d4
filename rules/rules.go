// Package rules parses, validates and versions snoop's detection rules: the
// YAML files that name the substances snoop looks for, the name families that
// catch analogues no list has yet, the sales and exclusion contexts that move
// a listing's score, and the scoring threshold.
//
// The default rule set is embedded from this package's *.yaml files;
// "snoop --rules DIR" replaces it with every *.yaml file at the root of DIR.
// All files of a set are read together, so a substance, family or context
// may live in any file; the shipped set keeps one topic per file.
//
// # Format
//
// Each file is a YAML mapping with any of four top-level keys:
//
//	scoring:                 # at most once in a rule set
//	  threshold: 0.5         # a listing is a hit when a substance matched and score >= threshold
//	  sales_cap: 0.4         # the sales contexts together add at most this much
//	  exclude_cap: 1.0       # the exclusion contexts together subtract at most this much
//	  weak_shield: 0.1       # weak exclusion cancelled per distinct sales context ...
//	  shield_from: 2         # ... beyond this many
//	  window: 15             # words either side of a mention its context reaches (0: whole text)
//	  far_cap: 0.2           # exclusion outside the window subtracts at most this
//	  bind: 5                # a strong exclusion written as one word counts in full
//	                         # within this many words of a mention ...
//	  bind_weight: 0.2       # ... and further away in the window as a weak word of this weight
//	  near_miss: 0.15        # a listing naming a substance that scores this close below
//	                         # the threshold is a near miss (classify.Result.NearMiss)
//	  kinds:                 # prior of each site kind, added to every mention's score
//	    market: 0.1          # on a market every listing is an offer: a bare name is a hit
//	    forum: -0.15         # a forum post that names a substance needs more
//	                         # (shop, classifieds, channel: 0 unless given)
//	  weights:               # default weight of each term kind
//	    name: 0.45           # canonical name, synonyms and other-language names
//	    cas: 0.45            # a CAS number with a valid check digit
//	    street: 0.35         # street names and slang (need supporting context)
//	    family: 0.45         # a name-family match (an analogue not in the lists)
//	    fuzzy: 0.45          # a misspelt long name (one or two edits away)
//
//	substances:
//	  - name: isotonitazene          # canonical name, lower case (see SOURCES.md)
//	    class: nitazene              # fentanyl-analogue | nitazene | other-nso | precursor
//	    synonyms: [iso-nitazene]     # other names, abbreviations, salts
//	    names:                       # names in other languages, by ISO 639-1 code
//	      es: [isotonitazeno]
//	      ru: [изотонитазен]
//	    cas: [14188-81-9]            # CAS numbers; the check digit is verified
//	    street:                      # weak names: count only with supporting context
//	      - terms: [iso]
//	        requires: [nitazene-word]  # every item must match: a context name or kind
//	        unless: [iso-standard]     # none of these may match
//	        weight: 0.4                # optional; default scoring.weights.street
//	        class: counterfeit-pill    # optional: the class reported for this group's
//	                                   # matches (counterfeit pills: substance fentanyl)
//	                                   # a street group may list the canonical name itself
//	                                   # (e.g. "npp"), which then is not a strong term
//	    weight: 0.6                  # optional; default scoring.weights.name
//
//	families:
//	  - name: nitazene-family
//	    class: nitazene
//	    stem: nitazene               # literal searched for anywhere inside a word
//	    pattern: '[a-z0-9-]*[a-z]{3}nitazenes?'  # RE2 over the normalised text; must contain the stem
//	    lookup: '${1}nitazene'       # canonical spelling looked up among the listed terms
//	    report: '$0'                 # name reported when the lookup finds nothing; $n are groups
//	    exclude: [nitazenes]         # reported names that are not substances
//	    weight: 0.45
//	    generic: false               # true: a class word ("nitazene"); reported only
//	                                 # when no specific substance of the class is found
//
//	contexts:
//	  - name: shipping
//	    kind: sales                  # sales (raises) | exclude (lowers) | support (only for requires/unless)
//	                                 # | negate (cancels the substance right next to a term)
//	    weight: 0.15
//	    terms: [stealth, discreet shipping, ships worldwide]
//	    detect: [quantity]           # built-in detectors: price, quantity, percent, handle
//	    patterns: ['\bmoq\b']        # RE2 over the normalised text
//	  - name: news-word
//	    kind: exclude
//	    weak: true                   # exclude only: single words sellers write too
//	    weight: 0.2                  # counted per distinct term, not once
//	    terms: [alert, police, customs]
//	  - name: naloxone
//	    kind: exclude
//	    bound: true                  # strong exclude only: a one-word term ("narcan") counts
//	                                 # in full only near a mention (scoring.bind)
//	    terms: [naloxone, narcan]
//	  - name: negation
//	    kind: negate
//	    side: before                 # before: "no fentanyl"; after: "fentanyl-free"
//	    terms: [no, without, tested for]
//
// Terms are matched on the normalised text (see package classify): lower
// case, accents stripped, homoglyphs and leetspeak folded, zero-width
// characters dropped, and any run of spaces or punctuation read as one space,
// so "4-ANPP", "4 anpp" and "4anpp" are the same term. Terms match on word
// boundaries; a Latin term also matches with a plural "s", a Cyrillic one with
// up to three inflection letters, and Chinese terms match anywhere.
//
// # Score
//
// Every substance mention is scored on its own, with the contexts within
// `window` words of it (whole-page text puts navigation, footers, "related
// products" and ad sidebars far from the offer); the text scores as its
// best mention. Within the window each distinct sales context adds its
// weight once, and so does each distinct strong (not weak) exclude context.
// A weak exclude context holds single words that news, harm-reduction,
// medical and job texts use but that sellers write too ("reship if
// seized", "customs-safe", "police-proof stealth", "lab alert", "job
// lot"): each distinct term of it found counts its weight. Breadth of
// sales evidence shields against weak words, never against strong
// contexts. Exclusion outside the window still counts, up to far_cap, so
// a news or harm-reduction page does not become a hit through one
// sidebar mention next to an advert's price; sales evidence outside the
// window does not count:
//
//	base    = weight of the mention
//	sales   = min(Σ distinct sales contexts in the window, sales_cap)
//	kinds   = number of distinct sales contexts in the window (price,
//	          quantity, payment, shipping, contact, moq-purity, offer,
//	          product form)
//	strong  = Σ distinct strong exclude contexts in the window
//	weak    = Σ distinct terms of weak exclude contexts in the window
//	shield  = weak_shield × max(0, kinds − shield_from)
//	far     = min(Σ exclude contexts and weak terms outside the window
//	          and not inside it, far_cap)
//	exclude = min(strong + max(0, weak − shield) + far, exclude_cap)
//	prior   = scoring.kinds[the listing's site kind] (0 when not given)
//	mention = clamp(base + sales − exclude + prior, 0, 1)
//	score   = max over the mentions; hit when score ≥ threshold
//
// A text shorter than 2×window+1 words is one window, so for a listing
// title and description the formula is the plain sum over the whole text.
// A hit reports the substances with a mention at or above the threshold
// (what is offered), not those named only in a sidebar.
//
// With the shipped weights a name (0.45) is below the threshold (0.5) on its
// own: a hit needs one sales signal (a price, a quantity, a product form
// such as "powder" or "patch", shipping, payment, a contact handle), so that
// news, encyclopaedia and forum pages that merely name a substance do not
// fire. One strong exclusion (0.45–0.6: test strips, naloxone, "arrested",
// "prosecutors", "police said", a job ad) outweighs any sales evidence. One
// weak word (0.2) does not sink a name with 0.25 of sales evidence ("1g,
// raid-proof packaging, escrow"); two weak words do ("Police seize
// fentanyl powder, 5 kg"), unless the listing shows three or more kinds of
// sales evidence, each of which beyond the second cancels 0.1 of weak
// exclusion.
//
// Context words inside HTML or script remnants ("<img src=x
// onerror=alert(1)>", "<script>…</script>") are not prose: they are
// reported with weight 0 and do not count.
//
// A negation term that ends a longer context term ("no" in "CAS No.") does
// not negate. A negate context cancels a substance match whose first word directly
// follows one of its terms (side before: "no fentanyl", "tested for
// fentanyl") or whose last word is directly followed by one (side after:
// "fentanyl-free"); the match is then reported as "negated" and does not
// count.
//
// Every problem names file and line: Parse and Load report all of them, and
// Lint is the same check for "snoop rules lint".
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Classes lists the substance classes a rule may name.
var Classes = []string{"fentanyl-analogue", "nitazene", "other-nso", "precursor", ClassCounterfeitPill}

// ClassCounterfeitPill is the class of counterfeit opioid pills (pressed,
// fake or replica oxycodone, M30s, "blues", perc 30s). It is not a
// substance's class but a street group's (see Term.Class): the substance
// reported is fentanyl, and the class lets an analyst filter such hits.
const ClassCounterfeitPill = "counterfeit-pill"

// Site kinds: what a marketplace is, which moves the score of every
// listing found on it by the kind's prior (Scoring.Kinds).
const (
	SiteMarket      = "market"      // a darknet or clearnet market: every listing is an offer
	SiteShop        = "shop"        // one vendor's shop (the default)
	SiteClassifieds = "classifieds" // classified ads
	SiteForum       = "forum"       // a forum: posts discuss more than they offer
	SiteChannel     = "channel"     // a messaging channel's posts
)

// SiteKinds lists the site kinds, DefaultSiteKind first.
var SiteKinds = []string{SiteShop, SiteMarket, SiteClassifieds, SiteForum, SiteChannel}

// DefaultSiteKind is the kind of a marketplace that declares none.
const DefaultSiteKind = SiteShop

// Context kinds.
const (
	KindSales   = "sales"   // raises the score
	KindExclude = "exclude" // lowers the score
	KindSupport = "support" // only for requires/unless
	KindNegate  = "negate"  // cancels a substance written right next to it
)

// Sides of a negate context: where its terms stand relative to the
// substance they cancel.
const (
	SideBefore = "before" // "no fentanyl", "tested for fentanyl", "sin fentanilo"
	SideAfter  = "after"  // "fentanyl-free", "fentanyl frei"
)

// Detectors lists the built-in context detectors a context may name.
var Detectors = []string{"price", "quantity", "percent", "handle"}

// Term kinds, as reported in Term.Kind.
const (
	TermName    = "name"
	TermSynonym = "synonym"
	TermLang    = "lang"
	TermStreet  = "street"
	TermContext = "context"
)

// Pos is a position in a rule file.
type Pos struct {
	File string
	Line int
}

// String returns "file:line".
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Term is one literal a rule matches, as written in the rule file.
type Term struct {
	Text     string
	Kind     string   // TermName, TermSynonym, TermLang, TermStreet or TermContext
	Lang     string   // ISO 639-1 code for TermLang
	Weight   float64  // weight when the term decides the substance
	Requires []string // context names or kinds that must all have matched
	Unless   []string // context names or kinds none of which may match
	// Class, for a street group that declares one (counterfeit-pill), is
	// reported instead of the substance's class.
	Class string
	Pos   Pos
}

// Weak reports whether the term needs supporting context.
func (t Term) Weak() bool { return t.Kind == TermStreet }

// Substance is one substance the rules look for.
type Substance struct {
	Name   string
	Class  string
	Weight float64
	Terms  []Term // the canonical name first, then synonyms, other-language names, street names
	CAS    []CAS
	Pos    Pos
}

// CAS is a CAS registry number of a substance.
type CAS struct {
	Number string // canonical "NNNNNNN-NN-N"
	Pos    Pos
}

// Family is a name pattern that catches analogues no list has yet.
type Family struct {
	Name    string
	Class   string
	Stem    string
	Pattern *regexp.Regexp
	Lookup  string // template: the canonical spelling looked up among listed terms
	Report  string // template: the name reported when the lookup finds nothing
	Exclude []string
	Weight  float64
	// Generic marks a family that names a whole class ("nitazene",
	// "nitazenes"): its match counts towards the score, but it is not
	// reported when a specific substance of the same class is found.
	Generic bool
	Pos     Pos
}

// Context is a group of terms and detectors that raise or lower the score or
// support weak terms.
type Context struct {
	Name     string
	Kind     string
	Weight   float64
	Terms    []Term
	Detect   []string
	Patterns []*regexp.Regexp
	Side     string // negate contexts: SideBefore (default) or SideAfter
	// Weak marks an exclude context of single words that sellers also
	// write ("alert", "police", "customs", "research"): each distinct term
	// found weighs Weight, and distinct sales contexts shield against them
	// (see Scoring.WeakShield).
	Weak bool
	// Bound marks a strong exclude context that names an item (test
	// strips, naloxone, merchandise) rather than the text's genre (news,
	// a job ad): its one-word terms count in full only within
	// Scoring.Bind words of a substance mention (see Scoring.Bind).
	Bound bool
	Pos   Pos
}

// Weights are the default weights of each term kind.
type Weights struct {
	Name, CAS, Street, Family, Fuzzy float64
}

// Scoring holds the threshold, caps and default weights.
type Scoring struct {
	Threshold  float64
	SalesCap   float64
	ExcludeCap float64
	// WeakShield is how much weak exclusion each distinct sales context
	// beyond the first ShieldFrom cancels.
	WeakShield float64
	ShieldFrom int
	// Window is how many words either side of a substance mention its
	// context reaches; 0 means the whole text (see "Score" in the package
	// documentation).
	Window int
	// FarCap caps what the exclusion contexts outside a mention's window
	// subtract from that mention's score.
	FarCap  float64
	Weights Weights
	// Bind is how many words from a substance mention a strong exclusion
	// written as one word still counts in full; further away in the
	// window it counts as a weak word of at most BindWeight. 0: off.
	Bind       int
	BindWeight float64
	// NearMiss is the margin below Threshold within which a listing that
	// names a substance is a near miss: kept and shown for review rather
	// than dropped. 0: none.
	NearMiss float64
	// Kinds is the prior of each site kind (SiteKinds): added to the
	// score of every substance mention of a listing from such a site.
	Kinds map[string]float64
	Pos   Pos
}

// defaultScoring is used when no file has a scoring block.
func defaultScoring() Scoring {
	return Scoring{
		Threshold: 0.5, SalesCap: 0.4, ExcludeCap: 1,
		Weights: Weights{Name: 0.6, CAS: 0.6, Street: 0.35, Family: 0.55, Fuzzy: 0.45},
		Kinds:   map[string]float64{},
	}
}

// RuleSet is a parsed, validated set of rule files.
type RuleSet struct {
	Scoring    Scoring
	Substances []Substance
	Families   []Family
	Contexts   []Context
	Files      []string // file names, sorted
	version    string
}

// Version returns "sha256:<hex>" over the rule files' sorted names and
// contents; every hit records it.
func (rs *RuleSet) Version() string { return rs.version }

// Substance returns the substance with the given canonical name.
func (rs *RuleSet) Substance(name string) (Substance, bool) {
	for _, s := range rs.Substances {
		if s.Name == name {
			return s, true
		}
	}
	return Substance{}, false
}

// Problem is one thing wrong in a rule file.
type Problem struct {
	File string
	Line int
	Msg  string
}

// String returns "file:line: msg".
func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Problems is a list of problems; as an error it prints one per line.
type Problems []Problem

// Error returns every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ErrNoRules is returned when a directory holds no rule files.
var ErrNoRules = errors.New("no *.yaml rule files")

// Load reads every *.yaml file at the root of fsys and returns the validated
// rule set, or a Problems error listing everything wrong.
func Load(fsys fs.FS) (*RuleSet, error) {
	files, err := readFiles(fsys)
	if err != nil {
		return nil, err
	}
	rs, probs := build(files)
	if len(probs) > 0 {
		return nil, probs
	}
	return rs, nil
}

// LoadDir is Load on the directory dir.
func LoadDir(dir string) (*RuleSet, error) {
	rs, err := Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", dir, err)
	}
	return rs, nil
}

// Lint checks every *.yaml file at the root of fsys and returns all problems
// found: syntax, unknown keys and classes, bad weights and patterns, CAS check
// digits, duplicate and shadowing terms. A nil result means the set loads.
func Lint(fsys fs.FS) []Problem {
	files, err := readFiles(fsys)
	if err != nil {
		return []Problem{{File: ".", Line: 0, Msg: err.Error()}}
	}
	_, probs := build(files)
	return probs
}

// Parse parses and checks one rule file on its own, as Load checks a whole
// set: duplicate and shadowing terms are found within the file only. On
// problems it returns what it parsed and a Problems error.
func Parse(name string, data []byte) (*RuleSet, error) {
	rs, probs := build([]file{{name: name, data: data}})
	if len(probs) > 0 {
		return rs, probs
	}
	return rs, nil
}

type file struct {
	name string
	data []byte
}

func readFiles(fsys fs.FS) ([]file, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list rule files: %w", err)
	}
	if len(names) == 0 {
		return nil, ErrNoRules
	}
	sort.Strings(names)
	files := make([]file, 0, len(names))
	if len(names) > MaxFiles {
		return nil, fmt.Errorf("%d rule files, more than the %d allowed", len(names), MaxFiles)
	}
	var total int64
	for _, n := range names {
		if err := checkFileSize(fsys, n, &total); err != nil {
			return nil, err
		}
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read rule file: %w", err)
		}
		files = append(files, file{name: n, data: data})
	}
	return files, nil
}

// build parses files (sorted by name) into a rule set and checks it.
func build(files []file) (*RuleSet, Problems) {
	p := &parser{rs: &RuleSet{Scoring: defaultScoring()}}
	h := sha256.New()
	for _, f := range files {
		p.rs.Files = append(p.rs.Files, path.Base(f.name))
		h.Write([]byte(path.Base(f.name)))
		h.Write([]byte{0})
		h.Write(f.data)
		h.Write([]byte{0})
	}
	p.rs.version = "sha256:" + hex.EncodeToString(h.Sum(nil))
	for _, f := range files {
		p.parseFile(f)
	}
	p.applyDefaults()
	p.check()
	p.checkLimits()
	sort.SliceStable(p.probs, func(i, j int) bool {
		a, b := p.probs[i], p.probs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return p.rs, p.probs
}
