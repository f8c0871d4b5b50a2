package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Results collects every figure of a bench run: per scenario, server column
// (lanfeed or socketio) and metric, one value per repetition.
type Results struct {
	Started   time.Time                                  `json:"started"`
	Reps      int                                        `json:"reps"`
	ServerCPU string                                     `json:"serverCpu"`
	LoadCPU   string                                     `json:"loadgenCpu"`
	Values    map[string]map[string]map[string][]float64 `json:"values"`
	Notes     map[string]map[string][]string             `json:"notes"`
	Saturated map[string]map[string]int                  `json:"loadgenSaturatedPhases"`
	// ValueReps is, beside each of Values, the repetition it came from:
	// ratios pair the figures of one repetition, measured minutes apart.
	ValueReps map[string]map[string]map[string][]int `json:"valueReps"`
	// Steps are S3's steps, per server column, every repetition: the
	// latency against the offered rate, for the report's chart.
	Steps map[string][]S3Step `json:"s3Steps"`
	Runs  []RawRun            `json:"runs"`
	Disk  []DiskProbe         `json:"disk"`
	knees map[string][]float64
	rep   int // the repetition running, recorded with each value
	// uiSamples are U1's commit-to-DOM latencies (ms), per repetition.
	uiSamples map[int][]float64
}

// S3Step is one step of S3's ramp in one repetition.
type S3Step struct {
	Rep        int     `json:"rep"`
	Rate       float64 `json:"rate"`           // offered posts/s
	Deliveries float64 `json:"deliveriesPerS"` // delivered per second
	P50        float64 `json:"p50Ms"`
	P99        float64 `json:"p99Ms"`
	Delivered  float64 `json:"deliveredPct"`
	OK         bool    `json:"ok"` // p99 within the knee's limit and nothing lost
	Saturated  bool    `json:"loadgenSaturated"`
}

// RawRun is one run's full output, kept in bench/out/results.json.
type RawRun struct {
	Scenario string          `json:"scenario"`
	Server   string          `json:"server"`
	Rep      int             `json:"rep"`
	Result   json.RawMessage `json:"result"`
}

func newResults(reps int, serverCPU, loadCPU string) *Results {
	return &Results{Started: time.Now().UTC(), Reps: reps, ServerCPU: serverCPU, LoadCPU: loadCPU,
		Values: map[string]map[string]map[string][]float64{}, Notes: map[string]map[string][]string{},
		Saturated: map[string]map[string]int{}, knees: map[string][]float64{},
		ValueReps: map[string]map[string]map[string][]int{}, Steps: map[string][]S3Step{}, uiSamples: map[int][]float64{}}
}

func (r *Results) add(id, server, metric string, v float64) {
	if r.Values[id] == nil {
		r.Values[id] = map[string]map[string][]float64{}
	}
	if r.Values[id][server] == nil {
		r.Values[id][server] = map[string][]float64{}
	}
	r.Values[id][server][metric] = append(r.Values[id][server][metric], v)
	if r.ValueReps[id] == nil {
		r.ValueReps[id] = map[string]map[string][]int{}
	}
	if r.ValueReps[id][server] == nil {
		r.ValueReps[id][server] = map[string][]int{}
	}
	r.ValueReps[id][server][metric] = append(r.ValueReps[id][server][metric], r.rep)
}

func (r *Results) addStep(server string, st S3Step) {
	r.Steps[server] = append(r.Steps[server], st)
}

// ratio is a/b for metric of scenario id: the median over the repetitions
// of the ratio of a's figure to b's in the same repetition (servers of one
// repetition run back to back, so the machine's drift between repetitions
// cancels out). NaN when no repetition has both, or b's figure is about 0.
func (r *Results) ratio(id, metric, a, b string) float64 {
	av, ar := r.Values[id][a][metric], r.ValueReps[id][a][metric]
	bv, br := r.Values[id][b][metric], r.ValueReps[id][b][metric]
	var qs []float64
	for i := range av {
		for j := range bv {
			if i < len(ar) && j < len(br) && ar[i] == br[j] && math.Abs(bv[j]) >= 0.01 {
				qs = append(qs, av[i]/bv[j])
				break
			}
		}
	}
	if len(qs) == 0 {
		return math.NaN()
	}
	m, _, _ := stats(qs)
	return m
}

// ratioCell renders ratio for the report.
func ratioCell(q float64) string {
	if q != q {
		return "–"
	}
	return fmt.Sprintf("%.3g", q)
}

func (r *Results) note(id, server, s string) {
	if r.Notes[id] == nil {
		r.Notes[id] = map[string][]string{}
	}
	r.Notes[id][server] = append(r.Notes[id][server], s)
}

func (r *Results) flag(id, server string, phase int) {
	if r.Saturated[id] == nil {
		r.Saturated[id] = map[string]int{}
	}
	r.Saturated[id][server]++
}

func (r *Results) raw(id, server string, rep int, v any) {
	b, _ := json.Marshal(v)
	r.rawJSON(id, server, rep, b)
}

func (r *Results) rawJSON(id, server string, rep int, b []byte) {
	r.Runs = append(r.Runs, RawRun{Scenario: id, Server: server, Rep: rep, Result: json.RawMessage(bytes.TrimSpace(b))})
}

func (r *Results) setKnee(server string, rate float64) {
	r.knees[server] = append(r.knees[server], rate)
}

// kneeRate is the median S3 knee (posts/s) measured so far for server.
func (r *Results) kneeRate(server string) float64 {
	if len(r.knees[server]) == 0 {
		return 0
	}
	m, _, _ := stats(r.knees[server])
	return m
}

func cell(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	m, lo, hi := stats(xs)
	if len(xs) == 1 || lo == hi {
		return num(m)
	}
	return fmt.Sprintf("%s (%s–%s)", num(m), num(lo), num(hi))
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10000:
		return groupThousands(int64(math.Round(v)))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() (string, int) {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model, n := "unknown", 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			model = strings.TrimSpace(v)
		case "processor":
			n++
		}
	}
	return model, n
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (d *driver) npmVersion(pkg string) string {
	b, err := os.ReadFile(d.sioDir + "/node_modules/" + pkg + "/package.json")
	if err != nil {
		return "not installed"
	}
	var v struct{ Version string }
	json.Unmarshal(b, &v)
	return v.Version
}

func goModVersion(root, mod string) string {
	b, _ := os.ReadFile(root + "/go.mod")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == mod {
			return f[1]
		}
	}
	return "unknown"
}

// report renders the Markdown report.
func (d *driver) report(ctx context.Context, reps int, rawPath string, charts map[string]chartFile) string {
	r := d.results
	var b strings.Builder
	model, ncpu := cpuModel()
	commit := d.commit
	fmt.Fprintf(&b, "# lanfeed benchmarks\n\n")
	fmt.Fprintf(&b, "Generated by `make bench` (`go run ./bench/cmd/bench`) on %s, commit %s: lanfeed and a socket.io 4.8 "+
		"reference server (`bench/socketio/`) meet the same load on the same machine, one after the other, "+
		"%d repetition(s) each, every run on a freshly started server. Each figure is the median, with min–max over the "+
		"repetitions in brackets. Absolute times drift on shared machines; the ratio columns, measured in one run, are "+
		"the figures to compare: each is the median over the repetitions of the ratio of the two servers' figures in the "+
		"same repetition (the servers of a repetition run back to back). `lanfeed/socket.io` below 1 means lanfeed's "+
		"figure is the smaller one. The floor (`bench/cmd/floor`) is what one core does with one non-blocking write per "+
		"peer per post and nothing else: the bound of the latency scenarios.\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), commit, reps)
	if d.peers > 0 || d.rate > 0 || d.dur > 0 || d.hold > 0 {
		fmt.Fprintf(&b, "**Quick run, not the issue's scenarios**: overridden with -peers %d -rate %g -dur %s -hold %s "+
			"(0: the scenario's own).\n\n", d.peers, d.rate, d.dur, d.hold)
	}
	fmt.Fprintf(&b, "## Machine and versions\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d logical CPUs; memory %s\n", model, ncpu, memTotal())
	fmt.Fprintf(&b, "- Kernel: %s\n", cmdOut("uname", "-srvm"))
	if d.serverCPU != "" {
		fmt.Fprintf(&b, "- Pinning (`taskset`): server on CPU %s, load generator on CPU %s\n", d.serverCPU, d.loadCPU)
	} else {
		fmt.Fprintf(&b, "- No CPU pinning\n")
	}
	fmt.Fprintf(&b, "- lanfeed: %s, gorilla/websocket %s, modernc.org/sqlite %s; lanfeedd flags: `%s`\n",
		runtime.Version(), goModVersion(d.root, "github.com/gorilla/websocket"), goModVersion(d.root, "modernc.org/sqlite"),
		strings.Join(d.lanfeedFlags, " "))
	for _, p := range r.Disk {
		fmt.Fprintf(&b, "- Disk, fsync of a 4 KiB append next to the servers' databases, %s\n", p)
	}
	fmt.Fprintf(&b, "- Reference: Node %s, socket.io %s, better-sqlite3 %s\n",
		cmdOut("node", "--version"), d.npmVersion("socket.io"), d.npmVersion("better-sqlite3"))
	fmt.Fprintf(&b, "- Load generator: `bench/cmd/loadgen` (Go, gorilla/websocket), open loop: posts leave on schedule "+
		"whatever the server does, so queueing shows as latency; each post carries its send time, every delivery is "+
		"timed on the load generator's monotonic clock. Server CPU from /proc/PID/stat (10 ms ticks), RSS from /proc/PID/status.\n\n")

	compared := false // whether any scenario of the socket.io comparison ran
	for _, sc := range scenarios {
		if _, ran := r.Values[sc.id]; ran && !lanfeedOnly(sc.id) {
			compared = true
		}
	}
	if compared {
		fmt.Fprintf(&b, "## Results\n\n")
		fmt.Fprintf(&b, "| id | metric | target (lanfeed) | lanfeed | socket.io | floor | lanfeed/socket.io | lanfeed/floor | met | lanfeed via /socket.io/ |\n")
		fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|\n")
	}
	for _, sc := range scenarios {
		vals, ran := r.Values[sc.id]
		if !ran || lanfeedOnly(sc.id) {
			continue
		}
		for i, row := range sc.rows {
			lf, sio, fl := vals[kindLanfeed][row.key], vals[kindSocketIO][row.key], vals[kindFloor][row.key]
			if len(lf) == 0 && len(sio) == 0 && len(fl) == 0 {
				continue
			}
			id := rowID(sc.id, i, r)
			met := ""
			lfm, sm := math.NaN(), math.NaN()
			if len(lf) > 0 {
				lfm, _, _ = stats(lf)
			}
			if len(sio) > 0 {
				sm, _, _ = stats(sio)
			}
			if row.met != nil && len(lf) > 0 {
				met = "no"
				if row.met(lfm, sm, r) {
					met = "yes"
				}
			}
			lsio := "–"
			if v := vals[kindLanfeedSIO][row.key]; len(v) > 0 {
				lsio = cell(v)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", id, row.label, row.target, cell(lf), cell(sio), cell(fl),
				ratioCell(r.ratio(sc.id, row.key, kindLanfeed, kindSocketIO)), ratioCell(r.ratio(sc.id, row.key, kindLanfeed, kindFloor)), met, lsio)
		}
	}
	if compared {
		if len(r.Saturated) > 0 {
			fmt.Fprintf(&b, "\n⚠: in at least one run of that scenario the load generator used over 90%% of its core or its "+
				"publisher fell behind schedule by over 0.5 s: there the figures bound the load generator as much as the server "+
				"(see the notes).\n")
		}
		if c, ok := charts["S3"]; ok {
			fmt.Fprintf(&b, "\n![%s](%s)\n", c.Alt, c.Path)
		}
		fmt.Fprintf(&b, "\n")
	}
	d.meshReport(&b)
	d.uiReport(&b, charts)

	if compared {
		fmt.Fprintf(&b, "## Scenarios\n\n")
		for _, sc := range scenarios {
			if _, ran := r.Values[sc.id]; (!ran && r.Notes[sc.id] == nil) || lanfeedOnly(sc.id) {
				continue
			}
			fmt.Fprintf(&b, "- **%s**: %s.\n", sc.id, sc.title)
		}
		fmt.Fprintf(&b, "\nThe load generator's lanfeed peers connect with `presence=0` (no `peers` events), as the socket.io "+
			"reference sends no presence (its `--presence` flag would add it). S2, S2b and S3 compare lanfeed (durable commit included) with socket.io "+
			"broadcasting from memory; S5 and S6 compare with socket.io + better-sqlite3 (WAL, synchronous=FULL, one "+
			"transaction per post). S4's slow peers read one frame per 100 ms through a 4 KiB receive buffer.\n\n")
		fmt.Fprintf(&b, "The floor server, pinned like the others, speaks just enough of `/ws` for the load generator (upgrade, "+
			"hello, ack). One goroutine reads the publisher's emits one at a time; for each it frames one posts event of "+
			"lanfeedd's shape and length, with the emit's body, and writes those bytes to every peer's raw socket with one "+
			"non-blocking `write()`, then acks. A peer whose write would block or is short is closed, not queued, and "+
			"counted (in the notes when it happens). In S2, S2b and S3 that is all it does; in S6 it first appends the "+
			"emit to a file and calls `fdatasync`, as lanfeed commits durably before anyone is told: group-commit style, "+
			"a second goroutine reads the emits that arrive during one `fdatasync` and they share the next.\n\n")
	}

	fmt.Fprintf(&b, "## Notes from the runs\n\n")
	any := false
	for _, sc := range scenarios {
		for _, kind := range []string{kindLanfeed, kindLanfeedSIO, kindSocketIO, kindFloor} {
			for _, n := range r.Notes[sc.id][kind] {
				fmt.Fprintf(&b, "- %s, %s: %s\n", sc.id, kind, n)
				any = true
			}
		}
	}
	if !any {
		fmt.Fprintf(&b, "None.\n")
	}
	fmt.Fprintf(&b, "\nEvery run's full output is in `%s`, server and load generator logs in `bench/out/logs/` (not committed).\n", rawPath)
	// The analysis (what bounds each target, profiles, what was tried) is
	// written by hand and kept with the harness, so that a new run keeps it.
	if a, err := os.ReadFile(filepath.Join(d.root, "bench", "ANALYSIS.md")); err == nil {
		fmt.Fprintf(&b, "\n%s", a)
	}
	return b.String()
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

// rowID is a report row's first cell: the scenario's id in bold on its
// first row (with ⚠ when a run of it saturated the load generator), empty
// on the others.
func rowID(id string, row int, r *Results) string {
	if row != 0 {
		return ""
	}
	if r.Saturated[id] != nil {
		return "**" + id + "** ⚠"
	}
	return "**" + id + "**"
}
