package main

// The mesh scenarios (docs/MESH.md): two lanfeedd processes on loopback, an
// origin and a follower that replicates it (app/mesh.go). For the catch-up
// (M1, M2) the origin is pinned to the server CPU and the follower to the
// other one, so that the pipeline (the origin reading and sending its log,
// the follower decoding and committing it) is not measured on one shared
// core. For the live latency (M3) both nodes share the server CPU and the
// load generator keeps the other, as in S2, so that the clock of every
// delivery does not wait behind the nodes it measures.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"lanfeed/bench/loadgen"
	"lanfeed/feed"
	"lanfeed/store"
)

const (
	// meshPosts is the origin's log that M1 and M2 catch up on.
	meshPosts = 100000
	// meshPoll is how often /api/follows is read while a follower catches
	// up, and so the resolution of the catch-up time: under 1% of a
	// catch-up of seconds. Every 5 ms it took 3.4% of the follower's CPU
	// in a profile of M1; every 25 ms that is a fifth.
	meshPoll = 25 * time.Millisecond
	// meshSeedBatch is how many posts one seeding transaction creates.
	meshSeedBatch = 1000
	// meshGC is the follower's GODEBUG: one line per garbage collection on
	// stderr, from which the peak heap is read (lanfeedd exposes no heap
	// figures itself, and gctrace costs one line per GC).
	meshGC = "GODEBUG=gctrace=1"
)

// meshScenarios are the mesh section of the report: lanfeed only, against
// the targets, without a socket.io column.
var meshScenarios = []scenario{
	{
		id: "M1", title: "catch-up of 100,000 posts from one node: from POST /api/follows until the follower has applied the origin's last seq",
		rows: []row{
			{"catchUpS", "catch-up time (s)", "< 5", func(lf, _ float64, _ *Results) bool { return lf < 5 }},
			{"replicas", "replicas held by the follower afterwards", "100,000", nil},
			{"replicaErrors", "of them missing, extra or not at the origin's version", "0", le(0)},
			{"rssPeakMiB", "follower peak RSS (VmHWM, MiB)", "bounded", nil},
			{"rssIdleMiB", "follower RSS before the follow (MiB)", "", nil},
			{"heapPeakMiB", "follower peak heap, at GC start (gctrace, MiB)", "bounded", nil},
			{"liveHeapMiB", "follower peak live heap, after GC (MiB)", "", nil},
		},
		run: runMeshCatchUp,
	},
	{
		id: "M2", title: "apply rate during that catch-up: replicas and position committed by the follower per second (the origin's backlog feeds it as fast as it takes them)",
		rows: []row{
			{"steadyPS", "changes/s applied, steady part (10% to 90% of the log)", ">= 20,000", atLeast(20000)},
			{"overallPS", "changes/s applied, whole catch-up (100,000 / M1's time)", "", nil},
			{"cpuPerChange", "follower CPU per applied change (us)", "<= 50", le(50)},
			{"cpuBoundPS", "changes/s the follower's CPU time allows (10^6 / the row above): its rate with a core to itself", "", nil},
			{"followerCPU", "follower CPU during the catch-up (% of its core)", "", nil},
			{"runqueueS", "time the follower's threads waited for a CPU during the catch-up (s, summed over threads; /proc schedstat)", "", nil},
			{"originCPU", "origin CPU during the catch-up (% of its core)", "", nil},
		},
		run: runMeshCatchUp,
	},
	{
		id: "M3", title: "live latency: 100 posts/s for 10 s written at the origin over websocket emit, each delivered at the same time to 20 peers of the origin and 20 peers of the follower",
		rows: []row{
			{"ratio", "p99 via the follower / p99 single node", "<= 2", le(2)},
			{"p99Follower", "p99 write at the origin -> peer of the follower (ms)", "", nil},
			{"p99Origin", "p99 write at the origin -> peer of the origin, same run (ms)", "", nil},
			{"ratioP50", "p50 via the follower / p50 single node", "", nil},
			{"p50Follower", "p50 via the follower (ms)", "", nil},
			{"p50Origin", "p50 single node (ms)", "", nil},
			{"ackP50", "origin's ack (durable commit) p50 (ms)", "", nil},
			{"delivered", "delivered via the follower (%)", "100", atLeast(100)},
		},
		run: runMeshLive,
	},
}

func init() { scenarios = append(scenarios, meshScenarios...) }

func isMesh(id string) bool { return strings.HasPrefix(id, "M") }

// meshPair is an origin and a follower, started fresh.
type meshPair struct {
	origin, follower *server
	originDir, dir   string
}

func (p *meshPair) stop() {
	if p.follower != nil {
		p.follower.stop()
	}
	if p.origin != nil {
		p.origin.stop()
	}
}

// startPair starts an origin on originDir, pinned to the server CPU, and a
// follower on a new directory under d.runDir/name, pinned to followerCPU;
// the follower does not follow yet.
func (d *driver) startPair(ctx context.Context, name, originDir, followerCPU string) (*meshPair, error) {
	p := &meshPair{originDir: originDir, dir: filepath.Join(d.runDir, name, "follower")}
	os.RemoveAll(p.dir)
	var err error
	if p.origin, err = d.startServerWith(ctx, kindLanfeed, originDir, name+"-origin", serverOpts{cpu: d.serverCPU}); err != nil {
		return nil, err
	}
	if p.follower, err = d.startServerWith(ctx, kindLanfeed, p.dir, name+"-follower",
		serverOpts{cpu: followerCPU, env: []string{meshGC}}); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// seedOrigin fills dir with posts through lanfeed's store, many per
// transaction and synchronous=OFF (seeding is not what is measured), unless
// it has them already; it returns the origin's seq.
func seedOrigin(ctx context.Context, dir string, posts int) (int64, error) {
	st, err := store.Open(ctx, dir, store.Options{Synchronous: "OFF", Name: "origin"})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	body := strings.Repeat("seeded post body. ", 6)
	for n := int(st.Seq()); n < posts; {
		ops := make([]store.Op, min(meshSeedBatch, posts-n))
		for i := range ops {
			ops[i] = store.CreateOp(feed.NewPost{Title: fmt.Sprintf("post %d", n+i), Body: body, Author: "bench"})
		}
		for _, r := range st.Apply(ctx, ops) {
			if r.Err != nil {
				return 0, fmt.Errorf("seed: %w", r.Err)
			}
		}
		n += len(ops)
	}
	return st.Seq(), nil
}

var httpc = &http.Client{Timeout: 10 * time.Second}

// followInfo is what GET /api/follows says of one followed node.
type followInfo struct {
	Node    string `json:"node"`
	State   string `json:"state"`
	Seq     int64  `json:"seq"`
	NodeSeq int64  `json:"nodeSeq"`
	Reason  string `json:"reason"`
}

func follows(ctx context.Context, s *server) ([]followInfo, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"api/follows", nil)
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("GET /api/follows: HTTP %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var v struct {
		Follows []followInfo `json:"follows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("GET /api/follows: %w", err)
	}
	return v.Follows, nil
}

// follow asks f, with its token, to follow the node at url.
func follow(ctx context.Context, f *server, url string) error {
	body, _ := json.Marshal(map[string]string{"url": url})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"api/follows", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("POST /api/follows: HTTP %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// progress is one reading of the follower's position.
type progress struct {
	at  time.Duration // since the follow started
	seq int64
}

// waitApplied polls f's /api/follows every meshPoll until its one follow
// has applied seq want (and, with live, is live), for at most limit. It
// returns the readings and the followed node's id.
func waitApplied(ctx context.Context, f *server, start time.Time, want int64, live bool, limit time.Duration) ([]progress, string, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var seen []progress
	tick := time.NewTicker(meshPoll)
	defer tick.Stop()
	last := "no follow listed"
	for {
		list, err := follows(ctx, f)
		if err == nil && len(list) == 1 {
			fi := list[0]
			seen = append(seen, progress{time.Since(start), fi.Seq})
			last = fmt.Sprintf("state %s, seq %d of %d %s", fi.State, fi.Seq, fi.NodeSeq, fi.Reason)
			if fi.State == feed.FollowRefused {
				return seen, fi.Node, fmt.Errorf("follow refused: %s", fi.Reason)
			}
			if fi.Seq >= want && (!live || fi.State == feed.FollowLive) {
				return seen, fi.Node, nil
			}
		} else if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return seen, "", fmt.Errorf("follower not at seq %d after %s: %s", want, limit, last)
		case <-tick.C:
		}
	}
}

// steadyRate is the apply rate between the readings where 10% and 90% of
// want were first reached: the catch-up's steady part, without the dial
// and the first page at one end and the last partial batch at the other.
func steadyRate(seen []progress, want int64) float64 {
	var a, b *progress
	for i := range seen {
		if a == nil && seen[i].seq >= want/10 {
			a = &seen[i]
		}
		if b == nil && seen[i].seq >= want*9/10 {
			b = &seen[i]
		}
	}
	if a == nil || b == nil || b.at <= a.at {
		return 0
	}
	return float64(b.seq-a.seq) / (b.at - a.at).Seconds()
}

// replicaDiff compares the posts origin holds of itself with the replicas
// follower holds of it, both stopped: it returns how many replicas the
// follower has and what differs (missing, extra or stale), "" when every
// post is there once at the origin's version.
func replicaDiff(originDB, followerDB, node string) (n, wrong int, diff string, err error) {
	read := func(path, versionCol string) (map[string]int64, error) {
		db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
		if err != nil {
			return nil, err
		}
		defer db.Close()
		rows, err := db.Query(`SELECT id, `+versionCol+` FROM posts WHERE origin = ? AND deleted = 0`, node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer rows.Close()
		m := map[string]int64{}
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				return nil, err
			}
			m[id] = v
		}
		return m, rows.Err()
	}
	want, err := read(originDB, "version")
	if err != nil {
		return 0, 0, "", err
	}
	got, err := read(followerDB, "origin_version")
	if err != nil {
		return 0, 0, "", err
	}
	var missing, stale, extra int
	for id, v := range want {
		switch g, ok := got[id]; {
		case !ok:
			missing++
		case g != v:
			stale++
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra++
		}
	}
	if wrong = missing + stale + extra; wrong == 0 {
		return len(got), 0, "", nil
	}
	return len(got), wrong, fmt.Sprintf("of the origin's %d posts, %d missing and %d at another version on the follower; %d extra",
		len(want), missing, stale, extra), nil
}

// gcLine is a gctrace line: "gc 12 @0.5s 3%: ... 4->5->2 MB, 6 MB goal, ...".
var gcLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

// peakHeap reads a log with gctrace lines and returns the largest heap at
// the start of a GC and the largest live heap after one, in MiB (the Go
// runtime's "MB" are 2^20 bytes).
func peakHeap(logPath string) (atStart, live float64, err error) {
	f, err := os.Open(logPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		m := gcLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		a, _ := strconv.ParseFloat(m[1], 64)
		l, _ := strconv.ParseFloat(m[3], 64)
		atStart, live = max(atStart, a), max(live, l)
	}
	if n == 0 {
		return 0, 0, errors.New("no gctrace line in " + logPath)
	}
	return atStart, live, sc.Err()
}

// meshCatchUpDone marks the reps whose catch-up ran: M1 and M2 read the
// same runs, so a rep that selected both runs once.
func (d *driver) meshCatchUpDone(rep int) bool {
	if d.catchUps == nil {
		d.catchUps = map[int]bool{}
	}
	done := d.catchUps[rep]
	d.catchUps[rep] = true
	return done
}

// runMeshCatchUp is M1 and M2: a follower started empty follows an origin
// of meshPosts posts (seeded once, reused by every rep); the follower's
// position is read every meshPoll until it has applied the origin's last
// seq. Then both stop and every replica is checked against the origin.
func runMeshCatchUp(ctx context.Context, d *driver, kind string, rep int) error {
	if kind != kindLanfeed || d.meshCatchUpDone(rep) {
		return nil
	}
	posts := meshPosts
	if d.peers > 0 { // quick run
		posts = 2000
	}
	originDir := filepath.Join(d.runDir, fmt.Sprintf("M1-seed-%d", posts))
	want, err := seedOrigin(ctx, originDir, posts)
	if err != nil {
		return err
	}
	name := runName("M1", kind, rep)
	p, err := d.startPair(ctx, name, originDir, d.loadCPU) // a core each: the catch-up is a pipeline
	if err != nil {
		return err
	}
	defer p.stop()
	_, rssIdle, _ := loadgen.Memory(p.follower.pid())
	fcpu0, _ := loadgen.CPUTime(p.follower.pid())
	wait0 := runqueueWait(p.follower.pid())
	ocpu0, _ := loadgen.CPUTime(p.origin.pid())
	start := time.Now()
	if err := follow(ctx, p.follower, p.origin.url); err != nil {
		return err
	}
	seen, node, err := waitApplied(ctx, p.follower, start, want, false, 2*time.Minute)
	if err != nil {
		return err
	}
	took := seen[len(seen)-1].at
	fcpu1, _ := loadgen.CPUTime(p.follower.pid())
	wait1 := runqueueWait(p.follower.pid())
	ocpu1, _ := loadgen.CPUTime(p.origin.pid())
	_, rssPeak, _ := loadgen.Memory(p.follower.pid())
	p.stop()
	n, wrong, diff, err := replicaDiff(filepath.Join(originDir, store.FileName), filepath.Join(p.dir, store.FileName), node)
	if err != nil {
		return err
	}
	if diff != "" {
		d.results.note("M1", kind, fmt.Sprintf("rep %d: replicas wrong: %s", rep, diff))
	}
	heap, live, err := peakHeap(p.follower.log.Name())
	if err != nil {
		d.results.note("M1", kind, fmt.Sprintf("rep %d: %v", rep, err))
	}
	d.results.add("M1", kind, "catchUpS", took.Seconds())
	d.results.add("M1", kind, "replicas", float64(n))
	d.results.add("M1", kind, "replicaErrors", float64(wrong))
	d.results.add("M1", kind, "rssPeakMiB", float64(rssPeak)/1024)
	d.results.add("M1", kind, "rssIdleMiB", float64(rssIdle)/1024)
	if err == nil {
		d.results.add("M1", kind, "heapPeakMiB", heap)
		d.results.add("M1", kind, "liveHeapMiB", live)
	}
	d.results.add("M2", kind, "steadyPS", steadyRate(seen, want))
	d.results.add("M2", kind, "overallPS", float64(want)/took.Seconds())
	d.results.add("M2", kind, "followerCPU", 100*(fcpu1-fcpu0).Seconds()/took.Seconds())
	if wait0 >= 0 && wait1 >= wait0 {
		d.results.add("M2", kind, "runqueueS", (wait1 - wait0).Seconds())
	}
	if us := float64((fcpu1 - fcpu0).Microseconds()) / float64(want); us > 0 {
		d.results.add("M2", kind, "cpuPerChange", us)
		d.results.add("M2", kind, "cpuBoundPS", 1e6/us)
	}
	d.results.add("M2", kind, "originCPU", 100*(ocpu1-ocpu0).Seconds()/took.Seconds())
	d.results.rawJSON("M1", kind, rep, mustJSON(map[string]any{"posts": want, "catchUpS": took.Seconds(),
		"readings": len(seen), "replicas": n, "diff": diff, "rssIdleKiB": rssIdle, "rssPeakKiB": rssPeak,
		"heapPeakMiB": heap, "liveHeapMiB": live}))
	return nil
}

// runqueueWait is how long the threads of process pid have waited, so
// far, for a CPU while runnable (the second field of each
// /proc/PID/task/TID/schedstat): on a shared machine, the time the
// neighbours took. A thread that ended meanwhile drops out of the sum,
// which only makes the figure smaller. -1 when it cannot be read.
func runqueueWait(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return -1
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// M3's load: a few peers, as a browser or two on each node would be, at a
// rate the follower applies one change per commit.
const (
	m3Peers = 20
	m3Rate  = 100
	m3Dur   = 10 * time.Second
)

// runMeshLive is M3: an empty origin, a follower live on it, and one load
// generator run whose peers are split between the two nodes: each post
// reaches m3Peers peers of the origin (single-node delivery) and m3Peers
// peers of the follower at the same moments, so that the machine's noise
// falls on both figures alike.
func runMeshLive(ctx context.Context, d *driver, kind string, rep int) error {
	if kind != kindLanfeed {
		return nil
	}
	name := runName("M3", kind, rep)
	originDir := filepath.Join(d.runDir, name, "origin")
	os.RemoveAll(originDir)
	// Both nodes on the server CPU: the load generator, which times every
	// delivery, keeps the other core to itself, as in S2.
	p, err := d.startPair(ctx, name, originDir, d.serverCPU)
	if err != nil {
		return err
	}
	defer p.stop()
	if err := follow(ctx, p.follower, p.origin.url); err != nil {
		return err
	}
	if _, _, err := waitApplied(ctx, p.follower, time.Now(), 0, true, 30*time.Second); err != nil {
		return err
	}
	peers := d.scalePeers(m3Peers)
	a := loadArgs{peers: 2 * peers, split: peers, peerAt: p.follower,
		phases: []loadgen.Phase{{Rate: m3Rate, Dur: d.scaleDur(m3Dur)}}, drain: 20 * time.Second, timeout: 2 * time.Minute}
	if d.rate > 0 {
		a.phases[0].Rate = d.rate
	}
	res, err := d.load(ctx, p.origin, name+"-loadgen", a)
	if err != nil {
		return err
	}
	d.results.raw("M3", kind, rep, res)
	if len(res.Phases) != 1 || res.Phases[0].LatencyAtPeerURL == nil {
		return fmt.Errorf("no publishing phase ran, or the load generator did not split its peers")
	}
	if probs := smokeProblems(res); len(probs) > 0 {
		d.results.note("M3", kind, fmt.Sprintf("rep %d: %s", rep, strings.Join(probs, "; ")))
	}
	ph := res.Phases[0]
	if ph.LoadgenSat {
		d.results.note("M3", kind, fmt.Sprintf("rep %d: load generator saturated (%.0f%% of its core, publisher %.2f s late)",
			rep, ph.LoadgenCPU*100, ph.PublisherLagS))
		d.results.flag("M3", kind, 0)
	}
	viaF, single := ph.LatencyAtPeerURL, ph.LatencyAtURL
	d.results.add("M3", kind, "p99Follower", viaF.P99)
	d.results.add("M3", kind, "p99Origin", single.P99)
	if single.P99 > 0 {
		d.results.add("M3", kind, "ratio", viaF.P99/single.P99)
	}
	if single.P50 > 0 {
		d.results.add("M3", kind, "ratioP50", viaF.P50/single.P50)
	}
	d.results.add("M3", kind, "p50Follower", viaF.P50)
	d.results.add("M3", kind, "p50Origin", single.P50)
	d.results.add("M3", kind, "ackP50", ph.Ack.P50)
	if ph.Posts > 0 {
		d.results.add("M3", kind, "delivered", 100*float64(viaF.Count)/float64(ph.Posts*peers))
	}
	return nil
}

// smokeMesh is the mesh part of -smoke, correctness only: a follower
// catches up on 2,000 posts, then 40 posts written live at the origin reach
// 5 peers of the follower in order, once each; at the end the follower
// holds every post of the origin exactly once, at its version.
func (d *driver) smokeMesh(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	const posts = 2000
	originDir := filepath.Join(d.runDir, "smoke-mesh", "origin")
	os.RemoveAll(originDir)
	want, err := seedOrigin(ctx, originDir, posts)
	if err != nil {
		return []string{err.Error()}
	}
	p, err := d.startPair(ctx, "smoke-mesh", originDir, d.loadCPU)
	if err != nil {
		return []string{err.Error()}
	}
	defer p.stop()
	if err := follow(ctx, p.follower, p.origin.url); err != nil {
		return []string{err.Error()}
	}
	_, node, err := waitApplied(ctx, p.follower, time.Now(), want, true, 15*time.Second)
	if err != nil {
		return []string{"catch-up: " + err.Error()}
	}
	res, err := d.load(ctx, p.origin, "smoke-mesh-loadgen", loadArgs{peerAt: p.follower,
		peers: 5, phases: []loadgen.Phase{{Rate: 20, Dur: 2 * time.Second}},
		rampTimeout: 5 * time.Second, settleMax: 2 * time.Second, drain: 5 * time.Second, timeout: 15 * time.Second})
	if err != nil {
		return []string{"live: " + err.Error()}
	}
	problems := smokeProblems(res)
	p.stop()
	n, _, diff, err := replicaDiff(filepath.Join(originDir, store.FileName), filepath.Join(p.dir, store.FileName), node)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case diff != "":
		problems = append(problems, "replicas: "+diff)
	case len(res.Phases) == 1 && n != posts+res.Phases[0].Posts:
		problems = append(problems, fmt.Sprintf("%d replicas, want %d", n, posts+res.Phases[0].Posts))
	}
	if len(problems) == 0 {
		fmt.Printf("ok   smoke %-16s %d posts caught up, %d live posts to %d peers of the follower, %d replicas, each once\n",
			"mesh", posts, res.Phases[0].Posts, res.Connected, n)
	}
	return problems
}

// meshReport renders the mesh section: lanfeed only, one column.
func (d *driver) meshReport(b *strings.Builder) {
	r := d.results
	ran := slices.ContainsFunc(meshScenarios, func(sc scenario) bool { _, ok := r.Values[sc.id]; return ok })
	if !ran {
		return
	}
	fmt.Fprintf(b, "## Mesh: one node following another\n\n")
	fmt.Fprintf(b, "Two `lanfeedd` processes on loopback, started fresh for each repetition: an origin and a follower "+
		"(`app/mesh.go`: one `client.Follower` on the origin's `/ws`, replicas and position committed together in batches "+
		"by the group commit). M1 and M2: the origin on CPU %s, the follower on CPU %s. M3: both nodes on CPU %s, the load "+
		"generator on CPU %s. Median, min–max in brackets.\n\n",
		orAll(d.serverCPU), orAll(d.loadCPU), orAll(d.serverCPU), orAll(d.loadCPU))
	fmt.Fprintf(b, "| id | metric | target | lanfeed | met |\n|---|---|---|---|---|\n")
	for _, sc := range meshScenarios {
		vals := r.Values[sc.id][kindLanfeed]
		for i, row := range sc.rows {
			xs := vals[row.key]
			if len(xs) == 0 {
				continue
			}
			id := rowID(sc.id, i, r)
			met := ""
			if row.met != nil {
				m, _, _ := stats(xs)
				met = "no"
				if row.met(m, 0, r) {
					met = "yes"
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", id, row.label, row.target, cell(xs), met)
		}
	}
	fmt.Fprintf(b, "\n")
	for _, sc := range meshScenarios {
		if _, ok := r.Values[sc.id]; ok {
			fmt.Fprintf(b, "- **%s**: %s.\n", sc.id, sc.title)
		}
	}
	fmt.Fprintf(b, "\nM3's latency runs from the publisher's emit at the origin (before its durable commit) to the peer's "+
		"receipt, on one clock, in both runs; the origin's ack p50 is about what its commit takes.\n\n")
}

func orAll(cpu string) string {
	if cpu == "" {
		return "any (no pinning)"
	}
	return cpu
}
