// Package testproc runs lanfeedd as a child process for tests: it builds
// the binary once per test process (pure Go, as shipped), starts children
// with their output captured, and waits for `lanfeedd serve` to say where it
// listens. Every wait is bounded; a child still running when its test ends
// is killed.
//
// It is internal test support, shared by cmd/lanfeedd's end-to-end tests
// and the reliability tests; nothing shipped imports it.
package testproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildWait bounds `go build`; a cold cache compiles SQLite.
const BuildWait = 5 * time.Minute

// Build compiles lanfeedd into dir and returns the binary's path.
func Build(dir string) (string, error) { return BuildWith(dir) }

// BuildWith is Build with extra go build flags, such as the -ldflags that
// stamp the version.
func BuildWith(dir string, flags ...string) (string, error) {
	bin := filepath.Join(dir, "lanfeedd")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), BuildWait)
	defer cancel()
	args := append(append([]string{"build", "-o", bin}, flags...), "lanfeed/cmd/lanfeedd")
	// go test puts its own GOROOT/bin first on PATH, so "go" is the
	// toolchain running the test.
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build lanfeedd: %v\n%s", err, out)
	}
	return bin, nil
}

// Buffer is a bytes.Buffer that a child's output and the test may use at
// the same time.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns the last n bytes written, for failure logs.
func (b *Buffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Proc is a running child process.
type Proc struct {
	Cmd    *exec.Cmd
	Lines  chan string // stdout line by line, closed at EOF; lines nobody reads in time are only in Stdout
	Stdout Buffer
	Stderr Buffer
	Exited chan struct{} // closed once the process has exited
	err    error         // from Wait; valid after Exited
}

// linesBuffered is how many stdout lines wait for a reader before further
// ones go to Stdout only.
const linesBuffered = 256

// Start runs bin with args until it exits or the test ends (then it is
// killed, and its output logged if the test failed).
func Start(tb testing.TB, bin string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Cmd: exec.Command(bin, args...), Lines: make(chan string, linesBuffered), Exited: make(chan struct{})}
	pr, pw := io.Pipe()
	p.Cmd.Stdout = io.MultiWriter(pw, &p.Stdout)
	p.Cmd.Stderr = &p.Stderr
	if err := p.Cmd.Start(); err != nil {
		tb.Fatalf("start %s %v: %v", filepath.Base(bin), args, err)
	}
	go func() {
		defer close(p.Lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case p.Lines <- sc.Text():
			default: // nobody listens any more; Stdout keeps it
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = p.Cmd.Wait()
		pw.Close()
		close(p.Exited)
	}()
	tb.Cleanup(func() {
		p.Kill()
		if tb.Failed() {
			tb.Logf("%s %v stdout (tail):\n%s\nstderr (tail):\n%s", filepath.Base(bin), args, p.Stdout.Tail(3000), p.Stderr.Tail(3000))
		}
	})
	return p
}

// Kill ends the process at once (SIGKILL) and waits for it to exit.
func (p *Proc) Kill() {
	select {
	case <-p.Exited:
		return
	default:
	}
	p.Cmd.Process.Kill()
	<-p.Exited
}

// Wait waits up to within for the process to exit and returns its exit
// code; the test fails if it is still running.
func (p *Proc) Wait(tb testing.TB, within time.Duration) int {
	tb.Helper()
	select {
	case <-p.Exited:
	case <-time.After(within):
		tb.Fatalf("%s still running %v later; want it exited", filepath.Base(p.Cmd.Path), within)
	}
	var exitErr *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exitErr) {
		tb.Fatalf("Wait() = %v; want an exit status", p.err)
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Node is a running `lanfeedd serve`.
type Node struct {
	*Proc
	URL   string // the first "listening on" URL, e.g. http://127.0.0.1:PORT/
	Token string // the pairing token it printed
}

// Serve runs `lanfeedd serve --no-discovery` with args and waits up to
// within for it to print where it listens and its pairing token. Tests
// never multicast on the machine's network: the namespace tests, which
// do, start serve with Start.
func Serve(tb testing.TB, bin string, within time.Duration, args ...string) *Node {
	tb.Helper()
	n := &Node{Proc: Start(tb, bin, append([]string{"serve", "--no-discovery"}, args...)...)}
	deadline := time.After(within)
	for n.URL == "" || n.Token == "" {
		select {
		case line, ok := <-n.Lines:
			if !ok {
				<-n.Exited
				tb.Fatalf("lanfeedd serve exited (%v) before printing its URL and token\nstderr:\n%s", n.err, n.Stderr.String())
			}
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				n.URL = u
			}
			if tok, ok := strings.CutPrefix(line, "pairing token: "); ok {
				n.Token = tok
			}
		case <-deadline:
			tb.Fatalf("lanfeedd serve printed no URL and token within %v\nstdout:\n%s\nstderr:\n%s", within, n.Stdout.String(), n.Stderr.String())
		}
	}
	return n
}
