package realtime

import (
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"lanfeed/feed"

	"golang.org/x/time/rate"
)

// takeToken takes one token from l at now if there is one; otherwise it
// reports how long until there will be.
func takeToken(l *rate.Limiter, now time.Time) (ok bool, wait time.Duration) {
	if l.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration((1 - l.TokensAt(now)) / float64(l.Limit()) * float64(time.Second))
}

// addrLimiter keeps one token bucket per source address for HTTP writes.
type addrLimiter struct {
	rate  float64 // tokens a second, > 0
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// sweepAt is the number of tracked addresses above which full buckets are
// forgotten, so that memory stays bounded by the addresses writing now.
const sweepAt = 1024

func (l *addrLimiter) take(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*rate.Limiter{}
	}
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= sweepAt {
			for a, old := range l.buckets {
				if old.TokensAt(now) >= float64(l.burst) { // a new bucket is the same
					delete(l.buckets, a)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(l.rate), l.burst)
		l.buckets[addr] = b
	}
	return takeToken(b, now)
}

// connLimiter counts websocket peers in total and per source address,
// including those still in their handshake.
type connLimiter struct {
	max, perAddr int

	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

// acquire reserves a slot for a peer from addr; release gives it back.
func (l *connLimiter) acquire(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max || l.byAddr[addr] >= l.perAddr {
		return false
	}
	if l.byAddr == nil {
		l.byAddr = map[string]int{}
	}
	l.total++
	l.byAddr[addr]++
	return true
}

func (l *connLimiter) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

// sourceAddr is the IP a request came from. Forwarding headers are ignored:
// lanfeed is reached directly, and they are the client's to forge.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// hostNames returns the names the node answers to besides IP literals:
// localhost, the machine's host name (and its first label) with and without
// .local, and extra.
func hostNames(extra []string) map[string]bool {
	names := map[string]bool{"localhost": true}
	add := func(n string) {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n != "" {
			names[n] = true
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		short, _, _ := strings.Cut(h, ".")
		for _, n := range []string{h, short} {
			add(n)
			add(strings.TrimSuffix(n, ".local") + ".local")
		}
	}
	for _, n := range extra {
		add(n)
	}
	return names
}

// hostAllowed reports whether a Host header names this node. Checking it
// defeats DNS rebinding: a page on evil.example that makes its name resolve
// to this node still sends "Host: evil.example".
func (h *Hub) hostAllowed(host string) bool {
	if h.anyHost || host == "" { // no Host at all (HTTP/1.0) is no browser's
		return true
	}
	name := host
	if hn, port, err := net.SplitHostPort(host); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return false
		}
		name = hn
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
	if net.ParseIP(name) != nil {
		return true
	}
	return h.hosts[name]
}

// checkHost wraps every route with the Host check: 421 for a name that is
// not this node's.
func (h *Hub) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.hostAllowed(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, feed.Errorf(feed.CodeUnauthorized,
				"host %q is not a name of this node; use its address, or allow the name with --allow-host", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// retryAfter is the Retry-After value for wait: whole seconds, at least 1.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// penaltyBox bars source addresses whose peers were closed for flooding
// from opening new websocket connections for a while: otherwise a flooder
// would reconnect and get a fresh burst each time.
type penaltyBox struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (b *penaltyBox) bar(addr string, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[string]time.Time{}
	}
	if len(b.until) >= sweepAt {
		for a, t := range b.until {
			if time.Now().After(t) {
				delete(b.until, a)
			}
		}
	}
	b.until[addr] = until
}

// barred reports how long addr remains barred; 0 if it is not.
func (b *penaltyBox) barred(addr string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[addr]
	if !ok || !now.Before(t) {
		delete(b.until, addr)
		return 0
	}
	return t.Sub(now)
}
