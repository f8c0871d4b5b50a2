package main

// U1, the web UI under load, lanfeed only: the driver seeds a node, starts
// lanfeedd pinned to the server CPU as in every scenario, and runs the
// browser side, frontend/bench/ui-bench.mjs (Node, playwright-core and
// /usr/bin/chromium), pinned to the load generator's CPU. The script opens
// the feed, publishes through the node while it watches the DOM, and
// writes one JSON file (uiResult) that the driver turns into rows.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lanfeed/store"
)

// uiScript is the browser side, relative to the repository root (the
// default of -ui-script).
const uiScript = "frontend/bench/ui-bench.mjs"

// uiScriptPath is the script -ui-script names, made absolute.
func (d *driver) uiScriptPath() string {
	if filepath.IsAbs(d.uiScript) {
		return d.uiScript
	}
	return filepath.Join(d.root, d.uiScript)
}

// uiRows are U1's report rows; the UI section lists them with lanfeed's
// figures alone.
var uiRows = []row{
	{"steadyP50", "commit-to-DOM p50 at 100 posts/s (ms)", "", nil},
	{"steadyP99", "commit-to-DOM p99 at 100 posts/s (ms)", "<= 100", le(100)},
	{"steadyShown", "posts shown / sent at 100 posts/s (%)", "100 (all)", atLeast(100)},
	{"longTasks50", "long tasks over 50 ms at 100 posts/s", "0", le(0)},
	{"longestTask", "longest task at 100 posts/s (ms)", "", nil},
	{"burstApplied", "burst of 5,000 changes: all applied within (ms)", "<= 2,000", le(2000)},
	{"burstCommitted", "burst: the node's last ack, from the first send (ms)", "", nil},
	{"burstShown", "burst changes shown (%)", "100", atLeast(100)},
	{"inputMax", "input delay during the burst, max (ms)", "<= 100", le(100)},
	{"inputP99", "input delay during the burst, p99 (ms)", "<= 100", le(100)},
	{"burstLongest", "longest task during the burst (ms)", "", nil},
	{"firstPage", "time to first feed page on load (ms)", "", nil},
	{"scrollS", "scroll through 10,000 posts (s)", "", nil},
	{"domRatio", "DOM nodes after 100,000 posts scrolled past / at the first page", "<= 2", le(2)},
	{"heapRatio", "JS heap after 100,000 posts scrolled past / at the first page", "<= 2", le(2)},
	{"domEnd", "DOM nodes at the end", "", nil},
	{"heapEndMB", "JS heap at the end (MB)", "", nil},
}

func init() {
	scenarios = append(scenarios, scenario{
		id: "U1", title: "the web UI in Chromium: a node of 100,000 posts; a reader at the top of the feed while 100 posts/s arrive " +
			"for 30 s, then a burst of 5,000 creates pipelined over 4 websockets; first page, a scroll through 10,000 posts, memory after 100,000 scrolled past",
		rows: uiRows,
		run:  runU1,
	})
}

// uiParams are the script's load: the by default, smaller for
// quick runs and the smoke test.
type uiParams struct {
	seed       int     // posts in the node before the page opens
	rate       float64 // posts/s of the steady phase
	seconds    float64 // length of the steady phase
	burst      int     // changes published at once
	scroll     int     // posts scrolled through for the scroll time
	scrollPast int     // posts scrolled past before memory is read at the end
	timeout    time.Duration
}

var uiFull = uiParams{seed: 100000, rate: 100, seconds: 30, burst: 5000, scroll: 10000, scrollPast: 100000, timeout: 15 * time.Minute}

// uiResult is the script's output file; every time is in ms unless named.
type uiResult struct {
	Seed   float64 `json:"seed"`
	Steady struct {
		Rate            float64   `json:"rate"`
		Seconds         float64   `json:"seconds"`
		Sent            float64   `json:"sent"`
		Shown           float64   `json:"shown"`
		P50Ms           float64   `json:"p50Ms"`
		P99Ms           float64   `json:"p99Ms"`
		MaxMs           float64   `json:"maxMs"`
		SamplesMs       []float64 `json:"samplesMs"`
		LongTasks       float64   `json:"longTasks"`
		LongTasksOver50 float64   `json:"longTasksOver50"`
		LongestTaskMs   float64   `json:"longestTaskMs"`
	} `json:"steady"`
	Burst struct {
		Changes       float64 `json:"changes"`
		Shown         float64 `json:"shown"`
		AppliedMs     float64 `json:"appliedMs"`
		CommittedMs   float64 `json:"committedMs"`
		InputP99Ms    float64 `json:"inputP99Ms"`
		InputMaxMs    float64 `json:"inputMaxMs"`
		LongestTaskMs float64 `json:"longestTaskMs"`
	} `json:"burst"`
	Load struct {
		FirstPageMs float64 `json:"firstPageMs"`
	} `json:"load"`
	Scroll struct {
		Posts   float64 `json:"posts"`
		Seconds float64 `json:"seconds"`
	} `json:"scroll"`
	Memory struct {
		ScrolledPast float64 `json:"scrolledPast"`
		DomFirst     float64 `json:"domFirst"`
		DomEnd       float64 `json:"domEnd"`
		HeapFirstMB  float64 `json:"heapFirstMB"`
		HeapEndMB    float64 `json:"heapEndMB"`
	} `json:"memory"`
}

// checkUI reports what U1 needs and lacks: the script, Node, playwright-core
// in frontend/node_modules and Chromium.
func (d *driver) checkUI() error {
	var missing []string
	if _, err := os.Stat(d.uiScriptPath()); err != nil {
		missing = append(missing, d.uiScriptPath()+" (the browser side of U1)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node on PATH")
	}
	if _, err := os.Stat(filepath.Join(d.root, "frontend", "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "frontend/node_modules/playwright-core (make deps-web)")
	}
	if _, err := os.Stat(chromium()); err != nil {
		missing = append(missing, chromium()+" (make deps-apt installs chromium)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("U1 cannot run, missing: %s", strings.Join(missing, "; "))
	}
	return nil
}

// chromium is the browser the script drives: $CHROMIUM, else Debian's.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

func runU1(ctx context.Context, d *driver, kind string, rep int) error {
	if kind != kindLanfeed {
		return nil
	}
	p := uiFull
	if d.peers > 0 { // quick run: a smaller node and burst
		p.seed, p.burst, p.scroll, p.scrollPast = 5000, 500, 1000, 5000
	}
	if d.rate > 0 {
		p.rate = d.rate
	}
	if d.dur > 0 {
		p.seconds = d.dur.Seconds()
	}
	res, raw, err := d.runUI(ctx, runName("U1", kind, rep), p)
	if err != nil {
		return err
	}
	d.results.rawJSON("U1", kind, rep, raw)
	d.results.uiSamples[rep] = res.Steady.SamplesMs
	add := func(metric string, v float64) { d.results.add("U1", kind, metric, v) }
	add("steadyP50", res.Steady.P50Ms)
	add("steadyP99", res.Steady.P99Ms)
	if res.Steady.Sent > 0 {
		add("steadyShown", 100*res.Steady.Shown/res.Steady.Sent)
	}
	add("longTasks50", res.Steady.LongTasksOver50)
	add("longestTask", res.Steady.LongestTaskMs)
	add("burstApplied", res.Burst.AppliedMs)
	add("burstCommitted", res.Burst.CommittedMs)
	if res.Burst.Changes > 0 {
		add("burstShown", 100*res.Burst.Shown/res.Burst.Changes)
		if res.Burst.Shown < res.Burst.Changes {
			d.results.note("U1", kind, fmt.Sprintf("rep %d: %g of the burst's %g changes shown: its applied time is when the page stopped waiting",
				rep, res.Burst.Shown, res.Burst.Changes))
		}
	}
	add("inputMax", res.Burst.InputMaxMs)
	add("inputP99", res.Burst.InputP99Ms)
	add("burstLongest", res.Burst.LongestTaskMs)
	add("firstPage", res.Load.FirstPageMs)
	add("scrollS", res.Scroll.Seconds)
	if m := res.Memory; m.DomFirst > 0 && m.HeapFirstMB > 0 {
		add("domRatio", m.DomEnd/m.DomFirst)
		add("heapRatio", m.HeapEndMB/m.HeapFirstMB)
	}
	add("domEnd", res.Memory.DomEnd)
	add("heapEndMB", res.Memory.HeapEndMB)
	if p != uiFull {
		d.results.note("U1", kind, fmt.Sprintf("rep %d: quick run: %d posts seeded, %g posts/s for %g s, a burst of %d, scroll %d, memory after %d",
			rep, p.seed, p.rate, p.seconds, p.burst, p.scroll, p.scrollPast))
	}
	return nil
}

// runUI seeds a fresh node with p.seed posts (a copy of a seed made once
// and kept under the run directory), starts lanfeedd on it and runs the
// browser side against it, within p.timeout.
func (d *driver) runUI(ctx context.Context, name string, p uiParams) (*uiResult, []byte, error) {
	if err := d.checkUI(); err != nil {
		return nil, nil, err
	}
	seedDir := filepath.Join(d.runDir, fmt.Sprintf("U1-seed-%d", p.seed))
	if _, err := seedOrigin(ctx, seedDir, p.seed); err != nil {
		return nil, nil, fmt.Errorf("seed: %w", err)
	}
	dir := filepath.Join(d.runDir, name)
	dataDir := filepath.Join(dir, "data")
	os.RemoveAll(dir)
	if err := copyDB(seedDir, dataDir); err != nil {
		return nil, nil, err
	}
	s, err := d.startServer(ctx, kindLanfeed, dataDir, name+"-server")
	if err != nil {
		return nil, nil, err
	}
	defer s.stop()
	if err := servesUI(ctx, s); err != nil {
		return nil, nil, err
	}
	out := filepath.Join(dir, "ui.json")
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	argv := pinned(d.loadCPU, "node", d.uiScriptPath(),
		"--url", strings.TrimSuffix(s.url, "/"), "--token", s.token, "--out", out,
		"--seed", strconv.Itoa(p.seed), "--rate", f(p.rate), "--seconds", f(p.seconds),
		"--burst", strconv.Itoa(p.burst), "--scroll", strconv.Itoa(p.scroll), "--scroll-past", strconv.Itoa(p.scrollPast))
	if err := d.runGroup(ctx, name+"-browser", p.timeout, argv); err != nil {
		return nil, nil, err
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, nil, fmt.Errorf("%s wrote no result: %w", filepath.Base(d.uiScript), err)
	}
	var res uiResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", out, err)
	}
	if res.Steady.Sent == 0 {
		return nil, nil, fmt.Errorf("%s: no post sent in the steady phase", out)
	}
	return &res, raw, nil
}

// copyDB copies the database files of a seeded data directory into a new
// one, so that every run starts from the same node and changes only its own.
func copyDB(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(filepath.Join(from, store.FileName+suffix))
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		} else if err != nil {
			return err
		}
		dst, err := os.Create(filepath.Join(to, store.FileName+suffix))
		if err == nil {
			_, err = io.Copy(dst, src)
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("copy the seeded database: %w", err)
		}
	}
	return nil
}

// servesUI checks that lanfeedd serves the web UI: a lanfeedd built while
// frontend/dist was empty serves none, and the browser would time out.
func servesUI(ctx context.Context, s *server) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	resp, err := httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<script")) {
		return fmt.Errorf("lanfeedd serves no web UI at %s (HTTP %d): build it with the frontend (make lanfeedd) and pass -lanfeedd build/bin/lanfeedd",
			s.url, resp.StatusCode)
	}
	return nil
}

// runGroup runs argv in a process group of its own, output to a log. When
// it overruns timeout or ctx ends, the group gets SIGTERM (playwright then
// closes the browsers it launched, which sit in groups of their own) and,
// 10 s later, Node SIGKILL.
func (d *driver) runGroup(ctx context.Context, logName string, timeout time.Duration, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logf, err := os.Create(filepath.Join(d.logDir, logName+".log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintln(logf, "$", strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = d.root
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever of the group is left
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%s did not finish within %s (see %s)", filepath.Base(d.uiScript), timeout, logf.Name())
		}
		return fmt.Errorf("%s: %w (see %s)", filepath.Base(d.uiScript), err, logf.Name())
	}
	return nil
}

// smokeUI is U1 at a small size, correctness only: every post of the
// steady phase and every change of the burst reached the page.
func (d *driver) smokeUI(ctx context.Context) []string {
	p := uiParams{seed: 500, rate: 20, seconds: 3, burst: 200, scroll: 200, scrollPast: 500, timeout: 60 * time.Second}
	res, _, err := d.runUI(ctx, "smoke-ui", p)
	if err != nil {
		return []string{err.Error()}
	}
	problems := uiSmokeProblems(res, p.burst)
	if len(problems) == 0 {
		fmt.Printf("ok   smoke %-16s %g posts at %g/s and a burst of %g changes, all shown in Chromium\n",
			"ui", res.Steady.Sent, p.rate, res.Burst.Changes)
	}
	return problems
}

// uiReport renders U1's section: lanfeed alone, one column, and the chart.
func (d *driver) uiReport(b *strings.Builder, charts map[string]chartFile) {
	r := d.results
	vals, ran := r.Values["U1"][kindLanfeed]
	if !ran {
		return
	}
	fmt.Fprintf(b, "## Web UI in Chromium (U1)\n\n")
	fmt.Fprintf(b, "`lanfeedd` pinned to CPU %s on a fresh copy of a node seeded with 100,000 posts; `%s` (Node, playwright-core, "+
		"Chromium %s) pinned to CPU %s opens the feed at its URL, publishes through the node and watches the page: "+
		"commit-to-DOM runs from a post's commit on the node until its card is in the DOM, as the script times it. Median, min–max in brackets.\n\n",
		orAll(d.serverCPU), d.uiScript, chromiumVersion(), orAll(d.loadCPU))
	fmt.Fprintf(b, "| id | metric | target | lanfeed | met |\n|---|---|---|---|---|\n")
	for i, row := range uiRows {
		xs := vals[row.key]
		if len(xs) == 0 {
			continue
		}
		met := ""
		if row.met != nil {
			m, _, _ := stats(xs)
			met = "no"
			if row.met(m, 0, r) {
				met = "yes"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", rowID("U1", i, r), row.label, row.target, cell(xs), met)
	}
	for _, sc := range scenarios {
		if sc.id == "U1" {
			fmt.Fprintf(b, "\n- **U1**: %s.\n", sc.title)
		}
	}
	if c, ok := charts["U1"]; ok {
		fmt.Fprintf(b, "\n![%s](%s)\n", c.Alt, c.Path)
	}
	fmt.Fprintf(b, "\n")
}

// chromiumVersion is what the browser says of itself, "unknown" if not.
func chromiumVersion() string {
	v := cmdOut(chromium(), "--version") // "Chromium 156.0.8078.114 built on Debian ..."
	for _, f := range strings.Fields(v) {
		if f[0] >= '0' && f[0] <= '9' {
			return f
		}
	}
	return v
}

// uiSmokeProblems is what U1's smoke checks: every post of the steady phase
// shown, and every change of a burst of the size asked for.
func uiSmokeProblems(res *uiResult, burst int) []string {
	var problems []string
	if res.Steady.Sent == 0 || res.Steady.Shown != res.Steady.Sent {
		problems = append(problems, fmt.Sprintf("%g of %g posts shown", res.Steady.Shown, res.Steady.Sent))
	}
	if res.Burst.Shown != res.Burst.Changes || res.Burst.Changes != float64(burst) {
		problems = append(problems, fmt.Sprintf("%g of the burst's %g changes shown (asked for %d)", res.Burst.Shown, res.Burst.Changes, burst))
	}
	return problems
}
