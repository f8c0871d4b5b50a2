// Command loadgen runs one benchmark load against a lanfeed node or the
// socket.io reference server and prints the result as JSON on stdout.
//
//	loadgen -proto lanfeed -url http://127.0.0.1:7700/ -token T -pid 1234 \
//	    -peers 1000 -phases 50:10s
//
// -phases is a comma-separated list of RATE:DURATION (posts per second and
// how long); with -stop-on-knee the run ends after the first phase whose p99
// exceeds -knee-p99 or that lost anything (the S3 step-up).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"lanfeed/bench/loadgen"
)

func main() {
	var cfg loadgen.Config
	var phases string
	flag.StringVar(&cfg.Proto, "proto", loadgen.Lanfeed, "protocol: lanfeed, socketio, or lanfeed-socketio (lanfeed's /socket.io/)")
	flag.StringVar(&cfg.URL, "url", "", "server base `URL`, e.g. http://127.0.0.1:7700/")
	flag.StringVar(&cfg.PeerURL, "peer-url", "", "base `URL` the peers connect to instead of -url (a node following -url's)")
	flag.IntVar(&cfg.PeerSplit, "peer-split", 0, "with -peer-url: the first `N` peers connect to -url, the rest to -peer-url; each group is timed apart too")
	flag.StringVar(&cfg.Token, "token", "", "lanfeed pairing `token` for the publisher")
	flag.IntVar(&cfg.PID, "pid", 0, "server process `id`, for CPU time and RSS from /proc")
	flag.IntVar(&cfg.Peers, "peers", 100, "peers that read as fast as they can")
	flag.IntVar(&cfg.Slow, "slow", 0, "extra peers that read one frame per -slow-delay through a 4 KiB receive buffer")
	flag.DurationVar(&cfg.SlowDelay, "slow-delay", 100*time.Millisecond, "a slow peer's pause after each frame")
	flag.IntVar(&cfg.SourceIPs, "source-ips", 0, "spread peers over this many 127.0.x.y source addresses (for per-address connection caps)")
	flag.DurationVar(&cfg.RampTimeout, "ramp-timeout", 60*time.Second, "stop connecting peers after this long")
	flag.DurationVar(&cfg.SettleMax, "settle-max", 30*time.Second, "after the ramp, wait at most this long for the server to go idle")
	flag.DurationVar(&cfg.Hold, "hold", 0, "stay idle this long after settling (S1)")
	flag.StringVar(&phases, "phases", "", "publishing phases, RATE:DURATION,... e.g. 50:10s")
	flag.DurationVar(&cfg.Drain, "drain", 10*time.Second, "after a phase, wait at most this long for its deliveries")
	flag.BoolVar(&cfg.StopOnKnee, "stop-on-knee", false, "stop after the first phase over -knee-p99 or with any loss")
	flag.DurationVar(&cfg.KneeP99, "knee-p99", 100*time.Millisecond, "p99 above which a phase is past the knee")
	flag.DurationVar(&cfg.RecoverBelow, "recover-below", 50*time.Millisecond, "last-peer latency under which a phase counts as recovered")
	timeout := flag.Duration("timeout", 10*time.Minute, "hard limit for the whole run")
	flag.Parse()
	if cfg.URL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		os.Exit(2)
	}
	var err error
	if cfg.Phases, err = ParsePhases(phases); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(res)
}

// ParsePhases reads "RATE:DURATION,...".
func ParsePhases(s string) ([]loadgen.Phase, error) {
	var out []loadgen.Phase
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		r, d, ok := strings.Cut(part, ":")
		rate, err1 := strconv.ParseFloat(r, 64)
		dur, err2 := time.ParseDuration(d)
		if !ok || err1 != nil || err2 != nil || rate <= 0 || dur <= 0 {
			return nil, fmt.Errorf("phase %q: want RATE:DURATION, e.g. 50:10s", part)
		}
		out = append(out, loadgen.Phase{Rate: rate, Dur: dur})
	}
	return out, nil
}
