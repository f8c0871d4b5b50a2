package discovery

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brutella/dnssd"
)

// rescanInterval is how often the interface list is polled. Listing
// interfaces is one cheap system call; the interval bounds how late a node
// is announced on a link that just came up (Wi-Fi joined, cable plugged).
const rescanInterval = 5 * time.Second

// Announcer announces one node until it is closed.
type Announcer struct {
	info   Info
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Announce starts announcing info on every up, multicast-capable,
// non-loopback interface, and keeps doing so as interfaces come and go,
// until ctx ends or Close is called. Network trouble (no interface yet, UDP
// 5353 unusable) is logged and retried; only an invalid info is an error.
func Announce(ctx context.Context, info Info, log *slog.Logger) (*Announcer, error) {
	if err := info.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quietLibrary()
	ctx, cancel := context.WithCancel(ctx)
	a := &Announcer{info: info, log: log, cancel: cancel, done: make(chan struct{})}
	go a.run(ctx)
	return a, nil
}

// Close says goodbye on every interface the node was announced on and
// waits for that, at most until ctx ends. It is idempotent.
func (a *Announcer) Close(ctx context.Context) error {
	a.once.Do(a.cancel)
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return errors.New("discovery: goodbye not finished: " + ctx.Err().Error())
	}
}

// run keeps one responder running for the current set of interfaces and
// replaces it when that set changes (the library joins multicast groups
// only when it starts).
func (a *Announcer) run(ctx context.Context) {
	defer close(a.done)
	var (
		current string        // interfaces the responder serves, "" for none
		stop    func()        // stops the responder: goodbye, then wait
		exited  chan struct{} // closed when the responder stops by itself
	)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	tick := time.NewTicker(rescanInterval)
	defer tick.Stop()
	for {
		ifaces := announceInterfaces()
		if sig := strings.Join(ifaces, ","); sig != current {
			if stop != nil {
				stop()
				stop, exited = nil, nil
			}
			current = sig
			if len(ifaces) == 0 {
				a.log.Info("discovery: no multicast interface is up; not announcing until one is")
			} else {
				var err error
				stop, exited, err = a.start(ifaces)
				if err != nil {
					a.log.Warn("discovery: cannot announce; retrying", "interfaces", sig, "err", err)
					current = "" // try again on the next scan
				} else {
					a.log.Info("discovery: announcing", "service", ServiceType, "interfaces", sig, "port", a.info.Port)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-exited:
			a.log.Warn("discovery: responder stopped; restarting", "interfaces", current)
			stop, exited, current = nil, nil, ""
		case <-tick.C:
		}
	}
}

// start runs a responder for info on ifaces.
func (a *Announcer) start(ifaces []string) (stop func(), exited chan struct{}, err error) {
	svc, err := dnssd.NewService(dnssd.Config{
		Name:   instanceName(a.info),
		Type:   ServiceType,
		Domain: domain,
		Host:   hostLabel(a.info),
		Text:   encodeTXT(a.info),
		Port:   a.info.Port,
		Ifaces: ifaces, // addresses are read from these at answer time
	})
	if err != nil {
		return nil, nil, err
	}
	rp, err := dnssd.NewResponder()
	if err != nil {
		return nil, nil, err
	}
	if _, err := rp.Add(svc); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	exited = make(chan struct{})
	go func() {
		defer close(exited)
		// Respond probes the name, announces, answers, and on cancel says
		// goodbye on every interface.
		if err := rp.Respond(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Warn("discovery: responder", "err", err)
		}
	}()
	return func() { cancel(); <-exited }, exited, nil
}

// announceInterfaces lists, sorted, the interfaces worth announcing on: up,
// running, multicast-capable, not loopback, with at least one address.
func announceInterfaces() []string {
	var names []string
	for _, ifi := range usableInterfaces() {
		names = append(names, ifi.Name)
	}
	return names
}

// usableInterfaces lists, sorted by name, the interfaces mDNS can work on.
func usableInterfaces() []net.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.Interface
	for _, ifi := range ifs {
		if !usable(ifi) {
			continue
		}
		if addrs, err := ifi.Addrs(); err != nil || len(addrs) == 0 {
			continue
		}
		out = append(out, ifi)
	}
	slices.SortFunc(out, func(x, y net.Interface) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// ifaceNames joins the names of ifaces, to tell when the set changed.
func ifaceNames(ifaces []net.Interface) string {
	names := make([]string, len(ifaces))
	for i, ifi := range ifaces {
		names[i] = ifi.Name
	}
	return strings.Join(names, ",")
}

// usable reports whether mDNS can work on ifi.
func usable(ifi net.Interface) bool {
	const want = net.FlagUp | net.FlagRunning | net.FlagMulticast
	return ifi.Flags&want == want && ifi.Flags&net.FlagLoopback == 0
}

// Interfaces lists the interfaces discovery works on now: up, running,
// multicast-capable, not loopback, with an address. An empty list explains
// why nothing is found.
func Interfaces() []string { return announceInterfaces() }
