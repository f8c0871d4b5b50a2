package realtime_test

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinProcess moves every thread of this process to cpu and returns a
// function that gives them back their old CPU set. It reports false where
// that cannot be done (one CPU, no permission).
func pinProcess(cpu int) (restore func(), ok bool) {
	if runtime.NumCPU() < 2 {
		return nil, false
	}
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil || !old.IsSet(cpu) || old.Count() < 2 {
		return nil, false
	}
	one.Set(cpu)
	if !setAllThreads(&one) {
		setAllThreads(&old)
		return nil, false
	}
	return func() { setAllThreads(&old) }, true
}

// setAllThreads applies set to every thread the process has now; threads
// started later inherit it from the thread that creates them.
func setAllThreads(set *unix.CPUSet) bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	ok := true
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
			ok = false
		}
	}
	return ok
}
