// Command lanfeedd is lanfeed without a window: `serve` runs a node (the
// same store, service and LAN server as the desktop app) and announces it on
// the LAN, `nodes` lists the nodes discovery finds, `tail` follows a node's
// feed as one JSON line per event.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `lanfeedd: a headless lanfeed node and peer

Usage:
  lanfeedd serve [--listen ADDR] [--data-dir DIR] [--name NAME] [--allow-origin ORIGIN]... [--allow-host NAME]...
                 [--max-peers N] [--max-peers-per-addr N] [--write-rate R] [--write-burst N]
                 [--http-write-rate R] [--http-write-burst N] [--read-header-timeout D] [--no-announce]
  lanfeedd nodes [--wait D] [--watch [--round D]] [--json]
  lanfeedd tail URL [--since N] [--name NAME] [--token TOKEN] [--max N]

Run "lanfeedd serve -h", "lanfeedd nodes -h" or "lanfeedd tail -h" for each command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lanfeedd:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, log)
	case "tail":
		return tail(ctx, args[1:], stdout, stderr)
	case "nodes":
		return nodes(ctx, args[1:], stdout, stderr, log)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
