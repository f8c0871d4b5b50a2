// Package version says which build of lanfeed is running, for `lanfeedd
// version` and `lanfeed --version`. The Makefile stamps the three
// variables at link time:
//
//	go build -ldflags "-X lanfeed/internal/version.Version=v1.2.0-3-gabc1234 \
//	  -X lanfeed/internal/version.Commit=abc1234... -X lanfeed/internal/version.Date=2026-11-22T09:30:00Z"
//
// A build without them (go build, go run, go install) falls back to what
// the Go toolchain recorded: the module version, the VCS revision and the
// commit time.
package version

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set with -ldflags -X; empty when not stamped.
var (
	Version string // git describe --tags --always --dirty
	Commit  string // full commit hash
	Date    string // build time, RFC 3339 UTC
)

// wailsModule is the module whose version the desktop app reports.
const wailsModule = "github.com/wailsapp/wails/v2"

// Info describes one build.
type Info struct {
	Version string // "dev" when neither stamped nor a released module
	Commit  string // "unknown" when not recorded
	Date    string // "unknown" when not recorded
	// DateIsCommit: Date is the commit's time from the VCS, not the
	// build's, because the build was not stamped.
	DateIsCommit bool
	Go           string // e.g. "go1.26.8 linux/amd64"
	Wails        string // the linked Wails module's version; "" if none
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi, Version, Commit, Date)
}

// get builds Info from the stamped values, falling back to bi (which may
// be nil).
func get(bi *debug.BuildInfo, version, commit, date string) Info {
	in := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version // go install lanfeed@v1.2.0
		}
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if in.Commit == "" && vcs["vcs.revision"] != "" {
			in.Commit = vcs["vcs.revision"]
			if vcs["vcs.modified"] == "true" {
				in.Commit += " (with uncommitted changes)"
			}
		}
		if in.Date == "" && vcs["vcs.time"] != "" {
			in.Date, in.DateIsCommit = vcs["vcs.time"], true
		}
		for _, d := range bi.Deps {
			if d.Path == wailsModule {
				if d.Replace != nil {
					d = d.Replace
				}
				in.Wails = d.Version
			}
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// Format returns the lines `program version` prints; withWails adds the
// Wails line (the desktop app's).
func (in Info) Format(program string, withWails bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", program, in.Version)
	fmt.Fprintf(&b, "commit  %s\n", in.Commit)
	if in.DateIsCommit {
		fmt.Fprintf(&b, "date    %s (the commit's; the build was not stamped)\n", in.Date)
	} else {
		fmt.Fprintf(&b, "built   %s\n", in.Date)
	}
	fmt.Fprintf(&b, "go      %s\n", in.Go)
	if withWails {
		fmt.Fprintf(&b, "wails   %s\n", cmp.Or(in.Wails, "unknown"))
	}
	return b.String()
}
