package discovery

import (
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTXT_RoundTrip(t *testing.T) {
	in := Info{ID: "0b7e9c1a-4f6d-4c1e-9a51-3f2d8e7c6b5a", Name: "Küche laptop", Proto: 1, Port: 7700}
	id, name, proto, err := decodeTXT(encodeTXT(in))
	if err != nil {
		t.Fatalf("decodeTXT(encodeTXT(%+v)) error %v", in, err)
	}
	if id != in.ID || name != in.Name || proto != in.Proto {
		t.Errorf("decodeTXT(encodeTXT()) = %q, %q, %d; want %q, %q, %d", id, name, proto, in.ID, in.Name, in.Proto)
	}
}

func TestTXT_LongNameCutOnRune(t *testing.T) {
	long := strings.Repeat("é", maxNameLen) // 2 bytes each
	txt := encodeTXT(Info{ID: "n1", Name: long, Proto: 1, Port: 1})
	got := txt[keyName]
	if len(got) > maxNameLen || !utf8.ValidString(got) || !strings.HasPrefix(long, got) {
		t.Errorf("name in TXT = %d bytes, valid %v; want a prefix of at most %d bytes", len(got), utf8.ValidString(got), maxNameLen)
	}
	if n := len(keyName) + 1 + len(got); n > 255 {
		t.Errorf("TXT string %d bytes; want at most 255", n)
	}
}

func TestTXT_DecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		txt  map[string]string
	}{
		{"NoID", map[string]string{keyName: "a", keyProto: "1"}},
		{"IDTooLong", map[string]string{keyID: strings.Repeat("x", maxIDLen+1), keyProto: "1"}},
		{"NoProto", map[string]string{keyID: "n1"}},
		{"ProtoNotANumber", map[string]string{keyID: "n1", keyProto: "one"}},
		{"ProtoZero", map[string]string{keyID: "n1", keyProto: "0"}},
		{"Empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if id, _, _, err := decodeTXT(tc.txt); err == nil {
				t.Errorf("decodeTXT(%v) = id %q, nil error; want an error", tc.txt, id)
			}
		})
	}
}

func TestTXT_DecodeInvalidUTF8Name(t *testing.T) {
	_, name, _, err := decodeTXT(map[string]string{keyID: "n1", keyProto: "2", keyName: "a\xffb"})
	if err != nil || !utf8.ValidString(name) {
		t.Errorf("decodeTXT(invalid UTF-8 name) = %q, %v; want a valid string, no error", name, err)
	}
}

func TestInfo_Validate(t *testing.T) {
	ok := Info{ID: "n1", Name: "a", Proto: 1, Port: 7700}
	if err := ok.validate(); err != nil {
		t.Errorf("validate(%+v) = %v; want nil", ok, err)
	}
	for name, bad := range map[string]Info{
		"NoID":      {Proto: 1, Port: 7700},
		"IDWithEq":  {ID: "a=b", Proto: 1, Port: 7700},
		"NoPort":    {ID: "n1", Proto: 1},
		"PortRange": {ID: "n1", Proto: 1, Port: 70000},
		"NoProto":   {ID: "n1", Port: 7700},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("validate(%s %+v) = nil; want an error", name, bad)
		}
	}
}

func TestNames_UniquePerNode(t *testing.T) {
	a := Info{ID: "0b7e9c1a-4f6d", Name: "host"}
	b := Info{ID: "77aa0000-1111", Name: "host"}
	if instanceName(a) == instanceName(b) || hostLabel(a) == hostLabel(b) {
		t.Errorf("instance %q / %q, host %q / %q; want different names for nodes with the same display name",
			instanceName(a), instanceName(b), hostLabel(a), hostLabel(b))
	}
	if got := instanceName(Info{ID: "x", Name: strings.Repeat("n", 100)}); len(got) > 63 {
		t.Errorf("instanceName(long) = %d bytes; want at most 63", len(got))
	}
}

// entryFor builds what a response says about a node.
func entryFor(instance, iface, id, name string, port int, ips ...string) answer {
	a := answer{instance: instance, iface: iface, port: port,
		txt: encodeTXT(Info{ID: id, Name: name, Proto: 1, Port: port})}
	for _, ip := range ips {
		a.ips = append(a.ips, net.ParseIP(ip))
	}
	return a
}

// recorder collects events.
type recorder struct{ events []Event }

func (r *recorder) on(e Event) { r.events = append(r.events, e) }

func (r *recorder) kinds() []string {
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind.String()+" "+e.Node.ID)
	}
	return out
}

func TestBrowser_NeverReportsItself(t *testing.T) {
	var rec recorder
	b := newBrowser(BrowseConfig{Self: "me", OnEvent: rec.on})
	b.add(entryFor("me a", "eth0", "me", "mine", 7700, "10.0.0.1"))
	b.add(entryFor("me b", "wlan0", "me", "mine", 7700, "10.0.1.1")) // own id on another interface
	b.add(entryFor("other", "eth0", "peer", "theirs", 7700, "10.0.0.2"))
	if got, want := rec.kinds(), []string{"appeared peer"}; !slices.Equal(got, want) {
		t.Errorf("events = %v; want %v", got, want)
	}
	if nodes := b.Nodes(); len(nodes) != 1 || nodes[0].ID != "peer" {
		t.Errorf("Nodes() = %+v; want only peer", nodes)
	}
}

func TestBrowser_OneNodeOnSeveralInterfaces(t *testing.T) {
	var rec recorder
	b := newBrowser(BrowseConfig{Self: "me", OnEvent: rec.on})
	b.add(entryFor("peer x", "eth0", "peer", "p", 7700, "10.0.0.2"))
	b.add(entryFor("peer x", "wlan0", "peer", "p", 7700, "192.0.2.7", "fe80::1"))
	nodes := b.Nodes()
	if len(nodes) != 1 {
		t.Fatalf("Nodes() = %+v; want one node", nodes)
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.2:7700"),
		netip.MustParseAddrPort("192.0.2.7:7700"),
		netip.MustParseAddrPort("[fe80::1%wlan0]:7700"),
	}
	if !slices.Equal(nodes[0].Addrs, want) {
		t.Errorf("Addrs = %v; want %v", nodes[0].Addrs, want)
	}
	if got, wantEv := rec.kinds(), []string{"appeared peer", "changed peer"}; !slices.Equal(got, wantEv) {
		t.Errorf("events = %v; want %v", got, wantEv)
	}
	if u := nodes[0].URLs()[2]; u != "http://[fe80::1%25wlan0]:7700/" {
		t.Errorf("URLs()[2] = %q; want the zone kept, escaped", u)
	}
	if u, err := url.Parse(nodes[0].URLs()[2]); err != nil || u.Hostname() != "fe80::1%wlan0" {
		t.Errorf("url.Parse(URLs()[2]) = %v, %v; want host fe80::1%%wlan0", u, err)
	}
}

func TestBrowser_AddressChangeGoodbyeAndExpiry(t *testing.T) {
	var rec recorder
	b := newBrowser(BrowseConfig{OnEvent: rec.on})
	b.round = 1
	b.add(entryFor("a", "eth0", "na", "A", 7700, "10.0.0.2"))
	b.add(entryFor("b", "eth0", "nb", "B", 7700, "10.0.0.3"))
	b.add(entryFor("a", "eth0", "na", "A", 7700, "10.0.0.2")) // same answer again: no event
	b.add(entryFor("a", "eth0", "na", "A", 7700, "10.0.0.9")) // moved
	for i := 0; i < missedRounds; i++ {                       // the old address expires
		b.round++
		b.add(entryFor("a", "eth0", "na", "A", 7700, "10.0.0.9"))
		b.add(entryFor("b", "eth0", "nb", "B", 7700, "10.0.0.3"))
		b.expire()
	}
	if got := b.Nodes()[0].Addrs; !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("10.0.0.9:7700")}) {
		t.Errorf("after the move Addrs = %v; want only the new address", got)
	}
	b.remove("a", "eth0") // goodbye
	// nb answers no more: gone after missedRounds rounds, not before.
	for i := 1; i < missedRounds; i++ {
		b.round++
		b.expire()
	}
	if len(b.Nodes()) != 1 {
		t.Errorf("after %d silent rounds Nodes() = %+v; want nb still there", missedRounds-1, b.Nodes())
	}
	b.round++
	b.expire()
	want := []string{"appeared na", "appeared nb", "changed na", "changed na", "gone na", "gone nb"}
	if got := rec.kinds(); !slices.Equal(got, want) {
		t.Errorf("events = %v; want %v", got, want)
	}
	if len(b.Nodes()) != 0 {
		t.Errorf("Nodes() = %+v; want none", b.Nodes())
	}
}

func TestBrowser_AddressesFromSeparateAnswersAddUp(t *testing.T) {
	var rec recorder
	b := newBrowser(BrowseConfig{OnEvent: rec.on})
	for round := 1; round <= 3; round++ {
		b.round = round
		b.add(entryFor("a", "eth0", "na", "A", 7700, "10.0.0.2")) // over IPv4: A only
		b.add(entryFor("a", "eth0", "na", "A", 7700, "fe80::2"))  // over IPv6: AAAA only
		b.expire()
	}
	if got, want := rec.kinds(), []string{"appeared na", "changed na"}; !slices.Equal(got, want) {
		t.Errorf("events = %v; want %v (no flapping between the two answers)", got, want)
	}
	if got := b.Nodes()[0].Addrs; len(got) != 2 {
		t.Errorf("Addrs = %v; want both addresses", got)
	}
}

func TestBrowser_IgnoresForeignServices(t *testing.T) {
	var rec recorder
	b := newBrowser(BrowseConfig{OnEvent: rec.on})
	e := entryFor("x", "eth0", "n1", "x", 7700, "10.0.0.2")
	e.txt = map[string]string{"path": "/"} // some other _lanfeed._tcp speaker
	b.add(e)
	if len(rec.events) != 0 || len(b.Nodes()) != 0 {
		t.Errorf("events %v, nodes %v; want nothing for a service without id and proto", rec.kinds(), b.Nodes())
	}
}
