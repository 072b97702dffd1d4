package export

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap samples the heap in use while fn runs and returns the peak.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak.Store(ms.HeapInuse)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// TestExportMemoryFlat exports 1,000 and 10,000 hits (each page 20 KB, 10
// listings a page) and checks that the peak heap does not grow with the
// case: ten times the evidence may not cost more than a few MiB more.
func TestExportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 11,000 hits")
	}
	ctx := context.Background()
	// A tighter GC target makes the peak follow the live heap rather than
	// the collector's pacing, which drifts on a loaded machine.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	peaks := map[int]uint64{}
	for _, pages := range []int{100, 1000} {
		db := openDB(t)
		seed(t, db, seedOptions{pages: pages, perPage: 10, bodyBytes: 2000})
		out := filepath.Join(t.TempDir(), "case.zip")
		var sum Summary
		var err error
		peaks[pages] = peakHeap(func() {
			sum, err = Write(ctx, db, out, Options{Filter: anyStatus, Case: "big", Now: fixedNow(), MaxWARCSize: 4 << 20})
		})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Hits != pages*10 {
			t.Fatalf("exported %d hits, want %d", sum.Hits, pages*10)
		}
		t.Logf("%d hits, %d evidence, %.1f MiB package: peak heap %.1f MiB", sum.Hits, sum.Evidence, float64(sum.Bytes)/(1<<20), float64(peaks[pages])/(1<<20))
		if pages == 1000 {
			if rep, err := Verify(out, nil); err != nil {
				t.Fatalf("verify: %v %v", err, rep.Problems)
			}
		}
	}
	small, large := peaks[100], peaks[1000]
	if large > small+16<<20 {
		t.Errorf("peak heap grew from %.1f MiB (1,000 hits) to %.1f MiB (10,000 hits)", float64(small)/(1<<20), float64(large)/(1<<20))
	}
}

// BenchmarkExport10k exports a 10,000-hit case; run with -benchmem. It
// reports the peak heap in use during the export.
func BenchmarkExport10k(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	seed(b, db, seedOptions{pages: 1000, perPage: 10, bodyBytes: 2000})
	b.ResetTimer()
	var peak uint64
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(b.TempDir(), "case.zip")
		p := peakHeap(func() {
			if _, err := Write(ctx, db, out, Options{Filter: anyStatus, Case: "bench", Now: fixedNow()}); err != nil {
				b.Fatal(err)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
