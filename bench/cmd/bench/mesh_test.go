package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// peakHeap reads the Go runtime's gctrace lines among a server's log lines.
func TestPeakHeap_ReadsGCTraceLines(t *testing.T) {
	log := filepath.Join(t.TempDir(), "follower.log")
	lines := "$ lanfeedd serve\n" +
		"gc 1 @0.011s 2%: 0.010+0.52+0.003 ms clock, 0.021+0.10/0.35/0.21+0.007 ms cpu, 3->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
		"time=2026-12-02T03:00:00Z level=INFO msg=\"follow: node unreachable\"\n" +
		"gc 2 @0.530s 3%: 0.011+1.1+0.002 ms clock, 0.023+0.2/0.9/0.1+0.004 ms cpu, 7->8->2 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
	if err := os.WriteFile(log, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	atStart, live, err := peakHeap(log)
	if err != nil || atStart != 7 || live != 2 {
		t.Errorf("peakHeap() = %v, %v, %v; want 7, 2, nil", atStart, live, err)
	}
	if err := os.WriteFile(log, []byte("no gc here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := peakHeap(log); err == nil {
		t.Errorf("peakHeap(no gctrace) = nil error; want one")
	}
}

// steadyRate leaves out the start and the end of a catch-up.
func TestSteadyRate_BetweenTenAndNinetyPercent(t *testing.T) {
	seen := []progress{
		{at: 100 * time.Millisecond, seq: 0},
		{at: 200 * time.Millisecond, seq: 1000}, // 10%
		{at: 700 * time.Millisecond, seq: 6000},
		{at: 1200 * time.Millisecond, seq: 9000}, // 90%
		{at: 5 * time.Second, seq: 10000},        // a slow tail, left out
	}
	if got := steadyRate(seen, 10000); got != 8000 {
		t.Errorf("steadyRate() = %v; want 8000 changes/s", got)
	}
	if got := steadyRate(seen[:2], 10000); got != 0 {
		t.Errorf("steadyRate(never at 90%%) = %v; want 0", got)
	}
}
