package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"lanfeed/app"
	"lanfeed/frontend"
	"lanfeed/realtime"
)

// shutdownWait bounds a clean shutdown: peers get their goodbye, then we go.
const shutdownWait = 5 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: lanfeedd serve [flags]\n\n"+
			"Runs a lanfeed node without a window: the same database, REST API, websocket and web UI\n"+
			"as the desktop app. It prints where it listens and the pairing token, then serves\n"+
			"until interrupted.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", app.DefaultListen, "`address` to serve the LAN on; port 0 picks a free port")
	dataDir := fs.String("data-dir", "", "`directory` of the database (default: the OS user config dir + /lanfeed)")
	name := fs.String("name", "", "display `name` of this node (default: the stored name, at first the host name)")
	var origins listFlag
	fs.Var(&origins, "allow-origin", "browser `origin` allowed besides the node's own, e.g. http://laptop.local:5173 (repeatable)")
	var hosts listFlag
	fs.Var(&hosts, "allow-host", "host `name` clients may use for this node besides its IP addresses, localhost and the host name (+.local), e.g. feed.lan (repeatable)")
	var follows listFlag
	fs.Var(&follows, "follow", "`url` of a node to follow, e.g. http://192.168.1.20:7700/; followed once it answers, and kept in the database (repeatable)")
	maxPeers := fs.Int("max-peers", realtime.DefaultMaxPeers, "most websocket peers at once")
	maxPerAddr := fs.Int("max-peers-per-addr", realtime.DefaultMaxPeersPerAddr, "most websocket peers from one IP address")
	writeRate := fs.Float64("write-rate", realtime.DefaultWriteRate, "writes a second each websocket peer may sustain; negative: no limit")
	writeBurst := fs.Int("write-burst", realtime.DefaultWriteBurst, "writes a websocket peer may send at once")
	httpRate := fs.Float64("http-write-rate", realtime.DefaultHTTPWriteRate, "REST writes a second one IP address may sustain; negative: no limit")
	httpBurst := fs.Int("http-write-burst", realtime.DefaultHTTPWriteBurst, "REST writes one IP address may send at once")
	headerTimeout := fs.Duration("read-header-timeout", app.DefaultReadHeaderTimeout, "how long a client may take to send request headers")
	noAnnounce := fs.Bool("no-announce", false, "do not announce this node on the LAN (mDNS/DNS-SD _lanfeed._tcp); others can still add it by URL")
	noDiscovery := fs.Bool("no-discovery", false, "neither announce this node nor browse the LAN for others (no nearby list, no auto-follow); nodes are added by URL")
	autoFollow := fs.Bool("auto-follow", false, "follow every lanfeed node discovered on the LAN (mDNS/DNS-SD), once its hello confirms the announced node id; "+
		"on for this run whatever the stored setting (PUT /api/settings), which it leaves as it is")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for go tool pprof)")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if *autoFollow && *noDiscovery {
		return fmt.Errorf("--auto-follow follows the nodes discovery finds, and --no-discovery turns discovery off: pass one of them")
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	srv, err := app.Open(ctx, app.Config{
		DataDir: *dataDir, Name: *name, AllowedOrigins: origins, AllowedHosts: hosts,
		ReadHeaderTimeout: *headerTimeout, UI: frontend.Dist(), Logger: log, Follow: follows,
		Announce: !*noAnnounce && !*noDiscovery, Browse: !*noDiscovery, AutoFollow: *autoFollow,
		Hub: realtime.Config{
			MaxPeers: *maxPeers, MaxPeersPerAddr: *maxPerAddr,
			WriteRate: *writeRate, WriteBurst: *writeBurst,
			HTTPWriteRate: *httpRate, HTTPWriteBurst: *httpBurst,
		},
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(*listen); err != nil {
		srv.Close(context.Background())
		return err
	}
	srv.Announce(stdout) // the token, shown once for the owner to share

	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	return srv.Close(sctx) // says goodbye on the LAN first
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
