package app

import (
	"cmp"
	"context"
	"slices"

	"lanfeed/discovery"
	"lanfeed/feed"
)

// Observe tells the mesh what discovery saw. A node that appears or
// changes joins the nearby list; if it is followed, its follower may move
// to the new address (Hint), and with auto-follow on a node not followed
// and not unfollowed here is followed (Hint). A node that is gone leaves
// the nearby list; a follow is not touched by Gone: its follower sees for
// itself that the node is offline. Observe returns at once: addresses are
// tried in the background.
func (m *Mesh) Observe(ev discovery.Event) {
	id := ev.Node.ID
	if id == "" || id == m.svc.Identity().ID {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if ev.Kind == discovery.Gone {
		delete(m.nearby, id)
		m.mu.Unlock()
		return
	}
	m.nearby[id] = ev.Node
	hint := m.followers[id] != nil || m.autoFollowLocked()
	m.mu.Unlock()
	if hint {
		m.Hint(id, ev.Node.URLs())
	}
}

// autoFollowLocked reports whether auto-follow is on. m.mu must be held.
func (m *Mesh) autoFollowLocked() bool { return m.autoFollow || m.cfg.forceAutoFollow }

// Nearby lists the nodes discovery sees now that this node does not
// follow, one per node id, sorted by name, then id.
func (m *Mesh) Nearby(ctx context.Context) ([]feed.NearbyNode, error) {
	rows, err := m.st.Follows(ctx)
	if err != nil {
		return nil, err
	}
	followed := make(map[string]bool, len(rows))
	for _, r := range rows {
		followed[r.Node] = true
	}
	self := m.svc.Identity().ID
	m.mu.Lock()
	list := make([]feed.NearbyNode, 0, len(m.nearby))
	for id, n := range m.nearby {
		if followed[id] || id == self {
			continue
		}
		urls := n.URLs()
		nn := feed.NearbyNode{Node: id, Name: n.Name, URLs: urls, Seen: feed.UnixMilli(n.LastSeen.UnixMilli())}
		if len(urls) > 0 {
			nn.URL = urls[0]
		}
		list = append(list, nn)
	}
	m.mu.Unlock()
	slices.SortFunc(list, func(a, b feed.NearbyNode) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Node, b.Node))
	})
	return list, nil
}

// Settings returns the following settings in effect: the stored ones, with
// auto-follow on if this run forces it (Config.AutoFollow).
func (m *Mesh) Settings(ctx context.Context) (feed.MeshSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return feed.MeshSettings{AutoFollow: m.autoFollowLocked()}, nil
}

// errAutoFollowForced refuses turning auto-follow off while this run forces
// it on.
var errAutoFollowForced = feed.Invalid("autoFollow",
	"auto-follow is on for this run: the node was started with --auto-follow; restart it without that flag to turn auto-follow off")

// SetSettings stores the following settings and applies them: turning
// auto-follow on follows what is nearby now (except the nodes unfollowed
// here); turning it off follows no new node, and the follows made stay.
func (m *Mesh) SetSettings(ctx context.Context, s feed.MeshSettings) (feed.MeshSettings, error) {
	if m.cfg.forceAutoFollow && !s.AutoFollow {
		return feed.MeshSettings{}, errAutoFollowForced
	}
	m.settingsMu.Lock() // the stored and the applied settings agree
	defer m.settingsMu.Unlock()
	if err := m.st.SetMeshSettings(ctx, s); err != nil {
		return feed.MeshSettings{}, err
	}
	m.mu.Lock()
	was := m.autoFollowLocked()
	m.autoFollow = s.AutoFollow
	var hints []discovery.Node
	if !was && m.autoFollowLocked() {
		for _, n := range m.nearby {
			hints = append(hints, n)
		}
	}
	m.mu.Unlock()
	for _, n := range hints {
		m.Hint(n.ID, n.URLs()) // ignores the followed and the declined
	}
	return m.Settings(ctx)
}
