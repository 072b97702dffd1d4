package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLeases(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := LeaseHolder{Token: "a", PID: 100, Host: "alpha"}
	b := LeaseHolder{Token: "b", PID: 200, Host: "beta"}
	ttl := time.Minute

	if err := db.AcquireLeases(ctx, []string{"m1", "m2"}, a, t0, ttl, nil); err != nil {
		t.Fatal(err)
	}
	// All or none: b gets neither m3 nor m2.
	err := db.AcquireLeases(ctx, []string{"m3", "m2"}, b, t0.Add(30*time.Second), ttl, nil)
	var busy *MarketBusyError
	if !errors.As(err, &busy) || !errors.Is(err, ErrMarketBusy) {
		t.Fatalf("second acquire: %v, want a MarketBusyError", err)
	}
	for _, want := range []string{"marketplace m2 is being swept by pid 100 on host alpha since 2026-03-01T12:00:00Z", "wait for it to finish or stop it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, ok, _ := db.Lease(ctx, "m3"); ok {
		t.Error("m3 leased although the acquire failed")
	}

	// Renewing through a batch keeps the leases and records the sweep.
	renew := func(h string, at time.Time, sweep int64) error {
		return db.ApplyBatch(ctx, []BatchOp{{Lease: &LeaseRenewOp{Holder: h, Markets: 2, SweepID: sweep, Now: at, Expires: at.Add(ttl)}}})
	}
	if err := renew("a", t0.Add(50*time.Second), 7); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := db.Lease(ctx, "m1"); l.SweepID != 7 || !l.Expires.Equal(t0.Add(110*time.Second)) {
		t.Errorf("lease after renewal = %+v, want sweep 7, expiring at t0+110s", l)
	}
	if err := db.AcquireLeases(ctx, []string{"m2"}, b, t0.Add(100*time.Second), ttl, nil); !errors.Is(err, ErrMarketBusy) {
		t.Errorf("acquire of a renewed lease: %v, want busy", err)
	}
	// An expired lease is taken over, and its old holder finds it lost.
	if err := db.AcquireLeases(ctx, []string{"m2"}, b, t0.Add(111*time.Second), ttl, nil); err != nil {
		t.Fatalf("acquire of an expired lease: %v", err)
	}
	if err := renew("a", t0.Add(112*time.Second), 0); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renewal of a lost lease: %v, want ErrLeaseLost", err)
	}
	// A lease whose holder is known to be gone is taken over before it expires.
	gone := func(l MarketLease) bool { return l.Host == "beta" && l.PID == 200 }
	if err := db.AcquireLeases(ctx, []string{"m2"}, a, t0.Add(112*time.Second), ttl, gone); err != nil {
		t.Fatalf("acquire of an abandoned lease: %v", err)
	}
	if err := db.ReleaseLeases(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Lease(ctx, "m1"); ok {
		t.Error("m1 still leased after release")
	}
}
