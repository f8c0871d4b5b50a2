package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/discovery"
	"lanfeed/feed"
	"lanfeed/internal/wiretest"
	"lanfeed/realtime"
)

// startDesktop builds a desktop node over a real database without the Wails
// runtime: its window is a fake emitter.
func startDesktop(t *testing.T, listenErr string) (*app.Desktop, *app.Server, *fakeEmitter) {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger()}
	d := app.NewDesktop(cfg, "127.0.0.1:0")
	srv, err := app.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	emitter := newFakeEmitter()
	ui := app.NewUISink(emitter)
	srv.Fanout.Add(ui)
	d.StartWithoutWails(srv, ui, listenErr)
	t.Cleanup(func() { d.Shutdown(t.Context()) })
	return d, srv, emitter
}

func TestDesktop_BeforeStartup(t *testing.T) {
	d := app.NewDesktop(app.Config{DataDir: t.TempDir(), Logger: discardLogger()}, "127.0.0.1:0")
	if got := d.Bindings(); len(got) != 2 || got[0] != any(d.Posts) || got[1] != any(d.Node) {
		t.Errorf("Bindings() = %v; want [Posts Node]", got)
	}
	calls := map[string]func() error{
		"Posts.List":       func() error { _, err := d.Posts.List("", 10); return err },
		"Posts.ListAfter":  func() error { _, err := d.Posts.ListAfter("", 10); return err },
		"Posts.Get":        func() error { _, err := d.Posts.Get("x"); return err },
		"Posts.Create":     func() error { _, err := d.Posts.Create(feed.NewPost{Title: "t"}); return err },
		"Posts.Update":     func() error { _, err := d.Posts.Update("x", feed.PostPatch{Version: 1}); return err },
		"Posts.Delete":     func() error { _, err := d.Posts.Delete("x", 0); return err },
		"Posts.Sync":       func() error { _, err := d.Posts.Sync(0, ""); return err },
		"Node.Info":        func() error { _, err := d.Node.Info(); return err },
		"Node.Peers":       func() error { _, err := d.Node.Peers(); return err },
		"Node.Token":       func() error { _, err := d.Node.Token(); return err },
		"Node.RotateToken": func() error { _, err := d.Node.RotateToken(); return err },
		"Node.SetName":     func() error { _, err := d.Node.SetName("n"); return err },
		"Node.Follows":     func() error { _, err := d.Node.Follows(); return err },
		"Node.Follow":      func() error { _, err := d.Node.Follow("http://127.0.0.1:1/"); return err },
		"Node.Unfollow":    func() error { return d.Node.Unfollow(feed.NewID()) },
		"Node.Nearby":      func() error { _, err := d.Node.Nearby(); return err },
		"Node.Settings":    func() error { _, err := d.Node.Settings(); return err },
		"Node.SetSettings": func() error { _, err := d.Node.SetSettings(feed.MeshSettings{AutoFollow: true}); return err },
	}
	for name, call := range calls {
		err := call()
		wantCode(t, name+"() before Startup", err, feed.CodeInternal)
		got, ok := d.FormatError(err).(*feed.Error)
		if !ok || got.Code != feed.CodeInternal || got.Message != "lanfeed is still starting; try again" {
			t.Errorf("FormatError(%s() before Startup) = %#v; want internal \"lanfeed is still starting; try again\"", name, d.FormatError(err))
		}
	}
	d.Shutdown(t.Context()) // nothing to close: must not panic or block
}

func TestFormatError(t *testing.T) {
	var logged bytes.Buffer
	d := app.NewDesktop(app.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logged, nil))}, "127.0.0.1:0")
	conflict := &feed.Error{Code: feed.CodeConflict, Message: "changed", Post: &feed.Post{ID: "p", Version: 3}}
	tests := []struct {
		name string
		err  error
		want *feed.Error
	}{
		{"ClientErrorPassesThrough", fmt.Errorf("store: update: %w", conflict), conflict},
		{"InvalidNamesField", feed.Invalid("title", "title is required"), feed.Invalid("title", "title is required")},
		{"InternalDetailsHidden", errors.New("disk I/O error at /home/me/secret.db"),
			&feed.Error{Code: feed.CodeInternal, Message: "internal error; see the node's log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := d.FormatError(tt.err).(*feed.Error)
			if !ok {
				t.Fatalf("FormatError() = %T; want *feed.Error", d.FormatError(tt.err))
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if string(gj) != string(wj) {
				t.Errorf("FormatError() = %s; want %s", gj, wj)
			}
		})
	}
	// The hidden details reach the desktop's own log, not slog.Default.
	if !strings.Contains(logged.String(), "disk I/O error at /home/me/secret.db") {
		t.Errorf("desktop log = %q; want the internal error's details", logged.String())
	}
}

func TestDesktop_WindowWritesReachTheWindow(t *testing.T) {
	d, _, emitter := startDesktop(t, "")
	p, err := d.Posts.Create(feed.NewPost{Title: "from the window"})
	if err != nil {
		t.Fatalf("Posts.Create() = %v; want nil error", err)
	}
	calls := emitter.waitCalls(t, 1)
	if want := feed.EncodePostEvent(feed.ActionCreate, p); calls[0].name != "posts" || string(calls[0].envelope) != string(want) {
		t.Errorf("window got (%q, %s); want (posts, %s)", calls[0].name, calls[0].envelope, want)
	}
	page, err := d.Posts.List("", 10)
	if err != nil || len(page.Posts) != 1 || page.Posts[0] != p {
		t.Errorf("Posts.List() = %+v, %v; want [%+v]", page, err, p)
	}
	_, err = d.Posts.Update(p.ID, feed.PostPatch{Version: 5, Title: ptr("stale")})
	if e, ok := d.FormatError(err).(*feed.Error); !ok || e.Code != feed.CodeConflict || e.Post == nil || *e.Post != p {
		t.Errorf("FormatError(stale Posts.Update()) = %#v; want conflict carrying %+v", d.FormatError(err), p)
	}
	if _, err := d.Posts.Delete(p.ID, 0); err != nil {
		t.Fatalf("Posts.Delete() = %v; want nil error", err)
	}
	_, err = d.Posts.Get(p.ID)
	wantCode(t, "Posts.Get(deleted)", err, feed.CodeNotFound)
}

// TestDesktop_ListAfter pages down with Posts.List and back up with
// Posts.ListAfter, as the window does after dropping the pages above.
func TestDesktop_ListAfter(t *testing.T) {
	d, _, _ := startDesktop(t, "")
	var posts []feed.Post // newest first
	for i := range 3 {
		p, err := d.Posts.Create(feed.NewPost{Title: fmt.Sprint("post ", i)})
		if err != nil {
			t.Fatalf("Posts.Create() = %v; want nil error", err)
		}
		posts = append([]feed.Post{p}, posts...)
	}
	top, err := d.Posts.List("", 2)
	if err != nil || !slices.Equal(top.Posts, posts[:2]) || top.Prev != "" || top.Next == "" {
		t.Fatalf("Posts.List(\"\", 2) = %+v, %v; want the newest two, no prev, a next", top, err)
	}
	bottom, err := d.Posts.List(top.Next, 2)
	if err != nil || !slices.Equal(bottom.Posts, posts[2:]) || bottom.Prev == "" || bottom.Next != "" {
		t.Fatalf("Posts.List(next, 2) = %+v, %v; want the oldest, a prev, no next", bottom, err)
	}
	up, err := d.Posts.ListAfter(bottom.Prev, 2)
	if err != nil || !slices.Equal(up.Posts, posts[:2]) || up.Prev != "" || up.Next != top.Next {
		t.Errorf("Posts.ListAfter(prev, 2) = %+v, %v; want the newest two, no prev, next %q", up, err, top.Next)
	}
	_, err = d.Posts.ListAfter("not a cursor", 2)
	wantCode(t, "Posts.ListAfter(malformed)", err, feed.CodeInvalid)
	if e := d.FormatError(err).(*feed.Error); e.Field != "after" {
		t.Errorf("FormatError(Posts.ListAfter(malformed)) field = %q; want after", e.Field)
	}
}

// syncAll calls Posts.Sync until More is false and returns every page.
func syncAll(t *testing.T, d *app.Desktop, since int64, epoch string) []feed.SyncPage {
	t.Helper()
	var pages []feed.SyncPage
	for range 100 {
		page, err := d.Posts.Sync(since, epoch)
		if err != nil {
			t.Fatalf("Posts.Sync(%d, %q) = %v; want nil error", since, epoch, err)
		}
		pages = append(pages, page)
		if !page.More {
			return pages
		}
		since, epoch = page.Seq, page.Epoch
	}
	t.Fatalf("Posts.Sync still has more after 100 pages; want an end")
	return nil
}

func TestDesktop_SyncPages(t *testing.T) {
	const n = 1001 // two full pages of 500 and one more
	d, srv, _ := startDesktop(t, "")
	for i := range n {
		if _, err := srv.Service.Create(t.Context(), feed.NewPost{Title: fmt.Sprint("post ", i)}, feed.Caller{}); err != nil {
			t.Fatalf("Create() = %v; want nil error", err)
		}
	}
	pages := syncAll(t, d, 0, "")
	if len(pages) != 3 {
		t.Fatalf("Posts.Sync took %d pages for %d posts; want 3", len(pages), n)
	}
	var next int64 = 1
	for i, page := range pages {
		if page.Reset {
			t.Errorf("page %d Reset = true; want false", i)
		}
		for _, e := range page.Events {
			var ev struct {
				Seq int64 `json:"seq"`
			}
			json.Unmarshal(e, &ev)
			if ev.Seq != next {
				t.Fatalf("page %d event seq %d; want %d (no gap, no duplicate)", i, ev.Seq, next)
			}
			next++
		}
		if page.Seq != next-1 {
			t.Errorf("page %d Seq = %d; want %d, its last event", i, page.Seq, next-1)
		}
	}
	if next-1 != n {
		t.Errorf("Posts.Sync delivered up to seq %d; want %d", next-1, n)
	}
}

func TestDesktop_Node(t *testing.T) {
	d, srv, _ := startDesktop(t, "cannot listen on :7700: address already in use")
	info, err := d.Node.Info()
	if err != nil {
		t.Fatalf("Node.Info() = %v; want nil error", err)
	}
	id := srv.Service.Identity()
	if info.Node != id.Node || info.Epoch != id.Epoch || info.Proto != realtime.Proto ||
		info.ListenError != "cannot listen on :7700: address already in use" {
		t.Errorf("Node.Info() = %+v; want node %+v, epoch %s, proto 1 and the listen error", info, id.Node, id.Epoch)
	}
	peers, err := d.Node.Peers()
	if err != nil || len(peers) != 0 {
		t.Errorf("Node.Peers() = %v, %v; want [], nil", peers, err)
	}
	old, err := d.Node.Token()
	if err != nil || !srv.Service.Authorize(old) {
		t.Fatalf("Node.Token() = %q, %v; want the pairing token", old, err)
	}
	fresh, err := d.Node.RotateToken()
	if err != nil {
		t.Fatalf("Node.RotateToken() = %v; want nil error", err)
	}
	if srv.Service.Authorize(old) || !srv.Service.Authorize(fresh) {
		t.Errorf("after Node.RotateToken: Authorize(old) = %v, Authorize(new) = %v; want false, true",
			srv.Service.Authorize(old), srv.Service.Authorize(fresh))
	}
	n, err := d.Node.SetName("desk")
	if err != nil || n.Name != "desk" {
		t.Fatalf("Node.SetName(desk) = %+v, %v; want name desk", n, err)
	}
	if info, _ := d.Node.Info(); info.Node.Name != "desk" {
		t.Errorf("Node.Info().Node.Name = %q after SetName; want desk", info.Node.Name)
	}
}

func TestDesktop_ShutdownClosesTheNode(t *testing.T) {
	d, _, _ := startDesktop(t, "")
	d.Shutdown(t.Context())
	_, err := d.Posts.Create(feed.NewPost{Title: "too late"})
	wantCode(t, "Posts.Create() after Shutdown", err, feed.CodeInternal)
	d.Shutdown(t.Context()) // again: harmless
}

// TestDesktop_CreateTheLargestValidPost: the window's binding accepts a post
// with every field at its limit (emoji outside the BMP, CRLF line endings
// in the body), decoded from JSON as Wails decodes a call's arguments; one
// character more in any field is refused as invalid, naming it.
func TestDesktop_CreateTheLargestValidPost(t *testing.T) {
	d, _, _ := startDesktop(t, "")
	text := func(n int, crlf bool) string {
		sent, _ := wiretest.WorstText(n, crlf)
		return wiretest.Escaped(sent)
	}
	args := func(title, body, author int) feed.NewPost {
		t.Helper()
		raw := `{"title":` + text(title, false) + `,"body":` + text(body, true) + `,"author":` + text(author, false) + `}`
		var in feed.NewPost
		if err := json.Unmarshal([]byte(raw), &in); err != nil {
			t.Fatalf("decoding the call's argument: %v", err)
		}
		return in
	}
	p, err := d.Posts.Create(args(feed.MaxTitle, feed.MaxBody, feed.MaxAuthor))
	if err != nil {
		t.Fatalf("Posts.Create(largest valid post) = %v; want nil error", err)
	}
	if got := []int{len([]rune(p.Title)), len([]rune(p.Body)), len([]rune(p.Author))}; got[0] != feed.MaxTitle || got[1] != feed.MaxBody || got[2] != feed.MaxAuthor ||
		strings.Contains(p.Body, "\r") {
		t.Errorf("Posts.Create stored %v characters (CR in body: %v); want %d, %d, %d and LF line endings",
			got, strings.Contains(p.Body, "\r"), feed.MaxTitle, feed.MaxBody, feed.MaxAuthor)
	}
	for _, o := range wiretest.OverByOnes {
		_, err := d.Posts.Create(args(o.Title, o.Body, o.Author))
		want := &feed.Error{Code: feed.CodeInvalid, Field: o.Field, Message: fmt.Sprintf("%s is %d characters; the limit is %d", o.Field, o.Limit+1, o.Limit)}
		if got, ok := d.FormatError(err).(*feed.Error); !ok || got.Code != want.Code || got.Field != want.Field || got.Message != want.Message {
			t.Errorf("FormatError(Posts.Create(%s over by one)) = %#v; want %#v", o.Field, d.FormatError(err), want)
		}
	}
}

// TestDesktop_StartupAnnouncesTheLAN: when the window's node starts its LAN
// server it prints, on the terminal that started it, the lines lanfeedd
// serve prints (URL, pairing token, write link); when the port is taken it
// says the node is local only, and prints no token.
func TestDesktop_StartupAnnouncesTheLAN(t *testing.T) {
	start := func(t *testing.T, listen string) (*app.Server, string) {
		t.Helper()
		cfg := app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger()}
		d := app.NewDesktop(cfg, listen)
		var out bytes.Buffer
		d.Out = &out
		srv, err := app.Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("app.Open() = %v; want nil error", err)
		}
		ui := app.NewUISink(newFakeEmitter())
		srv.Fanout.Add(ui)
		d.ServeWithoutWails(srv, ui)
		t.Cleanup(func() { d.Shutdown(t.Context()) })
		return srv, out.String()
	}
	t.Run("Serving", func(t *testing.T) {
		srv, out := start(t, "127.0.0.1:0")
		id, url, token := srv.Service.Identity(), srv.URLs()[0], srv.Service.Token()
		want := fmt.Sprintf("lanfeed node %q (%s), database %s\nlistening on %s\npairing token: %s\nwrite link: %s#token=%s\n",
			id.Node.Name, id.Node.ID, srv.Store.Path(), url, token, url, token)
		if out != want {
			t.Errorf("Startup printed\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("PortTaken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv, out := start(t, ln.Addr().String())
		want := "lanfeed: the node is local only, not serving the LAN: cannot listen on " + ln.Addr().String() + ": "
		if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 || strings.Contains(out, srv.Service.Token()) {
			t.Errorf("Startup printed %q; want one line starting %q, without the token", out, want)
		}
	})
}

// TestDesktop_NearbyAndSettings: the window's nearby list and settings are
// the node's, and settings set from the window are kept in the database.
func TestDesktop_NearbyAndSettings(t *testing.T) {
	d, srv, _ := startDesktop(t, "")
	if list, err := d.Node.Nearby(); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("Nearby() = %#v, %v; want an empty list", list, err)
	}
	bea := discovery.Node{ID: feed.NewID(), Name: "bea", Proto: 1, LastSeen: time.Now(),
		Addrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}}
	srv.Mesh.Observe(discovery.Event{Kind: discovery.Appeared, Node: bea})
	list, err := d.Node.Nearby()
	if err != nil || len(list) != 1 || list[0].Node != bea.ID || list[0].Name != "bea" || list[0].URL != "http://127.0.0.1:1/" {
		t.Fatalf("Nearby() = %+v, %v; want bea at http://127.0.0.1:1/", list, err)
	}
	if s, err := d.Node.Settings(); err != nil || s.AutoFollow {
		t.Fatalf("Settings() = %+v, %v; want auto-follow off", s, err)
	}
	if s, err := d.Node.SetSettings(feed.MeshSettings{AutoFollow: true}); err != nil || !s.AutoFollow {
		t.Fatalf("SetSettings(on) = %+v, %v; want on", s, err)
	}
	if s, err := srv.Store.MeshSettings(t.Context()); err != nil || !s.AutoFollow {
		t.Fatalf("stored settings = %+v, %v; want on", s, err)
	}
	if s, err := d.Node.Settings(); err != nil || !s.AutoFollow {
		t.Fatalf("Settings() after SetSettings(on) = %+v, %v; want on", s, err)
	}
}
