package discovery

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/brutella/dnssd"
)

// DefaultRound is how long one query round lasts. Each round asks again on
// the interfaces that are up then, so new interfaces are picked up and
// silent nodes are noticed; 10 s keeps the traffic to one small query per
// interface per round.
const DefaultRound = 10 * time.Second

// missedRounds is how many rounds in a row a node may not answer before it
// is reported gone: one lost packet must not make a node flap.
const missedRounds = 3

// reaskAfter is how soon a round is ended early, to ask again, when a node
// was heard before its announcement was complete (its name probe carries
// no TXT, and the library reports each instance once per lookup). A
// responder announces about 1 s after it starts probing.
const reaskAfter = time.Second

// BrowseConfig configures a Browser.
type BrowseConfig struct {
	Self    string        // this node's id: never reported; "" reports every node
	Round   time.Duration // length of a query round; default DefaultRound
	OnEvent func(Event)   // called for each change, one at a time; may be nil
	Log     *slog.Logger  // default: discard
}

// Browser watches the network for lanfeed nodes until it is closed.
type Browser struct {
	cfg    BrowseConfig
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	nodes map[string]Node // by id, as last reported

	// Owned by the run goroutine.
	entries   map[entryKey]*entry
	round     int
	endRound  func() // ends the current round
	reaskedAt int    // round last ended early; never two rounds in a row
}

// entryKey names one answer: a service instance as seen on one interface.
type entryKey struct{ instance, iface string }

// entry is what one instance on one interface last said.
type entry struct {
	id, name string
	proto    int
	addrs    []netip.AddrPort
	round    int // last round it answered in
	seen     time.Time
}

// Browse starts browsing for lanfeed nodes until ctx ends or Close is
// called.
func Browse(ctx context.Context, cfg BrowseConfig) *Browser {
	quietLibrary()
	b := newBrowser(cfg)
	ctx, b.cancel = context.WithCancel(ctx)
	go b.run(ctx)
	return b
}

// newBrowser returns a browser that is not running yet.
func newBrowser(cfg BrowseConfig) *Browser {
	if cfg.Round <= 0 {
		cfg.Round = DefaultRound
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Browser{cfg: cfg, done: make(chan struct{}),
		nodes: map[string]Node{}, entries: map[entryKey]*entry{}, reaskedAt: -1}
}

// Nodes returns the nodes seen now, sorted by name, then id.
func (b *Browser) Nodes() []Node {
	b.mu.Lock()
	out := make([]Node, 0, len(b.nodes))
	for _, n := range b.nodes {
		n.Addrs = slices.Clone(n.Addrs)
		out = append(out, n)
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y Node) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID)) })
	return out
}

// Close stops browsing and waits for the browser's goroutine; no event is
// delivered after it returns. It is idempotent.
func (b *Browser) Close() {
	b.cancel()
	<-b.done
}

func (b *Browser) run(ctx context.Context) {
	defer close(b.done)
	for ctx.Err() == nil {
		b.round++
		start := time.Now()
		// A fresh lookup per round: it opens its sockets on the interfaces
		// up now and sends a new query on each.
		rctx, stop := roundContext(ctx, b.cfg.Round)
		b.endRound = stop
		err := dnssd.LookupType(rctx, ServiceType+"."+domain+".", b.add, b.remove)
		stop()
		if err != nil && !errors.Is(err, context.Canceled) {
			b.cfg.Log.Warn("discovery: browse failed; retrying", "err", err)
			// Wait out the rest of the round rather than spin.
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(start.Add(b.cfg.Round))):
			}
		}
		if ctx.Err() != nil {
			return
		}
		b.expire()
	}
}

// roundContext returns a context that is canceled after d or when parent
// ends, and whose Err is then always context.Canceled: the library's socket
// readers stop only on Canceled, and spin on their closed socket after a
// deadline.
// Known cost: a reader that holds a packet when its lookup ends stays
// blocked on the library's unbuffered channel (one goroutine and 64 KiB);
// rare, and one round per 10 s keeps it so.
func roundContext(parent context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	unhook := context.AfterFunc(parent, cancel)
	timer := time.AfterFunc(d, cancel)
	return ctx, func() {
		timer.Stop()
		unhook()
		cancel()
	}
}

// add records an answer. It runs on the lookup's goroutine, which is run's.
func (b *Browser) add(e dnssd.BrowseEntry) {
	id, name, proto, err := decodeTXT(e.Text)
	if err != nil && len(e.Text) == 0 && b.endRound != nil && b.reaskedAt < b.round-1 {
		b.reaskedAt = b.round
		time.AfterFunc(reaskAfter, b.endRound)
	}
	if err != nil {
		b.cfg.Log.Debug("discovery: ignoring service", "instance", e.Name, "err", err)
		return
	}
	if id == b.cfg.Self {
		return
	}
	k := entryKey{e.Name, e.IfaceName}
	b.entries[k] = &entry{id: id, name: name, proto: proto,
		addrs: addrPorts(e.IPs, e.Port, e.IfaceName), round: b.round, seen: time.Now()}
	b.update(id)
}

// remove handles a goodbye (or a record that expired in the lookup's cache).
func (b *Browser) remove(e dnssd.BrowseEntry) {
	k := entryKey{e.Name, e.IfaceName}
	old, ok := b.entries[k]
	if !ok {
		return
	}
	delete(b.entries, k)
	b.update(old.id)
}

// expire forgets answers not renewed for missedRounds rounds.
func (b *Browser) expire() {
	var ids []string
	for k, e := range b.entries {
		if b.round-e.round >= missedRounds {
			delete(b.entries, k)
			ids = append(ids, e.id)
		}
	}
	for _, id := range ids {
		b.update(id)
	}
}

// update recomputes the node id from its entries and reports the change,
// if any.
func (b *Browser) update(id string) {
	var n Node
	found := false
	for _, e := range b.entries {
		if e.id != id {
			continue
		}
		if !found || e.seen.After(n.LastSeen) {
			n.Name, n.Proto, n.LastSeen = e.name, e.proto, e.seen
		}
		found = true
		n.Addrs = append(n.Addrs, e.addrs...)
	}
	n.ID = id
	n.Addrs = sortAddrs(n.Addrs)

	b.mu.Lock()
	old, had := b.nodes[id]
	var ev Event
	switch {
	case !found && had:
		delete(b.nodes, id)
		ev = Event{Kind: Gone, Node: old}
	case found && !had:
		b.nodes[id] = n
		ev = Event{Kind: Appeared, Node: n}
	case found && had:
		b.nodes[id] = n
		if n.Name != old.Name || n.Proto != old.Proto || !slices.Equal(n.Addrs, old.Addrs) {
			ev = Event{Kind: Changed, Node: n}
		}
	}
	b.mu.Unlock()
	if ev.Kind != 0 && b.cfg.OnEvent != nil {
		ev.Node.Addrs = slices.Clone(ev.Node.Addrs)
		b.cfg.OnEvent(ev)
	}
}

// addrPorts joins a service's IPs with its port; link-local IPv6 addresses
// get the interface as zone, without which they cannot be dialled.
func addrPorts(ips []net.IP, port int, iface string) []netip.AddrPort {
	if port <= 0 || port > 65535 {
		return nil
	}
	var out []netip.AddrPort
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) && iface != "" {
			a = a.WithZone(iface)
		}
		out = append(out, netip.AddrPortFrom(a, uint16(port)))
	}
	return out
}

// sortAddrs sorts and dedupes: IPv4 first (the likeliest to work on a LAN),
// then global IPv6, then link-local IPv6.
func sortAddrs(addrs []netip.AddrPort) []netip.AddrPort {
	rank := func(a netip.Addr) int {
		switch {
		case a.Is4():
			return 0
		case !a.IsLinkLocalUnicast():
			return 1
		}
		return 2
	}
	slices.SortFunc(addrs, func(x, y netip.AddrPort) int {
		return cmp.Or(cmp.Compare(rank(x.Addr()), rank(y.Addr())), x.Compare(y))
	})
	return slices.Compact(addrs)
}
