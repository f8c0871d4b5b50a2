//go:build unix

package realtime

import (
	"bytes"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkBroadcast_Path compares the two ways a broadcast reaches idle
// peers in one binary: path=writer starts each peer's writer goroutine
// (the engine before direct writes), path=direct writes to each socket
// from the broadcaster. N real loopback websocket peers read and discard.
// One op is one Broadcast and the wait until every peer has read it, so
// nothing queues and corking has nothing to merge (S2's situation).
// ns/delivery is wall time per delivery; cpu-ns/delivery is the process's
// CPU time (user and system, the peers' reads included, which are the
// same for both paths) per delivery, the steadier figure on a busy
// machine.
func BenchmarkBroadcast_Path(b *testing.B) {
	for _, peers := range []int{100, 1000} {
		for _, path := range []string{"writer", "direct"} {
			b.Run(fmt.Sprintf("peers=%d/path=%s", peers, path), func(b *testing.B) {
				benchBroadcast(b, peers, path == "direct")
			})
		}
	}
}

func benchBroadcast(b *testing.B, peers int, direct bool) {
	h, u := directHub(b, direct, Config{MaxPeersPerAddr: peers})
	var (
		wg        sync.WaitGroup
		delivered atomic.Int64             // posts read, all peers together
		want      atomic.Int64             // delivered once the current op is done
		arrived   = make(chan struct{}, 1) // the read that reached want
	)
	var conns []*websocket.Conn
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	q := url.Values{"presence": {"0"}}
	for range peers {
		c, _, err := websocket.DefaultDialer.Dial(u+"?"+q.Encode(), nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		wg.Go(func() {
			var buf bytes.Buffer
			first := true
			for {
				_, r, err := c.NextReader()
				if err != nil {
					return
				}
				buf.Reset()
				if _, err := buf.ReadFrom(r); err != nil {
					return
				}
				if first { // hello
					first = false
					continue
				}
				if delivered.Add(1) == want.Load() {
					arrived <- struct{}{}
				}
			}
		})
	}
	waitFor(b, "every peer to register", func() bool { return h.Count() == peers })
	m := postMsg(1, 300)
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	cpu0 := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		m.Seq++
		want.Add(int64(peers))
		h.Broadcast(m)
		timeout.Reset(time.Minute)
		select {
		case <-arrived:
		case <-timeout.C:
			b.Fatalf("after a minute: %d of %d deliveries; want all", delivered.Load(), want.Load())
		}
	}
	deliveries := float64(b.N * peers)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/deliveries, "cpu-ns/delivery")
	if direct {
		h.mu.RLock()
		total := 0
		for p := range h.peers {
			total += directs(p)
		}
		h.mu.RUnlock()
		if total == 0 {
			b.Fatal("no frame written directly")
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
