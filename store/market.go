package store

import (
	"context"
	"fmt"
)

// HasListings reports whether any listing of market is stored, so a sweep
// of a marketplace seen for the first time can skip per-page lookups.
func (db *DB) HasListings(ctx context.Context, market string) (bool, error) {
	var one int
	err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM listings WHERE market = ?)`, market).Scan(&one)
	if err != nil {
		return false, fmt.Errorf("listings of %s: %w", market, err)
	}
	return one == 1, nil
}
