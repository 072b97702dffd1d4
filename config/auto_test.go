package config

import (
	"os"
	"strings"
	"testing"
)

func TestAutoListingKeys(t *testing.T) {
	cfg, err := Parse("auto.yaml", []byte(`marketplaces:
  - name: a
    start_urls: ["https://a.example/"]
    listing: auto
  - name: b
    start_urls: ["https://b.example/"]
    template: phpbb
    kind: forum
  - name: c
    start_urls: ["https://c.example/"]
    listing:
      auto: true
      fields:
        vendor: ".seller b"
        url: "@data-href"
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := cfg.Marketplaces[0], cfg.Marketplaces[1], cfg.Marketplaces[2]
	if !a.Listing.Auto || a.Listing.Template != "" {
		t.Errorf("a: %+v", a.Listing)
	}
	if !b.Listing.Auto || b.Listing.Template != "phpbb" || b.Kind != "forum" || b.Listing.Kind != "forum" {
		t.Errorf("b: %+v kind %q", b.Listing, b.Kind)
	}
	if !c.Listing.Auto || len(c.Listing.Fields) != 2 || c.Listing.Fields[1].Attr != "data-href" {
		t.Errorf("c: %+v", c.Listing)
	}
}

func TestAutoListingErrors(t *testing.T) {
	_, err := Parse("bad.yaml", []byte(`marketplaces:
  - name: a
    start_urls: ["https://a.example/"]
    listing: automatic
  - name: b
    start_urls: ["https://b.example/"]
    template: wordpress
    kind: bazaar
  - name: c
    start_urls: ["https://c.example/"]
    template: shopify
    listing:
      url_pattern: '/p/'
alerts:
  webhooks:
    - url: ftp://x
      format: teams
  email:
    smtp: mail.example
    from: not an address
    password: hunter2
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"bad.yaml:4: marketplaces[0].listing: must be auto or a mapping",
		"bad.yaml:7: marketplaces[1].template: unknown template \"wordpress\"",
		"bad.yaml:8: marketplaces[1].kind: must be one of",
		"bad.yaml:11: marketplaces[2].template: a template needs listing: auto",
		"bad.yaml:16: alerts.webhooks[0].url: \"ftp://x\" is not an absolute http(s) URL",
		"bad.yaml:17: alerts.webhooks[0].format: must be json, slack or matrix",
		"bad.yaml:19: alerts.email.smtp: want host:port",
		"bad.yaml:20: alerts.email.from: invalid address",
		"bad.yaml:21: alerts.email.password: do not put the password in the file",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// TestREADMEAutoExamples keeps the README's auto-mode and alerts examples valid.
func TestREADMEAutoExamples(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("README.md not found")
	}
	block := func(section string) string {
		_, rest, ok := strings.Cut(string(data), section)
		if !ok {
			t.Fatalf("README has no %q section", section)
		}
		_, rest, _ = strings.Cut(rest, "```yaml\n")
		y, _, _ := strings.Cut(rest, "```")
		return y
	}
	cfg, err := Parse("README.md", []byte(block("## Marketplaces without selectors")))
	if err != nil {
		t.Fatalf("auto example: %v", err)
	}
	if len(cfg.Marketplaces) != 3 || !cfg.Marketplaces[0].Listing.Auto || cfg.Marketplaces[1].Listing.Template != "phpbb" || len(cfg.Marketplaces[2].Listing.Fields) != 1 {
		t.Errorf("auto example parsed to %+v", cfg.Marketplaces)
	}
	alerts := block("## Running unattended") + "marketplaces:\n  - {name: a, start_urls: [\"https://a.example/\"], listing: auto}\n"
	cfg, err = Parse("README.md", []byte(alerts))
	if err != nil {
		t.Fatalf("alerts example: %v", err)
	}
	if len(cfg.Alerts.Webhooks) != 2 || cfg.Alerts.Email == nil || cfg.Alerts.Email.PasswordEnv != "SNOOP_SMTP_PASSWORD" {
		t.Errorf("alerts example parsed to %+v", cfg.Alerts)
	}
}
