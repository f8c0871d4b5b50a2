package main

import (
	"fmt"
	"os"
	"time"

	"lanfeed/bench/loadgen"
)

// DiskProbe is how long this machine's disk took to make a small append
// durable: every lanfeed write waits for one such fsync (shared by a group
// commit), so a disk that stalls shows in the tail latency of S2, S2b, S3,
// S5 and S6 whatever the engine does.
type DiskProbe struct {
	When    string          `json:"when"` // "before" or "after" the scenarios
	Fsync   loadgen.Summary `json:"fsync"`
	Failure string          `json:"failure,omitempty"`
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
	var h loadgen.Hist
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
		h.Record(time.Since(t0))
	}
	p.Fsync = h.Summary()
	return p
}

func (p DiskProbe) String() string {
	s := p.Fsync
	if s.Count == 0 {
		return fmt.Sprintf("%s the runs: no fsync measured (%s)", p.When, p.Failure)
	}
	return fmt.Sprintf("%s the runs: p50 %.2f ms, p99 %.2f ms, p99.9 %.1f ms, max %.1f ms (%d fsyncs in %s)",
		p.When, s.P50, s.P99, s.P999, s.Max, s.Count, diskProbeTime)
}
