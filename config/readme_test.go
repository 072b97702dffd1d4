package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExample keeps the README's config example valid.
func TestREADMEExample(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("README.md not found")
	}
	_, rest, ok := strings.Cut(string(data), "## Marketplace config")
	if !ok {
		t.Fatal("README has no Marketplace config section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("README's Marketplace config section has no yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	cfg, err := Parse("README.md", []byte(example))
	if err != nil {
		t.Fatalf("README example does not parse:\n%v", err)
	}
	if len(cfg.Marketplaces) != 2 || cfg.Marketplaces[0].Listing.URLPattern == nil || cfg.Marketplaces[1].Listing.Item == "" {
		t.Errorf("README example parsed to %+v", cfg.Marketplaces)
	}
}
