package realtime_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// hostileFixture is a node with one live post at version 2 and one deleted
// post, the targets of the update and delete cases.
type hostileFixture struct {
	n       *node
	live    string // id of a live post at version 2
	deleted string // id of a tombstone
}

// unknownID is a well-formed UUIDv7 that no node ever issued.
const unknownID = "01a20146-55c4-7d74-ba3f-e9f124a82429"

func newHostileFixture(t *testing.T) hostileFixture {
	t.Helper()
	// Rate limits off: this test is about content, not floods.
	n := startNode(t, realtime.Config{WriteRate: -1, HTTPWriteRate: -1})
	p := n.create(t, "target", "body")
	n.update(t, p.ID, 1, "target v2")
	d := n.create(t, "gone", "")
	n.delete(t, d.ID)
	return hostileFixture{n: n, live: p.ID, deleted: d.ID}
}

// goInternals matches what encoding/json and Go put in their errors and a
// client must never read: type and package names, scanner states.
var goInternals = regexp.MustCompile(`json:|Go (value|struct)|unmarshal|int64|\b(feed|realtime|main)\.[A-Z]|literal (true|false|null)|looking for beginning|after object key|\binbound\b`)

// deep returns a JSON value nested depth arrays deep.
func deep(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// TestHostile_REST sends hostile requests to the REST API: each gets the
// documented status and error object, and none stores anything.
func TestHostile_REST(t *testing.T) {
	fx := newHostileFixture(t)
	n := fx.n
	auth := bearer(n.token)
	live := "/api/posts/" + fx.live
	tests := []struct {
		name        string
		method      string
		path        string
		hdr         http.Header // nil: the right token
		body        string
		status      int
		code, field string
	}{
		{"MalformedJSON", "POST", "/api/posts", nil, `{"title":"x",`, 400, "bad_request", ""},
		{"EmptyBody", "POST", "/api/posts", nil, ``, 400, "bad_request", ""},
		{"WhitespaceBody", "POST", "/api/posts", nil, " \n\t ", 400, "bad_request", ""},
		{"ArrayNotObject", "POST", "/api/posts", nil, `[{"title":"x"}]`, 400, "bad_request", ""},
		{"StringNotObject", "POST", "/api/posts", nil, `"title"`, 400, "bad_request", ""},
		{"NullBody", "POST", "/api/posts", nil, `null`, 400, "invalid", "title"},
		{"TrailingObject", "POST", "/api/posts", nil, `{"title":"a"}{"title":"b"}`, 400, "bad_request", ""},
		{"TrailingGarbage", "POST", "/api/posts", nil, `{"title":"a"} ; DROP TABLE posts`, 400, "bad_request", ""},
		{"UnknownField", "POST", "/api/posts", nil, `{"title":"a","seq":99}`, 400, "bad_request", ""},
		{"CaseVariantField", "POST", "/api/posts", nil, `{"title":"a","Titel":"b"}`, 400, "bad_request", ""},
		{"TitleNumber", "POST", "/api/posts", nil, `{"title":42}`, 400, "invalid", "title"},
		{"TitleHugeNumber", "POST", "/api/posts", nil, `{"title":1e400}`, 400, "invalid", "title"},
		{"TitleObject", "POST", "/api/posts", nil, `{"title":{"$gt":""}}`, 400, "invalid", "title"},
		{"BodyArray", "POST", "/api/posts", nil, `{"title":"a","body":["x"]}`, 400, "invalid", "body"},
		{"TitleMissing", "POST", "/api/posts", nil, `{"body":"no title"}`, 400, "invalid", "title"},
		{"TitleBlank", "POST", "/api/posts", nil, `{"title":" \t\n "}`, 400, "invalid", "title"},
		{"TitleNull", "POST", "/api/posts", nil, `{"title":null}`, 400, "invalid", "title"},
		{"DuplicateKeyLastWins", "POST", "/api/posts", nil, `{"title":"ok","title":""}`, 400, "invalid", "title"},
		{"RawInvalidUTF8", "POST", "/api/posts", nil, "{\"title\":\"caf\xe9\"}", 400, "bad_request", ""},
		{"RawSurrogateBytes", "POST", "/api/posts", nil, "{\"title\":\"\xed\xa0\x80\"}", 400, "bad_request", ""},
		{"OverlongEncodedSlash", "POST", "/api/posts", nil, "{\"title\":\"\xc0\xaf\"}", 400, "bad_request", ""},
		{"NULEscape", "POST", "/api/posts", nil, `{"title":"a\u0000b"}`, 400, "invalid", "title"},
		{"RawNULByte", "POST", "/api/posts", nil, "{\"title\":\"a\x00b\"}", 400, "bad_request", ""},
		{"VerticalTab", "POST", "/api/posts", nil, `{"title":"a","body":"line\u000bline"}`, 400, "invalid", "body"},
		{"EscapeChar", "POST", "/api/posts", nil, `{"title":"\u001b[31mred"}`, 400, "invalid", "title"},
		{"C1Control", "POST", "/api/posts", nil, `{"title":"a\u0085b"}`, 400, "invalid", "title"},
		{"DEL", "POST", "/api/posts", nil, `{"title":"a","author":"b\u007f"}`, 400, "invalid", "author"},
		{"TitleOverLong", "POST", "/api/posts", nil, `{"title":"` + strings.Repeat("é", 201) + `"}`, 400, "invalid", "title"},
		{"BodyOverLong", "POST", "/api/posts", nil, `{"title":"a","body":"` + strings.Repeat("x", 20001) + `"}`, 400, "invalid", "body"},
		{"AuthorOverLong", "POST", "/api/posts", nil, `{"title":"a","author":"` + strings.Repeat("a", 65) + `"}`, 400, "invalid", "author"},
		{"BodyOverTheLimit", "POST", "/api/posts", nil, `{"title":"a","body":"` + strings.Repeat("x", realtime.DefaultMaxMessage) + `"}`, 413, "too_large", ""},
		{"DeeplyNested", "POST", "/api/posts", nil, `{"title":` + deep(20000) + `}`, 400, "bad_request", ""},
		{"NoToken", "POST", "/api/posts", http.Header{}, `{"title":"a"}`, 401, "unauthorized", ""},
		{"WrongToken", "POST", "/api/posts", bearer(strings.Repeat("0", 32)), `{"title":"a"}`, 401, "unauthorized", ""},
		{"TokenInWrongScheme", "POST", "/api/posts", http.Header{"Authorization": {"Basic " + n.token}}, `{"title":"a"}`, 401, "unauthorized", ""},
		{"ForeignOrigin", "POST", "/api/posts", http.Header{"Authorization": auth["Authorization"], "Origin": {"http://evil.example"}}, `{"title":"a"}`, 403, "unauthorized", ""},
		{"PatchUnknownID", "PATCH", "/api/posts/" + unknownID, nil, `{"version":1,"title":"x"}`, 404, "not_found", ""},
		{"PatchSQLInID", "PATCH", "/api/posts/x'%20OR%20'1'='1", nil, `{"version":1,"title":"x"}`, 404, "not_found", ""},
		{"PatchDeleted", "PATCH", "/api/posts/" + fx.deleted, nil, `{"version":2,"title":"x"}`, 404, "not_found", ""},
		{"PatchStaleVersion", "PATCH", live, nil, `{"version":1,"title":"x"}`, 409, "conflict", ""},
		{"PatchFutureVersion", "PATCH", live, nil, `{"version":3,"title":"x"}`, 409, "conflict", ""},
		{"PatchVersionZero", "PATCH", live, nil, `{"version":0,"title":"x"}`, 400, "invalid", "version"},
		{"PatchVersionNegative", "PATCH", live, nil, `{"version":-2,"title":"x"}`, 400, "invalid", "version"},
		{"PatchVersionString", "PATCH", live, nil, `{"version":"2","title":"x"}`, 400, "invalid", "version"},
		{"PatchVersionFraction", "PATCH", live, nil, `{"version":2.5,"title":"x"}`, 400, "invalid", "version"},
		{"PatchVersionInt64Overflow", "PATCH", live, nil, `{"version":9223372036854775808,"title":"x"}`, 400, "invalid", "version"},
		{"PatchVersion1e400", "PATCH", live, nil, `{"version":1e400,"title":"x"}`, 400, "invalid", "version"},
		{"PatchNothing", "PATCH", live, nil, `{"version":2}`, 400, "invalid", "title"},
		{"PatchIDInBody", "PATCH", live, nil, `{"id":"` + unknownID + `","version":2,"title":"x"}`, 400, "bad_request", ""},
		{"PatchNoToken", "PATCH", live, http.Header{}, `{"version":2,"title":"x"}`, 401, "unauthorized", ""},
		{"DeleteVersionWord", "DELETE", live + "?version=two", nil, ``, 400, "invalid", "version"},
		{"DeleteVersionNegative", "DELETE", live + "?version=-1", nil, ``, 400, "invalid", "version"},
		{"DeleteVersionOverflow", "DELETE", live + "?version=9223372036854775808", nil, ``, 400, "invalid", "version"},
		{"DeleteStaleVersion", "DELETE", live + "?version=1", nil, ``, 409, "conflict", ""},
		{"DeleteUnknownID", "DELETE", "/api/posts/" + unknownID, nil, ``, 404, "not_found", ""},
		{"DeleteTwice", "DELETE", "/api/posts/" + fx.deleted, nil, ``, 404, "not_found", ""},
		{"DeleteNoToken", "DELETE", live, http.Header{}, ``, 401, "unauthorized", ""},
		{"GetUnknownID", "GET", "/api/posts/" + unknownID, http.Header{}, ``, 404, "not_found", ""},
		{"GetDeleted", "GET", "/api/posts/" + fx.deleted, http.Header{}, ``, 404, "not_found", ""},
		{"GetSQLInID", "GET", "/api/posts/1%27%20OR%201=1%20--", http.Header{}, ``, 404, "not_found", ""},
		{"ListLimitWord", "GET", "/api/posts?limit=all", http.Header{}, ``, 400, "invalid", "limit"},
		{"ListLimitZero", "GET", "/api/posts?limit=0", http.Header{}, ``, 400, "invalid", "limit"},
		{"ListLimitTooBig", "GET", "/api/posts?limit=201", http.Header{}, ``, 400, "invalid", "limit"},
		{"ListLimitOverflow", "GET", "/api/posts?limit=9223372036854775808", http.Header{}, ``, 400, "invalid", "limit"},
		{"ListBeforeGarbage", "GET", "/api/posts?before=%27%3B--", http.Header{}, ``, 400, "invalid", "before"},
		{"ListBeforeBase64Junk", "GET", "/api/posts?before=AAAAAAAAAAAAAAAA", http.Header{}, ``, 400, "invalid", "before"},
		{"UnknownEndpoint", "GET", "/api/admin", http.Header{}, ``, 404, "not_found", ""},
		{"UnknownMethod", "PUT", live, nil, `{"title":"x"}`, 404, "not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.hdr
			if hdr == nil {
				hdr = auth
			}
			var body any
			if tc.body != "" || tc.method != "GET" {
				body = tc.body
			}
			before := n.seq()
			var e apiError
			status := n.do(t, tc.method, tc.path, hdr, body, &e)
			if status != tc.status || e.Code != tc.code || e.Field != tc.field {
				t.Errorf("%s %s = %d %+v; want %d code %q field %q", tc.method, tc.path, status, e, tc.status, tc.code, tc.field)
			}
			if e.Message == "" || goInternals.MatchString(e.Message) {
				t.Errorf("%s %s: message %q; want a sentence about the request, without Go internals", tc.method, tc.path, e.Message)
			}
			if tc.code == "conflict" && (e.Post == nil || e.Post.ID != fx.live || e.Post.Version != 2) {
				t.Errorf("%s %s: conflict post = %+v; want the current post at version 2", tc.method, tc.path, e.Post)
			}
			if after := n.seq(); after != before {
				t.Errorf("%s %s: seq %d -> %d; want nothing stored", tc.method, tc.path, before, after)
			}
		})
	}
}

// TestHostile_Websocket sends hostile messages over one websocket with write
// access: each gets the documented error frame (echoing the id when one
// could be read), nothing is stored, and the connection keeps working.
func TestHostile_Websocket(t *testing.T) {
	fx := newHostileFixture(t)
	n := fx.n
	c := n.dial(t, dialOpts{name: "hostile", token: n.token})
	emit := func(id, event, data string) string {
		return `{"type":"emit","id":` + id + `,"event":"` + event + `","data":` + data + `}`
	}
	upd := func(fields string) string { return emit("9", "posts.update", `{"id":"`+fx.live+`",`+fields+`}`) }
	none := int64(-1) // no id expected in the error
	tests := []struct {
		name        string
		msg         string
		id          int64
		code, field string
	}{
		{"MalformedJSON", `{"type":"emit","id":1,`, none, "bad_request", ""},
		{"NotJSON", `hello`, none, "bad_request", ""},
		{"ArrayNotObject", `[{"type":"sync","since":0}]`, none, "bad_request", ""},
		{"StringNotObject", `"sync"`, none, "bad_request", ""},
		{"Null", `null`, none, "bad_request", ""},
		{"EmptyObject", `{}`, none, "bad_request", ""},
		{"EmptyMessage", ``, none, "bad_request", ""},
		{"RawNULByte", "{\"type\":\"sync\",\x00\"since\":0}", none, "bad_request", ""},
		{"DeeplyNested", `{"type":"emit","id":1,"data":` + deep(20000) + `}`, none, "bad_request", ""},
		{"UnknownType", `{"type":"subscribe","id":3}`, 3, "bad_request", ""},
		{"TypeWrongCase", `{"type":"EMIT","id":4,"event":"posts.create","data":{"title":"x"}}`, 4, "bad_request", ""},
		{"ReplayedAck", `{"type":"ack","id":7,"seq":1,"data":{"id":"` + fx.live + `","title":"forged","version":9,"seq":1}}`, 7, "bad_request", ""},
		{"ReplayedEvent", `{"type":"event","event":"posts","seq":99,"data":{"action":"delete","post":{"id":"` + fx.live + `"}}}`, none, "bad_request", ""},
		{"ReplayedHello", `{"type":"hello","proto":2,"canWrite":true}`, none, "bad_request", ""},
		{"TypeNumber", `{"type":1,"id":5}`, 5, "bad_request", ""},
		{"EmitNoID", emit(`null`, "posts.create", `{"title":"x"}`), none, "bad_request", ""},
		{"EmitIDString", emit(`"8"`, "posts.create", `{"title":"x"}`), none, "bad_request", ""},
		{"EmitIDFraction", emit(`1.5`, "posts.create", `{"title":"x"}`), none, "bad_request", ""},
		{"EmitIDInt64Overflow", emit(`9223372036854775808`, "posts.create", `{"title":"x"}`), none, "bad_request", ""},
		{"EmitID1e400", emit(`1e400`, "posts.create", `{"title":"x"}`), none, "bad_request", ""},
		{"EmitEventNumber", `{"type":"emit","id":6,"event":5,"data":{"title":"x"}}`, 6, "bad_request", ""},
		{"UnknownEvent", emit("10", "posts.purge", `{}`), 10, "bad_request", ""},
		{"EventMissing", `{"type":"emit","id":11,"data":{"title":"x"}}`, 11, "bad_request", ""},
		{"DataMissing", `{"type":"emit","id":12,"event":"posts.create"}`, 12, "bad_request", ""},
		{"DataArray", emit("13", "posts.create", `[{"title":"x"}]`), 13, "bad_request", ""},
		{"DataString", emit("14", "posts.create", `"x"`), 14, "bad_request", ""},
		{"DataUnknownField", emit("15", "posts.create", `{"title":"x","seq":1}`), 15, "bad_request", ""},
		{"TitleNumber", emit("16", "posts.create", `{"title":16}`), 16, "invalid", "title"},
		{"TitleHugeNumber", emit("17", "posts.create", `{"title":1e400}`), 17, "invalid", "title"},
		{"TitleMissing", emit("18", "posts.create", `{"body":"b"}`), 18, "invalid", "title"},
		{"DuplicateKeyLastWins", emit("19", "posts.create", `{"title":"ok","title":"  "}`), 19, "invalid", "title"},
		{"TitleNULEscape", emit("20", "posts.create", `{"title":"a\u0000"}`), 20, "invalid", "title"},
		{"BodyFormFeed", emit("21", "posts.create", `{"title":"a","body":"\f"}`), 21, "invalid", "body"},
		{"TitleBell", emit("22", "posts.create", `{"title":"ding\u0007"}`), 22, "invalid", "title"},
		{"TitleOverLong", emit("23", "posts.create", `{"title":"`+strings.Repeat("😀", 201)+`"}`), 23, "invalid", "title"},
		{"BodyOverLong", emit("24", "posts.create", `{"title":"a","body":"`+strings.Repeat("b", 20001)+`"}`), 24, "invalid", "body"},
		{"AuthorOverLong", emit("25", "posts.create", `{"title":"a","author":"`+strings.Repeat("c", 65)+`"}`), 25, "invalid", "author"},
		{"UpdateNoID", emit("26", "posts.update", `{"version":2,"title":"x"}`), 26, "invalid", "id"},
		{"UpdateUnknownID", emit("27", "posts.update", `{"id":"`+unknownID+`","version":1,"title":"x"}`), 27, "not_found", ""},
		{"UpdateSQLID", emit("28", "posts.update", `{"id":"' OR 1=1 --","version":1,"title":"x"}`), 28, "not_found", ""},
		{"UpdateDeleted", emit("29", "posts.update", `{"id":"`+fx.deleted+`","version":2,"title":"x"}`), 29, "not_found", ""},
		{"UpdateStaleVersion", upd(`"version":1,"title":"x"`), 9, "conflict", ""},
		{"UpdateVersionZero", upd(`"version":0,"title":"x"`), 9, "invalid", "version"},
		{"UpdateVersionString", upd(`"version":"2","title":"x"`), 9, "invalid", "version"},
		{"UpdateVersionOverflow", upd(`"version":9223372036854775808,"title":"x"`), 9, "invalid", "version"},
		{"UpdateNothing", upd(`"version":2`), 9, "invalid", "title"},
		{"UpdateAuthorRefused", upd(`"version":2,"author":"mallory"`), 9, "bad_request", ""},
		{"DeleteNoID", emit("30", "posts.delete", `{}`), 30, "invalid", "id"},
		{"DeleteUnknownID", emit("31", "posts.delete", `{"id":"`+unknownID+`"}`), 31, "not_found", ""},
		{"DeleteTwice", emit("32", "posts.delete", `{"id":"`+fx.deleted+`"}`), 32, "not_found", ""},
		{"DeleteStaleVersion", emit("33", "posts.delete", `{"id":"`+fx.live+`","version":1}`), 33, "conflict", ""},
		{"DeleteVersionNegative", emit("34", "posts.delete", `{"id":"`+fx.live+`","version":-1}`), 34, "invalid", "version"},
		{"SyncNoSince", `{"type":"sync","id":35}`, 35, "bad_request", ""},
		{"SyncNegativeSince", `{"type":"sync","since":-1}`, none, "bad_request", ""},
		{"SyncSinceString", `{"type":"sync","since":"0"}`, none, "bad_request", ""},
		{"SyncSinceOverflow", `{"type":"sync","since":9223372036854775808}`, none, "bad_request", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := n.seq()
			c.sendRaw(websocket.TextMessage, []byte(tc.msg))
			f, _ := c.readUntil("an error", func(f frame) bool { return f.Type == "error" || f.Type == "ack" || f.IsPost() })
			if f.Type != "error" || f.Code != tc.code || f.Field != tc.field || f.Message == "" {
				t.Errorf("reply = %s; want error code %q field %q with a message", f, tc.code, tc.field)
			}
			if goInternals.MatchString(f.Message) {
				t.Errorf("message %q; want a sentence about the message, without Go internals", f.Message)
			}
			switch {
			case tc.id == none && f.ID != nil:
				t.Errorf("reply = %s; want no id", f)
			case tc.id != none && (f.ID == nil || *f.ID != tc.id):
				t.Errorf("reply = %s; want id %d", f, tc.id)
			}
			if tc.code == "conflict" && (f.Post == nil || f.Post.ID != fx.live || f.Post.Version != 2) {
				t.Errorf("reply = %s; want the current post at version 2", f)
			}
			// The connection survives: a sync from now is answered at once.
			c.sync(n.seq(), n.epoch)
			if s, skipped := c.readUntil("synced", func(f frame) bool { return f.Type == "synced" }); len(nonPeers(skipped)) > 0 {
				t.Errorf("before %s got %v; want nothing else", s, skipped)
			}
			if after := n.seq(); after != before {
				t.Errorf("seq %d -> %d; want nothing stored", before, after)
			}
		})
	}

	t.Run("WithoutToken/Unauthorized", func(t *testing.T) {
		r := n.dial(t, dialOpts{name: "reader"})
		before := n.seq()
		id := r.emit("posts.create", map[string]string{"title": "sneaky"})
		f := r.readNonPeers()
		if f.Type != "error" || f.Code != "unauthorized" || f.ID == nil || *f.ID != id {
			t.Errorf("reply = %s; want unauthorized for id %d", f, id)
		}
		if n.seq() != before {
			t.Errorf("seq %d -> %d; want nothing stored", before, n.seq())
		}
		r.sync(n.seq(), n.epoch)
		if f := r.readNonPeers(); f.Type != "synced" {
			t.Errorf("after the error got %s; want synced: the connection stays open", f)
		}
	})

	t.Run("InvalidUTF8/Close1007", func(t *testing.T) {
		// Not valid UTF-8 is not a text message at all (RFC 6455 8.1): the
		// connection is failed with 1007 and nothing is stored.
		r := n.dial(t, dialOpts{name: "utf8", token: n.token})
		before := n.seq()
		r.sendRaw(websocket.TextMessage, []byte("{\"type\":\"emit\",\"id\":1,\"event\":\"posts.create\",\"data\":{\"title\":\"caf\xe9\"}}"))
		if got := r.closeCode(readWait); got.code != websocket.CloseInvalidFramePayloadData {
			t.Errorf("close = %d %q; want 1007", got.code, got.reason)
		}
		if n.seq() != before {
			t.Errorf("seq %d -> %d; want nothing stored", before, n.seq())
		}
	})
}

// nonPeers drops presence events.
func nonPeers(frames []frame) []frame {
	var out []frame
	for _, f := range frames {
		if !f.IsPeers() {
			out = append(out, f)
		}
	}
	return out
}

// trickyTexts are valid inputs that hostile-looking content must survive
// byte for byte: markup, SQL, emoji sequences, bidi controls (not control
// characters), tabs and newlines, JSON and escapes.
var trickyTexts = []struct{ name, title, body string }{
	{"HTMLScript", `<script>alert("x")</script>`, `<img src=x onerror=alert(1)><a href="javascript:alert(1)">click</a></textarea>`},
	{"SQL", `'; DROP TABLE posts; --`, `" OR 1=1 -- ; DELETE FROM posts WHERE '1'='1'; /* */ %_`},
	{"Emoji", "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽", "🇫🇷🇯🇵 e\u0301 \U0001F600\U0010FFFF"},
	{"RTL", "שלום עולם \u202eevil\u202c", "مرحبا\u200f \u2066isolate\u2069 \u200b\u200d\ufeff"},
	{"TabsNewlines", "a\tb", "line 1\nline 2\n\n\tindented\n"},
	{"JSONAndEscapes", `{"type":"emit","id":1}`, `\u0000 \\ \" \n (literal backslashes) </script> ${x} {{x}}`},
	{"LineSeparators", "a\u2028b\u2029c", "\u2028\u2029"},
	{"LongestTitle", strings.Repeat("😀", 200), strings.Repeat("é", 20000)},
	{"Replacement", "\ufffd\ufffe", "\uffff"},
}

// TestHostile_TrickyTextRoundTrips stores valid but tricky text over REST and
// over the websocket and checks it comes back byte for byte from GET, from
// the ack and from the event other peers get.
func TestHostile_TrickyTextRoundTrips(t *testing.T) {
	fx := newHostileFixture(t)
	n := fx.n
	writer := n.dial(t, dialOpts{name: "writer", token: n.token})
	watcher := n.dial(t, dialOpts{name: "watcher"})
	check := func(t *testing.T, where string, p wirePost, title, body string) {
		t.Helper()
		if p.Title != title || p.Body != body {
			t.Errorf("%s: title %q body %q; want %q and %q byte for byte", where, p.Title, p.Body, title, body)
		}
	}
	nextEvent := func(t *testing.T) wirePost {
		t.Helper()
		f, _ := watcher.readUntil("posts event", frame.IsPost)
		return f.PostData(t).Post
	}
	get := func(t *testing.T, id string) wirePost {
		t.Helper()
		var p wirePost
		if status := n.do(t, "GET", "/api/posts/"+id, nil, nil, &p); status != http.StatusOK {
			t.Fatalf("GET /api/posts/%s = %d; want 200", id, status)
		}
		return p
	}
	for _, tc := range trickyTexts {
		t.Run(tc.name+"/REST", func(t *testing.T) {
			var created wirePost
			body := map[string]string{"title": tc.title, "body": tc.body, "author": tc.name}
			if status := n.do(t, "POST", "/api/posts", bearer(n.token), body, &created); status != http.StatusCreated {
				t.Fatalf("POST /api/posts = %d; want 201", status)
			}
			check(t, "POST answer", created, tc.title, tc.body)
			check(t, "GET", get(t, created.ID), tc.title, tc.body)
			check(t, "event", nextEvent(t), tc.title, tc.body)
			// Updated to the same tricky text, it still round-trips.
			var updated wirePost
			// The same length, so that the longest title stays within limits.
			retitled := "!" + string([]rune(tc.title)[1:])
			patch := map[string]any{"version": 1, "title": retitled, "body": tc.body}
			if status := n.do(t, "PATCH", "/api/posts/"+created.ID, bearer(n.token), patch, &updated); status != http.StatusOK {
				t.Fatalf("PATCH = %d; want 200", status)
			}
			check(t, "PATCH answer", updated, retitled, tc.body)
			check(t, "update event", nextEvent(t), retitled, tc.body)
		})
		t.Run(tc.name+"/Websocket", func(t *testing.T) {
			id := writer.emit("posts.create", map[string]string{"title": tc.title, "body": tc.body})
			f, _ := writer.readUntil("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
			if f.Type != "ack" || f.ID == nil || *f.ID != id {
				t.Fatalf("reply = %s; want the ack of %d", f, id)
			}
			ack := f.AckPost(t)
			check(t, "ack", ack, tc.title, tc.body)
			check(t, "GET", get(t, ack.ID), tc.title, tc.body)
			check(t, "event", nextEvent(t), tc.title, tc.body)
		})
	}
	t.Run("TitleTrimmedBodyKept", func(t *testing.T) {
		var p wirePost
		in := map[string]string{"title": " \t padded\u00a0\n", "body": "  kept  \n"}
		if status := n.do(t, "POST", "/api/posts", bearer(n.token), in, &p); status != http.StatusCreated {
			t.Fatalf("POST = %d; want 201", status)
		}
		check(t, "GET", get(t, p.ID), "padded", "  kept  \n")
		nextEvent(t)
	})
	t.Run("HTMLEscapedOnTheWire", func(t *testing.T) {
		// A browser that mistakes the JSON for HTML still finds no tag in it.
		var raw json.RawMessage
		n.do(t, "GET", "/api/posts?limit=200", nil, nil, &raw)
		if strings.Contains(string(raw), "<script>") {
			t.Errorf("GET /api/posts carries a literal <script> tag; want it escaped as \\u003c")
		}
	})
}

// TestLineEndingsBecomeLF: CRLF and lone CR, as Windows and old Mac
// programs send them, are stored as LF from REST and from the websocket,
// on create and on update, and peers see the LF text.
func TestLineEndingsBecomeLF(t *testing.T) {
	n := startNode(t, realtime.Config{})
	writer := n.dial(t, dialOpts{name: "writer", token: n.token})
	const sent, stored = "one\r\ntwo\rthree\r\n", "one\ntwo\nthree\n"
	check := func(t *testing.T, where string, p wirePost) {
		t.Helper()
		if p.Title != "a\nb" || p.Body != stored {
			t.Errorf("%s: title %q body %q; want %q and %q", where, p.Title, p.Body, "a\nb", stored)
		}
	}
	var created wirePost
	if status := n.do(t, "POST", "/api/posts", bearer(n.token), map[string]string{"title": "a\r\nb\r\n", "body": sent}, &created); status != http.StatusCreated {
		t.Fatalf("POST with CRLF = %d; want 201", status)
	}
	check(t, "POST answer", created)
	var updated wirePost
	if status := n.do(t, "PATCH", "/api/posts/"+created.ID, bearer(n.token), map[string]any{"version": 1, "title": "a\rb", "body": sent}, &updated); status != http.StatusOK {
		t.Fatalf("PATCH with CR = %d; want 200", status)
	}
	check(t, "PATCH answer", updated)

	id := writer.emit("posts.create", map[string]string{"title": "a\rb", "body": sent})
	f, _ := writer.readUntil("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
	if f.Type != "ack" || f.ID == nil || *f.ID != id {
		t.Fatalf("reply = %s; want the ack of %d", f, id)
	}
	check(t, "ack", f.AckPost(t))
	var got wirePost
	n.do(t, "GET", "/api/posts/"+f.AckPost(t).ID, nil, nil, &got)
	check(t, "GET", got)
}
