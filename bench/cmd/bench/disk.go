package main

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// DiskProbe is how long this machine's disk took to make a small append
// durable: every lanfeed write waits for one such fsync (shared by a group
// commit), so a disk that stalls shows in the tail latency of S2, S2b, S3,
// S5 and S6 whatever the engine does.
type DiskProbe struct {
	When    string  `json:"when"` // "before" or "after" the scenarios
	Fsyncs  int     `json:"fsyncs"`
	P50ms   float64 `json:"p50Ms"`
	P99ms   float64 `json:"p99Ms"`
	P999ms  float64 `json:"p999Ms"`
	MaxMs   float64 `json:"maxMs"`
	Failure string  `json:"failure,omitempty"`
}

// diskProbeTime bounds one probe; one fsync every diskProbeGap keeps it
// near the rate of the benchmarks' own commits.
const (
	diskProbeTime = 5 * time.Second
	diskProbeGap  = 2 * time.Millisecond
)

// probeDisk appends 4 KiB and fsyncs it, again and again for diskProbeTime,
// in a file under dir (the directory of the servers' databases).
func probeDisk(dir, when string) DiskProbe {
	p := DiskProbe{When: when}
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		p.Failure = err.Error()
		return p
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	var took []time.Duration
	for end := time.Now().Add(diskProbeTime); time.Now().Before(end); time.Sleep(diskProbeGap) {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			p.Failure = err.Error()
			break
		}
		if err := f.Sync(); err != nil {
			p.Failure = err.Error()
			break
		}
		took = append(took, time.Since(t0))
	}
	if len(took) == 0 {
		return p
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[min(len(took)-1, int(q*float64(len(took))))]) / 1e6
	}
	p.Fsyncs, p.P50ms, p.P99ms, p.P999ms, p.MaxMs = len(took), at(0.5), at(0.99), at(0.999), at(1)
	return p
}

func (p DiskProbe) String() string {
	if p.Fsyncs == 0 {
		return fmt.Sprintf("%s the runs: no fsync measured (%s)", p.When, p.Failure)
	}
	return fmt.Sprintf("%s the runs: p50 %.2f ms, p99 %.2f ms, p99.9 %.1f ms, max %.1f ms (%d fsyncs in %s)",
		p.When, p.P50ms, p.P99ms, p.P999ms, p.MaxMs, p.Fsyncs, diskProbeTime)
}
