// Command lanfeed is the desktop app: a Wails window over a lanfeed node
// whose LAN server other machines connect to. Wiring only.
package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"lanfeed/app"
	"lanfeed/frontend"
	"lanfeed/internal/version"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

//go:embed build/appicon.png
var icon []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lanfeed:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("lanfeed", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "`directory` of the database (default: the OS user config dir + /lanfeed)")
	listen := fs.String("listen", app.DefaultListen, "`address` of the LAN server")
	name := fs.String("name", "", "display `name` of this node")
	var origins, hosts, follows listFlag
	fs.Var(&origins, "allow-origin", "browser `origin` allowed besides the node's own (repeatable)")
	fs.Var(&hosts, "allow-host", "host `name` peers may use besides IP addresses and this machine's names (repeatable)")
	showVersion := fs.Bool("version", false, "print the version, commit, build date, Go and Wails versions, and exit")
	fs.Var(&follows, "follow", "`url` of a node to follow, kept in the database (repeatable)")
	noDiscovery := fs.Bool("no-discovery", false, "neither announce this node on the LAN (mDNS/DNS-SD) nor look for other nodes there; nodes are added by URL")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *showVersion {
		fmt.Print(version.Get().Format("lanfeed", true))
		return nil
	}
	if *dataDir == "" {
		dir, err := app.DefaultDataDir()
		if err != nil {
			return err
		}
		*dataDir = dir
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// Before Wails starts GTK and WebKit, which read it once.
	if disableDMABUF(runtime.GOOS, os.LookupEnv) {
		if err := os.Setenv(dmabufEnv, "1"); err != nil {
			return err
		}
	}
	desk := app.NewDesktop(app.Config{DataDir: abs, Name: *name, AllowedOrigins: origins,
		AllowedHosts: hosts, Follow: follows, UI: frontend.Dist(), Logger: log,
		Announce: !*noDiscovery, Browse: !*noDiscovery}, *listen)
	desk.Out = os.Stdout // the LAN URL and pairing token, as lanfeedd serve prints them
	// One instance per data directory: a second launch focuses the first.
	lockID := sha256.Sum256([]byte(abs))
	return wails.Run(&options.App{
		Title:            "lanfeed",
		Width:            1120,
		Height:           800,
		MinWidth:         400,
		MinHeight:        520,
		BackgroundColour: &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		AssetServer:      &assetserver.Options{Assets: frontend.Dist()},
		OnStartup:        desk.Startup,
		OnShutdown:       desk.Shutdown,
		Bind:             desk.Bindings(),
		ErrorFormatter:   desk.FormatError,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               "lanfeed-" + hex.EncodeToString(lockID[:8]),
			OnSecondInstanceLaunch: func(options.SecondInstanceData) { desk.SecondInstance() },
		},
		Linux: &linux.Options{Icon: icon, ProgramName: "lanfeed"},
	})
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
