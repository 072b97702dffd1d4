package sweep

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"snoop/config"
	"snoop/crawler"
	"snoop/screenshot"
	"snoop/store"
)

// Shooter renders a page to a PNG; *screenshot.Taker is one.
type Shooter interface {
	Capture(ctx context.Context, pageURL string) (screenshot.Shot, error)
	Close() error
}

// NewShooterFunc starts a Shooter that renders m's pages with m's session:
// its proxy, user agent, headers and cookies (cookies_file), as the crawl
// fetched them. It returns an error wrapping screenshot.ErrNoBrowser when
// no browser is available.
type NewShooterFunc func(ctx context.Context, m config.Market) (Shooter, error)

// shotQueueSize bounds the hits waiting for their screenshot.
const shotQueueSize = 1024

type shotJob struct {
	hitID, evidenceID int64
	url, market       string
}

// shots takes the screenshots of a sweep's new hits in the background, one
// at a time, so that rendering never slows the crawl. It starts one browser
// per marketplace on first use, with that marketplace's session, and paces
// the renders with the crawl's per-host rate limits; when no browser can be
// started it says so once and drops the rest.
type shots struct {
	j       *journal // screenshots are stored by the sweep's one writer
	start   NewShooterFunc
	markets map[string]config.Market
	limiter crawler.HostLimiter // nil: no pacing
	log     *slog.Logger
	jobs    chan shotJob
	done    chan struct{}

	mu       sync.Mutex
	shooters map[string]Shooter
	disabled error
	taken    int
	failed   int
	skipped  int
}

func newShots(j *journal, start NewShooterFunc, markets map[string]config.Market, limiter crawler.HostLimiter, log *slog.Logger) *shots {
	return &shots{j: j, start: start, markets: markets, limiter: limiter, log: log,
		jobs: make(chan shotJob, shotQueueSize), done: make(chan struct{}), shooters: map[string]Shooter{}}
}

// enqueue asks for a screenshot of a hit's page without waiting.
func (s *shots) enqueue(j shotJob) {
	select {
	case s.jobs <- j:
	default:
		s.mu.Lock()
		s.skipped++
		s.mu.Unlock()
	}
}

// run takes screenshots until close. Screenshots of hits still queued when
// ctx ends are skipped.
func (s *shots) run(ctx context.Context) {
	defer close(s.done)
	for j := range s.jobs {
		if ctx.Err() != nil || s.isDisabled() {
			s.count(&s.skipped)
			continue
		}
		sh, err := s.shooter(ctx, j.market)
		if err != nil {
			s.count(&s.skipped)
			continue
		}
		if err := s.pace(ctx, j); err != nil {
			s.count(&s.skipped)
			continue
		}
		shot, err := sh.Capture(ctx, j.url)
		if err != nil {
			s.count(&s.failed)
			s.log.Warn("screenshot failed", "hit", j.hitID, "url", j.url, "err", err)
			continue
		}
		if len(shot.PNG) == 0 {
			s.count(&s.failed)
			s.log.Warn("screenshot failed: empty image", "hit", j.hitID, "url", j.url)
			continue
		}
		err = s.j.submit(store.BatchOp{Screenshot: &store.ScreenshotOp{Shot: store.Screenshot{
			HitID: j.hitID, EvidenceID: j.evidenceID, URL: shot.URL, TakenAt: shot.TakenAt, PNG: shot.PNG, SHA256: shot.SHA256,
		}}})
		if err != nil {
			s.count(&s.failed)
			s.log.Error("store screenshot", "hit", j.hitID, "err", err)
			continue
		}
		s.count(&s.taken)
	}
}

func (s *shots) count(n *int) {
	s.mu.Lock()
	*n++
	s.mu.Unlock()
}

func (s *shots) isDisabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disabled != nil
}

// pace waits until the marketplace's rate limit for the page's host allows
// one more request: a render fetches the page again.
func (s *shots) pace(ctx context.Context, j shotJob) error {
	m, ok := s.markets[j.market]
	if s.limiter == nil || !ok {
		return nil
	}
	u, err := url.Parse(j.url)
	if err != nil {
		return err
	}
	return s.limiter.Wait(ctx, u.Host, m.RequestsPerSecond, m.Burst)
}

// shooter returns the browser for a marketplace, starting it on first use.
func (s *shots) shooter(ctx context.Context, market string) (Shooter, error) {
	s.mu.Lock()
	sh, ok := s.shooters[market]
	s.mu.Unlock()
	if ok {
		return sh, nil
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	sh, err := s.start(startCtx, s.markets[market])
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if errors.Is(err, screenshot.ErrNoBrowser) {
			s.disabled = err
			s.log.Warn("screenshots skipped: no usable Chromium (install the chromium package); the sweep goes on without them", "err", err)
		} else {
			s.log.Error("screenshots: start browser", "market", market, "err", err)
		}
		return nil, err
	}
	s.shooters[market] = sh
	return sh, nil
}

// close waits for the queued screenshots, stops the browsers and reports
// the counts.
func (s *shots) close() (taken, failed, skipped int) {
	close(s.jobs)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for market, sh := range s.shooters {
		if err := sh.Close(); err != nil {
			s.log.Warn("screenshots: stop browser", "market", market, "err", err)
		}
	}
	return s.taken, s.failed, s.skipped
}
