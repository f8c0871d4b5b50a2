package discovery

import (
	"net"
	"slices"
	"testing"

	"github.com/brutella/dnssd"
	"github.com/miekg/dns"
)

// wire packs and unpacks m, as the network would.
func wire(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("Pack() error %v", err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("Unpack() error %v", err)
	}
	return out
}

// announcement is what our responder (the library) sends for info.
func announcement(t *testing.T, info Info, ttl uint32) *dns.Msg {
	t.Helper()
	svc, err := dnssd.NewService(dnssd.Config{Name: instanceName(info), Type: ServiceType, Domain: domain,
		Host: hostLabel(info), Text: encodeTXT(info), Port: info.Port, IPs: []net.IP{net.ParseIP("10.0.0.7")}})
	if err != nil {
		t.Fatal(err)
	}
	ptr, srv, txt := dnssd.PTR(svc), dnssd.SRV(svc), dnssd.TXT(svc)
	a := &dns.A{Hdr: dns.RR_Header{Name: srv.Target, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 120}, A: net.ParseIP("10.0.0.7")}
	for _, rr := range []dns.RR{ptr, srv, txt} {
		rr.Header().Ttl = ttl
	}
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	m.Answer = []dns.RR{ptr}
	m.Extra = []dns.RR{srv, txt, a}
	return wire(t, m)
}

func TestParseResponse_Announcement(t *testing.T) {
	info := Info{ID: "0b7e9c1a-4f6d-4c1e-9a51-3f2d8e7c6b5a", Name: `Küche "laptop" \ 1`, Proto: 1, Port: 7700}
	live, bye := parseResponse(announcement(t, info, 4500), "eth0")
	if len(live) != 1 || len(bye) != 0 {
		t.Fatalf("parseResponse() = %d live, %d goodbyes; want 1, 0", len(live), len(bye))
	}
	id, name, proto, err := decodeTXT(live[0].txt)
	if err != nil || id != info.ID || name != info.Name || proto != 1 {
		t.Errorf("decoded TXT = %q, %q, %d, %v; want %q, %q, 1", id, name, proto, err, info.ID, info.Name)
	}
	if a := live[0]; a.port != 7700 || a.iface != "eth0" || !slices.ContainsFunc(a.ips, func(ip net.IP) bool { return ip.Equal(net.ParseIP("10.0.0.7")) }) {
		t.Errorf("answer = %+v; want port 7700 on eth0 at 10.0.0.7", a)
	}
}

func TestParseResponse_Goodbye(t *testing.T) {
	m := announcement(t, Info{ID: "n1", Name: "a", Proto: 1, Port: 7700}, 0)
	m.Extra = nil // the library's goodbye is the PTR alone
	live, bye := parseResponse(m, "eth0")
	if len(live) != 0 || len(bye) != 1 {
		t.Errorf("parseResponse(goodbye) = %d live, %d goodbyes; want 0, 1", len(live), len(bye))
	}
}

func TestParseResponse_IgnoresIncompleteAndForeign(t *testing.T) {
	m := announcement(t, Info{ID: "n1", Name: "a", Proto: 1, Port: 7700}, 4500)
	m.Extra = m.Extra[:1] // SRV without TXT or address
	if live, _ := parseResponse(m, "eth0"); len(live) != 0 {
		t.Errorf("parseResponse(no TXT, no address) = %+v; want nothing", live)
	}
	other := new(dns.Msg)
	other.Response = true
	other.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: "_http._tcp.local.", Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 0}, Ptr: "x._http._tcp.local."}}
	if live, bye := parseResponse(wire(t, other), "eth0"); len(live)+len(bye) != 0 {
		t.Errorf("parseResponse(_http._tcp) = %v, %v; want nothing", live, bye)
	}
}
