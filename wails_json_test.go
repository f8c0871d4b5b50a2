package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestWailsJSON_DevStartsQuickly holds wails.json to what keeps `make dev`
// fast and quiet. Wails runs frontend:install (or frontend:dev:install) on
// every start, and `npm ci` deletes and reinstalls node_modules: over two
// minutes; the Makefile's deps-web installs only when the lock file changed.
// Without an assetdir in the environment, Wails' dev runtime parses the
// app's own flags (-appargs) with a flag set of its own, which prints
// "flag provided but not defined: -listen" and a usage text; wails dev puts
// wails.json's assetdir there.
func TestWailsJSON_DevStartsQuickly(t *testing.T) {
	raw, err := os.ReadFile("wails.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("wails.json: %v", err)
	}
	for _, key := range []string{"frontend:install", "frontend:dev:install"} {
		if cmd, ok := cfg[key].(string); ok && strings.TrimSpace(cmd) != "" {
			t.Errorf("wails.json %q = %q; want none (make deps-web installs the packages when the lock file changed)", key, cmd)
		}
	}
	if dir, _ := cfg["assetdir"].(string); dir != "frontend/dist" {
		t.Errorf("wails.json assetdir = %q; want \"frontend/dist\" (else Wails' dev runtime parses the app's flags)", dir)
	}
}
