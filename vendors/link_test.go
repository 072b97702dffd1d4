package vendors

import (
	"testing"

	"snoop/store"
)

func TestCommonRule(t *testing.T) {
	tests := []struct {
		name string
		k    keyStats
		m    marketStats
		want bool
	}{
		{"support e-mail in every footer", keyStats{named: 20, units: 20, listings: 60, chrome: 60}, marketStats{20, 20, 60}, true},
		{"escrow on a fifth of the sellers", keyStats{named: 4, units: 4, listings: 6, chrome: 6}, marketStats{20, 20, 60}, true},
		{"one seller's handle", keyStats{named: 1, units: 1, listings: 5}, marketStats{20, 20, 60}, false},
		{"seller under two names", keyStats{named: 2, units: 2, listings: 3}, marketStats{20, 20, 60}, false},
		{"unnamed ads of one classifieds seller", keyStats{units: 5, listings: 5, chrome: 0}, marketStats{0, 12, 12}, false},
		{"classifieds site phone in the template", keyStats{units: 5, listings: 5, chrome: 5}, marketStats{0, 12, 12}, true},
		{"footer of a two-seller shop", keyStats{named: 2, units: 2, listings: 4, chrome: 4}, marketStats{2, 2, 4}, true},
		{"a lone seller's own shop", keyStats{named: 1, units: 1, listings: 4}, marketStats{1, 1, 4}, false},
	}
	for _, tt := range tests {
		if got := commonRule(tt.k, tt.m); got != tt.want {
			t.Errorf("%s: commonRule(%+v, %+v) = %v, want %v", tt.name, tt.k, tt.m, got, tt.want)
		}
	}
}

func TestClusterNameRules(t *testing.T) {
	ls := []store.VendorListing{
		{ID: 1, Market: "a", Vendor: "IsoKing"},
		{ID: 2, Market: "a", Vendor: "isoking"},   // same name, same marketplace: linked
		{ID: 3, Market: "b", Vendor: "IsoKing"},   // same name elsewhere: not linked
		{ID: 4, Market: "a", Vendor: "Anonymous"}, // a generic name links nothing
		{ID: 5, Market: "a", Vendor: "anonymous"},
		{ID: 6, Market: "b", Vendor: "OtherName"}, // linked to 1 by a shared handle
	}
	ss := []store.Sighting{
		{ListingID: 1, LinkKey: "telegram:iso_king", Source: "text"},
		{ListingID: 6, LinkKey: "telegram:iso_king", Source: "text"},
	}
	res := cluster(linkInput{Listings: ls, Sightings: ss})
	want := [][]int64{{1, 2, 6}, {3}, {4}, {5}}
	if len(res.Clusters) != len(want) {
		t.Fatalf("clusters = %v, want %v", res.Clusters, want)
	}
	for i := range want {
		if len(res.Clusters[i]) != len(want[i]) {
			t.Fatalf("clusters = %v, want %v", res.Clusters, want)
		}
		for j := range want[i] {
			if res.Clusters[i][j] != want[i][j] {
				t.Fatalf("clusters = %v, want %v", res.Clusters, want)
			}
		}
	}
	// A split keeps 6 apart even though the handle is shared.
	res = cluster(linkInput{Listings: ls, Sightings: ss, Decisions: []store.VendorDecision{{ID: 1, Action: "split", Side0: []int64{1, 2}, Side1: []int64{6}}}})
	for _, c := range res.Clusters {
		if len(c) == 3 {
			t.Errorf("split ignored: %v", res.Clusters)
		}
	}
}
