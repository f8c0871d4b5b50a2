package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"lanfeed/bench/loadgen"
)

// row is one line of the report: a metric of a scenario, for both servers.
type row struct {
	key    string
	label  string
	target string
	// met judges lanfeed's median (and socket.io's, NaN when absent) against
	// the target, given every result so far; nil: nothing to judge.
	met func(lf, sio float64, r *Results) bool
}

// scenario is one line of the matrix.
type scenario struct {
	id    string
	title string
	rows  []row
	run   func(ctx context.Context, d *driver, kind string, rep int) error
}

func scenarioByID(id string) (scenario, bool) {
	for _, s := range scenarios {
		if strings.EqualFold(s.id, id) {
			return s, true
		}
	}
	return scenario{}, false
}

type judge = func(lf, sio float64, r *Results) bool

func le(limit float64) judge {
	return func(lf, _ float64, _ *Results) bool { return lf <= limit }
}

func atLeast(limit float64) judge {
	return func(lf, _ float64, _ *Results) bool { return lf >= limit }
}

// vsFloor judges lanfeed against the floor measured in the same run: the
// ratio lanfeed/floor of metric in scenario id (Results.ratio: the median
// of the per-repetition ratios) within limit (at most, or with atLeast at
// least), and, with belowSIO, lanfeed's median below socket.io's. Without
// a floor figure it is not met: there is nothing to compare with.
func vsFloor(id, metric string, limit float64, least, belowSIO bool) judge {
	return func(lf, sio float64, r *Results) bool {
		q := r.ratio(id, metric, kindLanfeed, kindFloor)
		if q != q {
			return false
		}
		ok := q <= limit
		if least {
			ok = q >= limit
		}
		return ok && (!belowSIO || (sio == sio && lf < sio))
	}
}

// latencyScenario says whether the floor runs in scenario id: the ones
// that time the fan-out (S2, S2b, S3, S6).
func latencyScenario(id string) bool {
	switch id {
	case "S2", "S2b", "S3", "S6":
		return true
	}
	return false
}

// lanfeedOnly says whether scenario id measures lanfeed alone: the mesh
// and the web UI have no counterpart in the socket.io recipe.
func lanfeedOnly(id string) bool { return isMesh(id) || id == "U1" }

var scenarios = []scenario{
	{
		id: "S1", title: "10,000 idle peers, 60 s",
		rows: []row{
			{"rssPerPeer", "server RSS growth per peer (KiB)", "<= 10", le(10)},
			{"connected", "peers connected", "10,000", nil},
			{"rampS", "time to connect them and go idle (s)", "", nil},
			{"rampCPU", "server CPU for the ramp (s)", "", nil},
			{"dropped", "peers dropped (during the ramp or idle)", "0", le(0)},
		},
		run: runS1,
	},
	{
		id: "S2", title: "1,000 peers, 50 posts/s over websocket emit",
		rows: append(latencyRows("p99 <= 15 ms and >= 10x lower than socket.io's", 15, 10),
			row{"p99", "p99 delivery against the floor (ms)", "<= 1.3x the floor's, and below socket.io's", vsFloor("S2", "p99", 1.3, false, true)},
			row{"p50", "p50 delivery against the floor (ms)", "<= 1.3x the floor's, and below socket.io's", vsFloor("S2", "p50", 1.3, false, true)}),
		run: runRate("S2", 50, 1),
	},
	{
		id: "S2b", title: "1,000 peers, 100 posts/s",
		rows: append(latencyRows("100% delivered; p99 >= 20x lower than socket.io's", 0, 20),
			row{"p99", "p99 delivery against the floor (ms)", "<= 1.5x the floor's", vsFloor("S2b", "p99", 1.5, false, false)},
			row{"p50", "p50 delivery against the floor (ms)", "<= 1.3x the floor's, and below socket.io's", vsFloor("S2b", "p50", 1.3, false, true)}),
		run: runRate("S2b", 100, 2),
	},
	{
		id: "S3", title: "1,000 peers, rate stepped up until p99 > 100 ms or any loss",
		rows: []row{
			{"knee", "knee (deliveries/s)", ">= 200,000 and >= 2x socket.io's", func(lf, sio float64, _ *Results) bool {
				return lf >= 200000 && (sio != sio || lf >= 2*sio)
			}},
			{"kneeCPU", "server CPU per delivery at the knee (us)", "< 5", func(lf, _ float64, _ *Results) bool { return lf < 5 }},
			{"kneeP99", "p99 at the knee (ms)", "<= 100", le(100)},
			{"knee", "knee against the floor's (deliveries/s)", ">= 0.8x the floor's", vsFloor("S3", "knee", 0.8, true, false)},
		},
		run: runS3,
	},
	{
		id: "S4", title: "overload: 2.5x the knee for 10 s, 5% slow peers, then 50 posts/s",
		rows: []row{
			{"rssRatio", "peak RSS / RSS with peers connected", "bounded (<= 2x idle + queue limits)", nil},
			{"slowDropped", "slow peers disconnected by the server (5% of the peers are slow: 50)", "all", nil},
			{"slowClosed1013", "slow peers that read a 1013 close frame", "all", nil},
			{"fastDropped", "fast peers dropped", "0", le(0)},
			{"p99", "p99 of the fast peers during overload (ms)", "<= 2x S2's", func(lf, _ float64, r *Results) bool {
				s2 := r.Values["S2"][kindLanfeed]["p99"]
				if len(s2) == 0 {
					return false // S2 not run: cannot say
				}
				m, _, _ := stats(s2)
				return lf <= 2*m
			}},
			{"recoveryS", "recovery: until every post reaches all peers < 50 ms (s)", "<= 5", le(5)},
		},
		run: runS4,
	},
	{
		id: "S5", title: "64 concurrent writers, synchronous=FULL, ack after durable commit",
		rows: []row{
			{"pps64", "committed posts/s, 64 writers (socket.io column: better-sqlite3)", ">= 20,000", atLeast(20000)},
			{"pps1", "committed posts/s, 1 writer (one commit per post baseline)", "", nil},
			{"p99", "create latency p99, 64 writers (ms)", "", nil},
		},
		run: runS5,
	},
	{
		id: "S6", title: "full path: write -> durable commit -> 1,000 peers at 100 posts/s (socket.io with better-sqlite3)",
		rows: []row{
			{"lastP99", "p99 create-to-last-peer (ms)", "<= 20", le(20)},
			{"p99", "p99 delivery (ms)", "", nil},
			{"delivered", "delivered (%)", "100", atLeast(100)},
			{"cpuPerDelivery", "server CPU per delivery (us)", "", nil},
			{"p99", "p99 delivery against the floor (ms; the floor makes each post durable first)", "<= 1.5x the floor's", vsFloor("S6", "p99", 1.5, false, false)},
		},
		run: runRate("S6", 100, 2),
	},
	{
		id: "S7", title: "lanfeedd cold start with 100,000 posts",
		rows: []row{
			{"readyMs", "exec to listening (ms)", "<= 300", le(300)},
			{"pageP99", "first feed page of 50, p99 (ms)", "<= 2", le(2)},
			{"changesMs", "changes-since of 10,000 posts over /ws, median (ms)", "<= 50", le(50)},
		},
		run: runS7,
	},
}

func latencyRows(target string, p99Limit, factor float64) []row {
	return []row{
		{"p99", "p99 delivery (ms)", target, func(lf, sio float64, _ *Results) bool {
			return (p99Limit == 0 || lf <= p99Limit) && (sio != sio || lf*factor <= sio)
		}},
		{"p50", "p50 delivery (ms)", "", nil},
		{"p999", "p99.9 delivery (ms)", "", nil},
		{"lastP99", "p99 last-peer latency per post (ms)", "", nil},
		{"delivered", "delivered (%)", "100", atLeast(100)},
		{"cpuPerDelivery", "server CPU per delivery (us)", "", nil},
		{"serverCPU", "server CPU use (% of its core)", "", nil},
	}
}

// scale applies the quick-run overrides.
func (d *driver) scalePeers(n int) int {
	if d.peers > 0 {
		return d.peers
	}
	return n
}

func (d *driver) scaleDur(t time.Duration) time.Duration {
	if d.dur > 0 {
		return d.dur
	}
	return t
}

// serverKind is the server that runs for the report column kind: in S6,
// the full path with a durable write, socket.io with better-sqlite3 and
// the floor with its append and fdatasync.
func serverKind(scenario, kind string) string {
	if scenario == "S6" {
		switch kind {
		case kindSocketIO:
			return kindSocketIOPe
		case kindFloor:
			return kindFloorDurable
		}
	}
	return kind
}

func runName(id, kind string, rep int) string { return fmt.Sprintf("%s-%s-%d", id, kind, rep) }

// loadRun starts a fresh server, runs the load generator against it, and
// records the raw result.
func (d *driver) loadRun(ctx context.Context, id, kind string, rep int, a loadArgs) (*loadgen.Result, error) {
	name := runName(id, kind, rep)
	var res *loadgen.Result
	var floorStats *floorStats
	err := d.withServer(ctx, serverKind(id, kind), name, func(s *server) error {
		var err error
		if res, err = d.load(ctx, s, name+"-loadgen", a); err != nil || kind != kindFloor {
			return err
		}
		floorStats, err = readFloorStats(ctx, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.results.raw(id, kind, rep, res)
	if fs := floorStats; fs != nil && fs.WouldBlock+fs.Short+fs.Failed > 0 {
		d.results.note(id, kind, fmt.Sprintf("rep %d: the floor closed %d peers whose write would block, %d after a short write, "+
			"%d on another error (of %d)", rep, fs.WouldBlock, fs.Short, fs.Failed, fs.Peers))
	}
	if len(res.ConnectErrors) > 0 {
		d.results.note(id, kind, fmt.Sprintf("rep %d: %d of %d peers connected; errors: %v",
			rep, res.Connected, res.Peers+res.Slow, res.ConnectErrors))
	}
	for i, p := range res.Phases {
		if p.LoadgenSat {
			d.results.note(id, kind, fmt.Sprintf("rep %d, %g posts/s: load generator saturated (%.0f%% of its core, publisher %.2f s late)",
				rep, p.Rate, p.LoadgenCPU*100, p.PublisherLagS))
			d.results.flag(id, kind, i)
		}
		if p.Errors > 0 {
			d.results.note(id, kind, fmt.Sprintf("rep %d, %g posts/s: %d writes refused", rep, p.Rate, p.Errors))
		}
	}
	return res, nil
}

func runS1(ctx context.Context, d *driver, kind string, rep int) error {
	hold := 60 * time.Second
	if d.hold > 0 {
		hold = d.hold
	}
	res, err := d.loadRun(ctx, "S1", kind, rep, loadArgs{
		peers: d.scalePeers(10000), hold: hold,
		rampTimeout: 4 * time.Minute, settleMax: 2 * time.Minute, timeout: 10 * time.Minute,
	})
	if err != nil {
		return err
	}
	perPeer := 0.0
	if res.Connected > 0 {
		perPeer = float64(res.RSSEndKiB-res.RSSIdleKiB) / float64(res.Connected)
	}
	d.results.add("S1", kind, "rssPerPeer", perPeer)
	d.results.add("S1", kind, "connected", float64(res.Connected))
	d.results.add("S1", kind, "rampS", res.RampS+res.SettleS)
	d.results.add("S1", kind, "rampCPU", res.RampCPUS)
	d.results.add("S1", kind, "dropped", float64(res.DroppedFast))
	return nil
}

// runRate is S2, S2b and S6: fixed rate for 20 s on 1,000 peers. factor
// scales the -rate override (S2b and S6 run at twice S2's rate).
func runRate(id string, rate, factor float64) func(context.Context, *driver, string, int) error {
	return func(ctx context.Context, d *driver, kind string, rep int) error {
		r := rate
		if d.rate > 0 {
			r = d.rate * factor
		}
		res, err := d.loadRun(ctx, id, kind, rep, loadArgs{
			peers: d.scalePeers(1000), phases: []loadgen.Phase{{Rate: r, Dur: d.scaleDur(20 * time.Second)}},
			drain: 30 * time.Second,
		})
		if err != nil {
			return err
		}
		if len(res.Phases) == 0 {
			return fmt.Errorf("no phase ran")
		}
		p := res.Phases[0]
		d.results.add(id, kind, "p99", p.Latency.P99)
		d.results.add(id, kind, "p50", p.Latency.P50)
		d.results.add(id, kind, "p999", p.Latency.P999)
		d.results.add(id, kind, "lastP99", p.LastPeer.P99)
		d.results.add(id, kind, "delivered", 100*p.Ratio)
		d.results.add(id, kind, "cpuPerDelivery", p.CPUPerDelivUS)
		d.results.add(id, kind, "serverCPU", 100*p.ServerCPUFrac)
		if p.Dropped > 0 {
			d.results.note(id, kind, fmt.Sprintf("rep %d: %d peers dropped", rep, p.Dropped))
		}
		return nil
	}
}

// s3Steps are the posts/s of S3's step-up; with 1,000 peers each step is a
// thousand times that in deliveries per second.
var s3Steps = []float64{25, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600}

func runS3(ctx context.Context, d *driver, kind string, rep int) error {
	var phases []loadgen.Phase
	for _, r := range s3Steps {
		phases = append(phases, loadgen.Phase{Rate: r, Dur: d.scaleDur(5 * time.Second)})
	}
	res, err := d.loadRun(ctx, "S3", kind, rep, loadArgs{peers: d.scalePeers(1000), phases: phases, stopOnKnee: true, drain: 15 * time.Second})
	if err != nil {
		return err
	}
	var knee *loadgen.PhaseResult
	var steps []string
	for i := range res.Phases {
		p := &res.Phases[i]
		mark := ""
		if p.LoadgenSat {
			mark = " (load generator saturated)"
		}
		steps = append(steps, fmt.Sprintf("%g/s: p99 %.1f ms, %.2f%% delivered, %.1f us/delivery%s",
			p.Rate, p.Latency.P99, 100*p.Ratio, p.CPUPerDelivUS, mark))
		d.results.addStep(kind, S3Step{Rep: rep, Rate: p.Rate, Deliveries: p.DeliveriesPS, P50: p.Latency.P50, P99: p.Latency.P99,
			Delivered: 100 * p.Ratio, OK: p.OK, Saturated: p.LoadgenSat})
		if p.OK {
			knee = p
		}
	}
	d.results.note("S3", kind, fmt.Sprintf("rep %d steps: %s", rep, strings.Join(steps, "; ")))
	if n := len(res.Phases); n == len(s3Steps) && res.Phases[n-1].OK {
		d.results.note("S3", kind, fmt.Sprintf("rep %d: no knee up to the highest step (%g posts/s); the knee is above it", rep, s3Steps[n-1]))
	}
	if knee == nil {
		d.results.add("S3", kind, "knee", 0)
		return nil
	}
	d.results.add("S3", kind, "knee", knee.DeliveriesPS)
	d.results.add("S3", kind, "kneeCPU", knee.CPUPerDelivUS)
	d.results.add("S3", kind, "kneeP99", knee.Latency.P99)
	d.results.setKnee(kind, knee.Rate)
	return nil
}

func runS4(ctx context.Context, d *driver, kind string, rep int) error {
	knee := d.results.kneeRate(kind)
	if knee == 0 {
		knee = 100
		d.results.note("S4", kind, "no S3 knee measured in this run: overload at 2.5 x 100 posts/s")
	}
	peers := d.scalePeers(1000)
	slow := max(1, peers/20)
	res, err := d.loadRun(ctx, "S4", kind, rep, loadArgs{
		peers: peers, slow: slow,
		phases: []loadgen.Phase{{Rate: 2.5 * knee, Dur: d.scaleDur(10 * time.Second)}, {Rate: 50, Dur: d.scaleDur(10 * time.Second)}},
		drain:  20 * time.Second,
	})
	if err != nil {
		return err
	}
	if len(res.Phases) < 2 {
		return fmt.Errorf("only %d of 2 phases ran", len(res.Phases))
	}
	over, rec := res.Phases[0], res.Phases[1]
	if res.RSSConnKiB > 0 {
		d.results.add("S4", kind, "rssRatio", float64(max(over.RSSMaxKiB, rec.RSSMaxKiB))/float64(res.RSSConnKiB))
	}
	d.results.add("S4", kind, "slowDropped", float64(res.DroppedSlow))
	d.results.add("S4", kind, "slowClosed1013", float64(res.CloseCodes["1013"]))
	d.results.add("S4", kind, "fastDropped", float64(res.DroppedFast))
	d.results.add("S4", kind, "p99", over.Latency.P99)
	recovery := rec.RecoveredS
	if recovery < 0 {
		recovery = rec.Seconds // never within the phase: report at least its length
		d.results.note("S4", kind, fmt.Sprintf("rep %d: not recovered within the %.0f s after the overload", rep, rec.Seconds))
	}
	d.results.add("S4", kind, "recoveryS", recovery)
	d.results.note("S4", kind, fmt.Sprintf("rep %d: overload %g posts/s, idle RSS %d KiB, connected %d KiB, peak %d KiB; close codes %v",
		rep, over.Rate, res.RSSIdleKiB, res.RSSConnKiB, max(over.RSSMaxKiB, rec.RSSMaxKiB), res.CloseCodes))
	return nil
}

func runS5(ctx context.Context, d *driver, kind string, rep int) error {
	name := runName("S5", kind, rep)
	dir := filepath.Join(d.runDir, name)
	posts := "20000"
	if d.peers > 0 { // quick run
		posts = "500"
	}
	var v struct {
		PostsPerSecond float64         `json:"postsPerSecond"`
		CreateLatency  loadgen.Summary `json:"createLatency"`
		Failed         int             `json:"failed"`
	}
	parse := func(out []byte) error {
		v = struct {
			PostsPerSecond float64         `json:"postsPerSecond"`
			CreateLatency  loadgen.Summary `json:"createLatency"`
			Failed         int             `json:"failed"`
		}{}
		d.results.rawJSON("S5", kind, rep, out)
		return json.Unmarshal(out, &v)
	}
	if kind == kindLanfeed {
		for _, w := range []int{64, 1} {
			out, err := d.runCmd(ctx, fmt.Sprintf("%s-w%d", name, w), pinned(d.serverCPU,
				filepath.Join(d.binDir, "storebench"), "-writers", strconv.Itoa(w), "-posts", posts, "-seconds", "10",
				"-dir", filepath.Join(dir, fmt.Sprintf("w%d", w)))...)
			if err != nil {
				return err
			}
			if err := parse(out); err != nil {
				return err
			}
			d.results.add("S5", kind, fmt.Sprintf("pps%d", w), v.PostsPerSecond)
			if w == 64 {
				d.results.add("S5", kind, "p99", v.CreateLatency.P99)
			}
		}
		return nil
	}
	if err := mkdir(dir); err != nil {
		return err
	}
	out, err := d.runCmd(ctx, name, pinned(d.serverCPU, "node", filepath.Join(d.sioDir, "storebench.js"),
		"--db", filepath.Join(dir, "bs3.db"), "--posts", posts, "--seconds", "10")...)
	if err != nil {
		return err
	}
	if err := parse(out); err != nil {
		return err
	}
	d.results.add("S5", kind, "pps64", v.PostsPerSecond)
	return nil
}

func runS7(ctx context.Context, d *driver, kind string, rep int) error {
	if kind != kindLanfeed {
		return nil // lanfeed's own start-up; the socket.io recipe has no feed to load
	}
	name := runName("S7", kind, rep)
	posts := "100000"
	if d.peers > 0 {
		posts = "2000"
	}
	argv := []string{filepath.Join(d.binDir, "coldstart"), "-lanfeedd", d.lanfeedd, "-posts", posts,
		"-replay", "10000", "-dir", filepath.Join(d.runDir, "S7-seed")} // seeded once, reused by every rep
	if d.serverCPU != "" {
		argv = append(argv, "-taskset", d.serverCPU)
	}
	out, err := d.runCmd(ctx, name, pinned(d.loadCPU, argv...)...)
	if err != nil {
		return err
	}
	d.results.rawJSON("S7", kind, rep, out)
	var v struct {
		ReadyMs      float64         `json:"readyMs"`
		FirstPage    loadgen.Summary `json:"firstPage"`
		ChangesSince loadgen.Summary `json:"changesSince"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	d.results.add("S7", kind, "readyMs", v.ReadyMs)
	d.results.add("S7", kind, "pageP99", v.FirstPage.P99)
	d.results.add("S7", kind, "changesMs", v.ChangesSince.P50)
	return nil
}

// median, min and max of xs.
func stats(xs []float64) (med, lo, hi float64) {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}
