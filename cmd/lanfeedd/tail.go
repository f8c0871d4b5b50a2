package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Reconnect backoff: doubling from minBackoff up to maxBackoff, with full
// jitter so that peers cut off together do not come back together.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 30 * time.Second
	// readWait: the server pings every 25 s, so 60 s of silence means it is gone.
	readWait = 60 * time.Second
)

// tailer follows one node, remembering where it is in the feed.
type tailer struct {
	url    string
	out    io.Writer
	errOut io.Writer
	max    int // events to print before exiting; 0: no limit

	printed int    // post events printed
	seq     int64  // last seq seen; -1: none yet
	epoch   string // the node's epoch, once known
}

func tail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Int64("since", -1, "replay changes after seq `N` first (0: the whole history); default: live events only")
	name := fs.String("name", "lanfeedd-tail", "display `name` shown to other peers")
	token := fs.String("token", "", "pairing `token` (tail only reads; a wrong token is refused)")
	max := fs.Int("max", 0, "exit after printing `N` post events (0: never)")
	// Accept the URL before or after the flags.
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		return errors.New("tail needs exactly one node URL, e.g. lanfeedd tail http://192.168.1.5:7700")
	}
	u, err := wsURL(rest[0], *name, *token)
	if err != nil {
		return err
	}
	t := &tailer{url: u, out: stdout, errOut: stderr, max: *max, seq: *since}
	return t.run(ctx)
}

// wsURL turns a node address (http://host:port, ws://host:port/ws, host:port)
// into its websocket URL.
func wsURL(raw, name, token string) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a node URL", raw)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("%q: scheme must be http or ws", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	q := u.Query()
	q.Set("name", name)
	if token != "" {
		q.Set("token", token)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

var errDone = errors.New("printed the requested number of events")

// run connects, follows, and reconnects until ctx ends or max is reached.
func (t *tailer) run(ctx context.Context) error {
	backoff := minBackoff
	for {
		connected, err := t.follow(ctx)
		switch {
		case errors.Is(err, errDone):
			return nil
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errRefused):
			return err
		}
		if connected {
			backoff = minBackoff
		}
		wait := rand.N(backoff) + backoff/2
		fmt.Fprintf(t.errOut, "tail: %v; reconnecting in %v\n", err, wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

var errRefused = errors.New("refused")

// follow runs one connection. connected reports whether hello arrived.
func (t *tailer) follow(ctx context.Context) (connected bool, err error) {
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	u := t.url
	if t.seq >= 0 { // resume (or the requested first replay), right after hello
		u += "&since=" + strconv.FormatInt(t.seq, 10) + "&epoch=" + url.QueryEscape(t.epoch)
	}
	conn, resp, err := dialer.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return false, fmt.Errorf("%w: the node answered %s", errRefused, resp.Status)
		}
		return false, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var hello struct {
		Type  string `json:"type"`
		Epoch string `json:"epoch"`
		Seq   int64  `json:"seq"`
	}
	conn.SetReadDeadline(time.Now().Add(readWait))
	if err := conn.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		return false, fmt.Errorf("no hello from the node: %v", err)
	}
	if t.seq < 0 {
		t.seq = hello.Seq
	}
	t.epoch = hello.Epoch
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(readWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})
	for {
		conn.SetReadDeadline(time.Now().Add(readWait))
		_, data, err := conn.ReadMessage()
		if err != nil {
			return true, err
		}
		if err := t.handle(data); err != nil {
			return true, err
		}
	}
}

// handle prints events and resets, and tracks the seq to resume from.
func (t *tailer) handle(data []byte) error {
	var m struct {
		Type  string `json:"type"`
		Seq   int64  `json:"seq"`
		Epoch string `json:"epoch"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("node sent a malformed frame: %w", err)
	}
	switch m.Type {
	case "event":
		fmt.Fprintf(t.out, "%s\n", data)
		if m.Seq == 0 { // presence: not part of the post stream
			return nil
		}
		t.seq = max(t.seq, m.Seq)
		t.printed++
		if t.max > 0 && t.printed >= t.max {
			return errDone
		}
	case "reset":
		fmt.Fprintf(t.out, "%s\n", data)
		t.epoch, t.seq = m.Epoch, 0
	case "synced":
		t.seq = max(t.seq, m.Seq)
	case "error":
		fmt.Fprintf(t.errOut, "tail: node says %s\n", data)
	}
	return nil
}
