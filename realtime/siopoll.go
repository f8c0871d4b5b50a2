package realtime

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// Engine.IO's HTTP long-polling transport, and the upgrade from it to a
// websocket, which is what the stock client does by default.
//
// A polling session's peer is an ordinary Socket.IO websocket peer of the
// hub, over an in-memory websocket (net.Pipe): its outbox, limits and seq
// order are the hub's. The session holds the other end: pump reads the
// peer's packets into a small queue that GET requests drain, POST requests
// write the client's packets into it. The queue is bounded in packets and
// the pipe has no buffer, so a client that stops polling blocks the peer's
// writer: its outbox fills and overflows (1013) as a slow websocket's does.
// After an upgrade the session relays between the pipe and the client's
// websocket instead, one goroutine each way.

// pollQueue bounds the packets waiting for a GET; the peer's outbox holds
// the rest, bounded in bytes.
const pollQueue = 64

// pollSession is one long-polling (or upgraded) Engine.IO session.
type pollSession struct {
	hub    *Hub
	sid    string
	client *websocket.Conn // the session's end of the peer's in-memory websocket
	in     chan []byte     // the peer's packets, for GETs (or the relay)
	done   chan struct{}   // closed when the peer's connection ended
	why    *websocket.CloseError

	get, post sync.Mutex // TryLock: one GET and one POST at a time (the spec)

	mu        sync.Mutex
	upgrading bool          // a websocket is probing
	upgraded  atomic.Bool   // the websocket carries the session
	probed    chan struct{} // closed when the probe succeeded: a pending GET answers noop
	closing   sync.Once     // the client sent a close packet: a pending GET answers noop
	closed    chan struct{}
}

// errPollOverlap is the spec's answer to a second concurrent GET or POST.
var errPollOverlap = errors.New("overlapping requests")

// sioPollOpen starts a polling session: the peer over its in-memory
// websocket, whose first packet (the open packet) answers this GET.
func (h *Hub) sioPollOpen(w http.ResponseWriter, r *http.Request, addr string, engineOnly bool) {
	server, peerEnd, client, err := h.pipeWebsocket()
	if err != nil {
		h.conns.release(addr)
		h.writeError(w, feed.Wrap(feed.CodeInternal, "could not open the session", err))
		return
	}
	s := &pollSession{hub: h, client: client, in: make(chan []byte, pollQueue), done: make(chan struct{}),
		probed: make(chan struct{}), closed: make(chan struct{})}
	sess := &sioSession{sid: randomID(), pid: h.sioPid() + randomID(), polling: true, engineOnly: engineOnly}
	s.sid = sess.sid
	h.sioMu.Lock()
	if h.sioClosed {
		h.sioMu.Unlock()
		server.Close()
		client.Close()
		h.conns.release(addr)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, feed.Errorf(feed.CodeInternal, "the node is shutting down; try again later"))
		return
	}
	if h.sioSessions == nil {
		h.sioSessions = map[string]*pollSession{}
	}
	h.sioSessions[s.sid] = s
	// Both goroutines are counted before Close can begin to wait (it sets
	// sioClosed first), and both end once Close has ended the connection:
	// the handshake by endHandshakes, the pump when the peer's end closes.
	h.wg.Add(2)
	h.sioMu.Unlock()
	go func() {
		defer h.wg.Done()
		s.pump()
	}()
	p := &peer{hub: h, conn: server, out: peerEnd, addr: addr, presence: true, dialect: socketIO, sio: sess, done: make(chan struct{})}
	go func() { // the CONNECT arrives by a later POST: this GET cannot wait for it
		defer h.wg.Done()
		initial, ok := h.sioHandshake(p)
		if !ok {
			server.Close()
			h.conns.release(addr)
			return
		}
		h.admitPeer(p, initial)
	}()
	s.serveGet(w, r)
}

// pipeWebsocket connects a server-side websocket (for the peer, its
// network connection wrapped as every peer's is) to a client-side one in
// memory.
func (h *Hub) pipeWebsocket() (*websocket.Conn, *peerConn, *websocket.Conn, error) {
	a, b := net.Pipe()
	type result struct {
		conn *websocket.Conn
		pc   *peerConn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		br := bufio.NewReader(a)
		req, err := http.ReadRequest(br)
		if err != nil {
			ch <- result{err: err}
			return
		}
		cw := &corkingWriter{ResponseWriter: &pipeResponse{conn: a, br: br, header: http.Header{}}}
		conn, err := h.upgrader.Upgrade(cw, req, nil)
		ch <- result{conn, cw.conn, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteWait)
	defer cancel()
	d := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return b, nil },
		ReadBufferSize: 4096, WriteBufferSize: 4096}
	client, _, err := d.DialContext(ctx, "ws://lanfeed/", nil)
	res := <-ch
	if err == nil {
		err = res.err
	}
	if err != nil {
		a.Close()
		b.Close()
		return nil, nil, nil, err
	}
	client.SetReadLimit(-1) // the peer's frames are bounded by the node itself
	return res.conn, res.pc, client, nil
}

// pipeResponse is the response writer of the in-memory handshake.
type pipeResponse struct {
	conn   net.Conn
	br     *bufio.Reader
	header http.Header
}

func (p *pipeResponse) Header() http.Header         { return p.header }
func (p *pipeResponse) Write(b []byte) (int, error) { return p.conn.Write(b) }
func (p *pipeResponse) WriteHeader(int)             {}
func (p *pipeResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return p.conn, bufio.NewReadWriter(p.br, bufio.NewWriter(p.conn)), nil
}

// pump moves the peer's packets into the queue until the peer's connection
// ends. A client that takes none for WriteWait is gone: the session ends.
func (s *pollSession) pump() {
	defer func() {
		s.hub.sioMu.Lock()
		delete(s.hub.sioSessions, s.sid)
		s.hub.sioMu.Unlock()
		close(s.done)
	}()
	for {
		_, data, err := s.client.ReadMessage()
		if err != nil {
			errors.As(err, &s.why)
			s.client.Close()
			return
		}
		t := time.NewTimer(s.hub.cfg.WriteWait)
		select {
		case s.in <- data:
			t.Stop()
		case <-t.C:
			s.client.Close()
			return
		}
	}
}

// end closes the session: the peer sees its connection end and leaves.
func (s *pollSession) end() { s.client.Close() }

// serveGet answers a GET with the queued packets, waiting for the first;
// once the peer is gone, with a close packet.
func (s *pollSession) serveGet(w http.ResponseWriter, r *http.Request) {
	if s.upgraded.Load() {
		s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "this session was upgraded to a websocket"))
		return
	}
	if !s.get.TryLock() {
		s.end()
		s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "%v: a polling client has one GET at a time", errPollOverlap))
		return
	}
	defer s.get.Unlock()
	var packets [][]byte
	select {
	case p := <-s.in:
		packets = append(packets, p)
	case <-s.done:
	case <-s.probed:
		packets = append(packets, []byte{eioNoop})
	case <-s.closed:
		packets = append(packets, []byte{eioNoop})
	case <-r.Context().Done():
		return
	}
	size := 0
	for _, p := range packets {
		size += len(p)
	}
drain:
	for size < int(s.hub.cfg.MaxMessage) {
		select {
		case p := <-s.in:
			packets = append(packets, p)
			size += len(p) + 1
		default:
			break drain
		}
	}
	if len(packets) == 0 { // the peer is gone and nothing is left to say
		packets = append(packets, []byte{eioClose})
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(appendPayload(nil, packets))
}

// servePost hands the client's packets to the peer in order.
func (s *pollSession) servePost(w http.ResponseWriter, r *http.Request) {
	if !s.post.TryLock() {
		s.end()
		s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "%v: a polling client has one POST at a time", errPollOverlap))
		return
	}
	defer s.post.Unlock()
	if s.upgraded.Load() {
		s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "this session was upgraded to a websocket"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.hub.cfg.MaxMessage))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.end()
		s.hub.writeError(w, feed.Errorf(feed.CodeTooLarge, "the payload is over maxPayload (%d bytes)", tooBig.Limit))
		return
	}
	packets, derr := decodePayload(body)
	if err != nil || derr != nil {
		s.end() // both specifications: an invalid packet ends the session
		s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "the payload is not a valid Engine.IO payload"))
		return
	}
	for _, p := range packets {
		if p.typ == eioClose {
			s.closing.Do(func() { close(s.closed) })
		}
		kind, frame := websocket.TextMessage, appendEIO(nil, p.typ, p.data)
		if p.binary {
			kind, frame = websocket.BinaryMessage, p.data
		}
		s.client.SetWriteDeadline(time.Now().Add(s.hub.cfg.WriteWait))
		if err := s.client.WriteMessage(kind, frame); err != nil {
			s.hub.writeError(w, feed.Errorf(feed.CodeBadRequest, "the session has ended"))
			return
		}
	}
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}

// upgrade takes the session over to the websocket conn: the probe, then
// the upgrade packet, then the relay both ways until either end closes.
func (s *pollSession) upgrade(conn *websocket.Conn) {
	h := s.hub
	defer conn.Close()
	s.mu.Lock()
	if s.upgrading {
		s.mu.Unlock()
		return // one websocket per session (the spec)
	}
	s.upgrading = true
	s.mu.Unlock()
	// Until the upgrade packet, Close ends conn as it ends handshakes;
	// then the session's end (the peer's goodbye through the pipe) does.
	if !h.pendingHandshake(conn, true) {
		return
	}
	probing := true
	defer func() {
		if probing {
			h.pendingHandshake(conn, false)
		}
	}()
	read := func() (string, bool) {
		conn.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
		kind, data, err := conn.ReadMessage()
		return string(data), err == nil && kind == websocket.TextMessage
	}
	if f, ok := read(); !ok || f != "2probe" {
		s.mu.Lock()
		s.upgrading = false
		s.mu.Unlock()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
	if conn.WriteMessage(websocket.TextMessage, []byte("3probe")) != nil {
		s.end()
		return
	}
	close(s.probed) // a pending GET answers noop; the client pauses polling
	if f, ok := read(); !ok || f != string(eioUpgrade) {
		s.end()
		return
	}
	h.pendingHandshake(conn, false)
	probing = false
	s.post.Lock() // after a POST under way: no POST writes into the pipe while the relay does
	s.upgraded.Store(true)
	s.post.Unlock()
	s.get.Lock() // nor a GET takes from the queue
	defer s.get.Unlock()
	h.wg.Add(1) // the caller holds a count (trackSIO): no race with Close's Wait
	go func() { // the client's packets to the peer; ends when conn is closed below
		defer h.wg.Done()
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				s.end()
				return
			}
			s.client.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
			if s.client.WriteMessage(kind, data) != nil {
				return
			}
		}
	}()
	for { // the peer's packets to the client, the queue first
		select {
		case p := <-s.in:
			conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
			if conn.WriteMessage(websocket.TextMessage, p) != nil {
				s.end()
				return
			}
		case <-s.done:
			for {
				select {
				case p := <-s.in:
					conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteWait))
					conn.WriteMessage(websocket.TextMessage, p)
					continue
				default:
				}
				break
			}
			code, reason := websocket.CloseNormalClosure, ""
			if s.why != nil {
				code, reason = s.why.Code, s.why.Text
			}
			switch code {
			case websocket.CloseAbnormalClosure, websocket.CloseNoStatusReceived, websocket.CloseTLSHandshake:
				return // reported locally, never sent (RFC 6455 7.4.1): the peer's connection just ended
			}
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(h.cfg.WriteWait))
			return
		}
	}
}

// session returns the polling session sid, or nil.
func (h *Hub) session(sid string) *pollSession {
	h.sioMu.Lock()
	defer h.sioMu.Unlock()
	return h.sioSessions[sid]
}
