package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGet(t *testing.T) {
	goVersion := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	vcs := &debug.BuildInfo{
		Main: debug.Module{Path: "lanfeed", Version: "(devel)"},
		Deps: []*debug.Module{{Path: "github.com/gorilla/websocket", Version: "v1.5.3"}, {Path: "github.com/wailsapp/wails/v2", Version: "v2.11.0"}},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-20T08:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string // stamped
		want                  Info
	}{
		{"Stamped", vcs, "v1.2.0-3-gabc1234-dirty", "abc1234", "2026-11-22T09:30:00Z",
			Info{Version: "v1.2.0-3-gabc1234-dirty", Commit: "abc1234", Date: "2026-11-22T09:30:00Z", Go: goVersion, Wails: "v2.11.0"}},
		{"FromVCS", vcs, "", "", "",
			Info{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567 (with uncommitted changes)", Date: "2026-11-20T08:00:00Z", DateIsCommit: true, Go: goVersion, Wails: "v2.11.0"}},
		{"GoInstall", &debug.BuildInfo{Main: debug.Module{Path: "lanfeed", Version: "v1.2.0"}}, "", "", "",
			Info{Version: "v1.2.0", Commit: "unknown", Date: "unknown", Go: goVersion}},
		{"WailsReplaced", &debug.BuildInfo{Deps: []*debug.Module{{Path: "github.com/wailsapp/wails/v2", Version: "v2.11.0", Replace: &debug.Module{Path: "../wails", Version: "v2.11.1"}}}}, "", "", "",
			Info{Version: "dev", Commit: "unknown", Date: "unknown", Go: goVersion, Wails: "v2.11.1"}},
		{"NoBuildInfo", nil, "", "", "", Info{Version: "dev", Commit: "unknown", Date: "unknown", Go: goVersion}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.bi, tt.version, tt.commit, tt.date); got != tt.want {
				t.Errorf("get() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestInfo_Format(t *testing.T) {
	in := Info{Version: "v1.2.0", Commit: "abc1234", Date: "2026-11-22T09:30:00Z", Go: "go1.26.8 linux/amd64", Wails: "v2.11.0"}
	if got, want := in.Format("lanfeedd", false), "lanfeedd v1.2.0\ncommit  abc1234\nbuilt   2026-11-22T09:30:00Z\ngo      go1.26.8 linux/amd64\n"; got != want {
		t.Errorf("Format(lanfeedd) =\n%s\nwant\n%s", got, want)
	}
	if got, want := in.Format("lanfeed", true), "lanfeed v1.2.0\ncommit  abc1234\nbuilt   2026-11-22T09:30:00Z\ngo      go1.26.8 linux/amd64\nwails   v2.11.0\n"; got != want {
		t.Errorf("Format(lanfeed, wails) =\n%s\nwant\n%s", got, want)
	}
	in.DateIsCommit = true
	if got, want := in.Format("lanfeedd", false), "lanfeedd v1.2.0\ncommit  abc1234\ndate    2026-11-22T09:30:00Z (the commit's; the build was not stamped)\ngo      go1.26.8 linux/amd64\n"; got != want {
		t.Errorf("Format(unstamped) =\n%s\nwant\n%s", got, want)
	}
}
