package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBuckets per power of two: values are kept to within 1/64 (1.6 %).
const (
	subBits    = 6
	subBuckets = 1 << subBits
	// maxExp covers latencies up to 2^40 ns (about 18 minutes).
	maxExp = 40
)

// Hist is a log-linear latency histogram in nanoseconds, safe for concurrent
// Record calls without locks (one atomic add per value), so every peer
// goroutine can record into the same one.
type Hist struct {
	counts [(maxExp + 1) * subBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < subBuckets {
		if v < 0 {
			v = 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits // >= 1
	if e > maxExp {
		return len(Hist{}.counts) - 1
	}
	return e*subBuckets + int(uint64(v)>>(e-1)) - subBuckets
}

// valueOf returns the upper bound of bucket b.
func valueOf(b int) int64 {
	if b < subBuckets {
		return int64(b)
	}
	e := b / subBuckets
	m := int64(b%subBuckets + subBuckets)
	return (m+1)<<(e-1) - 1
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns how many values were recorded.
func (h *Hist) Count() int64 { return h.n.Load() }

// Quantile returns the value at quantile q (0..1), to the histogram's
// precision; the maximum is exact.
func (h *Hist) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max.Load())
	}
	rank := int64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			return time.Duration(min(valueOf(b), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Summary is a histogram's report, in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	P999  float64 `json:"p999Ms"`
	Max   float64 `json:"maxMs"`
}

// Summary reports the usual quantiles.
func (h *Hist) Summary() Summary {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return Summary{Count: h.Count(), P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Quantile(1))}
}
