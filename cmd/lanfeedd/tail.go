package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"lanfeed/client"
)

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
	cfg := client.FollowConfig{
		Config: client.Config{URL: rest[0], Name: *name, Token: *token},
		// The client's backoff: from 250 ms doubling to 30 s, each wait a
		// random duration below it (full jitter).
		OnRetry: func(err error, wait time.Duration) {
			fmt.Fprintf(stderr, "tail: %v; reconnecting in %v\n", err, wait.Round(time.Millisecond))
		},
	}
	if *since >= 0 {
		cfg.Resume = &client.Position{Seq: *since}
	}
	t := &tailer{out: stdout, errOut: stderr, max: *max}
	err := client.NewFollower(cfg).Run(ctx, t.handle)
	if errors.Is(err, errDone) || ctx.Err() != nil {
		return nil
	}
	return err
}

// tailer prints what a follower of one node receives.
type tailer struct {
	out     io.Writer
	errOut  io.Writer
	max     int // post events to print before exiting; 0: no limit
	printed int // post events printed
}

var errDone = errors.New("printed the requested number of events")

// handle prints event and reset frames as the node sent them, one a line,
// and error frames on errOut.
func (t *tailer) handle(ev client.Event) error {
	switch ev := ev.(type) {
	case *client.PostEvent:
		fmt.Fprintf(t.out, "%s\n", ev.Raw())
		t.printed++
		if t.max > 0 && t.printed >= t.max {
			return errDone
		}
	case *client.PeersEvent, *client.Reset:
		fmt.Fprintf(t.out, "%s\n", ev.Raw())
	case *client.Unknown:
		if ev.Type == "event" { // an event of a newer node: print it like the others
			fmt.Fprintf(t.out, "%s\n", ev.Raw())
		}
	case *client.ErrorEvent:
		fmt.Fprintf(t.errOut, "tail: node says %s\n", ev.Raw())
	}
	return nil
}
