// Command bench runs lanfeed's benchmark matrix against lanfeed, the
// socket.io reference server and the floor server (bench/cmd/floor) on the
// same machine and writes the report (docs/BENCHMARKS.md) and its charts
// (docs/img/). Each run starts a fresh server pinned to one core and a load
// generator (bench/cmd/loadgen) pinned to the other, so every server meets
// the same load in turn; figures are medians over -reps runs, compared as
// ratios. U1 drives the web UI in Chromium instead (ui.go).
//
//	go run ./bench/cmd/bench                      # the whole matrix, 3 reps (under an hour)
//	go run ./bench/cmd/bench -smoke               # correctness only, about a minute
//	go run ./bench/cmd/bench -scenarios M1,M2,M3 -servers lanfeed \
//	    -out bench/out/BENCHMARKS.mesh.md         # the mesh only (mesh.go)
//	go run ./bench/cmd/bench -scenarios S2 -reps 1 -peers 50 -rate 20 -dur 5s \
//	    -out bench/out/BENCHMARKS.preview.md      # a quick look
//
// It builds its own binaries into bench/out/bin and installs the socket.io
// server's packages (npm ci) when they are missing.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"lanfeed/bench/loadgen"
)

type driver struct {
	root      string // repository root
	commit    string // what was measured: HEAD when the run began, and whether Go sources differed from it
	outDir    string // bench/out
	binDir    string
	logDir    string
	runDir    string
	sioDir    string
	lanfeedd  string
	loadgen   string
	floor     string // the floor server's binary
	uiScript  string // U1's browser side (-ui-script)
	serverCPU string // taskset CPU list for servers; "" when not pinning
	loadCPU   string // taskset CPU list for the load generator

	lanfeedFlags []string
	sourceIPs    int // -1: automatic

	// overrides for quick runs; zero keeps the scenario's own
	peers int
	rate  float64
	dur   time.Duration
	hold  time.Duration

	results  *Results
	catchUps map[int]bool // reps whose M1/M2 catch-up ran
}

func main() {
	smoke := flag.Bool("smoke", false, "run the correctness smoke test only (the servers of -servers at small N, then the mesh and, with lanfeed, a small U1); exit 1 on any failure")
	scenarios := flag.String("scenarios", "S1,S2,S2b,S3,S4,S5,S6,S7,M1,M2,M3,U1", "scenarios to run, comma-separated (M1-M3: the mesh, U1: the web UI in Chromium; both lanfeed only)")
	servers := flag.String("servers", "lanfeed,lanfeed-sio,socketio,floor", "servers to compare (lanfeed-sio: lanfeedd through /socket.io/, on S2 only; floor: the floor server, on the latency scenarios S2, S2b, S3, S6)")
	reps := flag.Int("reps", 3, "repetitions of each scenario and server")
	out := flag.String("out", "docs/BENCHMARKS.md", "report to write (relative to the repository root)")
	rawOut := flag.String("raw", "bench/out/results.json", "every run's full result, as JSON")
	cpus := flag.String("cpus", "0,1", "SERVER,LOADGEN CPU for taskset; empty: no pinning")
	lanfeedd := flag.String("lanfeedd", "", "lanfeedd binary to measure (default: build ./cmd/lanfeedd into bench/out/bin)")
	sourceIPs := flag.Int("source-ips", -1, "spread peers over this many 127.0.x.y source addresses; -1: one per 200 peers")
	var d driver
	flag.IntVar(&d.peers, "peers", 0, "override every scenario's peer count (quick runs)")
	flag.Float64Var(&d.rate, "rate", 0, "override the posts/s of S2, S6 (S2b gets twice this)")
	flag.DurationVar(&d.dur, "dur", 0, "override every publishing phase's duration")
	flag.DurationVar(&d.hold, "hold", 0, "override S1's idle time")
	flag.StringVar(&d.uiScript, "ui-script", uiScript, "U1's browser side (Node script), relative to the repository root or absolute")
	timeout := flag.Duration("timeout", 3*time.Hour, "stop everything after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	// The socket.io server's packages take a minute to install: only when
	// a scenario compares with it.
	needSIO := *smoke && strings.Contains(*servers, kindSocketIO)
	for _, id := range strings.Split(*scenarios, ",") {
		needSIO = needSIO || (!lanfeedOnly(strings.TrimSpace(id)) && strings.Contains(*servers, kindSocketIO))
	}
	if err := d.setup(ctx, *cpus, *lanfeedd, *sourceIPs, needSIO); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *smoke {
		os.Exit(d.smoke(ctx, strings.Split(*servers, ",")))
	}
	d.results = newResults(*reps, d.serverCPU, d.loadCPU)
	d.results.Disk = append(d.results.Disk, probeDisk(d.outDir, "before"))
	kinds := strings.Split(*servers, ",")
	for _, id := range strings.Split(*scenarios, ",") {
		sc, ok := scenarioByID(strings.TrimSpace(id))
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: unknown scenario %q\n", id)
			os.Exit(2)
		}
		for rep := 1; rep <= *reps && ctx.Err() == nil; rep++ {
			d.results.rep = rep
			for _, kind := range kinds {
				if ctx.Err() != nil {
					break
				}
				if kind == kindLanfeedSIO && sc.id != "S2" {
					continue // the socket.io endpoint is measured on S2: the same hub, another framing
				}
				if kind == kindFloor && !latencyScenario(sc.id) {
					continue // the floor is the bound of the fan-out's latency and throughput only
				}
				if kind != kindLanfeed && lanfeedOnly(sc.id) {
					continue
				}
				fmt.Fprintf(os.Stderr, "bench: %s %s rep %d/%d\n", sc.id, kind, rep, *reps)
				if err := sc.run(ctx, &d, kind, rep); err != nil {
					fmt.Fprintf(os.Stderr, "bench: %s %s rep %d: %v\n", sc.id, kind, rep, err)
					d.results.note(sc.id, kind, fmt.Sprintf("rep %d failed: %v", rep, err))
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "bench: stopped early:", ctx.Err())
	} else {
		d.results.Disk = append(d.results.Disk, probeDisk(d.outDir, "after"))
	}
	raw, _ := json.MarshalIndent(d.results, "", "  ")
	rawPath := filepath.Join(d.root, *rawOut)
	os.MkdirAll(filepath.Dir(rawPath), 0o755)
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	outPath := filepath.Join(d.root, *out)
	os.MkdirAll(filepath.Dir(outPath), 0o755)
	charts, err := writeCharts(d.results, filepath.Dir(outPath))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: charts:", err)
	}
	report := d.report(ctx, *reps, *rawOut, charts)
	if err := os.WriteFile(outPath, []byte(report), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s\n", outPath, rawPath)
}

// setup finds the repository, builds the binaries and, if needSIO, installs
// the socket.io server's packages.
func (d *driver) setup(ctx context.Context, cpus, lanfeedd string, sourceIPs int, needSIO bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	d.root = root
	d.commit = cmdOut("git", "-C", root, "rev-parse", "--short", "HEAD")
	if cmdOut("git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", "*.go", "go.mod", "go.sum") != "" {
		d.commit += " with uncommitted Go changes"
	}
	d.outDir = filepath.Join(root, "bench", "out")
	d.binDir = filepath.Join(d.outDir, "bin")
	d.logDir = filepath.Join(d.outDir, "logs")
	d.runDir = filepath.Join(d.outDir, "run")
	d.sioDir = filepath.Join(root, "bench", "socketio")
	d.sourceIPs = sourceIPs
	for _, dir := range []string{d.binDir, d.logDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	os.RemoveAll(d.runDir)
	if cpus != "" {
		s, l, ok := strings.Cut(cpus, ",")
		if !ok {
			return fmt.Errorf("-cpus %q: want SERVER,LOADGEN", cpus)
		}
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("taskset not found (Debian: util-linux); pass -cpus '' to run unpinned")
		}
		d.serverCPU, d.loadCPU = s, l
	}
	if _, err := loadgen.RaiseFileLimit(); err != nil { // servers and load generator inherit it
		return fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	build := func(out, pkg string, env ...string) error {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		return nil
	}
	d.lanfeedd = lanfeedd
	if d.lanfeedd != "" {
		if d.lanfeedd, err = filepath.Abs(d.lanfeedd); err != nil {
			return err
		}
	} else {
		d.lanfeedd = filepath.Join(d.binDir, "lanfeedd")
		if err := build(d.lanfeedd, "./cmd/lanfeedd", "CGO_ENABLED=0"); err != nil {
			return err
		}
	}
	d.loadgen = filepath.Join(d.binDir, "loadgen")
	d.floor = filepath.Join(d.binDir, "floor")
	for _, b := range [][2]string{{d.loadgen, "./bench/cmd/loadgen"}, {d.floor, "./bench/cmd/floor"},
		{filepath.Join(d.binDir, "storebench"), "./bench/cmd/storebench"},
		{filepath.Join(d.binDir, "coldstart"), "./bench/cmd/coldstart"}} {
		if err := build(b[0], b[1]); err != nil {
			return err
		}
	}
	d.lanfeedFlags = lanfeedServeFlags(d.lanfeedd)
	if _, err := os.Stat(filepath.Join(d.sioDir, "node_modules", ".package-lock.json")); err != nil && needSIO {
		fmt.Fprintln(os.Stderr, "bench: installing the socket.io server's packages (npm ci)")
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir, cmd.Stdout, cmd.Stderr = d.sioDir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm ci in bench/socketio: %w", err)
		}
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module lanfeed\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the lanfeed repository")
		}
		dir = parent
	}
}

// loadArgs describes one load generator run.
type loadArgs struct {
	peers, slow int
	phases      []loadgen.Phase
	hold        time.Duration
	stopOnKnee  bool
	rampTimeout time.Duration
	settleMax   time.Duration
	drain       time.Duration
	timeout     time.Duration
	// peerAt, if set, is the node the peers connect to instead of the
	// publisher's (the mesh's follower); its process is the one measured.
	peerAt *server
	// split, with peerAt, keeps the first split peers on the publisher's
	// node, each group timed apart (M3).
	split int
}

// load runs the load generator, pinned, against s.
func (d *driver) load(ctx context.Context, s *server, logName string, a loadArgs) (*loadgen.Result, error) {
	proto := loadgen.SocketIO
	switch s.kind {
	case kindLanfeed, kindFloor, kindFloorDurable:
		proto = loadgen.Lanfeed
	case kindLanfeedSIO:
		proto = loadgen.LanfeedSIO
	}
	src := d.sourceIPs
	if src < 0 {
		src = (a.peers + a.slow + 199) / 200
	}
	var phases []string
	for _, p := range a.phases {
		phases = append(phases, fmt.Sprintf("%g:%s", p.Rate, p.Dur))
	}
	if a.timeout == 0 {
		a.timeout = 10 * time.Minute
	}
	pid := s.pid()
	if a.peerAt != nil {
		pid = a.peerAt.pid()
	}
	argv := []string{d.loadgen, "-proto", proto, "-url", s.url, "-token", s.token, "-pid", fmt.Sprint(pid),
		"-peers", fmt.Sprint(a.peers), "-slow", fmt.Sprint(a.slow), "-source-ips", fmt.Sprint(src),
		"-phases", strings.Join(phases, ","), "-hold", a.hold.String(), "-timeout", a.timeout.String()}
	if a.peerAt != nil {
		argv = append(argv, "-peer-url", a.peerAt.url, "-peer-split", fmt.Sprint(a.split))
	}
	if a.stopOnKnee {
		argv = append(argv, "-stop-on-knee")
	}
	if a.rampTimeout > 0 {
		argv = append(argv, "-ramp-timeout", a.rampTimeout.String())
	}
	if a.settleMax > 0 {
		argv = append(argv, "-settle-max", a.settleMax.String())
	}
	if a.drain > 0 {
		argv = append(argv, "-drain", a.drain.String())
	}
	out, err := d.runCmd(ctx, logName, pinned(d.loadCPU, argv...)...)
	if err != nil {
		return nil, err
	}
	var r loadgen.Result
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("load generator output: %w", err)
	}
	return &r, nil
}

// withServer starts a fresh server of kind, runs fn, and stops the server.
func (d *driver) withServer(ctx context.Context, kind, name string, fn func(*server) error) error {
	s, err := d.startServer(ctx, kind, filepath.Join(d.runDir, name), name+"-server")
	if err != nil {
		return err
	}
	defer s.stop()
	time.Sleep(500 * time.Millisecond) // let it finish starting before the idle RSS is read
	return fn(s)
}

// smoke checks correctness only: every event delivered, in order, once, to
// every peer, nothing dropped, every write acknowledged; on lanfeed, on
// both socket.io variants and on both floors (those of servers); then the
// mesh (smokeMesh) and, with lanfeed, the web UI in Chromium (smokeUI).
// It prints one line per server and a summary.
func (d *driver) smoke(parent context.Context, servers []string) int {
	ctx, cancel := context.WithTimeout(parent, 60*time.Second)
	defer cancel()
	passed, failed := 0, 0
	var kinds []string
	for _, k := range servers {
		switch strings.TrimSpace(k) {
		case kindLanfeed:
			kinds = append(kinds, kindLanfeed)
		case kindLanfeedSIO:
			kinds = append(kinds, kindLanfeedSIO)
		case kindSocketIO:
			kinds = append(kinds, kindSocketIO, kindSocketIOPe)
		case kindFloor:
			kinds = append(kinds, kindFloor, kindFloorDurable)
		}
	}
	for _, kind := range kinds {
		var problems []string
		var res *loadgen.Result
		err := d.withServer(ctx, kind, "smoke-"+kind, func(s *server) error {
			var err error
			res, err = d.load(ctx, s, "smoke-"+kind+"-loadgen", loadArgs{
				peers: 20, phases: []loadgen.Phase{{Rate: 20, Dur: 3 * time.Second}},
				rampTimeout: 15 * time.Second, settleMax: 5 * time.Second, drain: 5 * time.Second,
				timeout: 45 * time.Second,
			})
			return err
		})
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			problems = smokeProblems(res)
		}
		if len(problems) == 0 {
			passed++
			p := res.Phases[0]
			fmt.Printf("ok   smoke %-16s %d peers, %d posts, %d/%d deliveries, %d acks, in order, none dropped\n",
				kind, res.Connected, p.Posts, p.Delivered, p.Expected, p.Acks)
		} else {
			failed++
			fmt.Printf("FAIL smoke %-16s %s\n", kind, strings.Join(problems, "; "))
		}
	}
	if problems := d.smokeMesh(parent); len(problems) == 0 { // its own 30 s
		passed++
	} else {
		failed++
		fmt.Printf("FAIL smoke %-16s %s\n", "mesh", strings.Join(problems, "; "))
	}
	if slices.Contains(kinds, kindLanfeed) {
		if problems := d.smokeUI(parent); len(problems) == 0 { // its own 60 s
			passed++
		} else {
			failed++
			fmt.Printf("FAIL smoke %-16s %s\n", "ui", strings.Join(problems, "; "))
		}
	}
	fmt.Printf("smoke: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func smokeProblems(r *loadgen.Result) []string {
	var p []string
	if r.Connected != r.Peers {
		p = append(p, fmt.Sprintf("%d of %d peers connected %v", r.Connected, r.Peers, r.ConnectErrors))
	}
	if r.DroppedFast > 0 {
		p = append(p, fmt.Sprintf("%d peers dropped (close codes %v)", r.DroppedFast, r.CloseCodes))
	}
	if r.OutOfOrder > 0 || r.Duplicates > 0 || r.Unparsed > 0 {
		p = append(p, fmt.Sprintf("%d out of order, %d duplicates, %d unreadable", r.OutOfOrder, r.Duplicates, r.Unparsed))
	}
	if len(r.Phases) != 1 {
		return append(p, "no publishing phase ran")
	}
	ph := r.Phases[0]
	if ph.Posts == 0 || ph.Delivered != ph.Expected || ph.Incomplete > 0 {
		p = append(p, fmt.Sprintf("%d of %d deliveries (%d posts incomplete)", ph.Delivered, ph.Expected, ph.Incomplete))
	}
	if ph.Acks != int64(ph.Posts) || ph.Errors > 0 {
		p = append(p, fmt.Sprintf("%d acks and %d errors for %d posts", ph.Acks, ph.Errors, ph.Posts))
	}
	return p
}
