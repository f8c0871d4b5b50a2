package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"lanfeed/discovery"
	"lanfeed/realtime"
	"lanfeed/store"
)

// DefaultListen is the LAN address a node serves on unless told otherwise.
const DefaultListen = ":7700"

// DefaultReadHeaderTimeout is how long a client may take to send a
// request's headers: ample for any LAN, short enough that a slowloris
// client holds each connection only briefly.
const DefaultReadHeaderTimeout = 10 * time.Second

// DefaultReadTimeout bounds a whole request: a body at its size limit
// (about 240 KB) takes milliseconds on a LAN, so a client trickling one is
// cut off.
const DefaultReadTimeout = 30 * time.Second

// Config is what a node needs to start; the desktop app and lanfeedd fill it
// from their flags.
type Config struct {
	DataDir        string   // default: DefaultDataDir()
	Name           string   // display name; empty keeps the stored one
	AllowedOrigins []string // extra browser origins allowed besides the node's own
	// AllowedHosts are extra names the Host header may carry besides IP
	// literals, localhost and the machine's host name (DNS rebinding).
	AllowedHosts []string
	// ReadHeaderTimeout bounds the arrival of a request's headers, the
	// websocket handshake included, so that slow or silent clients
	// (slowloris) cannot pin connections; default DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (a
	// websocket is not bound by it once upgraded); default DefaultReadTimeout.
	ReadTimeout time.Duration
	UI          fs.FS // built web UI served at "/"; nil for none
	Logger      *slog.Logger
	Hub         realtime.Config // tuning; Service, Seq, URLs, UI and Logger are set by Open
	// Follow lists addresses of nodes to follow (--follow); each is
	// followed in the background once it answers, and stays followed.
	Follow []string
	Mesh   MeshConfig // tuning of the followers
	// Announce announces the node on the LAN (DNS-SD _lanfeed._tcp) while
	// Listen serves it; Browse watches the LAN for other nodes: the nearby
	// list, auto-follow, and followed nodes that change address. Both are
	// off by default, so that tests never multicast; the desktop app and
	// lanfeedd serve turn them on. A node listening on loopback only does
	// neither.
	Announce, Browse bool
	// DiscoveryRound is the browser's query round; default
	// discovery.DefaultRound.
	DiscoveryRound time.Duration
	// AutoFollow turns auto-follow on for this run (lanfeedd serve
	// --auto-follow), whatever the stored setting (feed.MeshSettings); the
	// stored setting is left as it is. It needs Browse.
	AutoFollow bool
}

// DefaultDataDir is lanfeed's folder in the OS user config directory.
func DefaultDataDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (%w); pass --data-dir", err)
	}
	return filepath.Join(dir, "lanfeed"), nil
}

// Server is one running node: the store, the service, the hub and, once
// Listen has succeeded, the HTTP server. main wires it; nothing else holds it.
type Server struct {
	Store   *store.Store
	Service *Service
	Hub     *realtime.Hub
	Fanout  *Fanout
	Mesh    *Mesh // the followers of the nodes this node follows
	log     *slog.Logger
	cfg     Config

	readHeaderTimeout time.Duration
	readTimeout       time.Duration

	mu       sync.Mutex // held for all of Close, so not by anything a request calls
	http     *http.Server
	served   chan struct{}
	closeErr error
	closed   bool

	urlsMu sync.Mutex // separate from mu: GET /api/info reads urls while Close waits for it
	urls   []string

	// Discovery, under mu: started by Listen, stopped by Close.
	announcer *discovery.Announcer
	browser   *discovery.Browser
	port      int // the port announced
}

// Open opens the database in cfg.DataDir and builds the service and hub.
// More consumers (the desktop window) can be added to Fanout before Listen.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DataDir == "" {
		dir, err := DefaultDataDir()
		if err != nil {
			return nil, err
		}
		cfg.DataDir = dir
	}
	st, err := store.Open(ctx, cfg.DataDir, store.Options{Name: cfg.Name})
	if err != nil {
		return nil, err
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	s := &Server{Store: st, Fanout: &Fanout{}, log: cfg.Logger, cfg: cfg,
		readHeaderTimeout: cfg.ReadHeaderTimeout, readTimeout: cfg.ReadTimeout}
	s.Service, err = NewService(ctx, st, s.Fanout, cfg.Logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	hc := cfg.Hub
	hc.Service, hc.Seq, hc.Logger = s.Service, st.Seq(), cfg.Logger
	hc.AllowedOrigins = append(hc.AllowedOrigins, cfg.AllowedOrigins...)
	hc.AllowedHosts = append(hc.AllowedHosts, cfg.AllowedHosts...)
	hc.URLs = s.URLs
	if cfg.UI != nil {
		hc.UI = http.FS(cfg.UI)
	}
	s.Hub = realtime.NewHub(hc)
	s.Fanout.Add(HubSink{s.Hub})
	// Whoever rotates the token (the desktop owner, a test), peers that hold
	// the old one lose write access at once and are told why.
	s.Service.onRotate = func() { s.Hub.RevokeWriters(realtime.TokenChanged) }
	// A rename reaches browsers on the LAN, with the new name.
	s.Service.onRename = func() { go s.reannounce() }
	mc := cfg.Mesh
	mc.forceAutoFollow = cfg.AutoFollow
	s.Mesh = newMesh(s.Service, st, cfg.Logger, mc)
	s.Service.mesh = s.Mesh
	if err := s.Mesh.start(ctx); err != nil {
		s.Mesh.Close()
		st.Close()
		return nil, err
	}
	for _, u := range cfg.Follow {
		s.Mesh.followLater(u)
	}
	return s, nil
}

// Listen starts serving the LAN on addr (host:port; port 0 picks a free one).
func (s *Server) Listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.http != nil {
		return errors.New("app: Listen after Close or twice")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.startDiscovery(addr, 0) // a local-only node can still find and follow others
		return fmt.Errorf("cannot listen on %s: %w (is another lanfeed running? choose another address with --listen)", addr, err)
	}
	s.urlsMu.Lock()
	s.urls = urlsFor(ln.Addr().(*net.TCPAddr))
	s.urlsMu.Unlock()
	s.http = &http.Server{
		Handler:           s.Hub.Handler(),
		ReadHeaderTimeout: s.readHeaderTimeout, // slow handshakes must not pin connections
		ReadTimeout:       s.readTimeout,       // nor slow bodies; gorilla clears it on upgrade
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.served = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("LAN server stopped", "err", err)
		}
	}(s.http, s.served)
	s.startDiscovery(addr, ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// Announce writes, for the owner at a terminal, which node this is, where
// it serves the LAN and its pairing token with the write link. It is the
// one place the token is printed (lanfeedd serve, and the desktop app to
// its stdout); the token is never logged. Call it after Listen.
func (s *Server) Announce(w io.Writer) {
	id := s.Service.Identity()
	fmt.Fprintf(w, "lanfeed node %q (%s), database %s\n", id.Node.Name, id.Node.ID, s.Store.Path())
	urls := s.URLs()
	if len(urls) == 0 {
		fmt.Fprintln(w, "not serving the LAN")
		return
	}
	fmt.Fprintf(w, "listening on %s\n", urls[0])
	for _, u := range urls[1:] {
		fmt.Fprintf(w, "also on %s\n", u)
	}
	token := s.Service.Token()
	fmt.Fprintf(w, "pairing token: %s\n", token)
	fmt.Fprintf(w, "write link: %s#token=%s\n", urls[0], token)
}

// URLs returns the addresses the node serves, the first reachable from the
// LAN when there is one.
func (s *Server) URLs() []string {
	s.urlsMu.Lock()
	defer s.urlsMu.Unlock()
	return append([]string(nil), s.urls...)
}

// Close stops accepting, says goodbye to every peer, waits for the hub's
// goroutines and closes the database. It is idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	s.stopDiscovery(ctx) // first: no hints for a closing mesh, goodbye while the port answers
	s.Mesh.Close()       // before the store: followers commit through it
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx)) // hijacked websockets are the hub's
	}
	errs = append(errs, s.Hub.Close(ctx))
	if s.served != nil {
		<-s.served
	}
	errs = append(errs, s.Store.Close())
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// urlsFor lists http URLs for a listening address: every interface address
// when it listens on all of them, LAN addresses first.
func urlsFor(a *net.TCPAddr) []string {
	port := strconv.Itoa(a.Port)
	if !a.IP.IsUnspecified() {
		return []string{"http://" + net.JoinHostPort(a.IP.String(), port) + "/"}
	}
	var lan, local []string
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		if a.IP.To4() != nil && ipn.IP.To4() == nil { // listening on 0.0.0.0 only
			continue
		}
		u := "http://" + net.JoinHostPort(ipn.IP.String(), port) + "/"
		if ipn.IP.IsLoopback() {
			local = append(local, u)
		} else {
			lan = append(lan, u)
		}
	}
	if len(lan)+len(local) == 0 { // no usable interface address: loopback still works
		local = []string{"http://" + net.JoinHostPort("127.0.0.1", port) + "/"}
	}
	return append(lan, local...)
}
