package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

const (
	// DefaultHandshakeTimeout bounds the handshake and the wait for hello;
	// on a LAN both take milliseconds, and the node itself gives a
	// handshake's headers 10 s.
	DefaultHandshakeTimeout = 10 * time.Second
	// readWait: the node pings every 25 s, so 60 s without any frame means
	// it is gone (the node drops a peer after the same 60 s of silence).
	readWait = 60 * time.Second
	// writeWait bounds one frame's write: a node that does not drain its
	// socket for this long is gone.
	writeWait = 10 * time.Second
	// closeGrace is how long Close waits for the node's answer to its close
	// frame before it drops the connection.
	closeGrace = time.Second
	// readAhead is how many events the reader decodes ahead of Next. Beyond
	// it the reader stops reading, so that a slow caller slows the node's
	// replay instead of filling this process's memory.
	readAhead = 64
	// maxFrame bounds a frame from the node: the protocol's largest
	// message, which a node's own frames (one post at the limits, about
	// 120 KiB of JSON at worst) stay well below. A bigger one is refused
	// before it is read whole.
	maxFrame = feed.MaxMessage
)

// Config says how to connect to a node. Only URL is required.
type Config struct {
	// URL is the node's address: "http://host:port", "ws://host:port/ws" or
	// "host:port" (https and wss work too). Without a path, /ws is used.
	URL string
	// Name is the display name other peers see; empty: the node's default
	// ("anonymous").
	Name string
	// Token is the node's pairing token. Without one the connection only
	// reads and emits are refused (feed.CodeUnauthorized); a wrong one is
	// refused at the handshake (*RefusedError, 401).
	Token string
	// NoPresence asks the node for no PeersEvents (?presence=0): for
	// programs that only care about posts.
	NoPresence bool
	// OwnPostsOnly asks the node for the posts it originated only
	// (?origin=self), as a follower replicating it does: replicas it holds
	// of other nodes are neither replayed nor sent live, so seqs have gaps.
	OwnPostsOnly bool
	// Resume, if set, starts the connection with a replay of every post
	// changed after Resume.Seq (0: the whole feed), as the node's sync does;
	// nil: live events only, newer than Hello.Seq.
	Resume *Position
	// DiscardEvents drops every event, for a connection that only writes:
	// nobody needs to call Next, which then only reports the end of the
	// connection. Emits still get their answers.
	DiscardEvents bool
	// HandshakeTimeout bounds Dial's handshake and hello; default
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// Conn is one websocket connection to a node. Next is for one goroutine at
// a time; Create, Update and Delete may be called from any number of
// goroutines, also while Next runs.
type Conn struct {
	ws    *websocket.Conn
	hello *Hello

	events chan Event    // reader → Next; closed when the reader ends
	out    chan []byte   // emit frames → writer; unbuffered: a frame taken is a frame sent
	pongs  chan []byte   // reader → writer: the latest ping's data to echo; capacity 1
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the reader has ended, after err is set
	err    error         // why the connection ended
	// closeCode is the code of the node's close frame, 0 if none came; the
	// writer echoes it. Set by the reader before done.
	closeCode int
	closeOnce sync.Once
	wg        sync.WaitGroup // the reader and the writer

	mu      sync.Mutex
	ended   bool  // the reader has ended: no emit can be answered
	lastID  int64 // emit ids count up from 1
	pending map[int64]*emitCall
}

// emitCall is an emit waiting for its ack or error frame.
type emitCall struct {
	event  string
	answer chan answer // capacity 1: the reader never waits for the caller
}

type answer struct {
	post feed.Post
	err  error
}

// Dial connects to the node and reads its hello. ctx bounds only the
// connecting: once Dial has returned, the connection lasts until Close or
// until it fails. A handshake answered with an HTTP error returns a
// *RefusedError.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	u, err := wsURL(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	timeout := cfg.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := websocket.Dialer{HandshakeTimeout: timeout} // no HTTP proxy: the node is on the LAN
	// Errors name u.Host, never u: the URL may carry the pairing token.
	ws, resp, err := d.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			return nil, refused(u.Host, resp)
		}
		if resp != nil {
			return nil, fmt.Errorf("client: %s answered %s, not a websocket upgrade: %w", u.Host, resp.Status, err)
		}
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Conn{
		ws:      ws,
		events:  make(chan Event, readAhead),
		out:     make(chan []byte),
		pongs:   make(chan []byte, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		pending: map[int64]*emitCall{},
	}
	ws.SetReadLimit(int64(maxFrame))
	ws.SetPingHandler(c.onPing)
	ws.SetCloseHandler(func(code int, _ string) error {
		c.closeCode = code // the writer echoes it; the reader must not write
		return nil
	})
	if c.hello, err = readHello(ctx, ws); err != nil {
		ws.Close()
		return nil, err
	}
	c.wg.Add(2)
	go c.readLoop(cfg.DiscardEvents)
	go c.writeLoop()
	return c, nil
}

// readHello reads the node's first frame, which must be a hello of protocol 1.
func readHello(ctx context.Context, ws *websocket.Conn) (*Hello, error) {
	deadline, _ := ctx.Deadline()
	ws.SetReadDeadline(deadline)
	// A cancelled ctx closes the socket, which ends the read at once.
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	_, raw, err := ws.ReadMessage()
	if !stop() {
		return nil, fmt.Errorf("client: waiting for hello: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("client: no hello from the node: %w", protoErr(err))
	}
	ev, err := decode(raw)
	if err != nil {
		return nil, err
	}
	h, ok := ev.(*Hello)
	if !ok {
		return nil, malformed(raw, "the first frame must be hello")
	}
	if h.Proto != 1 {
		return nil, fmt.Errorf("%w: the node speaks version %d, this client version 1", ErrProto, h.Proto)
	}
	return h, nil
}

// Hello returns the node's hello on this connection.
func (c *Conn) Hello() *Hello { return c.hello }

// Next returns the next event, waiting for it until ctx is done. Once the
// connection has ended and the events read before are taken, it returns the
// reason: ErrClosed after Close, else the error that ended the connection
// (the node's close frame is a *websocket.CloseError in its chain).
func (c *Conn) Next(ctx context.Context) (Event, error) {
	select {
	case <-c.stop:
		return nil, ErrClosed
	default:
	}
	select {
	case ev, ok := <-c.events:
		if !ok {
			return nil, c.err
		}
		return ev, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it lasts.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close ends the connection: it says goodbye to the node, waits briefly for
// its answer and for both of the connection's goroutines. Emits still
// waiting return an error wrapping ErrOutcomeUnknown. Close may be called
// any number of times, from any goroutine; it always returns nil.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.stop) })
	c.wg.Wait()
	return nil
}

// onPing runs in the reader: it hands the ping to the writer (only the
// latest one is answered, as RFC 6455 5.5.3 allows) and, the node being
// alive, extends the read deadline.
func (c *Conn) onPing(data string) error {
	select {
	case <-c.pongs: // an older ping not answered yet
	default:
	}
	c.pongs <- []byte(data) // the reader is the only sender: there is room now
	c.ws.SetReadDeadline(time.Now().Add(readWait))
	return nil
}

// readLoop owns reading: it answers pending emits and queues events for
// Next until the connection ends.
func (c *Conn) readLoop(discard bool) {
	defer c.wg.Done()
	err := c.read(discard)
	select {
	case <-c.stop:
		err = ErrClosed
	default:
		err = fmt.Errorf("client: connection lost: %w", err)
	}
	c.mu.Lock()
	c.ended = true
	pending := c.pending
	c.pending = nil
	c.err = err
	c.mu.Unlock()
	for id, call := range pending {
		call.answer <- answer{err: outcomeUnknown(call.event, id, err)}
	}
	close(c.events)
	close(c.done)
}

// read reads frames until the connection fails or breaks the protocol.
func (c *Conn) read(discard bool) error {
	for {
		c.ws.SetReadDeadline(time.Now().Add(readWait))
		kind, raw, err := c.ws.ReadMessage()
		if err != nil {
			return protoErr(err)
		}
		if kind != websocket.TextMessage {
			return fmt.Errorf("%w: a binary frame; protocol v1 has only text frames", ErrProto)
		}
		ev, err := decode(raw)
		if err != nil {
			return err
		}
		if !c.answer(ev) || discard {
			continue
		}
		select {
		case c.events <- ev:
		case <-c.stop: // Close: nobody takes events any more
			discard = true
		}
	}
}

// protoErr marks a read error that is the node's breach of the protocol
// (a frame over the read limit) with ErrProto; others stay as they are.
func protoErr(err error) error {
	if errors.Is(err, websocket.ErrReadLimit) {
		return fmt.Errorf("%w: a frame over the %d-byte limit (%w)", ErrProto, maxFrame, err)
	}
	return err
}

// answer hands acks and error frames to the emits waiting for them. It
// reports whether ev goes on to Next: acks do (they hold their place in the
// post stream), error frames answering an emit do not.
func (c *Conn) answer(ev Event) bool {
	var id int64
	var a answer
	switch ev := ev.(type) {
	case *Ack:
		id, a = ev.ID, answer{post: ev.Post}
	case *ErrorEvent:
		id, a = ev.ID, answer{err: ev.Err}
	default:
		return true
	}
	c.mu.Lock()
	call := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if call != nil {
		call.answer <- a
	}
	_, isAck := ev.(*Ack)
	return isAck || call == nil
}

// writeLoop is the only goroutine that writes to the websocket. It ends when
// the reader does (echoing the node's close frame) or at Close (sending
// ours), and closes the socket.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	defer c.ws.Close() // also ends the reader, if a write failed
	for {
		select {
		case f := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				return
			}
		case data := <-c.pongs:
			if err := c.ws.WriteControl(websocket.PongMessage, data, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-c.stop:
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait)) == nil {
				grace := time.NewTimer(closeGrace)
				defer grace.Stop()
				select {
				case <-c.done: // the node answered (or the connection failed)
				case <-grace.C:
				}
			}
			return
		case <-c.done:
			if c.closeCode != 0 {
				msg := websocket.FormatCloseMessage(c.closeCode, "")
				c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
			}
			return
		}
	}
}

// Create writes a new post and returns it as committed (with its seq), or
// the node's *feed.Error.
func (c *Conn) Create(ctx context.Context, in feed.NewPost) (feed.Post, error) {
	return c.emit(ctx, "posts.create", in)
}

// Update changes the post id from patch.Version on, and returns it as
// committed, or the node's *feed.Error (feed.CodeConflict carries the
// current post when patch.Version is not the current version).
func (c *Conn) Update(ctx context.Context, id string, patch feed.PostPatch) (feed.Post, error) {
	return c.emit(ctx, "posts.update", struct {
		ID string `json:"id"`
		feed.PostPatch
	}{id, patch})
}

// Delete deletes the post id and returns its tombstone, or the node's
// *feed.Error. version 0 deletes whatever version is current.
func (c *Conn) Delete(ctx context.Context, id string, version int64) (feed.Post, error) {
	return c.emit(ctx, "posts.delete", struct {
		ID      string `json:"id"`
		Version int64  `json:"version,omitempty"`
	}{id, version})
}

// emit sends one emit frame and waits for its answer. An error that wraps
// ErrOutcomeUnknown means the frame was sent but no answer will come; any
// other error but a *feed.Error means nothing was sent.
func (c *Conn) emit(ctx context.Context, event string, data any) (feed.Post, error) {
	c.mu.Lock()
	if c.ended {
		err := c.err
		c.mu.Unlock()
		return feed.Post{}, notSent(event, err)
	}
	c.lastID++
	id := c.lastID
	call := &emitCall{event: event, answer: make(chan answer, 1)}
	c.pending[id] = call
	c.mu.Unlock()

	f, err := json.Marshal(struct {
		Type  string `json:"type"`
		ID    int64  `json:"id"`
		Event string `json:"event"`
		Data  any    `json:"data"`
	}{"emit", id, event, data})
	if err != nil { // feed's input types always encode
		c.forget(id)
		return feed.Post{}, fmt.Errorf("client: %s: %w", event, err)
	}
	select {
	case c.out <- f:
	case <-ctx.Done():
		c.forget(id)
		return feed.Post{}, ctx.Err()
	case <-c.done:
		return feed.Post{}, notSent(event, c.err)
	}
	select {
	case a := <-call.answer:
		return a.post, a.err
	case <-ctx.Done():
		c.forget(id)
		return feed.Post{}, outcomeUnknown(event, id, ctx.Err())
	}
}

// forget drops an emit nobody waits for any more; a late answer then goes
// to Next like any other.
func (c *Conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}
