package store_test

import (
	"errors"
	"slices"
	"testing"

	"lanfeed/feed"
	"lanfeed/store"
)

func TestStore_MeshSettings(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, store.Options{Name: "n"})
	if got, err := s.MeshSettings(t.Context()); err != nil || got.AutoFollow {
		t.Fatalf("MeshSettings() on a new database = %+v, %v; want auto-follow off", got, err)
	}
	if err := s.SetMeshSettings(t.Context(), feed.MeshSettings{AutoFollow: true}); err != nil {
		t.Fatalf("SetMeshSettings(on) = %v", err)
	}
	if got, err := s.MeshSettings(t.Context()); err != nil || !got.AutoFollow {
		t.Fatalf("MeshSettings() after turning it on = %+v, %v; want on", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, store.Options{Name: "n"})
	if got, err := s.MeshSettings(t.Context()); err != nil || !got.AutoFollow {
		t.Fatalf("MeshSettings() after reopening = %+v, %v; want on: settings are kept in the database", got, err)
	}
	if err := s.SetMeshSettings(t.Context(), feed.MeshSettings{}); err != nil {
		t.Fatalf("SetMeshSettings(off) = %v", err)
	}
	if got, err := s.MeshSettings(t.Context()); err != nil || got.AutoFollow {
		t.Fatalf("MeshSettings() after turning it off = %+v, %v; want off", got, err)
	}
}

// TestStore_Unfollow: an unfollowed node is declined: AutoFollow refuses
// it, AddFollow (explicit) follows it again and clears the decline.
func TestStore_Unfollow(t *testing.T) {
	s, _ := newStore(t)
	const url = "http://192.168.1.20:7700/"
	bea := follow(t, s, "bea")
	if err := s.Unfollow(t.Context(), bea); err != nil {
		t.Fatalf("Unfollow() = %v; want nil", err)
	}
	_, err := s.Follow(t.Context(), bea)
	wantCode(t, "Follow() after Unfollow", err, feed.CodeNotFound, "")
	if got, err := s.Declined(t.Context()); err != nil || !slices.Equal(got, []string{bea}) {
		t.Fatalf("Declined() = %q, %v; want [bea]", got, err)
	}
	if _, err := s.AutoFollow(t.Context(), url, bea, "bea"); !errors.Is(err, store.ErrDeclined) {
		t.Fatalf("AutoFollow(declined bea) = %v; want ErrDeclined", err)
	}
	if all, _ := s.Follows(t.Context()); len(all) != 0 {
		t.Fatalf("Follows() after a refused AutoFollow = %+v; want none", all)
	}

	// Unfollowing a node not followed declines it all the same.
	cem := feed.NewID()
	wantCode(t, "Unfollow(not followed)", s.Unfollow(t.Context(), cem), feed.CodeNotFound, "")
	if got, _ := s.Declined(t.Context()); len(got) != 2 || !slices.Contains(got, cem) {
		t.Fatalf("Declined() = %q; want bea and cem", got)
	}
	wantCode(t, "Unfollow(not an id)", s.Unfollow(t.Context(), "bea"), feed.CodeInvalid, "node")

	// An explicit follow clears the decline; auto-follow may then update it.
	if _, err := s.AddFollow(t.Context(), url, bea, "bea"); err != nil {
		t.Fatalf("AddFollow(bea) = %v", err)
	}
	if got, _ := s.Declined(t.Context()); !slices.Equal(got, []string{cem}) {
		t.Fatalf("Declined() after following bea again = %q; want [cem]", got)
	}
	f, err := s.AutoFollow(t.Context(), "http://192.168.1.21:7700/", bea, "bea")
	if err != nil || f.URL != "http://192.168.1.21:7700/" {
		t.Fatalf("AutoFollow(bea at a new address) = %+v, %v; want the follow moved", f, err)
	}
	dan := feed.NewID()
	if f, err := s.AutoFollow(t.Context(), url, dan, "dan"); err != nil || f.Node != dan {
		t.Fatalf("AutoFollow(dan, never unfollowed) = %+v, %v; want it followed", f, err)
	}
}

func TestStore_RenameFollow(t *testing.T) {
	s, _ := newStore(t)
	bea := follow(t, s, "bea")
	if err := s.RenameFollow(t.Context(), bea, " Bea's laptop "); err != nil {
		t.Fatalf("RenameFollow() = %v", err)
	}
	if f, err := s.Follow(t.Context(), bea); err != nil || f.Name != "Bea's laptop" {
		t.Fatalf("Follow() after RenameFollow = %+v, %v; want the new name", f, err)
	}
	wantCode(t, "RenameFollow(empty)", s.RenameFollow(t.Context(), bea, " "), feed.CodeInvalid, "name")
	// A node not followed (unfollowed meanwhile) stays not followed.
	other := feed.NewID()
	if err := s.RenameFollow(t.Context(), other, "x"); err != nil {
		t.Fatalf("RenameFollow(not followed) = %v; want nil", err)
	}
	if _, err := s.Follow(t.Context(), other); err == nil {
		t.Fatalf("Follow() after RenameFollow of a node not followed = nil error; want not_found")
	}
}
