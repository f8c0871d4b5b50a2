package app_test

import (
	"bytes"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/discovery"
	"lanfeed/feed"
	"lanfeed/internal/testnode"
)

// seen is srv as discovery would report it: its id, name and loopback
// address, heard now.
func seen(t *testing.T, srv *app.Server) discovery.Node {
	t.Helper()
	u, err := url.Parse(srv.URLs()[0])
	if err != nil {
		t.Fatal(err)
	}
	id := srv.Service.Identity()
	return discovery.Node{ID: id.ID, Name: id.Name, Proto: 1, LastSeen: time.Now(),
		Addrs: []netip.AddrPort{netip.MustParseAddrPort(u.Host)}}
}

// observe tells srv's mesh that discovery saw (or lost) the node n.
func observe(srv *app.Server, kind discovery.EventKind, n discovery.Node) {
	srv.Mesh.Observe(discovery.Event{Kind: kind, Node: n})
}

// nearbyIDs returns the ids srv lists as nearby, in its order.
func nearbyIDs(t *testing.T, srv *app.Server) []string {
	t.Helper()
	list, err := srv.Service.Nearby(t.Context())
	if err != nil {
		t.Fatalf("Nearby() = %v", err)
	}
	ids := []string{}
	for _, n := range list {
		ids = append(ids, n.Node)
	}
	return ids
}

// isFollowed reports whether srv follows node.
func isFollowed(t *testing.T, srv *app.Server, node string) bool {
	t.Helper()
	return slices.ContainsFunc(followList(t, srv), func(f feed.FollowInfo) bool { return f.Node == node })
}

// stillNotFollowed checks, for a while, that srv does not follow node.
func stillNotFollowed(t *testing.T, srv *app.Server, node, why string) {
	t.Helper()
	deadline := time.Now().Add(3 * quiet)
	for time.Now().Before(deadline) {
		if isFollowed(t, srv, node) {
			t.Fatalf("%s is followed; want it not followed: %s", node, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func setAutoFollow(t *testing.T, srv *app.Server, on bool) {
	t.Helper()
	if s, err := srv.Service.SetSettings(t.Context(), feed.MeshSettings{AutoFollow: on}); err != nil || s.AutoFollow != on {
		t.Fatalf("SetSettings(autoFollow %v) = %+v, %v", on, s, err)
	}
}

// TestNearby_FollowMovesItToFollows: a discovered node is nearby until it
// is followed, and nearby again once unfollowed while still seen; one
// entry per node id, never this node, none once it is gone.
func TestNearby_FollowMovesItToFollows(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	c := openMeshNode(t, t.TempDir(), "cleo")
	bID, cID := b.Service.Identity().ID, c.Service.Identity().ID
	if got := nearbyIDs(t, a); len(got) != 0 {
		t.Fatalf("Nearby() before discovery = %q; want none", got)
	}
	observe(a, discovery.Appeared, seen(t, a)) // itself: never nearby
	observe(a, discovery.Appeared, seen(t, c))
	bSeen := seen(t, b)
	observe(a, discovery.Appeared, bSeen)
	// Seen on a second address (another interface): still one entry.
	bSeen.Addrs = append(bSeen.Addrs, netip.MustParseAddrPort("[fe80::1%eth0]:7700"))
	observe(a, discovery.Changed, bSeen)
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{bID, cID}) {
		t.Fatalf("Nearby() = %q; want bea then cleo (by name)", got)
	}
	list, _ := a.Service.Nearby(t.Context())
	if n := list[0]; n.Name != "bea" || n.URL != b.URLs()[0] || len(n.URLs) != 2 || n.URLs[0] != b.URLs()[0] || n.Seen.IsZero() {
		t.Fatalf("Nearby()[0] = %+v; want bea, url %s first of both addresses, a seen time", n, b.URLs()[0])
	}

	// Following it from the nearby list moves it to the follows.
	if _, err := a.Service.Follow(t.Context(), list[0].URL); err != nil {
		t.Fatalf("Follow(nearby bea) = %v", err)
	}
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{cID}) {
		t.Fatalf("Nearby() after following bea = %q; want cleo only", got)
	}
	if err := a.Service.Unfollow(t.Context(), bID); err != nil {
		t.Fatalf("Unfollow(bea) = %v", err)
	}
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{bID, cID}) {
		t.Fatalf("Nearby() after unfollowing bea = %q; want bea back, then cleo", got)
	}
	observe(a, discovery.Gone, seen(t, c))
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{bID}) {
		t.Fatalf("Nearby() after cleo is gone = %q; want bea only", got)
	}
}

// TestNearby_AutoFollowSetting: turning auto-follow on follows what is
// nearby and what appears later; turning it off follows nothing new and
// keeps the follows; the setting is kept in the database.
func TestNearby_AutoFollowSetting(t *testing.T) {
	aDir := t.TempDir()
	a := openMeshNode(t, aDir, "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	c := openMeshNode(t, t.TempDir(), "cleo")
	d := openMeshNode(t, t.TempDir(), "dan")
	bID, cID, dID := b.Service.Identity().ID, c.Service.Identity().ID, d.Service.Identity().ID

	observe(a, discovery.Appeared, seen(t, b))
	stillNotFollowed(t, a, bID, "auto-follow is off by default")
	setAutoFollow(t, a, true)
	eventually(t, "alice follows bea, nearby when auto-follow was turned on", func() bool { return isFollowed(t, a, bID) })
	observe(a, discovery.Appeared, seen(t, c))
	eventually(t, "alice follows cleo, which appeared with auto-follow on", func() bool { return isFollowed(t, a, cID) })
	if got := nearbyIDs(t, a); len(got) != 0 {
		t.Errorf("Nearby() with both followed = %q; want none", got)
	}

	setAutoFollow(t, a, false)
	observe(a, discovery.Appeared, seen(t, d))
	stillNotFollowed(t, a, dID, "auto-follow was turned off")
	if !isFollowed(t, a, bID) || !isFollowed(t, a, cID) {
		t.Errorf("follows after auto-follow was turned off = %+v; want bea and cleo kept", followList(t, a))
	}
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{dID}) {
		t.Errorf("Nearby() = %q; want dan", got)
	}

	setAutoFollow(t, a, true)
	eventually(t, "alice follows dan once auto-follow is on again", func() bool { return isFollowed(t, a, dID) })
	ctx, cancel := closeCtx()
	a.Close(ctx)
	cancel()
	a = openMeshNode(t, aDir, "alice")
	if s, err := a.Service.Settings(t.Context()); err != nil || !s.AutoFollow {
		t.Fatalf("Settings() after a restart = %+v, %v; want auto-follow still on", s, err)
	}
}

// TestNearby_UnfollowIsRemembered: a node unfollowed by hand is not
// auto-followed again when it is next seen, across a restart, until it is
// followed explicitly, which clears that.
func TestNearby_UnfollowIsRemembered(t *testing.T) {
	aDir := t.TempDir()
	a := openMeshNode(t, aDir, "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	setAutoFollow(t, a, true)
	observe(a, discovery.Appeared, seen(t, b))
	eventually(t, "alice auto-follows bea", func() bool { return isFollowed(t, a, bID) })
	if err := a.Service.Unfollow(t.Context(), bID); err != nil {
		t.Fatalf("Unfollow(bea) = %v", err)
	}
	observe(a, discovery.Changed, seen(t, b))
	a.Mesh.Hint(bID, b.URLs())
	if a.Mesh.HintNow(t.Context(), bID, b.URLs()) {
		t.Errorf("HintNow(unfollowed bea) = true; want false")
	}
	stillNotFollowed(t, a, bID, "bea was unfollowed by hand")
	if got := nearbyIDs(t, a); !slices.Equal(got, []string{bID}) {
		t.Errorf("Nearby() = %q; want bea: unfollowed and still seen", got)
	}

	ctx, cancel := closeCtx()
	a.Close(ctx)
	cancel()
	a = openMeshNode(t, aDir, "alice")
	observe(a, discovery.Appeared, seen(t, b))
	stillNotFollowed(t, a, bID, "the unfollow is kept in the database")

	// An explicit follow clears it: after the next unfollow and an
	// explicit follow, auto-follow may move it again.
	if _, err := a.Service.Follow(t.Context(), b.URLs()[0]); err != nil {
		t.Fatalf("Follow(bea) = %v", err)
	}
	if declined, err := a.Store.Declined(t.Context()); err != nil || len(declined) != 0 {
		t.Fatalf("Declined() after an explicit follow = %q, %v; want none", declined, err)
	}
}

// TestNearby_GoneLeavesFollows: Gone takes a node off the nearby list but
// does not touch its follow; its follower marks it offline by itself.
func TestNearby_GoneLeavesFollows(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	b := openMeshNode(t, t.TempDir(), "bea")
	bID := b.Service.Identity().ID
	follow(t, a, b)
	eventually(t, "bea live", func() bool { return followState(t, a, bID).State == feed.FollowLive })
	observe(a, discovery.Appeared, seen(t, b))
	observe(a, discovery.Gone, seen(t, b))
	if fi := followState(t, a, bID); fi.State != feed.FollowLive {
		t.Errorf("follow of bea after Gone = %+v; want it live, untouched", fi)
	}
	if got := nearbyIDs(t, a); len(got) != 0 {
		t.Errorf("Nearby() = %q; want none", got)
	}
}

// TestNearby_ForcedAutoFollow: Config.AutoFollow (lanfeedd serve
// --auto-follow) turns auto-follow on for the run, whatever is stored,
// and it cannot be turned off meanwhile; the stored setting is left alone.
func TestNearby_ForcedAutoFollow(t *testing.T) {
	a := testnode.Open(t, app.Config{Name: "alice", AutoFollow: true}, "")
	b := openMeshNode(t, t.TempDir(), "bea")
	if s, err := a.Service.Settings(t.Context()); err != nil || !s.AutoFollow {
		t.Fatalf("Settings() = %+v, %v; want auto-follow on", s, err)
	}
	_, err := a.Service.SetSettings(t.Context(), feed.MeshSettings{AutoFollow: false})
	if e := feed.AsError(err); e.Code != feed.CodeInvalid || e.Field != "autoFollow" || !strings.Contains(e.Message, "--auto-follow") {
		t.Fatalf("SetSettings(off) = %v; want invalid autoFollow naming --auto-follow", err)
	}
	if s, err := a.Store.MeshSettings(t.Context()); err != nil || s.AutoFollow {
		t.Fatalf("stored settings = %+v, %v; want off: the flag is not stored", s, err)
	}
	observe(a, discovery.Appeared, seen(t, b))
	eventually(t, "alice follows bea", func() bool { return isFollowed(t, a, b.Service.Identity().ID) })
}

// syncBuffer is a bytes.Buffer for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDiscovery_OffOnLoopback: a node asked to announce and browse but
// listening on loopback only does neither (and so no test multicasts).
func TestDiscovery_OffOnLoopback(t *testing.T) {
	var log syncBuffer
	testnode.Open(t, app.Config{Announce: true, Browse: true, Logger: slog.New(slog.NewTextHandler(&log, nil))}, "127.0.0.1:0")
	if got := log.String(); !strings.Contains(got, "discovery off: the node listens on loopback only") || strings.Contains(got, "announcing") {
		t.Fatalf("log = %q; want discovery off, nothing announced", got)
	}
}

// TestNearby_FollowedNodeMoves: with auto-follow off, discovery still
// moves a followed node's follow to its new address once it is offline at
// the old one.
func TestNearby_FollowedNodeMoves(t *testing.T) {
	a := openMeshNode(t, t.TempDir(), "alice")
	bDir := t.TempDir()
	b := openMeshNode(t, bDir, "bea")
	bID := b.Service.Identity().ID
	follow(t, a, b)
	eventually(t, "bea live", func() bool { return followState(t, a, bID).State == feed.FollowLive })
	ctx, cancel := closeCtx()
	b.Close(ctx)
	cancel()
	eventually(t, "bea offline", func() bool { return followState(t, a, bID).State == feed.FollowOffline })
	b2 := openMeshNode(t, bDir, "bea") // the same node on a new port
	observe(a, discovery.Changed, seen(t, b2))
	eventually(t, "the follow of bea moved to its new address", func() bool {
		fi := followState(t, a, bID)
		return fi.URL == b2.URLs()[0] && fi.State == feed.FollowLive
	})
}
