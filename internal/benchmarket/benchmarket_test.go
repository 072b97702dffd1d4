package benchmarket

import (
	"strings"
	"testing"
)

// The offers cycle through every opioid name, not one of them.
func TestOffersUseEveryName(t *testing.T) {
	seen := map[string]bool{}
	for id := 1; id <= 50*len(offers); id++ {
		if !isOffer(id) {
			continue
		}
		for _, o := range offers {
			if strings.HasPrefix(title(id), o+",") {
				seen[o] = true
			}
		}
	}
	if len(seen) != len(offers) {
		t.Errorf("offer titles use %d of the %d names: %v", len(seen), len(offers), seen)
	}
}
