//go:build !linux

package realtime_test

// pinProcess is only available on Linux; elsewhere the flood test runs its
// flooder in the same process.
func pinProcess(int) (restore func(), ok bool) { return nil, false }
