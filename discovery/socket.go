package discovery

import (
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The mDNS groups (RFC 6762). Listening on the group address, not the
// wildcard, makes the socket SO_REUSEADDR (and SO_REUSEPORT on BSDs) in
// Go's net package, so it shares UDP 5353 with Avahi, Bonjour and our own
// responder.
var (
	group4 = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	group6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353}
)

// maxPacket is the largest mDNS message we read (RFC 6762 17: 9000 bytes
// including headers).
const maxPacket = 9000

// readRetry is the pause after a read error that is not a closed socket,
// so that a persistent error does not spin.
const readRetry = 50 * time.Millisecond

// packet is one mDNS response and the interface it came in on ("" when the
// OS does not say, as on Windows).
type packet struct {
	msg   *dns.Msg
	iface string
}

// socket is the browser's pair of mDNS sockets joined on a set of
// interfaces. The browser keeps one for as long as the set does not
// change: the mDNS library's lookup opens new sockets per call and can
// leave a reader goroutine blocked after it returns, which a browser that
// asks every few seconds for days cannot afford.
type socket struct {
	ifaces []net.Interface
	c4     *ipv4.PacketConn
	c6     *ipv6.PacketConn
	done   chan struct{}
	wg     sync.WaitGroup
}

// openSocket joins the mDNS groups on ifaces and delivers every response
// to out until close.
func openSocket(ifaces []net.Interface, out chan<- packet) (*socket, error) {
	s := &socket{ifaces: ifaces, done: make(chan struct{})}
	names := make(map[int]string, len(ifaces))
	for _, ifi := range ifaces {
		names[ifi.Index] = ifi.Name
	}
	var errs []error
	if p, err := listen4(ifaces); err != nil {
		errs = append(errs, err)
	} else {
		s.c4 = p
		s.start(out, func(b []byte) (int, string, error) {
			n, cm, _, err := p.ReadFrom(b)
			if cm == nil { // not on Windows: the interface stays ""
				return n, "", err
			}
			return n, names[cm.IfIndex], err
		})
	}
	if p, err := listen6(ifaces); err != nil {
		errs = append(errs, err)
	} else {
		s.c6 = p
		s.start(out, func(b []byte) (int, string, error) {
			n, cm, _, err := p.ReadFrom(b)
			if cm == nil {
				return n, "", err
			}
			return n, names[cm.IfIndex], err
		})
	}
	if s.c4 == nil && s.c6 == nil {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// errNoJoin means no interface let a socket join its mDNS group.
var errNoJoin = errors.New("could not join the mDNS group on any interface")

// listen4 opens the IPv4 mDNS socket joined on ifaces.
func listen4(ifaces []net.Interface) (*ipv4.PacketConn, error) {
	c, err := net.ListenUDP("udp4", group4)
	if err != nil {
		return nil, err
	}
	p := ipv4.NewPacketConn(c)
	p.SetControlMessage(ipv4.FlagInterface, true)
	p.SetMulticastTTL(255)       // RFC 6762 11
	p.SetMulticastLoopback(true) // nodes on this host answer too
	if !joinAll(ifaces, func(ifi *net.Interface) error { return p.JoinGroup(ifi, group4) }) {
		c.Close()
		return nil, errNoJoin
	}
	return p, nil
}

// listen6 opens the IPv6 mDNS socket joined on ifaces.
func listen6(ifaces []net.Interface) (*ipv6.PacketConn, error) {
	c, err := net.ListenUDP("udp6", group6)
	if err != nil {
		return nil, err
	}
	p := ipv6.NewPacketConn(c)
	p.SetControlMessage(ipv6.FlagInterface, true)
	p.SetMulticastHopLimit(255)
	p.SetMulticastLoopback(true)
	if !joinAll(ifaces, func(ifi *net.Interface) error { return p.JoinGroup(ifi, group6) }) {
		c.Close()
		return nil, errNoJoin
	}
	return p, nil
}

// start runs a reader of one socket until close.
func (s *socket) start(out chan<- packet, readFrom func([]byte) (int, string, error)) {
	s.wg.Go(func() { s.read(out, readFrom) })
}

// joinAll joins on every interface and reports whether any join worked.
func joinAll(ifaces []net.Interface, join func(*net.Interface) error) bool {
	ok := false
	for i := range ifaces {
		if join(&ifaces[i]) == nil {
			ok = true
		}
	}
	return ok
}

// read delivers responses until the socket is closed; it never blocks
// past close.
func (s *socket) read(out chan<- packet, readFrom func([]byte) (int, string, error)) {
	buf := make([]byte, maxPacket)
	for {
		n, iface, err := readFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			case <-time.After(readRetry):
				continue
			}
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || !m.Response || m.Opcode != 0 || m.Rcode != 0 {
			continue // queries (probes among them) carry no answers for us
		}
		select {
		case out <- packet{msg: m, iface: iface}:
		case <-s.done:
			return
		}
	}
}

// query asks for lanfeed services on every interface.
func (s *socket) query() {
	m := new(dns.Msg)
	m.SetQuestion(ServiceType+"."+domain+".", dns.TypePTR)
	m.Id, m.RecursionDesired = 0, false // RFC 6762 18.1, 18.6
	b, err := m.Pack()
	if err != nil {
		return
	}
	for i := range s.ifaces {
		ifi := &s.ifaces[i]
		if s.c4 != nil && s.c4.SetMulticastInterface(ifi) == nil {
			s.c4.WriteTo(b, nil, group4)
		}
		if s.c6 != nil && s.c6.SetMulticastInterface(ifi) == nil {
			s.c6.WriteTo(b, nil, group6)
		}
	}
}

// close stops the readers and waits for them.
func (s *socket) close() {
	close(s.done)
	if s.c4 != nil {
		s.c4.Close()
	}
	if s.c6 != nil {
		s.c6.Close()
	}
	s.wg.Wait()
}

// answer is what one response says about one service instance.
type answer struct {
	instance string // full instance name, lower case
	iface    string
	txt      map[string]string
	port     int
	ips      []net.IP
}

// parseResponse reads the lanfeed instances a response announces (with
// SRV, TXT and addresses complete) and those it says goodbye to (TTL 0).
func parseResponse(m *dns.Msg, iface string) (live []answer, goodbyes []string) {
	service := strings.ToLower(ServiceType + "." + domain + ".")
	type inst struct {
		ptr, bye bool
		srv      *dns.SRV
		txt      []string
	}
	insts := map[string]*inst{}
	get := func(name string) *inst {
		name = strings.ToLower(name)
		if insts[name] == nil {
			insts[name] = &inst{}
		}
		return insts[name]
	}
	hosts := map[string][]net.IP{}
	rrs := append(append(append([]dns.RR(nil), m.Answer...), m.Ns...), m.Extra...)
	for _, rr := range rrs {
		name := strings.ToLower(rr.Header().Name)
		switch r := rr.(type) {
		case *dns.PTR:
			if name == service {
				i := get(r.Ptr)
				i.ptr, i.bye = true, r.Hdr.Ttl == 0
			}
		case *dns.SRV:
			if strings.HasSuffix(name, "."+service) {
				i := get(name)
				i.srv = r
				i.bye = i.bye || r.Hdr.Ttl == 0
			}
		case *dns.TXT:
			if strings.HasSuffix(name, "."+service) {
				get(name).txt = r.Txt
			}
		case *dns.A:
			hosts[name] = append(hosts[name], r.A)
		case *dns.AAAA:
			hosts[name] = append(hosts[name], r.AAAA)
		}
	}
	for name, i := range insts {
		switch {
		case i.bye:
			goodbyes = append(goodbyes, name)
		case i.srv != nil && i.txt != nil:
			ips := hosts[strings.ToLower(i.srv.Target)]
			if len(ips) == 0 {
				continue // no address yet; the next answer will have one
			}
			live = append(live, answer{instance: name, iface: iface, txt: txtMap(i.txt), port: int(i.srv.Port), ips: ips})
		}
	}
	return live, goodbyes
}

// txtMap reads key=value strings; the first of a repeated key wins
// (RFC 6763 6.4).
func txtMap(txt []string) map[string]string {
	m := make(map[string]string, len(txt))
	for _, s := range txt {
		k, v, _ := strings.Cut(unescapeTXT(s), "=")
		k = strings.ToLower(k)
		if _, dup := m[k]; !dup && k != "" {
			m[k] = v
		}
	}
	return m
}

// unescapeTXT turns miekg/dns's presentation form of a TXT string (\DDD
// for bytes outside printable ASCII, \X for quotes and backslashes) back
// into the bytes on the wire.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			b.WriteByte(byte((int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')) & 0xff))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
