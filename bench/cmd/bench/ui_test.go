package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lanfeed/store"
)

// The browser side's output, as the schema gives it.
const uiSample = `{ "seed": 100000,
  "steady": {"rate":100,"seconds":30,"sent":3000,"shown":2999,"p50Ms":21,"p99Ms":88,"maxMs":140,
             "samplesMs":[12,21,88],"longTasks":4,"longTasksOver50":1,"longestTaskMs":63},
  "burst":  {"changes":5000,"shown":5000,"appliedMs":1500,"inputP99Ms":40,"inputMaxMs":70,"longestTaskMs":48},
  "load":   {"firstPageMs":180},
  "scroll": {"posts":10000,"seconds":6.5},
  "memory": {"scrolledPast":100000,"domFirst":800,"domEnd":950,"heapFirstMB":9,"heapEndMB":13} }`

func TestUIResult_ReadsTheSchema(t *testing.T) {
	var r uiResult
	if err := json.Unmarshal([]byte(uiSample), &r); err != nil {
		t.Fatal(err)
	}
	got := []float64{r.Seed, r.Steady.Rate, r.Steady.Seconds, r.Steady.Sent, r.Steady.Shown, r.Steady.P50Ms, r.Steady.P99Ms,
		r.Steady.MaxMs, float64(len(r.Steady.SamplesMs)), r.Steady.LongTasks, r.Steady.LongTasksOver50, r.Steady.LongestTaskMs,
		r.Burst.Changes, r.Burst.Shown, r.Burst.AppliedMs, r.Burst.InputP99Ms, r.Burst.InputMaxMs, r.Burst.LongestTaskMs,
		r.Load.FirstPageMs, r.Scroll.Posts, r.Scroll.Seconds,
		r.Memory.ScrolledPast, r.Memory.DomFirst, r.Memory.DomEnd, r.Memory.HeapFirstMB, r.Memory.HeapEndMB}
	want := []float64{100000, 100, 30, 3000, 2999, 21, 88, 140, 3, 4, 1, 63, 5000, 5000, 1500, 40, 70, 48, 180, 10000, 6.5,
		100000, 800, 950, 9, 13}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %v; want %v", i, got[i], want[i])
		}
	}
	// One post missing from the page fails the smoke; a burst of another
	// size than asked for too.
	if p := uiSmokeProblems(&r, 5000); len(p) != 1 {
		t.Errorf("uiSmokeProblems(2999 of 3000 shown) = %q; want one problem", p)
	}
	r.Steady.Shown = r.Steady.Sent
	if p := uiSmokeProblems(&r, 5000); len(p) != 0 {
		t.Errorf("uiSmokeProblems(all shown) = %q; want none", p)
	}
	if p := uiSmokeProblems(&r, 200); len(p) != 1 {
		t.Errorf("uiSmokeProblems(burst of 5000, asked 200) = %q; want one problem", p)
	}
}

// Each run gets its own copy of the seeded node: what it writes does not
// reach the seed.
func TestCopyDB_LeavesTheSeedAlone(t *testing.T) {
	from, to := t.TempDir(), filepath.Join(t.TempDir(), "run")
	if err := os.WriteFile(filepath.Join(from, store.FileName), []byte("db"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyDB(from, to); err != nil {
		t.Fatalf("copyDB() = %v", err)
	}
	if err := os.WriteFile(filepath.Join(to, store.FileName), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(from, store.FileName)); string(b) != "db" {
		t.Errorf("seed = %q after the copy changed; want %q", b, "db")
	}
	if _, err := os.Stat(filepath.Join(to, store.FileName+"-wal")); err == nil {
		t.Errorf("copyDB made a -wal file the seed does not have")
	}
}
