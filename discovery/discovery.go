// Package discovery finds lanfeed nodes on the local network with DNS-SD over
// multicast DNS (service type _lanfeed._tcp), and announces this one.
//
// What it guarantees, and what it does not:
//   - Discovery is a hint, not an identity. A Node's ID is whatever its TXT
//     record claims; anyone on the LAN can claim any id. The protocol's hello
//     decides who a node is.
//   - An Announcer answers on every up, multicast-capable, non-loopback
//     interface, notices interfaces coming and going by polling (no netlink
//     needed), and sends goodbye packets when it is closed.
//   - A Browser reports a node when it first answers (Appeared), when its
//     addresses, name or protocol change (Changed), and when it says goodbye
//     or stops answering for a few query rounds (Gone). It never reports the
//     node whose id it was told is its own.
//   - Events are delivered one at a time, in order, from the browser's own
//     goroutine; a slow callback delays discovery, not the caller.
//
// Multicast is often blocked (guest Wi-Fi, VPNs, host firewalls on UDP 5353);
// then nothing is found and nodes must be added by address.
//
// Announcing uses the responder of github.com/brutella/dnssd (name probing,
// answers per interface, goodbyes). Browsing is a small querier of our own
// on miekg/dns (socket.go): it keeps its sockets open across rounds, which
// the library's per-call lookup does not.
package discovery

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	dnssdlog "github.com/brutella/dnssd/log"
)

// ServiceType is the DNS-SD service lanfeed nodes announce.
const ServiceType = "_lanfeed._tcp"

// domain is the mDNS domain; wide-area DNS-SD is not used.
const domain = "local"

// TXT record keys. Keys are short because every answer carries them.
const (
	keyID    = "id"    // node id, as in hello
	keyName  = "name"  // display name
	keyProto = "proto" // wire protocol version (decimal)
)

// Limits on what a TXT record may carry. A TXT string is at most 255 bytes
// (key=value); ids are UUIDs today, names are cut on a rune boundary.
const (
	maxIDLen   = 64
	maxNameLen = 200
)

// Info is what a node announces about itself.
type Info struct {
	ID    string // node id; required
	Name  string // display name; cut to 200 bytes
	Proto int    // wire protocol version; at least 1
	Port  int    // TCP port the node serves on (SRV record); required
}

// Node is a lanfeed node seen on the network.
type Node struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Proto    int              `json:"proto"`
	Addrs    []netip.AddrPort `json:"addrs"` // sorted: IPv4 first, then IPv6; link-local IPv6 carry their zone
	LastSeen time.Time        `json:"last_seen"`
}

// URLs returns an http URL for each of the node's addresses, in the order
// of Addrs, for a follower to try. A link-local IPv6 address keeps its
// zone, escaped as RFC 6874 says ("%25"), so that the URL parses.
func (n Node) URLs() []string {
	urls := make([]string, 0, len(n.Addrs))
	for _, a := range n.Addrs {
		urls = append(urls, (&url.URL{Scheme: "http", Host: a.String(), Path: "/"}).String())
	}
	return urls
}

// EventKind says what happened to a node.
type EventKind int

// Event kinds.
const (
	Appeared EventKind = iota + 1 // first seen
	Changed                       // addresses, name or protocol changed
	Gone                          // said goodbye, or stopped answering
)

func (k EventKind) String() string {
	switch k {
	case Appeared:
		return "appeared"
	case Changed:
		return "changed"
	case Gone:
		return "gone"
	}
	return "unknown"
}

// Event reports a change in the set of discovered nodes. For Gone, Node is
// the node as it was last seen.
type Event struct {
	Kind EventKind
	Node Node
}

// validate checks what Announce needs before it says anything on the wire.
func (i Info) validate() error {
	switch {
	case i.ID == "":
		return errors.New("discovery: node id required")
	case len(i.ID) > maxIDLen || strings.ContainsAny(i.ID, "= \t\r\n"):
		return fmt.Errorf("discovery: node id %q is not announceable", i.ID)
	case i.Port <= 0 || i.Port > 65535:
		return fmt.Errorf("discovery: port %d out of range", i.Port)
	case i.Proto < 1:
		return fmt.Errorf("discovery: protocol version %d; want at least 1", i.Proto)
	}
	return nil
}

// encodeTXT returns the TXT record of info.
func encodeTXT(info Info) map[string]string {
	name := cutName(info.Name)
	for len(escapeTXT(name)) > maxNameLen {
		name = cutNameTo(name, len(name)-1)
	}
	return map[string]string{
		keyID:    info.ID,
		keyName:  escapeTXT(name),
		keyProto: strconv.Itoa(info.Proto),
	}
}

// escapeTXT protects backslashes from miekg/dns, which reads TXT strings in
// presentation form when it packs them.
func escapeTXT(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

// decodeTXT reads a node's TXT record. It refuses records without a usable
// id or protocol version: such a service is not a lanfeed node we can talk to.
func decodeTXT(txt map[string]string) (id, name string, proto int, err error) {
	id = txt[keyID]
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) {
		return "", "", 0, fmt.Errorf("discovery: TXT %q: missing or invalid id", keyID)
	}
	proto, err = strconv.Atoi(txt[keyProto])
	if err != nil || proto < 1 {
		return "", "", 0, fmt.Errorf("discovery: TXT %q=%q: not a protocol version", keyProto, txt[keyProto])
	}
	name = cutName(strings.ToValidUTF8(txt[keyName], "\uFFFD"))
	return id, name, proto, nil
}

// cutName cuts s to maxNameLen bytes without splitting a rune.
func cutName(s string) string { return cutNameTo(s, maxNameLen) }

// instanceName is the DNS-SD instance label: the display name (what Bonjour
// browsers show) plus a short id, so that nodes with the same name (the
// default is the host name) do not have to rename themselves on probing.
func instanceName(info Info) string {
	short := info.ID
	if len(short) > 8 {
		short = short[:8]
	}
	name := strings.TrimSpace(info.Name)
	if name == "" {
		name = "lanfeed"
	}
	return cutNameTo(name, 50) + " " + short // an instance label is at most 63 bytes
}

// hostLabel is the host name announced in SRV and A/AAAA records; unique
// per node so that several nodes on one host (or in namespaces that share
// the host name) do not conflict.
func hostLabel(info Info) string {
	var b strings.Builder
	b.WriteString("lanfeed-")
	for _, r := range info.ID {
		if len(b.String()) >= 8+12 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if r >= 'A' && r <= 'Z' {
			b.WriteRune(r + 'a' - 'A')
		}
	}
	return b.String()
}

// cutNameTo cuts s to n bytes without splitting a rune.
func cutNameTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// quietLibrary stops the mDNS library from printing to stdout, which
// belongs to the program (lanfeedd nodes --json writes JSON there).
var quietLibrary = sync.OnceFunc(func() {
	dnssdlog.Info.SetOutput(io.Discard)
	dnssdlog.Debug.SetOutput(io.Discard)
})
