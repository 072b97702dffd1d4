package config

import (
	"strings"
	"testing"
)

// TestParseKind reads each marketplace's kind, defaults it to shop and
// rejects an unknown one with file, line and key.
func TestParseKind(t *testing.T) {
	cfg, err := Parse("m.yaml", []byte(`marketplaces:
  - name: dnm
    start_urls: ["https://dnm.example/"]
    kind: market
    listing: auto
  - name: board
    start_urls: ["https://board.example/"]
    kind: forum
    listing: auto
  - name: shop
    start_urls: ["https://shop.example/"]
    listing: auto
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"market", "forum", "shop"} {
		if got := cfg.Marketplaces[i].Kind; got != want {
			t.Errorf("marketplaces[%d].Kind = %q, want %q", i, got, want)
		}
	}
	_, err = Parse("m.yaml", []byte(`marketplaces:
  - name: dnm
    start_urls: ["https://dnm.example/"]
    kind: darknet
    listing: auto
`))
	if err == nil || !strings.Contains(err.Error(), `m.yaml:4: marketplaces[0].kind: must be one of shop, market, classifieds, forum, channel, got "darknet"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
}
