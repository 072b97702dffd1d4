package store

import "fmt"

// ValidatePage checks a page and its listings as SavePage and ApplyBatch
// would, and fills the same defaults (digests, record ids), without
// writing. A sweep calls it before queueing a page, so that one page the
// store would refuse is rejected and counted alone instead of failing the
// group commit it would have joined.
func ValidatePage(p *PageRecord, listings []ListingRecord) error {
	if _, err := preparePage(p); err != nil {
		return fmt.Errorf("page %s: %w", p.URL, err)
	}
	for i := range listings {
		if err := prepareListing(&listings[i]); err != nil {
			return fmt.Errorf("page %s: listing %d %s: %w", p.URL, i, listings[i].URL, err)
		}
	}
	return nil
}
