package main

import "testing"

func TestDisableDMABUF(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	tests := []struct {
		name string
		goos string
		vars map[string]string
		want bool
	}{
		{"LinuxUnset", "linux", nil, true},
		{"LinuxUserKeepsRenderer", "linux", map[string]string{dmabufEnv: "0"}, false},
		{"LinuxUserDisabled", "linux", map[string]string{dmabufEnv: "1"}, false},
		{"LinuxSetEmpty", "linux", map[string]string{dmabufEnv: ""}, false},
		{"LinuxOtherVars", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"Windows", "windows", nil, false},
		{"MacOS", "darwin", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := disableDMABUF(tt.goos, env(tt.vars)); got != tt.want {
				t.Errorf("disableDMABUF(%q, %v) = %v; want %v", tt.goos, tt.vars, got, tt.want)
			}
		})
	}
}
