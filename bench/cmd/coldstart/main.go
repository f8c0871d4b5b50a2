// Command coldstart is scenario S7: lanfeedd's cold start over a database of
// many posts, its first feed page, and a changes-since replay. It seeds a
// data directory through lanfeed's store (synchronous=OFF: seeding is not
// what is measured), then starts lanfeedd on it and prints one JSON line:
//
//   - readyMs: from exec to "listening on" on stdout, and to the first
//     successful GET /healthz;
//
//   - firstPage: latency of GET /api/posts?limit=50 (fresh connection each
//     time, sequential);
//
//   - changesSince: from dialling /ws?since=SEQ-N to its "synced" frame, N
//     posts replayed.
//
//     coldstart -lanfeedd build/bin/lanfeedd -posts 100000 [-taskset 0]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"lanfeed/bench/loadgen"
	"lanfeed/feed"
	"lanfeed/store"

	"github.com/gorilla/websocket"
)

func main() {
	bin := flag.String("lanfeedd", "build/bin/lanfeedd", "lanfeedd binary")
	posts := flag.Int("posts", 100000, "posts in the database")
	pages := flag.Int("pages", 200, "first-page requests")
	replay := flag.Int("replay", 10000, "posts in each changes-since replay")
	replays := flag.Int("replays", 5, "changes-since replays")
	cpu := flag.String("taskset", "", "pin lanfeedd to this CPU list with taskset (empty: no pinning)")
	dir := flag.String("dir", "", "data directory to seed (default: a new temporary one, removed after)")
	flag.Parse()
	if err := run(*bin, *posts, *pages, *replay, *replays, *cpu, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(bin string, posts, pages, replay, replays int, cpu, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "lanfeed-coldstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	seedStart := time.Now()
	seq, err := seed(dir, posts)
	if err != nil {
		return err
	}
	seedS := time.Since(seedStart).Seconds()

	args := []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir}
	name := bin
	if cpu != "" {
		name, args = "taskset", append([]string{"-c", cpu, bin}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	}()
	var base string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			base = u
			break
		}
	}
	listening := time.Since(start)
	if base == "" {
		return errors.New("lanfeedd printed no \"listening on\" line")
	}
	go io.Copy(io.Discard, out)
	client := &http.Client{Timeout: 5 * time.Second}
	var healthy time.Duration
	for time.Since(start) < 30*time.Second {
		resp, err := client.Get(base + "healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				healthy = time.Since(start)
				break
			}
		}
		time.Sleep(time.Millisecond)
	}

	var page loadgen.Hist
	for i := 0; i < pages; i++ {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		t := time.Now()
		resp, err := c.Get(base + "api/posts?limit=50")
		if err != nil {
			return fmt.Errorf("first page: %w", err)
		}
		var body struct {
			Posts []feed.Post `json:"posts"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || len(body.Posts) != min(50, posts) {
			return fmt.Errorf("first page: %d posts, %v", len(body.Posts), err)
		}
		page.Record(time.Since(t))
	}

	var changes loadgen.Hist
	since := max(0, seq-int64(replay))
	for i := 0; i < replays; i++ {
		d, n, err := replayTime(base, since, seq)
		if err != nil {
			return fmt.Errorf("changes since %d: %w", since, err)
		}
		if n != int(seq-since) {
			return fmt.Errorf("changes since %d: %d events, want %d", since, n, seq-since)
		}
		changes.Record(d)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"posts": posts, "seedS": seedS,
		"readyMs":      float64(listening.Microseconds()) / 1e3,
		"healthyMs":    float64(healthy.Microseconds()) / 1e3,
		"firstPage":    page.Summary(),
		"replayed":     seq - since,
		"changesSince": changes.Summary(),
	})
}

// seed fills dir with posts through the store, unless it already has them.
func seed(dir string, posts int) (int64, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{Synchronous: "OFF", Name: "bench"})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	body := strings.Repeat("seeded post body. ", 6)
	for i := int(st.Seq()); i < posts; i++ {
		if _, err := st.Create(ctx, feed.NewPost{Title: fmt.Sprintf("post %d", i), Body: body, Author: "bench"}); err != nil {
			return 0, err
		}
	}
	return st.Seq(), nil
}

// replayTime dials /ws?since=since and waits for "synced".
func replayTime(base string, since, seq int64) (time.Duration, int, error) {
	u := strings.Replace(base, "http://", "ws://", 1) + fmt.Sprintf("ws?name=coldstart&since=%d", since)
	t := time.Now()
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n := 0
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return 0, n, err
		}
		switch {
		case bytes.HasPrefix(msg, []byte(`{"type":"event","event":"posts"`)):
			n++
		case bytes.HasPrefix(msg, []byte(`{"type":"synced"`)):
			return time.Since(t), n, nil
		}
	}
}
