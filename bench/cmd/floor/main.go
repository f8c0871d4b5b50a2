// Command floor is the benchmark's floor server: what one core can do with
// nothing but one non-blocking write() of the same pre-framed bytes per peer
// per post. It speaks just enough of lanfeed's /ws for the load generator
// (bench/loadgen, protocol "lanfeed"):
//
//   - the websocket upgrade and a hello frame, on an accept path of its own
//     (net/http and gorilla/websocket, one goroutine per handshake);
//   - a connection with the pairing token is the publisher: each of its
//     emits becomes one posts event, shaped and sized like lanfeedd's, with
//     the emit's body ("<index> <send ns>") copied in, and one ack;
//   - every other connection is a peer: once greeted, its socket is
//     duplicated to a raw file descriptor in non-blocking mode and handed
//     to the fan-out, and Go's own connection is closed (the socket stays
//     open through the duplicate).
//
// The fan-out is the publisher's reader goroutine itself: read one emit,
// frame the event once, loop over the peers' descriptors with one
// syscall.Write each, then ack. No queue, no timer, no other goroutine.
// With -durable (S6) each post is first appended to a file and made
// durable with fdatasync, group-commit style: a second goroutine reads the
// emits that arrive during one fdatasync, and they share the next.
//
// A peer whose write would block (EAGAIN) or is short is closed at once:
// without a queue there is nowhere to keep the rest of a frame, and a peer
// missing part of one could not read the stream any more. The floor is not
// reliable for slow peers; it counts them (GET /stats) and the load
// generator sees them dropped.
//
//	floor -listen 127.0.0.1:0 [-durable FILE]
//
// It prints "listening on http://ADDR/" and "pairing token: TOKEN" on
// stdout, as lanfeedd does, and ends on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gorilla/websocket"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	durable := flag.String("durable", "", "append each post to this file and fdatasync it before its fan-out, group commit (S6); empty: memory only")
	flag.Parse()
	if err := run(*listen, *durable); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(listen, durable string) error {
	f, err := newFloor(durable)
	if err != nil {
		return err
	}
	defer f.close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f.handler()}
	fmt.Printf("listening on http://%s/\npairing token: %s\n", ln.Addr(), f.token)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// The peers' descriptors are the fan-out's; the process ending closes
	// them, which is all a benchmark server needs.
	srv.Close()
	b, _ := json.Marshal(f.snapshot())
	fmt.Printf("floor stats: %s\n", b)
	return nil
}

// newFloor makes a floor with a fresh token; durable, if set, is the file
// each post is appended to and made durable in before its fan-out.
func newFloor(durable string) (*floor, error) {
	tok := make([]byte, 16)
	rand.Read(tok)
	f := &floor{token: hex.EncodeToString(tok)}
	if durable != "" {
		log, err := os.OpenFile(durable, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		f.log = log
	}
	return f, nil
}

// handler serves /ws (peers and the publisher) and /stats.
func (f *floor) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", f.serveWS)
	mux.HandleFunc("/stats", f.serveStats)
	return mux
}

// close closes the durable file and the descriptors of peers the fan-out
// has not taken yet; those it holds end with the process.
func (f *floor) close() {
	if f.log != nil {
		f.log.Close()
	}
	f.mu.Lock()
	for _, fd := range f.pending {
		syscall.Close(fd)
	}
	f.pending = nil
	f.mu.Unlock()
}

// floor is the server's state. Only the accept path and the fan-out share
// anything: the peers upgraded since the last post (pending, under mu).
type floor struct {
	token string
	log   *os.File // -durable; nil: memory only

	mu        sync.Mutex
	pending   []int       // peers' descriptors not yet taken by the fan-out
	publisher atomic.Bool // one publisher at a time: it owns the fan-out
	// The fan-out's own state, touched only by the publisher of the
	// moment, so that the next one carries on: the peers it writes to, the
	// last seq, and the buffers of one frame and one ack.
	fanned     []int
	seq        int64
	frame, ack []byte

	// Counters, for GET /stats; the fan-out adds once per post.
	posts, writes, wouldBlock, short, failed, peers, commits atomic.Int64
}

// Stats is GET /stats: what the floor did, and which peers it gave up on.
type Stats struct {
	Peers      int64 `json:"peers"`      // peers handed to the fan-out, in all
	Posts      int64 `json:"posts"`      // posts fanned out
	Writes     int64 `json:"writes"`     // complete frame writes
	WouldBlock int64 `json:"wouldBlock"` // peers closed because a write returned EAGAIN
	Short      int64 `json:"short"`      // peers closed after a short write
	Failed     int64 `json:"failed"`     // peers closed on another write error (gone: EPIPE, ECONNRESET)
	Commits    int64 `json:"commits"`    // -durable: fdatasyncs, each for one batch of posts
}

func (f *floor) snapshot() Stats {
	return Stats{Peers: f.peers.Load(), Posts: f.posts.Load(), Writes: f.writes.Load(),
		WouldBlock: f.wouldBlock.Load(), Short: f.short.Load(), Failed: f.failed.Load(), Commits: f.commits.Load()}
}

func (f *floor) serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f.snapshot())
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	CheckOrigin:     func(*http.Request) bool { return true }, // loopback benchmark only
}

// Fixed stand-ins of the same length as lanfeedd's ids and times, so that
// the floor's frames are as long as the server's it is compared with.
const (
	fakeID   = "01a2358b-47e2-730c-8869-07abf98ccdd3"
	fakeNode = "01a2358b-47d6-7943-81ce-e3caef681ae1"
	fakeTime = "2026-12-02T06:57:30.082Z"
)

func hello(canWrite bool) []byte {
	return []byte(`{"type":"hello","proto":1,"node":{"id":"` + fakeNode + `","name":"floor"},"epoch":"3ecad527e66e898a99a01862ddec2b62",` +
		`"seq":0,"peer":{"id":"p1","name":"bench","since":"` + fakeTime + `"},"canWrite":` + strconv.FormatBool(canWrite) + `}`)
}

func (f *floor) serveWS(w http.ResponseWriter, r *http.Request) {
	isPub := r.URL.Query().Get("token") == f.token
	if isPub && !f.publisher.CompareAndSwap(false, true) {
		http.Error(w, "one publisher at a time", http.StatusConflict)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		if isPub {
			f.publisher.Store(false)
		}
		return // Upgrade has answered
	}
	if err := c.WriteMessage(websocket.TextMessage, hello(isPub)); err != nil {
		c.Close()
		if isPub {
			f.publisher.Store(false)
		}
		return
	}
	if isPub {
		defer f.publisher.Store(false)
		defer c.Close()
		f.publish(c)
		return
	}
	fd, err := rawFD(c.NetConn())
	c.Close() // the duplicate keeps the socket open
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor: peer:", err)
		return
	}
	f.mu.Lock()
	f.pending = append(f.pending, fd)
	f.mu.Unlock()
}

// rawFD duplicates conn's socket into a descriptor of its own, outside Go's
// poller, in non-blocking mode (the flag is the socket's, shared with Go's
// descriptor, which set it already; set again so as not to depend on that).
func rawFD(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, dupErr := -1, error(nil)
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = syscall.Dup(int(s))
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// publish is the fan-out: it reads the publisher's emits and delivers each
// before it reads the next. With -durable, a second goroutine reads the
// emits meanwhile, so that those which arrive during one fdatasync share
// the next (a group commit, as lanfeed's store does; one per post would
// make the floor slower than the server it bounds on a disk of slow
// syncs); the fan-out itself stays on this goroutine.
func (f *floor) publish(c *websocket.Conn) {
	if f.log == nil {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if e, ok := parseEmit(msg); ok && !f.deliver(c, e) {
				return
			}
		}
	}
	emits, done := make(chan emit, durableQueue), make(chan struct{})
	defer close(done)
	go readEmits(c, emits, done)
	var batch []emit
	var rec []byte
	for e := range emits {
		batch, rec = append(batch[:0], e), append(append(rec[:0], e.msg...), '\n')
	gather:
		for len(batch) < durableQueue {
			select {
			case e, ok := <-emits:
				if !ok {
					break gather
				}
				batch, rec = append(batch, e), append(append(rec, e.msg...), '\n')
			default:
				break gather
			}
		}
		if _, err := f.log.Write(rec); err != nil {
			fmt.Fprintln(os.Stderr, "floor: durable append:", err)
			return
		}
		if err := syscall.Fdatasync(int(f.log.Fd())); err != nil {
			fmt.Fprintln(os.Stderr, "floor: fdatasync:", err)
			return
		}
		f.commits.Add(1)
		for _, e := range batch {
			if !f.deliver(c, e) {
				return
			}
		}
	}
}

// durableQueue bounds the emits read ahead while a batch is made durable,
// and so the size of one group commit.
const durableQueue = 4096

// emit is one publisher's write: its id, its body's raw JSON string, and
// the whole message (what -durable appends).
type emit struct {
	id   int64
	body []byte
	msg  []byte
}

// readEmits reads the publisher's emits into emits until the connection
// ends or done is closed.
func readEmits(c *websocket.Conn, emits chan<- emit, done <-chan struct{}) {
	defer close(emits)
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		e, ok := parseEmit(msg)
		if !ok {
			continue
		}
		select {
		case emits <- e:
		case <-done:
			return
		}
	}
}

// deliver fans post e out to every peer, then acks it; false when the
// publisher's connection failed.
func (f *floor) deliver(c *websocket.Conn, e emit) bool {
	f.mu.Lock()
	f.fanned = append(f.fanned, f.pending...)
	f.peers.Add(int64(len(f.pending)))
	f.pending = f.pending[:0]
	f.mu.Unlock()
	f.seq++
	f.frame = postFrame(f.frame[:0], f.seq, e.body)
	f.fanned = f.fanOut(f.fanned, f.frame)
	f.ack = fmt.Appendf(f.ack[:0], `{"type":"ack","id":%d,"seq":%d}`, e.id, f.seq)
	return c.WriteMessage(websocket.TextMessage, f.ack) == nil
}

// fanOut writes frame to every peer with one non-blocking write each and
// returns the peers still open; a peer whose write would block, is short or
// fails is closed and left out.
func (f *floor) fanOut(peers []int, frame []byte) []int {
	kept := peers[:0]
	var wrote, wouldBlock, short, failed int64
	for _, fd := range peers {
		n, err := syscall.Write(fd, frame)
		switch {
		case err == nil && n == len(frame):
			kept = append(kept, fd)
			wrote++
			continue
		case errors.Is(err, syscall.EAGAIN):
			wouldBlock++
		case err == nil:
			short++
		default:
			failed++
		}
		syscall.Close(fd)
	}
	f.posts.Add(1)
	f.writes.Add(wrote)
	if wouldBlock+short+failed > 0 {
		f.wouldBlock.Add(wouldBlock)
		f.short.Add(short)
		f.failed.Add(failed)
	}
	return kept
}

var (
	idKey   = []byte(`"id":`)
	bodyKey = []byte(`"body":"`)
)

// parseEmit reads the emit's id and its body's raw JSON string (the load
// generator's "<index> <send ns>", which needs no escaping), without
// decoding the JSON: the floor does no more than it must.
func parseEmit(msg []byte) (e emit, ok bool) {
	i := bytes.Index(msg, idKey)
	j := bytes.Index(msg, bodyKey)
	if i < 0 || j < 0 {
		return emit{}, false
	}
	var id int64
	rest := msg[i+len(idKey):]
	k := 0
	for ; k < len(rest) && rest[k] >= '0' && rest[k] <= '9'; k++ {
		id = id*10 + int64(rest[k]-'0')
	}
	body := msg[j+len(bodyKey):]
	end := bytes.IndexByte(body, '"')
	if k == 0 || end < 0 {
		return emit{}, false
	}
	return emit{id: id, body: body[:end], msg: msg}, true
}

// postFrame appends one websocket text frame (server to client: unmasked)
// carrying a posts event shaped like lanfeedd's.
func postFrame(buf []byte, seq int64, body []byte) []byte {
	s := strconv.FormatInt(seq, 10)
	payload := len(`{"type":"event","event":"posts","seq":,"data":{"action":"create","post":{"id":"`+fakeID+`","title":"bench","body":"`) +
		len(body) + len(`","author":"floor","origin":"`+fakeNode+`","createdAt":"`+fakeTime+`","updatedAt":"`+fakeTime+
		`","version":1,"deleted":false,"seq":}}}`) + 2*len(s)
	buf = appendFrameHeader(buf, payload)
	buf = append(buf, `{"type":"event","event":"posts","seq":`...)
	buf = append(buf, s...)
	buf = append(buf, `,"data":{"action":"create","post":{"id":"`+fakeID+`","title":"bench","body":"`...)
	buf = append(buf, body...)
	buf = append(buf, `","author":"floor","origin":"`+fakeNode+`","createdAt":"`+fakeTime+`","updatedAt":"`+fakeTime+`","version":1,"deleted":false,"seq":`...)
	buf = append(buf, s...)
	return append(buf, `}}}`...)
}

// appendFrameHeader appends the header of a final, unmasked text frame of
// n payload bytes (RFC 6455 section 5.2).
func appendFrameHeader(buf []byte, n int) []byte {
	buf = append(buf, 0x81)
	switch {
	case n < 126:
		return append(buf, byte(n))
	case n < 1<<16:
		return append(buf, 126, byte(n>>8), byte(n))
	default:
		buf = append(buf, 127)
		for i := 7; i >= 0; i-- {
			buf = append(buf, byte(uint64(n)>>(8*i)))
		}
		return buf
	}
}
