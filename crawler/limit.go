package crawler

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HostLimiter paces requests per host. Sweep calls Wait before every request
// (including redirect hops and robots.txt) with the host ("name" or "name:port")
// and the marketplace's requests_per_second and burst.
type HostLimiter interface {
	Wait(ctx context.Context, host string, rps float64, burst int) error
}

// Limiters is a registry of token buckets (golang.org/x/time/rate), one per host.
// One Limiters shared by several concurrent Sweep calls (Options.Limiter) makes the
// limit per host hold across marketplaces on the same host. When two marketplaces
// ask for different limits on one host, the stricter rate and burst win. The zero
// value is ready to use and safe for concurrent use.
type Limiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

var _ HostLimiter = (*Limiters)(nil)

// Wait blocks until a request to host may be sent, or ctx is done.
func (l *Limiters) Wait(ctx context.Context, host string, rps float64, burst int) error {
	return l.limiter(host, rps, burst).Wait(ctx)
}

// limiter returns host's limiter, tightening it to rps and burst if they are stricter.
func (l *Limiters) limiter(host string, rps float64, burst int) *rate.Limiter {
	if burst < 1 {
		burst = 1
	}
	limit := rate.Limit(rps)
	if rps <= 0 {
		limit = rate.Inf
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	lim, ok := l.m[host]
	if !ok {
		lim = rate.NewLimiter(limit, burst)
		l.m[host] = lim
		return lim
	}
	now := time.Now()
	if limit < lim.Limit() {
		lim.SetLimitAt(now, limit)
	}
	if burst < lim.Burst() {
		lim.SetBurstAt(now, burst)
	}
	return lim
}
