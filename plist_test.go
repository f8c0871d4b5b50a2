package main

import (
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"

	"lanfeed/discovery"
)

// plistDict reads the top-level <dict> of a property list into key ->
// the element after it: its text (a <string>) or its <string> children
// (an <array>).
func plistDict(t *testing.T, path string) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Text    string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string][]string{}
	items := doc.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("%s: <%s> where a <key> belongs (item %d)", path, items[i].XMLName.Local, i)
		}
		v := items[i+1]
		if v.XMLName.Local == "array" {
			out[items[i].Text] = v.Strings
		} else {
			out[items[i].Text] = []string{strings.TrimSpace(v.Text)}
		}
	}
	return out
}

// TestInfoPlist_LocalNetwork: on macOS 15 and later the window may reach
// the LAN and browse for other nodes only if Info.plist says why and names
// the Bonjour service it browses (the one discovery announces); the
// version comes from wails.json, stamped at build time.
func TestInfoPlist_LocalNetwork(t *testing.T) {
	for _, path := range []string{"build/darwin/Info.plist", "build/darwin/Info.dev.plist"} {
		d := plistDict(t, path)
		if why := d["NSLocalNetworkUsageDescription"]; len(why) != 1 || len(why[0]) < 20 {
			t.Errorf("%s: NSLocalNetworkUsageDescription = %q; want a sentence for the permission prompt", path, why)
		}
		if got := d["NSBonjourServices"]; !slices.Contains(got, discovery.ServiceType) {
			t.Errorf("%s: NSBonjourServices = %q; want it to hold %q", path, got, discovery.ServiceType)
		}
		for _, key := range []string{"CFBundleShortVersionString", "CFBundleVersion"} {
			if got := d[key]; len(got) != 1 || got[0] != "{{.Info.ProductVersion}}" {
				t.Errorf("%s: %s = %q; want {{.Info.ProductVersion}} (wails.json, stamped by scripts/with-version.sh)", path, key, got)
			}
		}
		if got := d["CFBundleIdentifier"]; len(got) != 1 || strings.Contains(got[0], "wails") {
			t.Errorf("%s: CFBundleIdentifier = %q; want lanfeed's own", path, got)
		}
	}
}
