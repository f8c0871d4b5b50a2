package discovery

import (
	"cmp"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// DefaultRound is how long one query round lasts. Each round asks again on
// the interfaces that are up then, so new interfaces are picked up and
// silent nodes are noticed; 10 s keeps the traffic to one small query per
// interface per round. Browsing speaks mDNS itself (socket.go) on sockets
// kept open across rounds; only announcing uses the library.
const DefaultRound = 10 * time.Second

// missedRounds is how many rounds in a row a node may not answer before it
// is reported gone: one lost packet must not make a node flap.
const missedRounds = 3

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
	entries map[entryKey]*entry
	round   int
}

// entryKey names one answer: a service instance as seen on one interface.
type entryKey struct{ instance, iface string }

// entry is what one instance on one interface last said.
type entry struct {
	id, name string
	proto    int
	addrs    map[netip.AddrPort]int // address -> last round it was in an answer
	round    int                    // last round it answered in
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
		nodes: map[string]Node{}, entries: map[entryKey]*entry{}}
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
	packets := make(chan packet, 16)
	var (
		sock    *socket
		current string // interfaces sock is joined on
	)
	defer func() {
		if sock != nil {
			sock.close()
		}
	}()
	tick := time.NewTicker(b.cfg.Round)
	defer tick.Stop()
	for {
		b.round++
		// Each round looks at the interfaces again and reopens the sockets
		// when they changed (groups are joined per interface).
		ifaces := usableInterfaces()
		if sig := ifaceNames(ifaces); sig != current || sock == nil {
			if sock != nil {
				sock.close()
				sock = nil
			}
			current = sig
			if len(ifaces) > 0 {
				s, err := openSocket(ifaces, packets)
				if err != nil {
					b.cfg.Log.Warn("discovery: cannot browse; retrying next round", "interfaces", sig, "err", err)
				}
				sock = s
			}
		}
		if sock != nil {
			sock.query()
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case p := <-packets:
				live, goodbyes := parseResponse(p.msg, p.iface)
				for _, a := range live {
					b.add(a)
				}
				for _, name := range goodbyes {
					b.remove(name, p.iface)
				}
			case <-tick.C:
				waiting = false
			}
		}
		b.expire()
	}
}

// add records an answer.
func (b *Browser) add(a answer) {
	id, name, proto, err := decodeTXT(a.txt)
	if err != nil {
		b.cfg.Log.Debug("discovery: ignoring service", "instance", a.instance, "err", err)
		return
	}
	if id == b.cfg.Self {
		return
	}
	k := entryKey{a.instance, a.iface}
	e := b.entries[k]
	if e == nil || e.id != id {
		if e != nil { // the instance now claims another id
			defer b.update(e.id)
		}
		e = &entry{id: id, addrs: map[netip.AddrPort]int{}}
		b.entries[k] = e
	}
	e.name, e.proto, e.round, e.seen = name, proto, b.round, time.Now()
	// Addresses add up: a responder may send A and AAAA in separate
	// answers. One that stops being announced expires like a node.
	for _, ap := range addrPorts(a.ips, a.port, a.iface) {
		e.addrs[ap] = b.round
	}
	b.update(id)
}

// remove handles a goodbye.
func (b *Browser) remove(instance, iface string) {
	k := entryKey{instance, iface}
	old, ok := b.entries[k]
	if !ok {
		return
	}
	delete(b.entries, k)
	b.update(old.id)
}

// expire forgets answers and addresses not renewed for missedRounds
// rounds.
func (b *Browser) expire() {
	var ids []string
	for k, e := range b.entries {
		if b.round-e.round >= missedRounds {
			delete(b.entries, k)
			ids = append(ids, e.id)
			continue
		}
		for ap, r := range e.addrs {
			if b.round-r >= missedRounds {
				delete(e.addrs, ap)
				ids = append(ids, e.id)
			}
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
		for ap := range e.addrs {
			n.Addrs = append(n.Addrs, ap)
		}
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
