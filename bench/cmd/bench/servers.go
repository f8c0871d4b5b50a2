package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Server kinds: lanfeed, and the socket.io reference with and without
// better-sqlite3 persistence.
const (
	kindLanfeed    = "lanfeed"
	kindSocketIO   = "socketio"
	kindSocketIOPe = "socketio-persist"
	// kindLanfeedSIO is lanfeedd again, driven through its /socket.io/
	// endpoint instead of /ws.
	kindLanfeedSIO = "lanfeed-sio"
	// kindFloor is the floor server (bench/cmd/floor): one goroutine, one
	// non-blocking write per peer per post; kindFloorDurable is the same
	// with each post appended to a file and fdatasynced (group commit)
	// before its fan-out (S6).
	kindFloor        = "floor"
	kindFloorDurable = "floor-durable"
)

// speaksLanfeed says whether a server kind is driven with lanfeed's /ws
// protocol and prints a pairing token, as lanfeedd and the floor do.
func speaksLanfeed(kind string) bool {
	switch kind {
	case kindLanfeed, kindLanfeedSIO, kindFloor, kindFloorDurable:
		return true
	}
	return false
}

// serverReady bounds a server's start: up to its "listening on" line.
const serverReady = 30 * time.Second

// server is one running server process.
type server struct {
	kind  string
	url   string
	token string
	cmd   *exec.Cmd
	log   *os.File
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// pinned prefixes argv with taskset when cpu is set. taskset execs the
// command, so the pid we get is the server's own.
func pinned(cpu string, argv ...string) []string {
	if cpu == "" {
		return argv
	}
	return append([]string{"taskset", "-c", cpu}, argv...)
}

// startServer starts one server of kind on a free loopback port, with its
// data under dir, and waits until it is listening.
func (d *driver) startServer(ctx context.Context, kind, dir, logName string) (*server, error) {
	return d.startServerWith(ctx, kind, dir, logName, serverOpts{cpu: d.serverCPU})
}

// serverOpts are what the mesh scenarios vary between the two nodes they
// start: the CPU each is pinned to, extra environment (GODEBUG for the
// follower's heap) and extra lanfeedd flags.
type serverOpts struct {
	cpu  string // taskset CPU list; "" no pinning
	env  []string
	args []string
}

// startServerWith is startServer with the pinning, environment and extra
// lanfeedd flags of o.
func (d *driver) startServerWith(ctx context.Context, kind, dir, logName string, o serverOpts) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var argv []string
	switch kind {
	case kindLanfeed, kindLanfeedSIO:
		argv = append([]string{d.lanfeedd, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir}, d.lanfeedFlags...)
		argv = append(argv, o.args...)
	case kindSocketIO:
		argv = []string{"node", filepath.Join(d.sioDir, "server.js")}
	case kindSocketIOPe:
		argv = []string{"node", filepath.Join(d.sioDir, "server.js"), "--persist", "--db", filepath.Join(dir, "socketio.db")}
	case kindFloor:
		argv = []string{d.floor, "-listen", "127.0.0.1:0"}
	case kindFloorDurable:
		argv = []string{d.floor, "-listen", "127.0.0.1:0", "-durable", filepath.Join(dir, "floor.log")}
	default:
		return nil, fmt.Errorf("unknown server %q", kind)
	}
	argv = pinned(o.cpu, argv...)
	logf, err := os.Create(filepath.Join(d.logDir, logName+".log"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(logf, "$", strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = logf
	if len(o.env) > 0 {
		cmd.Env = append(os.Environ(), o.env...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	s := &server{kind: kind, cmd: cmd, log: logf}
	type addr struct{ url, token string }
	ready := make(chan addr, 1)
	go func() { // logs stdout; reports the address once it has been printed
		var a addr
		sent := false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				a.url = u
			}
			if t, ok := strings.CutPrefix(line, "pairing token: "); ok {
				a.token = t
			}
			if !sent && a.url != "" && (!speaksLanfeed(kind) || a.token != "") {
				ready <- a
				sent = true
			}
		}
		close(ready)
	}()
	timer := time.NewTimer(serverReady)
	defer timer.Stop()
	select {
	case a, ok := <-ready:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("%s exited before it was ready; see %s", kind, logf.Name())
		}
		s.url, s.token = a.url, a.token
	case <-timer.C:
		s.stop()
		return nil, fmt.Errorf("%s not ready after %s; see %s", kind, serverReady, logf.Name())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	return s, nil
}

// stop asks the server to end (SIGTERM) and kills it after 5 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.log.Close()
}

// lanfeedServeFlags returns the lanfeedd serve flags that lift the limits a
// benchmark would otherwise measure instead of the engine: the per-peer write
// rate (the publisher sends hundreds of posts a second) and the peer caps.
// Flags this lanfeedd does not know are left out.
func lanfeedServeFlags(bin string) []string {
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	help := string(out)
	var flags []string
	for _, f := range [][2]string{
		{"write-rate", "-1"},
		{"http-write-rate", "-1"},
		{"max-peers", "100000"},
		{"max-peers-per-addr", "100000"},
	} {
		if strings.Contains(help, "  -"+f[0]+" ") {
			flags = append(flags, "--"+f[0], f[1])
		}
	}
	return flags
}

// runCmd runs argv and returns its stdout; stderr goes to the log.
func (d *driver) runCmd(ctx context.Context, logName string, argv ...string) ([]byte, error) {
	logf, err := os.Create(filepath.Join(d.logDir, logName+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintln(logf, "$", strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = logf
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	logf.Write(out)
	if err != nil {
		return out, fmt.Errorf("%s: %w (see %s)", filepath.Base(argv[0]), err, logf.Name())
	}
	return out, nil
}

// floorStats is the floor server's GET /stats (bench/cmd/floor): how many
// peers it closed because a write would block, was short or failed.
type floorStats struct {
	Peers      int64 `json:"peers"`
	Posts      int64 `json:"posts"`
	Writes     int64 `json:"writes"`
	WouldBlock int64 `json:"wouldBlock"`
	Short      int64 `json:"short"`
	Failed     int64 `json:"failed"`
}

// readFloorStats reads the floor's counters after a load run. Peers that
// left at the end of the run are not counted yet: the floor finds out at
// its next write, and the run has no next write.
func readFloorStats(ctx context.Context, s *server) (*floorStats, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"stats", nil)
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("floor stats: %w", err)
	}
	defer resp.Body.Close()
	var v floorStats
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("floor stats: %w", err)
	}
	return &v, nil
}
