package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"lanfeed/discovery"
)

// nothingFound is what `lanfeedd nodes` says when no node answered: the
// usual causes, most likely first, and the way around them.
const nothingFound = `No lanfeed node answered within %v.

Things to check:
  - Is a node running with announcing on? ("lanfeedd serve" announces unless
    --no-announce; a node listening on 127.0.0.1 only does not announce.)
  - Firewall: mDNS needs UDP port 5353 in and out, to 224.0.0.251 and ff02::fb.
    On Windows allow lanfeed on private networks; on Linux e.g.
    "sudo ufw allow 5353/udp".
  - The network: guest Wi-Fi, hotel and many company networks, and VPNs
    block multicast between devices ("client isolation").
  - Both machines must be on the same network segment (mDNS does not cross
    routers).
If multicast cannot work here, add the node by address instead: open its
URL (shown by "lanfeedd serve" and in the app's share link).
`

func nodes(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("nodes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wait := fs.Duration("wait", 3*time.Second, "how long to listen for answers")
	watch := fs.Bool("watch", false, "keep watching and print nodes appearing, changing and going, until interrupted")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	round := fs.Duration("round", discovery.DefaultRound, "with --watch: how often to ask again; a node silent for 3 rounds is gone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("nodes takes no arguments, got %q", fs.Args())
	}
	if *wait <= 0 || *round <= 0 {
		return fmt.Errorf("--wait and --round must be positive")
	}
	ifaces := discovery.Interfaces()
	if !*asJSON {
		if len(ifaces) == 0 {
			fmt.Fprintln(stderr, "no up, multicast-capable network interface: discovery cannot work until one is connected")
		} else {
			fmt.Fprintf(stderr, "asking on %s for %s nodes...\n", strings.Join(ifaces, ", "), discovery.ServiceType)
		}
	}
	if *watch {
		return watchNodes(ctx, *round, *asJSON, stdout, log)
	}

	// One round as long as the wait: a single query, answers collected.
	b := discovery.Browse(ctx, discovery.BrowseConfig{Round: *wait + time.Second, Log: log})
	select {
	case <-ctx.Done():
	case <-time.After(*wait):
	}
	found := b.Nodes()
	b.Close()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, n := range found {
			if err := enc.Encode(n); err != nil {
				return err
			}
		}
		return nil
	}
	if len(found) == 0 {
		fmt.Fprintf(stdout, nothingFound, *wait)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPROTO\tURLS")
	for _, n := range found {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", n.ID, n.Name, n.Proto, strings.Join(n.URLs(), " "))
	}
	return tw.Flush()
}

// nodeEvent is one line of `lanfeedd nodes --watch --json`.
type nodeEvent struct {
	Event string `json:"event"` // appeared, changed, gone
	discovery.Node
}

// watchNodes prints discovery events until ctx ends.
func watchNodes(ctx context.Context, round time.Duration, asJSON bool, stdout io.Writer, log *slog.Logger) error {
	enc := json.NewEncoder(stdout)
	// Events arrive one at a time on the browser's goroutine; stdout is
	// written only there.
	b := discovery.Browse(ctx, discovery.BrowseConfig{Round: round, Log: log, OnEvent: func(e discovery.Event) {
		if asJSON {
			enc.Encode(nodeEvent{Event: e.Kind.String(), Node: e.Node})
			return
		}
		fmt.Fprintf(stdout, "%-8s  %s  %q  %s\n", e.Kind, e.Node.ID, e.Node.Name, strings.Join(e.Node.URLs(), " "))
	}})
	<-ctx.Done()
	b.Close()
	return nil
}
