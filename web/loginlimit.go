package web

import (
	"net"
	"strings"
	"sync"
	"time"
)

// Sign-in limits. Failed sign-ins are counted per client address, per
// account, and per account from one address; past a threshold each further
// failure locks that key out for a delay that doubles up to
// loginMaxLockout. A key's count is forgotten loginForget after its last
// failure, and a successful sign-in clears the account's counts.
//
// The address threshold is below the account threshold, so one client
// flooding one account is stopped by its own address lock before the
// account itself is locked: only many addresses together can lock an
// account, and never for longer than loginMaxLockout.
const (
	loginPairFree    = 5  // failures of one account from one address before a lockout
	loginAddrFree    = 20 // failures from one address, any account
	loginAccountFree = 50 // failures of one account, any address
	loginBaseLockout = time.Second
	loginMaxLockout  = 5 * time.Minute
	loginForget      = 30 * time.Minute
	loginMaxKeys     = 50_000 // bounded memory under a flood of made-up names
)

// loginLimiter counts failed sign-ins. It is safe for concurrent use.
type loginLimiter struct {
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*loginCount
}

type loginCount struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	if now == nil {
		now = time.Now
	}
	return &loginLimiter{now: now, keys: map[string]*loginCount{}}
}

// loginKey is one counted dimension of a sign-in attempt.
type loginKey struct {
	key  string
	free int
	what string // for the refusal message
}

// loginKeys returns the keys of a sign-in of user from remote (an
// http.Request's RemoteAddr).
func loginKeys(user, remote string) []loginKey {
	addr := clientAddr(remote)
	acct := strings.ToLower(user)
	return []loginKey{
		{"pair\x00" + addr + "\x00" + acct, loginPairFree, "this account from your address"},
		{"addr\x00" + addr, loginAddrFree, "your address"},
		{"acct\x00" + acct, loginAccountFree, "this account"},
	}
}

// clientAddr returns the IP of remote, or for IPv6 its /64 network (one
// client usually holds a whole /64).
func clientAddr(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// wait reports how long the sign-in must wait, and what is locked, if any
// of keys is locked out.
func (l *loginLimiter) wait(keys []loginKey) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var (
		longest time.Duration
		what    string
	)
	for _, k := range keys {
		c := l.keys[k.key]
		if c == nil {
			continue
		}
		if d := c.lockedUntil.Sub(now); d > longest {
			longest, what = d, k.what
		}
	}
	return longest, what
}

// fail records a failed sign-in under keys.
func (l *loginLimiter) fail(keys []loginKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.keys) >= loginMaxKeys {
		l.prune(now)
	}
	for _, k := range keys {
		c := l.keys[k.key]
		if c == nil || now.Sub(c.last) > loginForget {
			if c == nil && len(l.keys) >= loginMaxKeys {
				// Still full after pruning: count the address only, which a
				// flood of made-up names does not multiply.
				if !strings.HasPrefix(k.key, "addr\x00") {
					continue
				}
			}
			c = &loginCount{}
			l.keys[k.key] = c
		}
		c.failures++
		c.last = now
		if over := c.failures - k.free; over > 0 {
			d := loginBaseLockout << min(over-1, 20)
			c.lockedUntil = now.Add(min(d, loginMaxLockout))
		}
	}
}

// succeed clears the counts of the account (from every address) after a
// correct password; the address's own count stays, so that knowing one
// password does not reset the guessing of others.
func (l *loginLimiter) succeed(keys []loginKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if !strings.HasPrefix(k.key, "addr\x00") {
			delete(l.keys, k.key)
		}
	}
}

// prune drops counts that are forgotten and not locked. Called with mu held.
func (l *loginLimiter) prune(now time.Time) {
	for k, c := range l.keys {
		if now.Sub(c.last) > loginForget && !c.lockedUntil.After(now) {
			delete(l.keys, k)
		}
	}
}
