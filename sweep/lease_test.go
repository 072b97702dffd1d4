package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"snoop/store"
)

// Two sweeps of one marketplace on one SQLite file, as two `snoop sweep`
// processes would run them (each with its own connection to the file): the
// second refuses to start while the first runs, naming it, and starts once
// the first has finished.
func TestOneSweepPerMarketplace(t *testing.T) {
	release := make(chan struct{})
	fetching := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			select {
			case fetching <- struct{}{}:
			default:
			}
			<-release
		}
		fmt.Fprint(w, `<html><body><h1>Oak table</h1></body></html>`)
	}))
	defer srv.Close()
	markets := shopMarkets(t, srv.URL, "")

	first, db := testRunner(t)
	db2, err := store.Open(context.Background(), db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	second := &Runner{DB: db2, Classifier: first.Classifier, RuleVersion: first.RuleVersion}

	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := first.Run(context.Background(), markets)
		done <- outcome{res, err}
	}()
	select {
	case <-fetching:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the first sweep did not start fetching")
	}

	_, err = second.Run(context.Background(), markets)
	host, _ := os.Hostname()
	if !errors.Is(err, store.ErrMarketBusy) {
		close(release)
		t.Fatalf("second sweep while the first runs: %v, want refused (ErrMarketBusy)", err)
	}
	want := fmt.Sprintf("marketplace shop is being swept by pid %d on host %s since ", os.Getpid(), host)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "wait for it to finish or stop it") {
		t.Errorf("error = %q, want it to say %q and what to do", err, want)
	}
	close(release)
	out := <-done
	if out.err != nil || out.res.Status != store.SweepCompleted {
		t.Fatalf("first sweep: %v, status %q", out.err, out.res.Status)
	}
	sweeps, err := db.Sweeps(context.Background())
	if err != nil || len(sweeps) != 1 {
		t.Fatalf("sweeps = %d (%v), want only the first one: the refused one must not begin", len(sweeps), err)
	}
	if res, err := second.Run(context.Background(), markets); err != nil || res.Status != store.SweepCompleted {
		t.Fatalf("second sweep after the first: %v, status %q", err, res.Status)
	}
	if _, held, err := db.Lease(context.Background(), "shop"); held || err != nil {
		t.Errorf("lease still held after both sweeps (%v)", err)
	}
}

// A lease left by a sweep that was killed (kill -9) does not block the next
// sweep: on this host a dead holder is noticed at once, elsewhere the lease
// ends after its time to live.
func TestAbandonedLeaseTakenOver(t *testing.T) {
	shop := newShop(t)
	r, db := testRunner(t)
	ctx := context.Background()
	now := time.Now().UTC()
	host, _ := os.Hostname()
	// A pid that cannot be running: above the kernel's pid_max.
	dead := store.LeaseHolder{Token: "dead", PID: 1 << 30, Host: host}
	if err := db.AcquireLeases(ctx, []string{"shop"}, dead, now, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, shopMarkets(t, shop.URL, "")); err != nil {
		t.Fatalf("sweep after a killed one on this host: %v", err)
	}

	other := store.LeaseHolder{Token: "other", PID: os.Getpid(), Host: "elsewhere.example"}
	if err := db.AcquireLeases(ctx, []string{"shop"}, other, now, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, shopMarkets(t, shop.URL, "")); !errors.Is(err, store.ErrMarketBusy) {
		t.Fatalf("sweep while another host holds a live lease: %v, want ErrMarketBusy", err)
	}
	r.Now = func() time.Time { return now.Add(time.Hour + time.Second) }
	if _, err := r.Run(ctx, shopMarkets(t, shop.URL, "")); err != nil {
		t.Fatalf("sweep after the other host's lease expired: %v", err)
	}
}
