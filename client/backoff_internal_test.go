package client

import (
	"testing"
	"time"
)

// Each wait is random in [0, backoff), the backoff doubling from min to max
// and starting over at reset.
func TestBackoff_FullJitter(t *testing.T) {
	const samples = 200
	caps := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, limit := range caps {
		low := false // full jitter, unlike equal jitter, goes below limit/2
		for range samples {
			b := Backoff{Min: DefaultMinBackoff, Max: DefaultMaxBackoff}
			for range i {
				b.Next()
			}
			w := b.Next()
			if w < 0 || w >= limit {
				t.Fatalf("wait %d = %v; want it in [0, %v)", i, w, limit)
			}
			low = low || w < limit/2
		}
		if !low {
			t.Errorf("wait %d: %d samples all at %v or more; want full jitter over [0, %v)", i, samples, limit/2, limit)
		}
	}
	b := Backoff{Min: DefaultMinBackoff, Max: DefaultMaxBackoff}
	for range 5 {
		b.Next()
	}
	b.Reset()
	if w := b.Next(); w >= DefaultMinBackoff {
		t.Errorf("wait after reset = %v; want under %v", w, DefaultMinBackoff)
	}
}
