package realtime_test

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lanfeed/feed"
	"lanfeed/realtime"
)

// benchPost is a typical post: a short title and a paragraph of body.
func benchPost() feed.Post {
	now := feed.UnixMilli(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC).UnixMilli())
	return feed.Post{ID: feed.NewID(), Title: "Lunch is in the kitchen", Body: strings.Repeat("Soup and bread for everyone. ", 10),
		Author: "alice", CreatedAt: now, UpdatedAt: now, Version: 1, Seq: 12345}
}

// BenchmarkEncodePostEvent measures encoding one posts event: done once per
// change, whatever the number of peers.
func BenchmarkEncodePostEvent(b *testing.B) {
	p := benchPost()
	b.SetBytes(int64(len(feed.EncodePostEvent(feed.ActionCreate, p))))
	b.ReportAllocs()
	for b.Loop() {
		feed.EncodePostEvent(feed.ActionCreate, p)
	}
}

// BenchmarkEncodeAck measures encoding the ack the writing peer gets instead
// of the posts event.
func BenchmarkEncodeAck(b *testing.B) {
	p := benchPost()
	b.SetBytes(int64(len(realtime.EncodeAck(7, p))))
	b.ReportAllocs()
	for b.Loop() {
		realtime.EncodeAck(7, p)
	}
}

// BenchmarkHub_Broadcast measures the fan-out of one posts event to N real
// websocket peers on loopback, which read and discard every message. One op
// is one Hub.Broadcast followed by waiting until every peer has read that
// message: ns/op is the last-peer latency of one post, ns/delivery that
// divided by N, broadcast-ns/op the part the publisher spends inside
// Broadcast (queueing to every peer). Messages are not pipelined, so the
// writers never batch frames. The peers' reads run in this process too, so
// ns/op and allocs/op include the client side of every delivery.
func BenchmarkHub_Broadcast(b *testing.B) {
	for _, peers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("peers=%d", peers), func(b *testing.B) {
			n := startNode(b, realtime.Config{MaxPeersPerAddr: peers})
			var (
				wg        sync.WaitGroup
				delivered atomic.Int64             // messages read, all peers together
				want      atomic.Int64             // delivered once the current op is done
				arrived   = make(chan struct{}, 1) // the read that reached want
			)
			b.Cleanup(wg.Wait) // runs after the dials' cleanups have closed the connections
			for i := range peers {
				c := n.dial(b, dialOpts{name: fmt.Sprintf("peer%d", i), query: url.Values{"presence": {"0"}}})
				c.conn.SetReadDeadline(time.Time{}) // closing the connection ends the reader
				wg.Go(func() {
					var buf bytes.Buffer
					for {
						_, r, err := c.conn.NextReader()
						if err != nil {
							return
						}
						buf.Reset()
						if _, err := buf.ReadFrom(r); err != nil {
							return
						}
						if !bytes.HasPrefix(buf.Bytes(), postsPrefix) { // hello (and presence, for nodes without presence=0)
							continue
						}
						if delivered.Add(1) == want.Load() {
							arrived <- struct{}{}
						}
					}
				})
			}

			hub := n.srv.Hub
			frame := feed.EncodePostEvent(feed.ActionCreate, benchPost())
			seq := hub.Seq()
			timeout := time.NewTimer(readWait)
			defer timeout.Stop()
			var inBroadcast time.Duration
			b.ReportAllocs()
			for b.Loop() {
				seq++
				want.Add(int64(peers))
				start := time.Now()
				hub.Broadcast(realtime.Message{Seq: seq, Frame: frame})
				inBroadcast += time.Since(start)
				timeout.Reset(readWait)
				select {
				case <-arrived:
				case <-timeout.C:
					b.Fatalf("after %v: %d of %d deliveries; want all", readWait, delivered.Load(), want.Load())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*peers), "ns/delivery")
			b.ReportMetric(float64(inBroadcast.Nanoseconds())/float64(b.N), "broadcast-ns/op")
		})
	}
}
