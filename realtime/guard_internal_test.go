package realtime

import (
	"fmt"
	"testing"
	"time"
)

// TestAddrLimiter_BurstThenWait: an address gets its burst at once, then
// one write per 1/rate, and a refusal says how long until the next token.
func TestAddrLimiter_BurstThenWait(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := &addrLimiter{rate: 10, burst: 3}
	for i := range 3 {
		if ok, _ := l.take("a", t0); !ok {
			t.Fatalf("take #%d at t0 refused; want the burst of 3 granted", i+1)
		}
	}
	for _, c := range []struct {
		at   time.Duration
		ok   bool
		wait time.Duration
	}{
		{0, false, 100 * time.Millisecond},
		{40 * time.Millisecond, false, 60 * time.Millisecond},
		{100 * time.Millisecond, true, 0},
		{100 * time.Millisecond, false, 100 * time.Millisecond},
	} {
		ok, wait := l.take("a", t0.Add(c.at))
		if ok != c.ok || wait.Round(time.Millisecond) != c.wait {
			t.Errorf("take at t0+%v = %v, %v; want %v, %v", c.at, ok, wait, c.ok, c.wait)
		}
	}
	if ok, _ := l.take("b", t0); !ok {
		t.Errorf("take for another address = refused; want its own full bucket")
	}
}

// TestAddrLimiter_ForgetsFullBuckets: past sweepAt addresses, a new one
// drops the buckets that have refilled, and keeps the one still in debt.
func TestAddrLimiter_ForgetsFullBuckets(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := &addrLimiter{rate: 1, burst: 2}
	for i := range sweepAt {
		l.take(fmt.Sprint("quiet-", i), t0) // one of two tokens left
	}
	l.take("quiet-0", t0) // none left
	t1 := t0.Add(time.Second)
	l.take("new", t1)
	if got := len(l.buckets); got != 2 {
		t.Fatalf("%d buckets after the sweep; want 2 (new, and quiet-0 still refilling)", got)
	}
	// quiet-0 kept its debt: one token back after a second, not a fresh burst.
	if ok, _ := l.take("quiet-0", t1); !ok {
		t.Fatalf("quiet-0 at t0+1s refused; want the token that came back")
	}
	if ok, wait := l.take("quiet-0", t1); ok || wait.Round(time.Millisecond) != time.Second {
		t.Errorf("quiet-0 again at t0+1s = %v, %v; want refused for 1s", ok, wait)
	}
}

// TestAddrLimiter_ClockStepsBack: a clock that steps back refills nothing.
func TestAddrLimiter_ClockStepsBack(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := &addrLimiter{rate: 10, burst: 1}
	l.take("a", t0)
	if ok, _ := l.take("a", t0.Add(-time.Hour)); ok {
		t.Errorf("take an hour before the last one granted; want refused")
	}
	if ok, _ := l.take("a", t0.Add(100*time.Millisecond)); !ok {
		t.Errorf("take 1/rate after the first refused; want granted")
	}
}
