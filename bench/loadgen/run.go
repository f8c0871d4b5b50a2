// Package loadgen is lanfeed's benchmark load generator: N websocket peers on
// loopback, one publisher connection emitting posts at a fixed rate (open
// loop: a late server does not slow the publisher down, so queueing shows up
// as latency), and per-delivery latency from the publisher's send to each
// peer's receipt, all measured on this process's monotonic clock.
//
// It speaks lanfeed protocol v1 and socket.io v4 (engine.io v4 websocket
// transport), and reads the server's CPU time and RSS from /proc.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Phase is one stretch of publishing at a fixed rate.
type Phase struct {
	Rate float64       // posts per second
	Dur  time.Duration // how long to publish
}

// Config is one load generator run.
type Config struct {
	Proto string // Lanfeed, SocketIO or LanfeedSIO
	URL   string // the server's base URL, http://127.0.0.1:PORT/
	// PeerURL, if set, is where the peers connect instead of URL: another
	// node that follows URL's (the mesh scenarios), so that a delivery is
	// timed from the publisher's send at the origin to a peer of the follower.
	PeerURL string
	// PeerSplit, with PeerURL, puts the first PeerSplit peers on URL and
	// the rest on PeerURL, and times each group apart as well
	// (PhaseResult.LatencyAtURL, LatencyAtPeerURL): the same posts, at the
	// same moments, to peers of both nodes.
	PeerSplit int
	Token     string // lanfeed pairing token, for the publisher
	PID       int    // server process, for CPU and RSS; 0: not measured

	Peers       int           // fast peers: read as fast as they can
	Slow        int           // slow peers: tiny receive buffer, read one frame per SlowDelay
	SlowDelay   time.Duration // default 100ms
	SourceIPs   int           // spread peers over this many 127.0.x.y source addresses (0: kernel's choice)
	RampTimeout time.Duration // give up connecting after this long; default 60s
	DialWorkers int           // concurrent connects; default 32
	SettleMax   time.Duration // after the ramp, wait at most this long for the server to go idle; default 30s
	Hold        time.Duration // idle time after settling, before the phases (S1)

	Phases     []Phase
	Drain      time.Duration // after a phase, wait at most this long for its deliveries; default 10s
	StopOnKnee bool          // stop after the first phase that breaks KneeP99 or loses anything
	KneeP99    time.Duration // default 100ms
	// RecoverBelow is the last-peer latency under which a phase counts as
	// recovered (S4); default 50ms.
	RecoverBelow time.Duration
}

// PhaseResult is what one phase measured. Latencies are of fast peers only.
type PhaseResult struct {
	Rate          float64 `json:"rate"`
	Seconds       float64 `json:"seconds"`
	Posts         int     `json:"posts"`
	Acks          int64   `json:"acks"`
	Errors        int64   `json:"errors"`
	PublisherLagS float64 `json:"publisherLagS"` // how late the last post left vs schedule
	Expected      int64   `json:"expected"`      // posts x fast peers alive at the start
	Delivered     int64   `json:"delivered"`
	Ratio         float64 `json:"ratio"`
	Latency       Summary `json:"latency"` // every delivery
	// With Config.PeerSplit: the deliveries to peers on URL and on PeerURL.
	LatencyAtURL     *Summary `json:"latencyAtUrl,omitempty"`
	LatencyAtPeerURL *Summary `json:"latencyAtPeerUrl,omitempty"`
	LastPeer         Summary  `json:"lastPeer"`   // per post: when its last fast peer got it
	Ack              Summary  `json:"ack"`        // publisher's send to ack (lanfeed: includes the durable commit)
	Incomplete       int      `json:"incomplete"` // posts some fast peer alive at the end never got
	DeliveriesPS     float64  `json:"deliveriesPerS"`
	ServerCPUS       float64  `json:"serverCpuS"`
	ServerCPUFrac    float64  `json:"serverCpuFrac"` // of one core
	CPUPerDelivUS    float64  `json:"serverCpuPerDeliveryUs"`
	LoadgenCPU       float64  `json:"loadgenCpuFrac"` // of one core
	LoadgenSat       bool     `json:"loadgenSaturated"`
	RSSMaxKiB        int64    `json:"rssMaxKiB"`
	RecoveredS       float64  `json:"recoveredS"` // from phase start until every later post reached all peers under RecoverBelow; -1 never
	Dropped          int      `json:"dropped"`    // fast peers lost during the phase
	OK               bool     `json:"ok"`         // p99 <= KneeP99 and nothing lost
}

// Result is a whole run.
type Result struct {
	Proto          string         `json:"proto"`
	Peers          int            `json:"peers"`
	Slow           int            `json:"slow"`
	Connected      int            `json:"connected"`
	ConnectErrors  map[string]int `json:"connectErrors,omitempty"`
	RampS          float64        `json:"rampS"`
	SettleS        float64        `json:"settleS"`
	RSSIdleKiB     int64          `json:"rssIdleKiB"`
	RSSConnKiB     int64          `json:"rssConnectedKiB"`
	RSSPerPeerKiB  float64        `json:"rssPerPeerKiB"`
	RSSEndKiB      int64          `json:"rssEndKiB"`
	RSSPeakKiB     int64          `json:"rssPeakKiB"`
	RampCPUS       float64        `json:"rampServerCpuS"`
	Phases         []PhaseResult  `json:"phases"`
	DroppedFast    int            `json:"droppedFast"`
	DroppedSlow    int            `json:"droppedSlow"`
	CloseCodes     map[string]int `json:"closeCodes,omitempty"` // close code (or "eof") -> peers
	OutOfOrder     int64          `json:"outOfOrder"`
	Duplicates     int64          `json:"duplicates"`
	Unparsed       int64          `json:"unparsed"`
	LoadgenProcs   int            `json:"loadgenProcs"`
	FileLimit      uint64         `json:"fileLimit"`
	SourceIPs      int            `json:"sourceIPs"`
	KneeDeliveries float64        `json:"kneeDeliveriesPerS"` // best OK phase's deliveries/s
}

type peerConn struct {
	c        *websocket.Conn
	slow     bool
	atPeer   bool // connected to Config.PeerURL
	received atomic.Int64
	lastIdx  atomic.Int64
	gone     atomic.Bool
	code     atomic.Int64 // close code, -1 EOF/error
	goneAt   atomic.Int64 // ns since base
}

type run struct {
	cfg  Config
	base time.Time

	sent      []atomic.Int64 // ns since base of each post's send; 0 not sent
	phaseOf   []int32
	count     []atomic.Int32 // fast deliveries per post
	lastPeer  []atomic.Int64 // latest fast delivery per post, ns since base
	phaseHist []*Hist
	splitHist [][2]*Hist // with PeerSplit: per phase, peers on URL and on PeerURL
	ackHist   []*Hist
	phaseDel  []atomic.Int64
	acks      []atomic.Int64
	errs      []atomic.Int64
	ooo, dups atomic.Int64
	unparsed  atomic.Int64
	// drainSlow lets slow peers read at full speed after the last phase, so
	// that a close the server queued behind what they have not read yet
	// (1013) reaches them within the run.
	drainSlow atomic.Bool

	mu    sync.Mutex
	peers []*peerConn
	wg    sync.WaitGroup
}

func (r *run) now() int64 { return int64(time.Since(r.base)) }

// Run performs one load generator run. It returns an error only when the run
// could not take place at all (the publisher could not connect).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 100 * time.Millisecond
	}
	if cfg.RampTimeout <= 0 {
		cfg.RampTimeout = 60 * time.Second
	}
	if cfg.DialWorkers <= 0 {
		cfg.DialWorkers = 32
	}
	if cfg.SettleMax <= 0 {
		cfg.SettleMax = 30 * time.Second
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 10 * time.Second
	}
	if cfg.KneeP99 <= 0 {
		cfg.KneeP99 = 100 * time.Millisecond
	}
	if cfg.RecoverBelow <= 0 {
		cfg.RecoverBelow = 50 * time.Millisecond
	}
	res := &Result{Proto: cfg.Proto, Peers: cfg.Peers, Slow: cfg.Slow, LoadgenProcs: runtime.GOMAXPROCS(0),
		SourceIPs: cfg.SourceIPs, ConnectErrors: map[string]int{}, CloseCodes: map[string]int{}}
	res.FileLimit, _ = RaiseFileLimit()

	total := 0
	for _, ph := range cfg.Phases {
		total += postsIn(ph)
	}
	r := &run{cfg: cfg, base: time.Now(),
		sent: make([]atomic.Int64, total), phaseOf: make([]int32, total),
		count: make([]atomic.Int32, total), lastPeer: make([]atomic.Int64, total),
		phaseDel: make([]atomic.Int64, len(cfg.Phases)), acks: make([]atomic.Int64, len(cfg.Phases)),
		errs: make([]atomic.Int64, len(cfg.Phases))}
	for range cfg.Phases {
		r.phaseHist = append(r.phaseHist, &Hist{})
		r.splitHist = append(r.splitHist, [2]*Hist{{}, {}})
		r.ackHist = append(r.ackHist, &Hist{})
	}
	if cfg.PID > 0 {
		res.RSSIdleKiB, _, _ = Memory(cfg.PID)
	}

	// The publisher first: a server capping connections must not refuse it.
	pub, err := r.dialPublisher(ctx)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	defer pub.c.Close()

	// Ramp: connect every peer, a few at a time, within RampTimeout.
	rampStart := time.Now()
	cpu0 := r.serverCPU()
	rampCtx, cancel := context.WithTimeout(ctx, cfg.RampTimeout)
	r.ramp(rampCtx, res)
	cancel()
	res.RampS = time.Since(rampStart).Seconds()
	res.Connected = len(r.peers)

	// Settle: let the server finish the ramp's work (lanfeed tells every peer
	// of every join) before measuring anything.
	settleStart := time.Now()
	r.settle(ctx)
	res.SettleS = time.Since(settleStart).Seconds()
	res.RampCPUS = (r.serverCPU() - cpu0).Seconds()
	if cfg.PID > 0 {
		res.RSSConnKiB, _, _ = Memory(cfg.PID)
		if res.Connected > 0 {
			res.RSSPerPeerKiB = math.Round(float64(res.RSSConnKiB-res.RSSIdleKiB)/float64(res.Connected)*100) / 100
		}
	}
	if cfg.Hold > 0 {
		select {
		case <-time.After(cfg.Hold):
		case <-ctx.Done():
		}
	}

	// Sample the server's RSS throughout the phases.
	var rssMax atomic.Int64
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if cfg.PID > 0 {
				if v, _, err := Memory(cfg.PID); err == nil && v > rssMax.Load() {
					rssMax.Store(v)
				}
			}
			select {
			case <-t.C:
			case <-stopRSS:
				return
			}
		}
	}()

	next := 0
	for pi, ph := range cfg.Phases {
		if ctx.Err() != nil {
			break
		}
		rssMax.Store(0)
		pr := r.phase(ctx, pub, pi, ph, next)
		next += pr.Posts
		pr.RSSMaxKiB = rssMax.Load()
		res.Phases = append(res.Phases, pr)
		if pr.OK && pr.DeliveriesPS > res.KneeDeliveries {
			res.KneeDeliveries = pr.DeliveriesPS
		}
		if cfg.StopOnKnee && !pr.OK {
			break
		}
	}
	close(stopRSS)
	<-rssDone
	r.drainSlowPeers(ctx, next)

	if cfg.PID > 0 {
		res.RSSEndKiB, res.RSSPeakKiB, _ = Memory(cfg.PID)
	}
	for _, p := range r.peers {
		if p.gone.Load() {
			if p.slow {
				res.DroppedSlow++
			} else {
				res.DroppedFast++
			}
			code := "eof"
			if c := p.code.Load(); c > 0 {
				code = fmt.Sprint(c)
			}
			res.CloseCodes[code]++
		}
	}
	res.OutOfOrder, res.Duplicates, res.Unparsed = r.ooo.Load(), r.dups.Load(), r.unparsed.Load()
	r.closeAll()
	return res, nil
}

func postsIn(ph Phase) int { return int(math.Round(ph.Rate * ph.Dur.Seconds())) }

func (r *run) serverCPU() time.Duration {
	if r.cfg.PID <= 0 {
		return 0
	}
	d, _ := CPUTime(r.cfg.PID)
	return d
}

// sourceIP spreads peer i over cfg.SourceIPs loopback addresses, for servers
// that cap connections per address.
func (r *run) sourceIP(i int) net.IP {
	if r.cfg.SourceIPs <= 1 {
		return nil
	}
	k := i % r.cfg.SourceIPs
	return net.IPv4(127, 0, byte(1+k/250), byte(1+k%250))
}

func (r *run) ramp(ctx context.Context, res *Result) {
	n := r.cfg.Peers + r.cfg.Slow
	jobs := make(chan int)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	for w := 0; w < r.cfg.DialWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				slow := i >= r.cfg.Peers
				rcv := 0
				if slow {
					rcv = 4096
				}
				base, atPeer := r.cfg.URL, r.cfg.PeerURL != "" && i >= r.cfg.PeerSplit
				if atPeer {
					base = r.cfg.PeerURL
				}
				u, _ := wsURL(r.cfg.Proto, base, fmt.Sprintf("bench-%d", i), "")
				c, err := dial(ctx, r.cfg.Proto, u, r.sourceIP(i), rcv, "")
				if err != nil {
					errMu.Lock()
					res.ConnectErrors[shortErr(err)]++
					errMu.Unlock()
					continue
				}
				p := &peerConn{c: c, slow: slow, atPeer: atPeer}
				p.lastIdx.Store(-1)
				r.mu.Lock()
				r.peers = append(r.peers, p)
				r.mu.Unlock()
				r.wg.Add(1)
				go r.read(p)
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// read is a peer's only reader; for socket.io it also answers pings, the
// only writes a peer makes.
func (r *run) read(p *peerConn) {
	defer r.wg.Done()
	buf := make([]byte, 0, 1024)
	for {
		_, rd, err := p.c.NextReader()
		if err != nil {
			p.code.Store(-1)
			var ce *websocket.CloseError
			if asClose(err, &ce) {
				p.code.Store(int64(ce.Code))
			}
			p.goneAt.Store(r.now())
			p.gone.Store(true)
			return
		}
		buf, err = readInto(buf[:0], rd)
		if err != nil {
			continue // the next NextReader reports the broken connection
		}
		at := r.now()
		switch classify(r.cfg.Proto, buf) {
		case msgPing:
			p.c.WriteMessage(websocket.TextMessage, []byte("3"))
		case msgPost:
			r.deliver(p, buf, at)
		}
		if p.slow && !r.drainSlow.Load() {
			time.Sleep(r.cfg.SlowDelay)
		}
	}
}

// slowDrainWait bounds drainSlowPeers.
const slowDrainWait = 15 * time.Second

// drainSlowPeers lets the slow peers read what is buffered for them at full
// speed and waits, at most slowDrainWait, until each one is either closed
// or has received all posts published.
func (r *run) drainSlowPeers(ctx context.Context, posts int) {
	if r.cfg.Slow == 0 {
		return
	}
	r.drainSlow.Store(true)
	deadline := time.Now().Add(slowDrainWait)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		settled := true
		for _, p := range r.peers {
			if p.slow && !p.gone.Load() && p.received.Load() < int64(posts) {
				settled = false
				break
			}
		}
		if settled {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	if ok {
		*ce = c
	}
	return ok
}

func readInto(buf []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (r *run) deliver(p *peerConn, msg []byte, at int64) {
	idx, sent, ok := postBody(msg)
	if !ok || idx < 0 || idx >= len(r.sent) {
		r.unparsed.Add(1)
		return
	}
	p.received.Add(1)
	last := p.lastIdx.Swap(int64(idx))
	if int64(idx) == last {
		r.dups.Add(1)
		return
	} else if int64(idx) < last {
		r.ooo.Add(1)
	}
	if p.slow {
		return
	}
	ph := r.phaseOf[idx]
	r.phaseHist[ph].Record(time.Duration(at - sent))
	if r.cfg.PeerSplit > 0 {
		g := 0
		if p.atPeer {
			g = 1
		}
		r.splitHist[ph][g].Record(time.Duration(at - sent))
	}
	r.phaseDel[ph].Add(1)
	r.count[idx].Add(1)
	for {
		m := r.lastPeer[idx].Load()
		if at <= m || r.lastPeer[idx].CompareAndSwap(m, at) {
			return
		}
	}
}

type publisher struct {
	c  *websocket.Conn
	mu sync.Mutex // the reader answers pings while the sender sends
}

func (p *publisher) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c.WriteMessage(websocket.TextMessage, b)
}

func (r *run) dialPublisher(ctx context.Context) (*publisher, error) {
	u, err := wsURL(r.cfg.Proto, r.cfg.URL, "bench-publisher", r.cfg.Token)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, r.cfg.Proto, u, nil, 0, r.cfg.Token)
	if err != nil {
		return nil, err
	}
	p := &publisher{c: c}
	go func() {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if r.cfg.Proto != Lanfeed && len(msg) == 1 && msg[0] == '2' {
				p.write([]byte("3"))
				continue
			}
			kind, id := answer(r.cfg.Proto, msg)
			if kind == ansOther || id < 0 || id >= len(r.sent) {
				if kind == ansError && len(r.errs) > 0 {
					r.errs[0].Add(1)
				}
				continue
			}
			ph := r.phaseOf[id]
			if kind == ansError {
				r.errs[ph].Add(1)
				continue
			}
			r.acks[ph].Add(1)
			r.ackHist[ph].Record(time.Duration(r.now() - r.sent[id].Load()))
		}
	}()
	return p, nil
}

// settle waits until the server has used under 5% of a core for 500 ms.
func (r *run) settle(ctx context.Context) {
	if r.cfg.PID <= 0 {
		time.Sleep(500 * time.Millisecond)
		return
	}
	deadline := time.Now().Add(r.cfg.SettleMax)
	prev := r.serverCPU()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		cur := r.serverCPU()
		if cur-prev <= 25*time.Millisecond {
			return
		}
		prev = cur
	}
}

func (r *run) aliveFast() (n int) {
	for _, p := range r.peers {
		if !p.slow && !p.gone.Load() {
			n++
		}
	}
	return n
}

// phase publishes posts [first, first+n) at ph.Rate, then waits for them.
func (r *run) phase(ctx context.Context, pub *publisher, pi int, ph Phase, first int) PhaseResult {
	n := postsIn(ph)
	pr := PhaseResult{Rate: ph.Rate, Posts: n}
	for i := first; i < first+n; i++ {
		r.phaseOf[i] = int32(pi)
	}
	fast := r.aliveFast()
	cpu0, self0 := r.serverCPU(), selfCPU()
	start := time.Now()
	startNs := r.now()
	interval := time.Duration(float64(time.Second) / ph.Rate)
	buf := make([]byte, 0, 256)
	sentN := 0
	for k := 0; k < n && ctx.Err() == nil; k++ {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		idx := first + k
		at := r.now()
		r.sent[idx].Store(at)
		if err := pub.write(emitFrame(r.cfg.Proto, buf, idx, at)); err != nil {
			break
		}
		sentN++
		if k == n-1 {
			pr.PublisherLagS = time.Since(due).Seconds()
		}
	}
	pr.Seconds = time.Since(start).Seconds()

	// Drain: every fast peer still connected has every post, and every ack is in.
	deadline := time.Now().Add(r.cfg.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		alive := r.aliveFast()
		if r.phaseDel[pi].Load() >= int64(sentN*alive) && r.acks[pi].Load()+r.errs[pi].Load() >= int64(sentN) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	wall := time.Since(start)
	cpu := r.serverCPU() - cpu0
	self := selfCPU() - self0

	alive := r.aliveFast()
	pr.Dropped = fast - alive
	pr.Expected = int64(n * fast)
	pr.Delivered = r.phaseDel[pi].Load()
	if pr.Expected > 0 {
		pr.Ratio = float64(pr.Delivered) / float64(pr.Expected)
	}
	pr.Acks, pr.Errors = r.acks[pi].Load(), r.errs[pi].Load()
	pr.Latency = r.phaseHist[pi].Summary()
	if r.cfg.PeerSplit > 0 {
		a, b := r.splitHist[pi][0].Summary(), r.splitHist[pi][1].Summary()
		pr.LatencyAtURL, pr.LatencyAtPeerURL = &a, &b
	}
	pr.Ack = r.ackHist[pi].Summary()

	// Per post: when did its last fast peer get it, and from when on did every
	// later post reach all of them quickly?
	last := &Hist{}
	lastLat := func(i int) (time.Duration, bool) {
		if int(r.count[i].Load()) < alive || r.sent[i].Load() == 0 {
			return 0, false
		}
		return time.Duration(r.lastPeer[i].Load() - r.sent[i].Load()), true
	}
	for i := first; i < first+n; i++ {
		if lat, ok := lastLat(i); ok {
			last.Record(lat)
		} else {
			pr.Incomplete++
		}
	}
	recoveredFrom := -1
	for i := first + n - 1; i >= first; i-- {
		if lat, ok := lastLat(i); !ok || lat > r.cfg.RecoverBelow {
			break
		}
		recoveredFrom = i
	}
	pr.LastPeer = last.Summary()
	pr.RecoveredS = -1
	if recoveredFrom >= 0 {
		pr.RecoveredS = math.Max(0, float64(r.sent[recoveredFrom].Load()-startNs)/1e9)
	}

	pr.DeliveriesPS = float64(pr.Delivered) / ph.Dur.Seconds()
	pr.ServerCPUS = cpu.Seconds()
	pr.ServerCPUFrac = cpu.Seconds() / wall.Seconds()
	if pr.Delivered > 0 {
		pr.CPUPerDelivUS = math.Round(float64(cpu.Microseconds())/float64(pr.Delivered)*1000) / 1000
	}
	pr.LoadgenCPU = self.Seconds() / wall.Seconds()
	pr.LoadgenSat = pr.LoadgenCPU > 0.9*float64(runtime.GOMAXPROCS(0)) || pr.PublisherLagS > 0.5
	pr.OK = pr.Delivered == pr.Expected && pr.Dropped == 0 && pr.Errors == 0 &&
		time.Duration(pr.Latency.P99*1e6) <= r.cfg.KneeP99
	return pr
}

func (r *run) closeAll() {
	r.mu.Lock()
	peers := r.peers
	r.mu.Unlock()
	for _, p := range peers {
		p.c.Close()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
