package realtime_test

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"lanfeed/discovery"
	"lanfeed/feed"
	"lanfeed/realtime"
)

// nearbyBody is the body of GET /api/nearby.
type nearbyBody struct {
	Nearby []feed.NearbyNode `json:"nearby"`
}

// TestREST_Nearby: GET /api/nearby is open to read, lists what discovery
// reported (one entry per node id, sorted by name), never this node, and
// drops a node that is gone.
func TestREST_Nearby(t *testing.T) {
	n := startNode(t, realtime.Config{})
	if got := n.raw(t, "/api/nearby"); got != `{"nearby":[]}` {
		t.Fatalf("GET /api/nearby on a new node = %s; want {\"nearby\":[]}", got)
	}
	seen := time.Date(2026, 12, 2, 4, 0, 0, 123e6, time.UTC)
	zed := discovery.Node{ID: feed.NewID(), Name: "zed", Proto: 1, LastSeen: seen,
		Addrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[fd00::7]:7700")}}
	amy := discovery.Node{ID: feed.NewID(), Name: "amy", Proto: 1, LastSeen: seen,
		Addrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:2")}}
	for _, node := range []discovery.Node{zed, amy, {ID: n.id, Name: "me", Proto: 1, Addrs: amy.Addrs}} {
		n.srv.Mesh.Observe(discovery.Event{Kind: discovery.Appeared, Node: node})
	}
	want := `{"nearby":[` +
		`{"node":"` + amy.ID + `","name":"amy","url":"http://127.0.0.1:2/","urls":["http://127.0.0.1:2/"],"seen":"2026-12-02T04:00:00.123Z"},` +
		`{"node":"` + zed.ID + `","name":"zed","url":"http://127.0.0.1:1/","urls":["http://127.0.0.1:1/","http://[fd00::7]:7700/"],"seen":"2026-12-02T04:00:00.123Z"}]}`
	if got := n.raw(t, "/api/nearby"); got != want {
		t.Fatalf("GET /api/nearby =\n%s\nwant\n%s", got, want)
	}
	n.srv.Mesh.Observe(discovery.Event{Kind: discovery.Gone, Node: zed})
	var list nearbyBody
	if status := n.do(t, "GET", "/api/nearby", nil, nil, &list); status != http.StatusOK || len(list.Nearby) != 1 || list.Nearby[0].Node != amy.ID {
		t.Fatalf("GET /api/nearby after zed is gone = %d %+v; want amy only", status, list)
	}
}

// TestREST_Settings: GET /api/settings is open to read; PUT needs the
// pairing token and a complete, well-formed body, and returns the
// settings in effect.
func TestREST_Settings(t *testing.T) {
	n := startNode(t, realtime.Config{})
	if got := n.raw(t, "/api/settings"); got != `{"autoFollow":false}` {
		t.Fatalf("GET /api/settings on a new node = %s; want {\"autoFollow\":false}", got)
	}
	var e apiError
	if status := n.do(t, "PUT", "/api/settings", nil, `{"autoFollow":true}`, &e); status != http.StatusUnauthorized || e.Code != feed.CodeUnauthorized {
		t.Fatalf("PUT /api/settings without the token = %d %+v; want 401 unauthorized", status, e)
	}
	var got feed.MeshSettings
	if status := n.do(t, "PUT", "/api/settings", bearer(n.token), `{"autoFollow":true}`, &got); status != http.StatusOK || !got.AutoFollow {
		t.Fatalf("PUT /api/settings {autoFollow: true} = %d %+v; want 200 and auto-follow on", status, got)
	}
	if got := n.raw(t, "/api/settings"); got != `{"autoFollow":true}` {
		t.Fatalf("GET /api/settings after the PUT = %s; want {\"autoFollow\":true}", got)
	}
	if s, err := n.srv.Store.MeshSettings(t.Context()); err != nil || !s.AutoFollow {
		t.Fatalf("stored settings = %+v, %v; want auto-follow on in the database", s, err)
	}

	bad := []struct {
		name, body, code, field, message string
	}{
		{"Empty", ``, feed.CodeBadRequest, "", "the request body is empty: send a JSON object with autoFollow"},
		{"MissingField", `{}`, feed.CodeInvalid, "autoFollow",
			"autoFollow is required: true to follow every lanfeed node discovered on the LAN, false to follow only the nodes chosen here"},
		{"Null", `{"autoFollow":null}`, feed.CodeInvalid, "autoFollow", ""},
		{"NotABool", `{"autoFollow":"yes"}`, feed.CodeInvalid, "autoFollow", "autoFollow must be true or false, not a string"},
		{"UnknownField", `{"autoFollow":false,"autoUnfollow":true}`, feed.CodeBadRequest, "",
			`the request body has an unknown field "autoUnfollow"; its fields are autoFollow`},
		{"NotJSON", `autoFollow=false`, feed.CodeBadRequest, "", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			status := n.do(t, "PUT", "/api/settings", bearer(n.token), tc.body, &e)
			if status != http.StatusBadRequest || e.Code != tc.code || e.Field != tc.field || tc.message != "" && e.Message != tc.message {
				t.Errorf("PUT /api/settings %s = %d %+v; want 400 %s field %q %q", tc.body, status, e, tc.code, tc.field, tc.message)
			}
			if got := n.raw(t, "/api/settings"); got != `{"autoFollow":true}` {
				t.Errorf("GET /api/settings after a refused PUT = %s; want it unchanged", got)
			}
		})
	}
	if status := n.do(t, "PUT", "/api/settings", bearer(n.token), `{"autoFollow":false}`, &got); status != http.StatusOK || got.AutoFollow {
		t.Fatalf("PUT /api/settings {autoFollow: false} = %d %+v; want 200 and auto-follow off", status, got)
	}
}

// raw GETs path and returns the body without its trailing newline.
func (n *node) raw(t *testing.T, path string) string {
	t.Helper()
	resp, err := n.ts.Client().Get(n.ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s, %v; want 200", path, resp.StatusCode, b, err)
	}
	return strings.TrimSuffix(string(b), "\n")
}
