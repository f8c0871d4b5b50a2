package realtime_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"lanfeed/app"
	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// TestMessages_REST: every error a client's request can cause is a
// sentence about the request that names the field where there is one;
// none shows encoding/json's Go-flavoured text.
func TestMessages_REST(t *testing.T) {
	n := startNode(t, realtime.Config{HTTPWriteRate: -1})
	p := n.post(t, "target", "")
	auth := bearer(n.token)
	const shape = "a JSON object with title, body and author"
	tests := []struct {
		name, method, path string
		hdr                http.Header // added to the token
		body               string
		status             int
		field, message     string
	}{
		{"Array", "POST", "/api/posts", nil, `[{"title":"x"}]`, 400, "", "the request body must be " + shape + ", not an array"},
		{"String", "POST", "/api/posts", nil, `"title"`, 400, "", "the request body must be " + shape + ", not a string"},
		{"FormEncoded", "POST", "/api/posts", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, `title=hi&body=x`, 400, "",
			"the request body is form-encoded, not JSON: send a JSON object with title, body and author, and Content-Type: application/json"},
		{"NotJSON", "POST", "/api/posts", nil, `{"title" x}`, 400, "", "the request body is not valid JSON: unexpected 'x' at byte 10; send " + shape},
		{"NotJSONNonASCII", "POST", "/api/posts", nil, `{"title":"a",é}`, 400, "", "the request body is not valid JSON: unexpected U+00E9 'é' at byte 14; send " + shape},
		{"Truncated", "POST", "/api/posts", nil, `{"title":"x",`, 400, "", "the request body ends before its JSON is complete: send " + shape},
		{"Empty", "POST", "/api/posts", nil, ` `, 400, "", "the request body is empty: send " + shape},
		{"InvalidUTF8", "POST", "/api/posts", nil, "{\"title\":\"caf\xe9\"}", 400, "", "the request body is not valid UTF-8, which JSON must be"},
		{"Trailing", "POST", "/api/posts", nil, `{"title":"a"}{"title":"b"}`, 400, "", "the request body holds more than one JSON value: send " + shape + " and nothing after it"},
		{"TooDeep", "POST", "/api/posts", nil, `{"title":` + deep(20000) + `}`, 400, "", "the request body is nested too deeply to be " + shape},
		{"UnknownField", "POST", "/api/posts", nil, `{"title":"a","seq":1}`, 400, "", `the request body has an unknown field "seq"; its fields are title, body and author`},
		{"TitleNumber", "POST", "/api/posts", nil, `{"title":42}`, 400, "title", "title must be a string, not a number"},
		{"TitleBoolean", "POST", "/api/posts", nil, `{"title":true}`, 400, "title", "title must be a string, not a boolean"},
		{"BodyArray", "POST", "/api/posts", nil, `{"title":"a","body":["x"]}`, 400, "body", "body must be a string, not an array"},
		{"AuthorObject", "POST", "/api/posts", nil, `{"title":"a","author":{}}`, 400, "author", "author must be a string, not an object"},
		{"VersionFraction", "PATCH", "/api/posts/" + p.ID, nil, `{"version":2.5,"title":"x"}`, 400, "version", "version must be a whole number, not 2.5"},
		{"VersionString", "PATCH", "/api/posts/" + p.ID, nil, `{"version":"1","title":"x"}`, 400, "version", "version must be a whole number, not a string"},
		{"VersionOverflow", "PATCH", "/api/posts/" + p.ID, nil, `{"version":9223372036854775808,"title":"x"}`, 400, "version",
			"version must be a whole number from -9223372036854775808 to 9223372036854775807, not 9223372036854775808"},
		{"PatchUnknownField", "PATCH", "/api/posts/" + p.ID, nil, `{"id":"x","version":1,"title":"x"}`, 400, "", `the request body has an unknown field "id"; its fields are version, title and body`},
		{"UnknownEndpoint", "GET", "/api/admin", nil, ``, 404, "",
			"there is no API endpoint GET /api/admin; the API has GET /api/info, GET /api/peers, GET and POST /api/posts, GET, PATCH and DELETE /api/posts/{id}, " +
				"GET and POST /api/follows, DELETE /api/follows/{node}, GET /api/nearby, and GET and PUT /api/settings"},
		{"UnknownPage", "GET", "/no/such/page", nil, ``, 404, "",
			"there is no page at /no/such/page on this lanfeed node: the web UI is at /, the REST API under /api/ and the websocket at /ws"},
		{"MethodOnUI", "DELETE", "/", nil, ``, 405, "", "DELETE is not allowed on /, which answers GET and HEAD; the API for writing is under /api/"},
		{"PlainGETOnWebsocket", "GET", "/ws", nil, ``, 400, "",
			"/ws is the websocket endpoint, and this request is not a valid handshake: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{"Authorization": auth["Authorization"]}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			var body any
			if tc.body != "" || tc.method != "GET" {
				body = tc.body
			}
			var e apiError
			status := n.do(t, tc.method, tc.path, hdr, body, &e)
			if status != tc.status || e.Field != tc.field || e.Message != tc.message {
				t.Errorf("%s %s = %d field %q %q; want %d field %q %q", tc.method, tc.path, status, e.Field, e.Message, tc.status, tc.field, tc.message)
			}
		})
	}
}

// TestMessages_UnknownPageInABrowser: a browser asking for a page that is
// not there gets a short HTML 404 that links to the feed.
func TestMessages_UnknownPageInABrowser(t *testing.T) {
	n := startNode(t, realtime.Config{})
	req, _ := http.NewRequest("GET", n.ts.URL+"/posts/<b>42</b>", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := n.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page, "There is no page at <code>/posts/&lt;b&gt;42&lt;/b&gt;</code> on this lanfeed node.") ||
		!strings.Contains(page, `<a href="/">Open the feed</a>`) {
		t.Errorf("GET an unknown page as a browser = %d %q %q; want 404, HTML, the path escaped and a link to /", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
}

// TestMessages_Websocket: the same for a peer's messages.
func TestMessages_Websocket(t *testing.T) {
	n := startNode(t, realtime.Config{WriteRate: -1})
	c := n.dial(t, dialOpts{name: "writer", token: n.token})
	const msgShape = `a JSON object whose "type" is "emit" or "sync"`
	const shape = "a JSON object with title, body and author"
	emit := func(id, event, data string) string {
		return `{"type":"emit","id":` + id + `,"event":"` + event + `","data":` + data + `}`
	}
	tests := []struct {
		name, msg   string
		code, field string
		message     string
	}{
		{"NotJSON", `hello`, "bad_request", "", "the message is not valid JSON: unexpected 'h' at byte 1; send " + msgShape},
		{"Truncated", `{"type":"emit","id":1,`, "bad_request", "", "the message ends before its JSON is complete: send " + msgShape},
		{"Array", `[{"type":"sync"}]`, "bad_request", "", "the message must be " + msgShape + ", not an array"},
		{"Empty", ``, "bad_request", "", "the message is empty: send " + msgShape + ", one per text frame"},
		{"NoType", `{}`, "bad_request", "", `the message has no "type": send ` + msgShape},
		{"UnknownType", `{"type":"subscribe"}`, "bad_request", "", `unknown message type "subscribe": a peer sends "emit" or "sync"`},
		{"TypeNumber", `{"type":1}`, "bad_request", "", "type must be a string, not a number"},
		{"IDString", emit(`"8"`, "posts.create", `{}`), "bad_request", "", "id must be a whole number, not a string"},
		{"NoID", `{"type":"emit","event":"posts.create","data":{}}`, "bad_request", "", `an emit needs "id": a whole number, which its ack or error carries back`},
		{"NoEvent", `{"type":"emit","id":2,"data":{}}`, "bad_request", "", `the emit has no "event": give posts.create, posts.update or posts.delete`},
		{"UnknownEvent", emit("3", "posts.purge", `{}`), "bad_request", "", `unknown event "posts.purge": an emit's event is posts.create, posts.update or posts.delete`},
		{"NoData", `{"type":"emit","id":4,"event":"posts.create"}`, "bad_request", "", "the data of posts.create is empty: send " + shape},
		{"DataArray", emit("5", "posts.create", `[{"title":"x"}]`), "bad_request", "", "the data of posts.create must be " + shape + ", not an array"},
		{"DataUnknownField", emit("6", "posts.update", `{"id":"x","version":1,"author":"m"}`), "bad_request", "",
			`the data of posts.update has an unknown field "author"; its fields are id, version, title and body`},
		{"TitleNumber", emit("7", "posts.create", `{"title":7}`), "invalid", "title", "title must be a string, not a number"},
		{"VersionString", emit("8", "posts.delete", `{"id":"x","version":"1"}`), "invalid", "version", "version must be a whole number, not a string"},
		{"SinceString", `{"type":"sync","since":"0"}`, "bad_request", "", "since must be a whole number, not a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw(websocket.TextMessage, []byte(tc.msg))
			f, _ := c.readUntil("an error", func(f frame) bool { return f.Type == "error" || f.Type == "ack" })
			if f.Type != "error" || f.Code != tc.code || f.Field != tc.field || f.Message != tc.message {
				t.Errorf("reply to %s = %s; want error %s field %q %q", tc.msg, f, tc.code, tc.field, tc.message)
			}
		})
	}
}

// TestMessages_UIFilesAndUnknownPaths: with a built bundle, the page and
// its files are served, while unknown paths and directories get a 404
// (not the page, whose relative asset and API paths would break there).
func TestMessages_UIFilesAndUnknownPaths(t *testing.T) {
	ui := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>lanfeed</title>")},
		"favicon.svg":       {Data: []byte("<svg/>")},
		"assets/index-1.js": {Data: []byte("console.log(1)")},
	}
	n := startNodeWith(t, app.Config{UI: ui})
	client := n.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/", 200, "<!doctype html><title>lanfeed</title>"},
		{"/favicon.svg", 200, "<svg/>"},
		{"/assets/index-1.js", 200, "console.log(1)"},
		{"/assets/", 404, `{"code":"not_found","message":"there is no page at /assets/ on this lanfeed node: the web UI is at /, the REST API under /api/ and the websocket at /ws"}` + "\n"},
		{"/assets/missing.js", 404, `{"code":"not_found","message":"there is no page at /assets/missing.js on this lanfeed node: the web UI is at /, the REST API under /api/ and the websocket at /ws"}` + "\n"},
		{"/feed", 404, `{"code":"not_found","message":"there is no page at /feed on this lanfeed node: the web UI is at /, the REST API under /api/ and the websocket at /ws"}` + "\n"},
		{"/index.html", http.StatusMovedPermanently, ""},
	} {
		resp, err := client.Get(n.ts.URL + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || tc.body != "" && string(raw) != tc.body {
			t.Errorf("GET %s = %d %q; want %d %q", tc.path, resp.StatusCode, raw, tc.status, tc.body)
		}
	}
}
