package realtime_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"lanfeed/app"
	"lanfeed/internal/version"
	"lanfeed/realtime"
)

// page is the body of GET /api/posts.
type page struct {
	Posts []wirePost `json:"posts"`
	Next  string     `json:"next"`
	Prev  *string    `json:"prev"` // a pointer: the field must be there, even empty
	Seq   int64      `json:"seq"`
}

func TestREST_PostLifecycle(t *testing.T) {
	n := startNode(t, realtime.Config{})
	peer := n.dial(t, dialOpts{name: "watcher"})
	auth := bearer(n.token)

	var created wirePost
	if status := n.do(t, "POST", "/api/posts", auth, map[string]string{"title": " Lunch ", "body": "at noon", "author": "Ana"}, &created); status != http.StatusCreated {
		t.Fatalf("POST /api/posts = %d; want %d", status, http.StatusCreated)
	}
	if created.Title != "Lunch" || created.Body != "at noon" || created.Author != "Ana" || created.Origin != n.id ||
		created.Version != 1 || created.Seq != 1 || created.ID == "" {
		t.Errorf("created = %+v; want title Lunch, body, author Ana, origin %s (this node), version 1, seq 1", created, n.id)
	}

	var got wirePost
	if status := n.do(t, "GET", "/api/posts/"+created.ID, nil, nil, &got); status != http.StatusOK || got != created {
		t.Errorf("GET /api/posts/{id} = %d %+v; want 200 %+v", status, got, created)
	}

	var updated wirePost
	status := n.do(t, "PATCH", "/api/posts/"+created.ID, auth, map[string]any{"version": 1, "title": "Lunch moved"}, &updated)
	if status != http.StatusOK || updated.Title != "Lunch moved" || updated.Body != "at noon" || updated.Version != 2 || updated.Seq != 2 {
		t.Errorf("PATCH = %d %+v; want 200, title changed, body kept, version 2, seq 2", status, updated)
	}

	var deleted wirePost
	status = n.do(t, "DELETE", "/api/posts/"+created.ID+"?version=2", auth, nil, &deleted)
	if status != http.StatusOK || !deleted.Deleted || deleted.Title != "" || deleted.Body != "" || deleted.Version != 3 || deleted.Seq != 3 {
		t.Errorf("DELETE ?version=2 = %d %+v; want 200 and a tombstone at version 3, seq 3", status, deleted)
	}
	var e apiError
	if status := n.do(t, "GET", "/api/posts/"+created.ID, nil, nil, &e); status != http.StatusNotFound || e.Code != "not_found" {
		t.Errorf("GET deleted post = %d %+v; want 404 not_found", status, e)
	}

	// DELETE without a version deletes whatever the version is.
	other := n.post(t, "other", "")
	n.do(t, "PATCH", "/api/posts/"+other.ID, auth, map[string]any{"version": 1, "body": "b"}, nil)
	if status := n.do(t, "DELETE", "/api/posts/"+other.ID, auth, nil, &deleted); status != http.StatusOK || !deleted.Deleted || deleted.Version != 3 {
		t.Errorf("DELETE without version = %d %+v; want 200 and a tombstone at version 3", status, deleted)
	}

	// REST writes reach websocket peers as events, in seq order.
	for i, want := range []string{"create", "update", "delete", "create", "update", "delete"} {
		f := peer.readNonPeers()
		if !f.IsPost() || f.Seq != int64(i+1) || f.PostData(t).Action != want {
			t.Errorf("peer event %d = %s; want %s with seq %d", i, f, want, i+1)
		}
	}
}

func TestREST_Errors(t *testing.T) {
	n := startNode(t, realtime.Config{})
	p := n.post(t, "existing", "body")
	n.do(t, "PATCH", "/api/posts/"+p.ID, bearer(n.token), map[string]any{"version": 1, "body": "edited"}, nil) // now version 2
	auth := bearer(n.token)
	cases := []struct {
		name       string
		method     string
		path       string
		hdr        http.Header
		body       any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"CreateWithoutToken", "POST", "/api/posts", nil, map[string]string{"title": "t"}, 401, "unauthorized", ""},
		{"CreateWithWrongToken", "POST", "/api/posts", bearer("wrong"), map[string]string{"title": "t"}, 401, "unauthorized", ""},
		{"CreateWithBasicAuth", "POST", "/api/posts", http.Header{"Authorization": {"Basic " + n.token}}, map[string]string{"title": "t"}, 401, "unauthorized", ""},
		{"CreateWithTokenInQuery", "POST", "/api/posts?token=" + n.token, nil, map[string]string{"title": "t"}, 401, "unauthorized", ""},
		{"UpdateWithoutToken", "PATCH", "/api/posts/" + p.ID, nil, map[string]any{"version": 2, "title": "x"}, 401, "unauthorized", ""},
		{"DeleteWithoutToken", "DELETE", "/api/posts/" + p.ID, nil, nil, 401, "unauthorized", ""},
		{"CreateEmptyTitle", "POST", "/api/posts", auth, map[string]string{"title": " "}, 400, "invalid", "title"},
		{"CreateBodyTooLong", "POST", "/api/posts", auth, map[string]string{"title": "t", "body": strings.Repeat("b", 20001)}, 400, "invalid", "body"},
		{"CreateTitleWrongType", "POST", "/api/posts", auth, `{"title":["t"]}`, 400, "invalid", "title"},
		{"CreateMalformedJSON", "POST", "/api/posts", auth, `{"title":`, 400, "bad_request", ""},
		{"CreateTrailingData", "POST", "/api/posts", auth, `{"title":"a"}{"title":"b"}`, 400, "bad_request", ""},
		{"CreateUnknownField", "POST", "/api/posts", auth, `{"title":"a","tags":[]}`, 400, "bad_request", ""},
		{"CreateEmptyBody", "POST", "/api/posts", auth, "", 400, "bad_request", ""},
		{"CreateTooLarge", "POST", "/api/posts", auth, `{"title":"t","body":"` + strings.Repeat("b", realtime.DefaultMaxMessage) + `"}`, 413, "too_large", ""},
		{"UpdateWithoutVersion", "PATCH", "/api/posts/" + p.ID, auth, map[string]any{"title": "x"}, 400, "invalid", "version"},
		{"UpdateStaleVersion", "PATCH", "/api/posts/" + p.ID, auth, map[string]any{"version": 1, "title": "x"}, 409, "conflict", ""},
		{"UpdateUnknownPost", "PATCH", "/api/posts/no-such-post", auth, map[string]any{"version": 1, "title": "x"}, 404, "not_found", ""},
		{"DeleteStaleVersion", "DELETE", "/api/posts/" + p.ID + "?version=1", auth, nil, 409, "conflict", ""},
		{"DeleteVersionNotANumber", "DELETE", "/api/posts/" + p.ID + "?version=two", auth, nil, 400, "invalid", "version"},
		{"DeleteVersionZero", "DELETE", "/api/posts/" + p.ID + "?version=0", auth, nil, 400, "invalid", "version"},
		{"DeleteUnknownPost", "DELETE", "/api/posts/no-such-post", auth, nil, 404, "not_found", ""},
		{"GetUnknownPost", "GET", "/api/posts/no-such-post", nil, nil, 404, "not_found", ""},
		{"ListLimitZero", "GET", "/api/posts?limit=0", nil, nil, 400, "invalid", "limit"},
		{"ListLimitTooBig", "GET", "/api/posts?limit=201", nil, nil, 400, "invalid", "limit"},
		{"ListLimitNotANumber", "GET", "/api/posts?limit=ten", nil, nil, 400, "invalid", "limit"},
		{"ListBadCursor", "GET", "/api/posts?before=not-a-cursor", nil, nil, 400, "invalid", "before"},
		{"ListBadAfter", "GET", "/api/posts?after=not-a-cursor", nil, nil, 400, "invalid", "after"},
		{"ListAfterLimitTooBig", "GET", "/api/posts?limit=201&after=not-a-cursor", nil, nil, 400, "invalid", "limit"},
		{"UnknownEndpoint", "GET", "/api/nothing", nil, nil, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			if status := n.do(t, tc.method, tc.path, tc.hdr, tc.body, &e); status != tc.wantStatus {
				t.Errorf("%s %s = %d; want %d", tc.method, tc.path, status, tc.wantStatus)
			}
			if e.Code != tc.wantCode || e.Message == "" {
				t.Errorf("error body = %+v; want code %q and a message", e, tc.wantCode)
			}
			if e.Field != tc.wantField {
				t.Errorf("error field = %q; want %q", e.Field, tc.wantField)
			}
			if tc.wantCode == "conflict" && (e.Post == nil || e.Post.ID != p.ID || e.Post.Version != 2 || e.Post.Body != "edited") {
				t.Errorf("conflict post = %+v; want the current post at version 2", e.Post)
			}
			if strings.Contains(e.Message, n.token) {
				t.Errorf("error message %q shows the token", e.Message)
			}
		})
	}
	if got := n.seq(); got != 2 {
		t.Errorf("node seq = %d; want 2: no failed request may write", got)
	}
}

func TestREST_ListPaginates(t *testing.T) {
	n := startNode(t, realtime.Config{})
	var all []wirePost
	for i := range 7 {
		all = append(all, n.post(t, fmt.Sprintf("post %d", i), ""))
	}
	gone := all[3]
	n.do(t, "DELETE", "/api/posts/"+gone.ID, bearer(n.token), nil, nil)
	all = slices.Delete(all, 3, 4)
	// Newest first; equal times (same millisecond) by id, greatest first.
	slices.SortFunc(all, func(a, b wirePost) int {
		return cmp.Or(strings.Compare(b.CreatedAt, a.CreatedAt), strings.Compare(b.ID, a.ID))
	})

	var got []wirePost
	before := ""
	for pages := 1; ; pages++ {
		var pg page
		path := "/api/posts?limit=4&before=" + url.QueryEscape(before)
		if status := n.do(t, "GET", path, nil, nil, &pg); status != http.StatusOK {
			t.Fatalf("GET %s = %d; want 200", path, status)
		}
		if pg.Seq != n.seq() {
			t.Errorf("page %d seq = %d; want %d", pages, pg.Seq, n.seq())
		}
		got = append(got, pg.Posts...)
		if pg.Next == "" {
			if pages != 2 || len(pg.Posts) != 2 {
				t.Errorf("last page is page %d with %d posts; want page 2 with 2", pages, len(pg.Posts))
			}
			break
		}
		if len(pg.Posts) != 4 || pages > 2 {
			t.Fatalf("page %d has %d posts and next %q; want 4 posts on page 1 of 2", pages, len(pg.Posts), pg.Next)
		}
		before = pg.Next
	}
	if !slices.Equal(got, all) {
		t.Errorf("listed:\n%+v\nwant (newest first, deleted left out):\n%+v", got, all)
	}

	var def page
	n.do(t, "GET", "/api/posts", nil, nil, &def)
	if !slices.Equal(def.Posts, all) || def.Next != "" {
		t.Errorf("GET /api/posts = %d posts, next %q; want all %d and no next", len(def.Posts), def.Next, len(all))
	}
}

// TestREST_ListPagesBackUp pages down with before, then back up with
// after from the bottom page's prev, as a reader who dropped the pages
// above does.
func TestREST_ListPagesBackUp(t *testing.T) {
	n := startNode(t, realtime.Config{})
	for i := range 7 {
		n.post(t, fmt.Sprintf("post %d", i), "")
	}
	list := func(query string) page {
		t.Helper()
		var pg page
		if status := n.do(t, "GET", "/api/posts?"+query, nil, nil, &pg); status != http.StatusOK {
			t.Fatalf("GET /api/posts?%s = %d; want 200", query, status)
		}
		if pg.Prev == nil || pg.Seq != n.seq() {
			t.Fatalf("GET /api/posts?%s = prev %v, seq %d; want a prev field and seq %d", query, pg.Prev, pg.Seq, n.seq())
		}
		return pg
	}
	all := list("limit=200")
	first := list("limit=3")
	second := list("limit=3&before=" + url.QueryEscape(first.Next))
	bottom := list("limit=3&before=" + url.QueryEscape(second.Next))
	if *first.Prev != "" || *second.Prev == "" || bottom.Next != "" || len(bottom.Posts) != 1 {
		t.Fatalf("pages down = prev %q, %q; bottom %d posts, next %q; want the head first, then prevs, one post at the bottom",
			*first.Prev, *second.Prev, len(bottom.Posts), bottom.Next)
	}

	up := list("limit=3&after=" + url.QueryEscape(*bottom.Prev))
	if !slices.Equal(up.Posts, second.Posts) || *up.Prev == "" || up.Next != second.Next {
		t.Errorf("page above the bottom = %v, prev %q, next %q; want %v, a prev, next %q",
			up.Posts, *up.Prev, up.Next, second.Posts, second.Next)
	}
	head := list("limit=3&after=" + url.QueryEscape(*up.Prev))
	if !slices.Equal(head.Posts, first.Posts) || *head.Prev != "" {
		t.Errorf("head page = %v, prev %q; want %v and no prev", head.Posts, *head.Prev, first.Posts)
	}
	if got := slices.Concat(head.Posts, up.Posts, bottom.Posts); !slices.Equal(got, all.Posts) {
		t.Errorf("pages up = %v; want %v", got, all.Posts)
	}

	// Both cursors, each one valid: which way is meant is unclear.
	var e apiError
	path := "/api/posts?before=" + url.QueryEscape(second.Next) + "&after=" + url.QueryEscape(*second.Prev)
	if status := n.do(t, "GET", path, nil, nil, &e); status != http.StatusBadRequest || e.Code != "invalid" || e.Field != "after" {
		t.Errorf("GET %s = %d, %+v; want 400 invalid, field after", path, status, e)
	}
}

func TestREST_InfoAndHealth(t *testing.T) {
	n := startNode(t, realtime.Config{})
	n.post(t, "one", "")
	n.dial(t, dialOpts{name: "a"})
	n.dial(t, dialOpts{name: "b"})

	var info map[string]any
	if status := n.do(t, "GET", "/api/info", nil, nil, &info); status != http.StatusOK {
		t.Fatalf("GET /api/info = %d; want 200", status)
	}
	want := map[string]any{
		"proto": 1.0, "version": version.Get().Version, "epoch": n.epoch, "seq": 1.0, "peers": 2.0, "urls": []any{},
		"node": map[string]any{"id": n.id, "name": nodeName},
	}
	if !mapsEqualJSON(info, want) {
		t.Errorf("GET /api/info = %v; want %v", info, want)
	}

	var health map[string]any
	if status := n.do(t, "GET", "/healthz", nil, nil, &health); status != http.StatusOK || health["status"] != "ok" {
		t.Errorf("GET /healthz = %d %v; want 200 {status: ok}", status, health)
	}
}

func mapsEqualJSON(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestOrigin: browsers may use the node only from its own host or an
// allowed origin; programs sending no Origin are welcome.
func TestOrigin(t *testing.T) {
	const allowed = "http://laptop.local:7700"
	n := startNodeWith(t, app.Config{AllowedOrigins: []string{allowed}})
	self := n.ts.URL // http://127.0.0.1:port
	host := strings.TrimPrefix(self, "http://")
	cases := []struct {
		name   string
		origin string
		ok     bool
	}{
		{"None", "", true},
		{"SameHost", self, true},
		{"Allowed", allowed, true},
		{"Foreign", "http://evil.example", false},
		{"ForeignSameIP", "http://127.0.0.1:1", false},
		{"HostAsSubdomain", "http://" + strings.Replace(host, ":", ".evil.example:", 1), false},
		{"AllowedHostOtherPort", "http://laptop.local:7701", false},
		{"Null", "null", false},
	}
	for _, tc := range cases {
		t.Run("WS/"+tc.name, func(t *testing.T) {
			conn, resp, err := n.dialRaw(dialOpts{name: "browser", origin: tc.origin})
			if tc.ok {
				if err != nil {
					t.Fatalf("dial with Origin %q: %v; want a websocket", tc.origin, err)
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
				t.Fatalf("dial with Origin %q succeeded; want 403", tc.origin)
			}
			checkRefusal(t, resp, http.StatusForbidden, "unauthorized")
		})
		t.Run("POST/"+tc.name, func(t *testing.T) {
			hdr := bearer(n.token)
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			}
			before := n.seq()
			var e apiError
			status := n.do(t, "POST", "/api/posts", hdr, map[string]string{"title": "from " + tc.name}, &e)
			switch {
			case tc.ok && status != http.StatusCreated:
				t.Errorf("POST with Origin %q = %d %+v; want 201", tc.origin, status, e)
			case !tc.ok && (status != http.StatusForbidden || e.Code != "unauthorized"):
				t.Errorf("POST with Origin %q = %d %+v; want 403 unauthorized", tc.origin, status, e)
			case !tc.ok && n.seq() != before:
				t.Errorf("refused POST wrote: seq %d -> %d", before, n.seq())
			}
		})
	}

	// Updates and deletes are guarded the same way.
	p := n.post(t, "target", "")
	foreign := bearer(n.token)
	foreign.Set("Origin", "http://evil.example")
	if status := n.do(t, "PATCH", "/api/posts/"+p.ID, foreign, map[string]any{"version": 1, "title": "x"}, nil); status != http.StatusForbidden {
		t.Errorf("PATCH from a foreign origin = %d; want 403", status)
	}
	if status := n.do(t, "DELETE", "/api/posts/"+p.ID, foreign, nil, nil); status != http.StatusForbidden {
		t.Errorf("DELETE from a foreign origin = %d; want 403", status)
	}
	var still wirePost
	if n.do(t, "GET", "/api/posts/"+p.ID, nil, nil, &still); still != p {
		t.Errorf("post after refused writes = %+v; want unchanged %+v", still, p)
	}
}
