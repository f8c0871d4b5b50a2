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
)

// bucket is a token bucket: it holds up to burst tokens and gains rate
// tokens a second; each write takes one. The zero bucket is full.
type bucket struct {
	tokens float64
	last   time.Time // zero: never used, so full
}

// take takes a token if there is one; otherwise it reports how long until
// there will be.
func (b *bucket) take(now time.Time, rate float64, burst int) (ok bool, wait time.Duration) {
	b.refill(now, rate, burst)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
}

// full reports whether the bucket would be full at now: it then carries no
// state worth keeping.
func (b *bucket) full(now time.Time, rate float64, burst int) bool {
	return b.tokens+now.Sub(b.last).Seconds()*rate >= float64(burst)
}

// addrLimiter keeps one bucket per source address for HTTP writes.
type addrLimiter struct {
	rate  float64
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
}

// sweepAt is the number of tracked addresses above which full buckets are
// forgotten, so that memory stays bounded by the addresses writing now.
const sweepAt = 1024

func (l *addrLimiter) take(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= sweepAt {
			for a, old := range l.buckets {
				if old.full(now, l.rate, l.burst) {
					delete(l.buckets, a)
				}
			}
		}
		b = &bucket{}
		l.buckets[addr] = b
	}
	return b.take(now, l.rate, l.burst)
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
