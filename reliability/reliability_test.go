//go:build linux

// Package reliability holds lanfeed's crash, storm, slow-peer and disk tests
// (issue 4, items 1, 2, 3 and 9). They run lanfeedd as a child process (built
// once, pure Go as shipped) or the node in-process when they need tuning the
// binary has no flags for, always on loopback and bounded in time. Linux
// only: they spread peers over 127.0.0.0/8 source addresses, count
// /proc/self/fd and mount a tmpfs.
//
// Short variants run in `go test ./reliability`; the long ones need -soak:
//
//	go test ./reliability -run . -soak -timeout 60m -v
package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var soak = flag.Bool("soak", false, "run the long variants (make soak)")

// Timing: every wait in these tests is bounded by one of these.
const (
	// buildWait bounds `go build`; a cold cache compiles SQLite.
	buildWait = 5 * time.Minute
	// startWait bounds a node's start until it prints its URL and token.
	startWait = 20 * time.Second
	// waitFor bounds one expected frame or response; generous because the
	// race detector on a small machine can stall the test for a while.
	waitFor = 15 * time.Second
	// stopWait is how long lanfeedd may take to exit after a signal.
	stopWait = 10 * time.Second
)

// binPath is lanfeedd, built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "lanfeedd-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "lanfeedd")
	if err := build(binPath); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: building lanfeedd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildWait)
	defer cancel()
	// go test puts its own GOROOT/bin first on PATH, so "go" is the
	// toolchain running this test.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "lanfeed/cmd/lanfeedd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// raiseFileLimit lifts the soft fd limit to the hard one: the storm holds
// a thousand sockets on each side, and lanfeedd children inherit it.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// node is a running `lanfeedd serve` child.
type node struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:port/
	token  string
	stdout syncBuffer
	stderr syncBuffer
	exited chan struct{}
}

// unlimited lifts lanfeedd's write rate limits: these tests write as fast as
// they can on purpose (the limits have their own tests in realtime).
var unlimited = []string{"--write-rate", "-1", "--http-write-rate", "-1"}

// startNode runs lanfeedd serve on addr with dataDir (and extra flags) and
// waits until it prints its URL and token. The test's cleanup kills it if
// still running.
func startNode(t testing.TB, dataDir, addr string, extra ...string) *node {
	t.Helper()
	n := &node{exited: make(chan struct{})}
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir, "--name", "reliability"}, extra...)
	n.cmd = exec.Command(binPath, args...)
	pr, pw := io.Pipe()
	n.cmd.Stdout = io.MultiWriter(pw, &n.stdout)
	n.cmd.Stderr = &n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start lanfeedd: %v", err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		n.cmd.Wait()
		pw.Close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("lanfeedd stderr (tail):\n%s", tail(n.stderr.String(), 3000))
		}
	})
	deadline := time.After(startWait)
	for n.url == "" || n.token == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				<-n.exited
				t.Fatalf("lanfeedd serve exited before printing its URL and token\nstderr:\n%s", n.stderr.String())
			}
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				n.url = u
			}
			if tok, ok := strings.CutPrefix(line, "pairing token: "); ok {
				n.token = tok
			}
		case <-deadline:
			t.Fatalf("lanfeedd serve printed no URL and token within %v\nstdout:\n%s\nstderr:\n%s", startWait, n.stdout.String(), n.stderr.String())
		}
	}
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// kill sends SIGKILL and waits for the exit.
func (n *node) kill() {
	select {
	case <-n.exited:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// stop sends SIGTERM and waits up to stopWait for a clean exit.
func (n *node) stop(t testing.TB) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		if c := n.cmd.ProcessState.ExitCode(); c != 0 {
			t.Errorf("lanfeedd exit code after SIGTERM = %d; want 0\nstderr:\n%s", c, tail(n.stderr.String(), 3000))
		}
	case <-time.After(stopWait):
		n.kill()
		t.Fatalf("lanfeedd still running %v after SIGTERM", stopWait)
	}
}

func (n *node) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(n.url, "http") + "ws?" + query
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// post is the part of a post these tests compare.
type post struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Version int64  `json:"version"`
	Deleted bool   `json:"deleted"`
	Seq     int64  `json:"seq"`
}

// frame is any server message, decoded as far as these tests need.
type frame struct {
	Type  string          `json:"type"`
	Event string          `json:"event"`
	Seq   int64           `json:"seq"`
	Epoch string          `json:"epoch"`
	ID    int64           `json:"id"`
	Code  string          `json:"code"`
	Data  json.RawMessage `json:"data"`
}

type postEvent struct {
	Action string `json:"action"`
	Post   post   `json:"post"`
}

var presencePrefix = []byte(`{"type":"event","event":"peers"`)

// decode parses one frame; presence events are skipped cheaply (ok false)
// because a storm sends a million of them.
func decode(b []byte) (f frame, ok bool, err error) {
	if bytes.HasPrefix(b, presencePrefix) {
		return f, false, nil
	}
	err = json.Unmarshal(b, &f)
	return f, err == nil, err
}

// httpClient talks to nodes; its own transport so tests can close idle conns.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: waitFor, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// createPost POSTs a post with the Bearer token; it returns the status and
// the created post (when 201) or the raw body.
func createPost(ctx context.Context, c *http.Client, baseURL, token, title, body string) (int, post, []byte, error) {
	in, _ := json.Marshal(map[string]string{"title": title, "body": body})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"api/posts", bytes.NewReader(in))
	if err != nil {
		return 0, post{}, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, post{}, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, post{}, raw, err
	}
	var p post
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(raw, &p); err != nil {
			return resp.StatusCode, p, raw, err
		}
	}
	return resp.StatusCode, p, raw, nil
}

// listAll reads every live post over GET /api/posts, page by page.
func listAll(t testing.TB, c *http.Client, baseURL string) (map[string]post, int64) {
	t.Helper()
	all := map[string]post{}
	var seq int64
	before := ""
	for range 100000 {
		resp, err := c.Get(baseURL + "api/posts?limit=200&before=" + before)
		if err != nil {
			t.Fatalf("GET /api/posts: %v", err)
		}
		var page struct {
			Posts []post `json:"posts"`
			Next  string `json:"next"`
			Seq   int64  `json:"seq"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/posts = %d, %v", resp.StatusCode, err)
		}
		if before == "" {
			seq = page.Seq
		}
		for _, p := range page.Posts {
			all[p.ID] = p
		}
		if page.Next == "" {
			return all, seq
		}
		before = page.Next
	}
	t.Fatal("GET /api/posts: too many pages")
	return nil, 0
}

// dialer dials websockets from a given loopback source address, so that
// many peers are spread over source IPs (per-address connection caps).
func dialer(src string) *websocket.Dialer {
	d := *websocket.DefaultDialer
	d.HandshakeTimeout = waitFor
	if src != "" {
		nd := &net.Dialer{Timeout: waitFor, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		d.NetDialContext = nd.DialContext
	}
	return &d
}

// percentile returns the q-th quantile (0..1) of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * q)
	return sorted[i]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
