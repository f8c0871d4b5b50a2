package realtime

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// The Socket.IO endpoint (docs/SOCKETIO.md): the stock socket.io client
// connects to /socket.io/ and its socket is a peer of this hub like any /ws
// peer, with the same outbox, limits and seq order. Only the framing
// differs: the hub's frames are translated when they are queued for such a
// peer (sioFrame), its packets are decoded into the same emits
// (handleSIO).

// SocketIOPath is where the Socket.IO endpoint is served (the client's default path).
const SocketIOPath = "/socket.io/"

// sioConnectTimeout is Socket.IO's own default: a client that opened the
// transport but sends no CONNECT within it is closed (the stock client
// sends it at once).
const sioConnectTimeout = 45 * time.Second

// Socket.IO event names: what the node emits, and the writes a client emits.
const (
	SIOEventPosts   = "posts"
	SIOEventPeers   = "peers"
	SIOEventHello   = "hello"
	SIOEventSynced  = "synced"
	SIOEventReset   = "reset"
	SIOEventAuth    = "auth"
	SIOEventError   = "error"
	SIOEmitCreate   = "posts:create"
	SIOEmitUpdate   = "posts:update"
	SIOEmitDelete   = "posts:delete"
	sioPidPrefix    = "lanfeed."
	sioMainNsp      = "/"
	sioInvalidNsp   = "Invalid namespace"
	sioEmitsAllowed = SIOEmitCreate + ", " + SIOEmitUpdate + " or " + SIOEmitDelete
)

// sioEmits maps the Socket.IO write events to protocol v1's.
var sioEmits = map[string]string{SIOEmitCreate: EmitCreate, SIOEmitUpdate: EmitUpdate, SIOEmitDelete: EmitDelete}

// sioSession is what a Socket.IO peer adds to a peer.
type sioSession struct {
	sid string // the Engine.IO session id
	pid string // the recovery id the client sends back: sioPid's, so a restart keeps it valid
	// polling: the session started with long-polling and may upgrade.
	polling bool
	auth    json.RawMessage // the CONNECT payload, for SocketIOConformance's auth event
	// engineOnly: SocketIOConformance's Engine.IO echo server at
	// EngineIOPath: no Socket.IO layer, every message is sent back.
	engineOnly bool
}

// sioAuth is the payload of the client's CONNECT packet: its `auth` option,
// plus pid and offset, which the client adds itself once it has them.
type sioAuth struct {
	Token string `json:"token"`
	Name  string `json:"name"`
	// Presence false: no peers events (scripts, and thousands of sockets).
	Presence *bool           `json:"presence"`
	Since    *int64          `json:"since"`
	Epoch    string          `json:"epoch"`
	Pid      string          `json:"pid"`
	Offset   json.RawMessage `json:"offset"`
}

// sioOpen is the Engine.IO handshake.
type sioOpen struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// sioRefusal is a CONNECT_ERROR payload; the client hands it to
// connect_error as an Error whose message is Message and data is Data.
type sioRefusal struct {
	Message string      `json:"message"`
	Data    *feed.Error `json:"data,omitempty"`
}

// randomID returns a fresh session id.
func randomID() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sioMessage returns an Engine.IO message carrying a Socket.IO packet.
func sioMessage(typ byte, id int64, data []byte) []byte {
	b := make([]byte, 0, 2+20+len(data))
	b = append(b, eioMessage)
	return appendSIO(b, typ, sioMainNsp, id, data)
}

// noOffset marks an event without the trailing offset argument.
const noOffset = -1

// sioEmit returns the frame of an event name(data[, offset]); offset
// noOffset writes none.
func sioEmit(name string, data []byte, offset int64) []byte {
	b := make([]byte, 0, len(name)+len(data)+32)
	b = append(b, eioMessage, sioEvent, '[')
	b = feed.AppendJSONString(b, name)
	b = append(b, ',')
	b = append(b, data...)
	if offset != noOffset {
		b = append(b, `,"`...)
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, '"')
	}
	return append(b, ']')
}

// sioFrame translates one of the hub's event envelopes,
// {"type":"event","event":NAME[,"seq":N],"data":DATA}, into the event
// NAME(DATA[, "N"]): the seq goes last, as the string offset the client
// keeps for recovery. feed's encoders put data last, so DATA is copied
// without decoding it; any other envelope is decoded whole.
func sioFrame(envelope []byte) []byte {
	var head struct {
		Event string          `json:"event"`
		Seq   int64           `json:"seq"`
		Data  json.RawMessage `json:"data"`
	}
	const dataKey = `,"data":`
	var data []byte
	if i := bytes.Index(envelope, []byte(dataKey)); i > 0 && envelope[len(envelope)-1] == '}' &&
		json.Unmarshal(append(envelope[:i:i], '}'), &head) == nil { // the head is short and holds no data
		data = envelope[i+len(dataKey) : len(envelope)-1]
	} else if json.Unmarshal(envelope, &head) == nil {
		data = head.Data
	}
	if head.Event == "" || len(data) == 0 {
		data = []byte("null") // not an envelope: an encoder's bug, not the peer's
	}
	offset := head.Seq
	if offset == 0 { // not a post change
		offset = noOffset
	}
	return sioEmit(head.Event, data, offset)
}

// sioAckFrame is the ack of a committed write: the post, the one argument.
func sioAckFrame(id int64, p feed.Post) []byte {
	b := make([]byte, 0, feed.PostFrameSize(p))
	b = append(b, eioMessage)
	b = appendSIO(b, sioAck, sioMainNsp, id, nil)
	b = append(b, '[')
	b = p.AppendJSON(b)
	return append(b, ']')
}

// sioErrorFrame answers a write that failed: the ack's one argument is
// {"error": {code, message, field?, post?}}; without an ack id it is an
// "error" event carrying the same object.
func sioErrorFrame(id *int64, e *feed.Error) []byte {
	arg := mustJSON(struct {
		Error *feed.Error `json:"error"`
	}{e})
	if id == nil || *id == sioNoID {
		return sioEmit(SIOEventError, arg, noOffset)
	}
	return sioMessage(sioAck, *id, append(append([]byte{'['}, arg...), ']'))
}

// sioPid is how every recovery id of this database starts: a node restart
// keeps it, a recreated database changes it. Each session gets a pid of its
// own after it (the client compares the CONNECT answer's pid with the one
// it sent to tell whether it recovered), and a recovered one keeps its own.
func (h *Hub) sioPid() string { return sioPidPrefix + h.svc.Identity().Epoch + "." }

// serveSIO answers /socket.io/: a new session over either transport, the
// requests of a polling session, and its upgrade to a websocket.
func (h *Hub) serveSIO(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "%s speaks Engine.IO protocol 4 (socket.io v3 and v4 clients): the request needs ?EIO=4", r.URL.Path))
		return
	}
	transport, sid := q.Get("transport"), q.Get("sid")
	if transport != "websocket" && transport != "polling" {
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "the transport must be polling or websocket"))
		return
	}
	if !h.checkOrigin(r) {
		refuseOrigin(w, r)
		return
	}
	if transport == "polling" && h.sioCORS(w, r) {
		return // a preflight, answered
	}
	var s *pollSession
	if sid != "" {
		if s = h.session(sid); s == nil {
			h.writeError(w, feed.Errorf(feed.CodeBadRequest, "unknown session id: the session ended; connect again"))
			return
		}
	}
	if transport == "polling" {
		switch {
		case s == nil && r.Method == http.MethodGet:
			if addr := sourceAddr(r); h.admit(w, addr) {
				h.sioPollOpen(w, r, addr, h.engineOnly(r))
			}
		case s != nil && r.Method == http.MethodGet:
			s.serveGet(w, r)
		case s != nil && r.Method == http.MethodPost:
			s.servePost(w, r)
		default:
			h.writeError(w, feed.Errorf(feed.CodeBadRequest, "a polling session starts with a GET, then GETs receive and POSTs send"))
		}
		return
	}
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) {
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "a websocket handshake is a GET over HTTP/1.1 or later"))
		return
	}
	if s != nil { // the upgrade of a polling session
		conn, _, err := h.upgrade(w, r)
		if err != nil {
			return
		}
		if !h.trackSIO() {
			conn.Close()
			return
		}
		defer h.wg.Done()
		s.upgrade(conn)
		return
	}
	conn, out, addr, ok := h.admitUpgrade(w, r)
	if !ok {
		return
	}
	sess := &sioSession{sid: randomID(), pid: h.sioPid() + randomID(), engineOnly: h.engineOnly(r)}
	p := &peer{hub: h, conn: conn, out: out, addr: addr, presence: true, dialect: socketIO, sio: sess, done: make(chan struct{})}
	initial, ok := h.sioHandshake(p)
	if !ok {
		conn.Close()
		h.conns.release(addr)
		return
	}
	h.admitPeer(p, initial)
}

// sioCORS lets a page from an allowed origin (checkOrigin passed) poll:
// it names that origin in the answer, and answers a preflight (the client
// sends one when it is given extra headers). A page of the node's own
// host needs none of this. It reports whether the request was a
// preflight, now answered.
func (h *Hub) sioCORS(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if u, err := url.Parse(origin); origin == "" || err != nil || strings.EqualFold(u.Host, r.Host) {
		return false // a program, or the node's own page
	}
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Credentials", "true")
	if r.Method != http.MethodOptions {
		return false
	}
	hdr.Set("Access-Control-Allow-Methods", "GET, POST")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		hdr.Set("Access-Control-Allow-Headers", asked)
	}
	hdr.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// sioHandshake sends the Engine.IO open packet and waits for the client's
// CONNECT to the main namespace; a CONNECT to another one is refused with
// the protocol's error and the client may go on. It fills in p from the
// auth payload and returns the replay to start with. Nothing else is
// running on the connection yet, so it reads and writes it directly.
func (h *Hub) sioHandshake(p *peer) (*syncRequest, bool) {
	c := p.conn
	if !h.pendingHandshake(c, true) {
		return nil, false // the hub is closing
	}
	defer h.pendingHandshake(c, false)
	var mu sync.Mutex // the reader's answers and the pinger's pings
	send := func(frame []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		c.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
		return c.WriteMessage(websocket.TextMessage, frame) == nil
	}
	upgrades := []string{}
	if p.sio.polling {
		upgrades = []string{"websocket"}
	}
	open := mustJSON(sioOpen{Sid: p.sio.sid, Upgrades: upgrades, PingInterval: h.cfg.PingPeriod.Milliseconds(),
		PingTimeout: (h.cfg.PongWait - h.cfg.PingPeriod).Milliseconds(), MaxPayload: h.cfg.MaxMessage})
	if !send(appendEIO(nil, eioOpen, open)) {
		return nil, false
	}
	if p.sio.engineOnly {
		p.info, p.presence = feed.Peer{Name: "conformance"}, false
		return nil, true // no Socket.IO CONNECT to wait for
	}
	// Engine.IO's heartbeat runs from the open packet on, before any
	// CONNECT; the peer's writer takes it over once registered.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(h.cfg.PingPeriod)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if !send([]byte{eioPing}) {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	defer func() { close(stop); <-stopped }()
	connectBy := time.Now().Add(h.sioConnectTimeout())
	c.SetReadLimit(h.cfg.MaxMessage)
	for {
		deadline := time.Now().Add(h.cfg.PongWait)
		if deadline.After(connectBy) {
			deadline = connectBy
		}
		c.SetReadDeadline(deadline)
		kind, data, err := c.ReadMessage()
		if err != nil || kind != websocket.TextMessage {
			return nil, false
		}
		ep, err := decodeEIO(data)
		if err != nil {
			return nil, false
		}
		switch ep.typ {
		case eioPong, eioNoop:
			continue
		case eioMessage:
		default:
			return nil, false // a close, or a packet the client never sends first
		}
		sp, err := decodeSIO(ep.data)
		if err != nil || sp.typ != sioConnect {
			return nil, false // the spec: anything but a CONNECT first closes the connection
		}
		if sp.nsp != sioMainNsp {
			for _, f := range h.sioOtherNamespace(sp) {
				if !send(f) {
					return nil, false
				}
			}
			continue
		}
		if h.cfg.SocketIOConformance {
			p.sio.auth = sp.data
			p.info, p.presence = feed.Peer{Name: "conformance"}, false
			return nil, true
		}
		initial, e := h.sioConnect(p, sp.data)
		if e != nil {
			if !send(sioMessage(sioConnectError, sioNoID, mustJSON(sioRefusal{Message: e.Message, Data: e}))) {
				return nil, false
			}
			continue
		}
		return initial, true
	}
}

// trackSIO counts a hijacked request's goroutine in the hub's WaitGroup,
// so that Close waits for it (http.Server.Shutdown does not); the caller
// calls h.wg.Done when it ends. It refuses once Close has begun, before
// Close waits, so no Add races the Wait.
func (h *Hub) trackSIO() bool {
	h.sioMu.Lock()
	defer h.sioMu.Unlock()
	if h.sioClosed {
		return false
	}
	h.wg.Add(1)
	return true
}

// pendingHandshake adds c to the handshakes Close must end (or removes it);
// adding fails once Close has run.
func (h *Hub) pendingHandshake(c *websocket.Conn, add bool) bool {
	h.sioMu.Lock()
	defer h.sioMu.Unlock()
	if !add {
		delete(h.sioPending, c)
		return true
	}
	if h.sioClosed {
		return false
	}
	if h.sioPending == nil {
		h.sioPending = map[*websocket.Conn]func(){}
	}
	h.sioPending[c] = func() {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
			time.Now().Add(h.cfg.WriteWait))
		c.Close()
	}
	return true
}

// endHandshakes closes the Socket.IO connections that have not sent their
// CONNECT yet (they are no peers), and refuses new ones.
func (h *Hub) endHandshakes() {
	h.sioMu.Lock()
	h.sioClosed = true
	ends := make([]func(), 0, len(h.sioPending))
	for _, end := range h.sioPending {
		ends = append(ends, end)
	}
	h.sioMu.Unlock()
	for _, end := range ends {
		end()
	}
}

// sioConnect applies a CONNECT's auth to p: the token, the name, and where
// the client resumes. A client that sends back this database's pid with an
// offset the node has reached is recovered: it replays from there, and the
// CONNECT answer's pid matches its own (socket.recovered). One holding
// another database's pid starts live and is not recovered. Without a pid,
// since and epoch ask for a sync, with the same rule as protocol v1's.
func (h *Hub) sioConnect(p *peer, data json.RawMessage) (*syncRequest, *feed.Error) {
	var a sioAuth
	if data != nil {
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, feed.Errorf(feed.CodeBadRequest, "the auth option must be an object with token, name, since and epoch: %s", jsonError(err, data, "auth", "an object", "token, name, since, epoch").Message)
		}
	}
	if a.Token != "" && !h.svc.Authorize(a.Token) {
		return nil, feed.Errorf(feed.CodeUnauthorized, "%s; connect without it to read only", wrongTokenSIO)
	}
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = "anonymous"
	}
	if err := feed.CheckName("name", name); err != nil {
		return nil, feed.AsError(err)
	}
	p.canWrite, p.token = a.Token != "", a.Token
	p.presence = a.Presence == nil || *a.Presence
	p.info = feed.Peer{Name: name}
	var initial *syncRequest
	switch {
	case a.Pid != "":
		var offset string
		if json.Unmarshal(a.Offset, &offset) == nil {
			seq, err := strconv.ParseInt(offset, 10, 64)
			if err == nil && seq >= 0 && seq <= h.svc.Seq() && strings.HasPrefix(a.Pid, h.sioPid()) {
				initial = &syncRequest{since: seq, epoch: h.svc.Identity().Epoch}
				p.sio.pid = a.Pid // the same pid back: socket.recovered
			}
		}
	case a.Since != nil:
		if *a.Since < 0 {
			return nil, feed.Invalid("since", "since must be a seq of 0 or more")
		}
		initial = &syncRequest{since: *a.Since, epoch: a.Epoch}
	}
	return initial, nil
}

// wrongTokenSIO is the connect error of a token that is not the node's.
const wrongTokenSIO = "the token in auth is not this node's pairing token: it may have been regenerated, or be another node's; " + tokenShown

// noTokenSIO is the error of a write from a socket that connected without the token.
const noTokenSIO = "writing needs the node's pairing token: connect with io(url, {auth: {token}}); " + tokenShown

// helloFrames are what a new Socket.IO peer gets first: the CONNECT answer,
// the hello event (protocol v1's hello: node, epoch, seq, peer, canWrite)
// and, when it starts live, synced at seq, which gives the client its first
// offset.
func (p *peer) sioHelloFrames(hello helloFrame, live bool) [][]byte {
	if p.sio.engineOnly {
		return nil // the Engine.IO echo server says nothing first
	}
	if p.hub.cfg.SocketIOConformance {
		return p.conformanceHello()
	}
	connect := mustJSON(struct {
		Sid string `json:"sid"`
		Pid string `json:"pid"`
	}{p.sio.sid, p.sio.pid})
	frames := [][]byte{sioMessage(sioConnect, sioNoID, connect), sioEmit(SIOEventHello, mustJSON(hello), noOffset)}
	if live {
		frames = append(frames, p.sioSynced(hello.Seq, hello.Epoch))
	}
	return frames
}

func (p *peer) sioSynced(seq int64, epoch string) []byte {
	return sioEmit(SIOEventSynced, mustJSON(struct {
		Seq   int64  `json:"seq"`
		Epoch string `json:"epoch"`
	}{seq, epoch}), seq)
}

// handleSIO processes one Engine.IO packet from a Socket.IO peer. Packets
// that break either protocol close the connection, as both specifications
// require.
func (p *peer) handleSIO(data []byte) {
	ep, err := decodeEIO(data)
	if err != nil {
		p.outbox.close(websocket.CloseProtocolError, err.Error())
		return
	}
	switch ep.typ {
	case eioPong, eioNoop: // the read deadline was extended already
		return
	case eioPing: // clients do not ping in protocol 4; answer all the same
		p.outbox.push(appendEIO(nil, eioPong, ep.data), 0)
		return
	case eioClose:
		p.outbox.close(websocket.CloseNormalClosure, "")
		return
	case eioMessage:
	default:
		p.outbox.close(websocket.CloseProtocolError, "engine.io: unexpected packet type")
		return
	}
	if p.sio.engineOnly {
		p.outbox.push(appendEIO(nil, eioMessage, ep.data), 0) // the Engine.IO suite's echo
		return
	}
	sp, err := decodeSIO(ep.data)
	if err != nil {
		p.outbox.close(websocket.CloseProtocolError, err.Error())
		return
	}
	if sp.nsp != sioMainNsp {
		if sp.typ == sioConnect {
			for _, f := range p.hub.sioOtherNamespace(sp) {
				p.outbox.push(f, 0)
			}
		}
		return // packets for a namespace this peer is not in are ignored
	}
	if p.hub.cfg.SocketIOConformance {
		p.conformancePacket(sp)
		return
	}
	switch sp.typ {
	case sioEvent:
		p.sioEvent(sp)
	case sioDisconnect:
		p.outbox.close(websocket.CloseNormalClosure, "")
	case sioAck, sioConnect: // the node asks for no acks; a second CONNECT changes nothing
	default:
		p.outbox.close(websocket.CloseProtocolError, "socket.io: a client does not send CONNECT_ERROR")
	}
}

// sioEvent performs a write event through the same path as a v1 emit.
func (p *peer) sioEvent(sp sioPacket) {
	name, args := sp.eventArgs()
	id := sp.id
	m := inbound{Type: "emit", ID: &id, Event: sioEmits[name]}
	if len(args) > 0 {
		m.Data = args[0]
	}
	var err error
	switch {
	case m.Event == "" && name == "":
		err = feed.Errorf(feed.CodeBadRequest, "the event has no name: emit %s", sioEmitsAllowed)
	case m.Event == "":
		err = feed.Errorf(feed.CodeBadRequest, "unknown event %.40q: a client emits %s", name, sioEmitsAllowed)
	default:
		err = p.emit(m)
	}
	if err != nil {
		e := feed.AsError(err)
		if e.Code == feed.CodeInternal {
			p.hub.log.Error("emit failed", "peer", p.info.ID, "event", name, "err", err)
		}
		if e.Message == noTokenWS {
			e = feed.Errorf(feed.CodeUnauthorized, noTokenSIO)
		}
		p.sendError(&id, e)
	}
}

// errSIOBinaryFrame explains why a binary websocket frame closes the connection.
var errSIOBinaryFrame = errors.New("binary messages are not supported on this node; send JSON")
