package crawler

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy bounds retries of one URL. A zero field takes its default; the
// default of MaxRetries is 3, or, in Sweep, config.Settings.Retries.
// Timeouts, connection errors, 429 and 5xx responses are retried with
// exponential backoff and full jitter (BaseDelay * 2^attempt, capped at MaxDelay),
// or after the response's Retry-After when it gives one.
type RetryPolicy struct {
	MaxRetries    int           // retries per URL after the first attempt; 0: default (Sweep: the marketplace's retries); negative: none
	BaseDelay     time.Duration // default 500ms
	MaxDelay      time.Duration // cap of one backoff delay; default 30s
	MaxRetryAfter time.Duration // a longer Retry-After gives up on the URL; default 2m
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = 3
	}
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 2 * time.Minute
	}
	return p
}

// backoff is the delay before retry number attempt (0-based): a uniformly random
// duration in [d/2, d] with d = BaseDelay * 2^attempt capped at MaxDelay.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay << min(attempt, 30)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(n, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Error kinds (keys of Stats.ErrorsByKind).
const (
	ErrKindTimeout    = "timeout"
	ErrKindConnection = "connection"
	ErrKindDNS        = "dns"
	ErrKindTLS        = "tls"
	ErrKindHTTP4xx    = "http_4xx"
	ErrKindHTTP5xx    = "http_5xx"
	ErrKindRobots     = "robots"    // robots.txt could not be fetched
	ErrKindTooLarge   = "too_large" // body cut at max_body_bytes (the page is still kept, flagged)
	ErrKindRedirect   = "redirect"  // redirect loop or too many redirects
	ErrKindDecode     = "decode"    // Content-Encoding could not be decoded
	ErrKindSink       = "sink"
	ErrKindRequest    = "request" // anything else
)

var (
	errRedirectLoop      = errors.New("redirect loop")
	errTooManyRedirects  = errors.New("too many redirects")
	errSkippedByRedirect = errors.New("redirect target skipped")
)

// skipError is returned by the redirect check for a target the sweep must not fetch.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "redirect target skipped: " + e.reason }
func (e *skipError) Unwrap() error { return errSkippedByRedirect }

// errorKind classifies a fetch error.
func errorKind(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		opErr   *net.OpError
	)
	switch {
	case errors.Is(err, errRedirectLoop), errors.Is(err, errTooManyRedirects):
		return ErrKindRedirect
	case errors.As(err, &dnsErr):
		return ErrKindDNS
	case errors.As(err, &certErr), errors.As(err, &unkAuth), errors.As(err, &hostErr), errors.As(err, &recErr), errors.As(err, &alert):
		return ErrKindTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return ErrKindTimeout
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrKindTimeout
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &opErr):
		return ErrKindConnection
	case strings.Contains(err.Error(), "proxy"), strings.Contains(err.Error(), "socks"):
		return ErrKindConnection
	}
	return ErrKindRequest
}

// retryable reports whether a failed attempt is worth another try.
func retryable(kind string, status int) bool {
	switch kind {
	case ErrKindTimeout, ErrKindConnection:
		return true
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
