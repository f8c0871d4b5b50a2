package app

import (
	"context"
	"net"
	"net/netip"
	"time"

	"lanfeed/discovery"
	"lanfeed/realtime"
)

// goodbyeWait bounds saying goodbye when the announcement is replaced
// (a rename); Close uses its caller's deadline.
const goodbyeWait = 2 * time.Second

// startDiscovery starts what Config asks for once the node knows its
// address: announcing on port (0: the LAN server is not running, nothing
// to announce) and browsing, whose events go to the mesh. A node whose
// listen address is loopback only is local: it neither announces nor
// browses. s.mu must be held.
func (s *Server) startDiscovery(listen string, port int) {
	if !s.cfg.Announce && !s.cfg.Browse {
		return
	}
	if loopbackOnly(listen) {
		s.log.Info("discovery off: the node listens on loopback only", "listen", listen)
		return
	}
	if s.cfg.Announce && port > 0 {
		s.port = port
		s.announceLocked()
	}
	if s.cfg.Browse {
		if s.cfg.AutoFollow {
			s.log.Info("auto-follow: following the lanfeed nodes discovered on the LAN (--auto-follow)")
		}
		s.browser = discovery.Browse(context.Background(), discovery.BrowseConfig{
			Self:    s.Service.Identity().ID,
			Round:   s.cfg.DiscoveryRound,
			Log:     s.log,
			OnEvent: s.Mesh.Observe, // returns at once: the browser never waits on the network
		})
	}
}

// announceLocked starts announcing the node under its current name. s.mu
// must be held.
func (s *Server) announceLocked() {
	id := s.Service.Identity()
	ann, err := discovery.Announce(context.Background(),
		discovery.Info{ID: id.Node.ID, Name: id.Node.Name, Proto: realtime.Proto, Port: s.port}, s.log)
	if err != nil {
		s.log.Warn("not announcing on the LAN", "err", err)
		return
	}
	s.announcer = ann
}

// reannounce replaces the announcement after a rename: goodbye under the
// old name, then the new one, so that browsers do not keep the old name.
func (s *Server) reannounce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.announcer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), goodbyeWait)
	defer cancel()
	if err := s.announcer.Close(ctx); err != nil {
		s.log.Warn("discovery", "err", err)
	}
	s.announcer = nil
	s.announceLocked()
}

// stopDiscovery stops browsing (no new hints reach the mesh) and says
// goodbye, so that browsers drop this node before its port stops
// answering; a goodbye cut short by ctx is logged, not an error of the
// shutdown. s.mu must be held.
func (s *Server) stopDiscovery(ctx context.Context) {
	if s.browser != nil {
		s.browser.Close()
		s.browser = nil
	}
	if s.announcer != nil {
		if err := s.announcer.Close(ctx); err != nil {
			s.log.Warn("discovery", "err", err)
		}
		s.announcer = nil
	}
}

// loopbackOnly reports whether a listen address serves this machine only.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
