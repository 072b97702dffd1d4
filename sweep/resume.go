package sweep

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"

	"snoop/store"
)

// sweepLock is an exclusive advisory lock that a process holds while it
// runs a sweep. The kernel releases it when the process ends, however it
// ends (kill -9 included), so a sweep whose lock is free was abandoned and
// may be resumed, and a sweep whose lock is held is running elsewhere.
type sweepLock struct{ f *os.File }

// lockSweep takes the lock of sweep id of the store at dbPath without
// waiting. ok is false when another process holds it.
func lockSweep(dbPath string, id int64) (l *sweepLock, ok bool, err error) {
	if dbPath == "" || dbPath == ":memory:" {
		return &sweepLock{}, true, nil
	}
	name := fmt.Sprintf("%s.sweep-%d.lock", dbPath, id)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("sweep lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("sweep lock %s: %w", name, err)
		}
		// The holder removes the file when it releases the lock: a lock
		// taken on a file no longer at name guards nothing, so try again.
		held, err1 := f.Stat()
		now, err2 := os.Stat(name)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return &sweepLock{f: f}, true, nil
		}
		f.Close()
	}
}

// release drops the lock and removes its file.
func (l *sweepLock) release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.f.Name())
	l.f.Close()
}

// resumable finds the newest unfinished sweep over exactly markets that no
// running process holds, and locks it. ok is false when there is none.
func resumable(ctx context.Context, db *store.DB, markets []string) (store.Sweep, *sweepLock, bool, error) {
	sweeps, err := db.Sweeps(ctx)
	if err != nil {
		return store.Sweep{}, nil, false, fmt.Errorf("find unfinished sweep: %w", err)
	}
	want := slices.Sorted(slices.Values(markets))
	for _, s := range sweeps { // newest first
		if s.Status != store.SweepRunning && s.Status != store.SweepInterrupted {
			continue
		}
		if !slices.Equal(slices.Sorted(slices.Values(s.Markets)), want) {
			continue
		}
		l, ok, err := lockSweep(db.Path, s.ID)
		if err != nil {
			return store.Sweep{}, nil, false, err
		}
		if !ok {
			continue // running in another process
		}
		return s, l, true, nil
	}
	return store.Sweep{}, nil, false, nil
}
