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

	"lanfeed/internal/version"
)

const usage = `lanfeedd: a headless lanfeed node and peer

Usage:
  lanfeedd serve [--listen ADDR] [--data-dir DIR] [--name NAME] [--allow-origin ORIGIN]... [--allow-host NAME]...
                 [--max-peers N] [--max-peers-per-addr N] [--write-rate R] [--write-burst N]
                 [--http-write-rate R] [--http-write-burst N] [--read-header-timeout D]
                 [--follow URL]... [--auto-follow] [--no-announce] [--no-discovery]
  lanfeedd nodes [--wait D] [--watch [--round D]] [--json]
  lanfeedd tail URL [--since N] [--name NAME] [--token TOKEN] [--max N]
  lanfeedd version

Run "lanfeedd serve --help", "lanfeedd nodes --help" or "lanfeedd tail --help" for each command's flags.
`

// errNoCommand ends a run given no command: the usage went to stderr.
var errNoCommand = errors.New("no command given")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // help was asked for, and printed on stdout
		return
	case errors.Is(err, errNoCommand):
	default:
		fmt.Fprintln(os.Stderr, "lanfeedd:", err)
	}
	stop()
	os.Exit(2)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errNoCommand
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, log)
	case "tail":
		if asksHelp(args[1:]) { // tail parses its own flags: let its usage go to stdout
			return tail(ctx, args[1:], stdout, stdout)
		}
		return tail(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprint(stdout, version.Get().Format("lanfeedd", false))
		return nil
	case "nodes":
		return nodes(ctx, args[1:], stdout, stderr, log)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// parseFlags parses a command's args with fs. Help asked for (-h, --help)
// is not an error: fs's usage goes to stdout and parseFlags returns
// flag.ErrHelp, which main ends with status 0. A wrong flag prints the
// error and the usage on stderr, as the flag package does.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
	case err != nil:
		fs.SetOutput(stderr)
		fmt.Fprintln(stderr, err)
		fs.Usage()
	}
	fs.SetOutput(stderr)
	return err
}

// asksHelp reports whether args hold -h or --help (-help, --h) where the
// flag package reads them as flags: before "--", and not as the value of
// the flag before them (every tail flag takes a value; given as a separate
// argument unless with "=").
func asksHelp(args []string) bool {
	for i, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--h", "-help", "--help":
			if i == 0 || !takesValue(args[i-1]) {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether a is a flag whose value is the next argument.
func takesValue(a string) bool {
	return strings.HasPrefix(a, "-") && a != "-" && a != "--" && !strings.Contains(a, "=")
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
