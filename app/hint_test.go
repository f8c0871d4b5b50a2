package app_test

import (
	"net"
	"testing"

	"lanfeed/app"
	"lanfeed/feed"
)

// deadURL returns the URL of a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String() + "/"
	l.Close()
	return u
}

func TestMesh_Hint(t *testing.T) {
	t.Run("FollowsTheNodeAndReplicates", func(t *testing.T) {
		a := openMeshNode(t, t.TempDir(), "alice")
		b := openMeshNode(t, t.TempDir(), "bea")
		bID := b.Service.Identity().ID
		aw := watch(t, a, 0)
		early := create(t, b, "written before the hint")
		// The first address does not answer: the next one is tried.
		a.Mesh.Hint(bID, []string{deadURL(t), b.URLs()[0]})
		waitPost(t, aw, "bea's earlier post", isPost(early.ID, feed.ActionCreate))
		late := create(t, b, "written after the hint")
		waitPost(t, aw, "bea's later post", isPost(late.ID, feed.ActionCreate))
		if fi := followState(t, a, bID); fi.URL != b.URLs()[0] {
			t.Errorf("follow of bea = %+v; want it at %s", fi, b.URLs()[0])
		}
	})

	t.Run("AnotherIDAtTheAddressNotFollowed", func(t *testing.T) {
		a := openMeshNode(t, t.TempDir(), "alice")
		b := openMeshNode(t, t.TempDir(), "bea")
		c := openMeshNode(t, t.TempDir(), "cleo")
		// A TXT record claiming cleo's id, at bea's address.
		if a.Mesh.HintNow(t.Context(), c.Service.Identity().ID, b.URLs()) {
			t.Errorf("HintNow(cleo's id, bea's URL) = true; want false")
		}
		if list := followList(t, a); len(list) != 0 {
			t.Errorf("Follows() = %+v; want none", list)
		}
	})

	t.Run("OwnIDIgnored", func(t *testing.T) {
		a := openMeshNode(t, t.TempDir(), "alice")
		b := openMeshNode(t, t.TempDir(), "bea")
		aID := a.Service.Identity().ID
		a.Mesh.Hint(aID, b.URLs())
		if a.Mesh.HintNow(t.Context(), aID, a.URLs()) {
			t.Errorf("HintNow(own id, own URL) = true; want false")
		}
		if list := followList(t, a); len(list) != 0 {
			t.Errorf("Follows() = %+v; want none", list)
		}
	})

	t.Run("RepeatedHintFollowsOnce", func(t *testing.T) {
		a := openMeshNode(t, t.TempDir(), "alice")
		b := openMeshNode(t, t.TempDir(), "bea")
		bID := b.Service.Identity().ID
		if !a.Mesh.HintNow(t.Context(), bID, b.URLs()) {
			t.Fatalf("HintNow(bea) = false; want true")
		}
		eventually(t, "bea live", func() bool { return followState(t, a, bID).State == feed.FollowLive })
		first := followState(t, a, bID)
		for range 3 {
			a.Mesh.Hint(bID, b.URLs())
		}
		if a.Mesh.HintNow(t.Context(), bID, b.URLs()) {
			t.Errorf("HintNow(bea) again = true; want false: bea is followed and live")
		}
		if list := followList(t, a); len(list) != 1 {
			t.Errorf("Follows() = %+v; want one follow", list)
		}
		// A second follow would have restarted the follower: connecting again, a new Since.
		if fi := followState(t, a, bID); fi.State != feed.FollowLive || fi.Since != first.Since {
			t.Errorf("follow of bea after the repeated hints = %+v; want it untouched, %+v", fi, first)
		}
	})

	t.Run("OfflineFollowMovesToTheNewAddress", func(t *testing.T) {
		a := openMeshNode(t, t.TempDir(), "alice")
		bDir := t.TempDir()
		b := openMeshNode(t, bDir, "bea")
		bID := b.Service.Identity().ID
		if !a.Mesh.HintNow(t.Context(), bID, b.URLs()) {
			t.Fatalf("HintNow(bea) = false; want true")
		}
		eventually(t, "bea live", func() bool { return followState(t, a, bID).State == feed.FollowLive })
		ctx, cancel := closeCtx()
		b.Close(ctx)
		cancel()
		eventually(t, "bea offline", func() bool { return followState(t, a, bID).State == feed.FollowOffline })
		b2 := openMeshNode(t, bDir, "bea") // the same node on a new port
		aw := watch(t, a, 0)
		if !a.Mesh.HintNow(t.Context(), bID, b2.URLs()) {
			t.Fatalf("HintNow(bea at %s) = false; want true", b2.URLs()[0])
		}
		p := create(t, b2, "from the new address")
		waitPost(t, aw, "bea's post from the new address", isPost(p.ID, feed.ActionCreate))
		if fi := followState(t, a, bID); fi.URL != b2.URLs()[0] {
			t.Errorf("follow of bea = %+v; want it moved to %s", fi, b2.URLs()[0])
		}
	})
}

// followList returns every follow of srv.
func followList(t *testing.T, srv *app.Server) []feed.FollowInfo {
	t.Helper()
	list, err := srv.Service.Follows(t.Context())
	if err != nil {
		t.Fatalf("Follows() = %v", err)
	}
	return list
}
