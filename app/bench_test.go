package app_test

import (
	"runtime"
	"strings"
	"testing"

	"lanfeed/app"
	"lanfeed/feed"
)

// BenchmarkService_Create measures Service.Create end to end (validate,
// commit with fsync, encode and publish the event to a sink with no
// consumers) on a real database file, by one writer and by about 64 at once.
// The gap between the two is the group commit: concurrent writers share one
// transaction and one fsync, so writers=64 costs far less per post.
func BenchmarkService_Create(b *testing.B) {
	in := feed.NewPost{Title: "Lunch is in the kitchen", Body: strings.Repeat("Soup and bread for everyone. ", 10)}
	b.Run("writers=1", func(b *testing.B) {
		svc, _ := newService(b, &app.Fanout{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Create(b.Context(), in, feed.Caller{}); err != nil {
				b.Fatalf("Create() = %v; want nil error", err)
			}
		}
	})
	b.Run("writers=64", func(b *testing.B) {
		svc, _ := newService(b, &app.Fanout{})
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // goroutines = parallelism × GOMAXPROCS
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Create(b.Context(), in, feed.Caller{}); err != nil {
					b.Errorf("Create() = %v; want nil error", err)
					return
				}
			}
		})
	})
}
