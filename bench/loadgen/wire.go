package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// The two protocols the load generator speaks.
const (
	Lanfeed  = "lanfeed"  // lanfeed wire protocol v1 (docs/PROTOCOL.md)
	SocketIO = "socketio" // socket.io v4 over the raw engine.io v4 websocket transport
	// LanfeedSIO is lanfeed's own /socket.io/ endpoint (docs/SOCKETIO.md): the
	// same transport as SocketIO, with lanfeed's write event (posts:create),
	// the token in the CONNECT packet's auth, and presence off.
	LanfeedSIO = "lanfeed-socketio"
)

// handshakeWait bounds one peer's connect and greeting: a server too busy to
// greet in this time counts as a failed connect.
const handshakeWait = 20 * time.Second

// wsURL returns the websocket URL of base (http://host:port/) for proto.
func wsURL(proto, base, name, token string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Scheme = "ws"
	q := url.Values{}
	switch proto {
	case Lanfeed:
		u.Path = "/ws"
		q.Set("name", name)
		q.Set("presence", "0") // like the socket.io reference, which sends no presence
		if token != "" {
			q.Set("token", token)
		}
	case SocketIO, LanfeedSIO:
		u.Path = "/socket.io/"
		q.Set("EIO", "4")
		q.Set("transport", "websocket")
	default:
		return "", fmt.Errorf("unknown protocol %q", proto)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// dial opens one websocket from source address src (nil: the kernel's
// choice) and completes the protocol's greeting. rcvBuf > 0 shrinks the
// socket's receive buffer, for peers meant to fall behind. token is
// LanfeedSIO's (the other protocols carry it in the URL).
func dial(ctx context.Context, proto, url string, src net.IP, rcvBuf int, token string) (*websocket.Conn, error) {
	nd := &net.Dialer{Timeout: handshakeWait}
	if src != nil {
		nd.LocalAddr = &net.TCPAddr{IP: src}
	}
	d := websocket.Dialer{
		HandshakeTimeout: handshakeWait,
		ReadBufferSize:   2048, // small: 10,000 peers live in this process
		WriteBufferSize:  512,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err == nil && rcvBuf > 0 {
				c.(*net.TCPConn).SetReadBuffer(rcvBuf)
			}
			return c, err
		},
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return nil, fmt.Errorf("%w: HTTP %d %s", err, resp.StatusCode, bytes.TrimSpace(body))
		}
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(handshakeWait))
	if err := greet(c, proto, token); err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Time{})
	return c, nil
}

func greet(c *websocket.Conn, proto, token string) error {
	_, msg, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	switch proto {
	case Lanfeed:
		if !bytes.HasPrefix(msg, []byte(`{"type":"hello"`)) {
			return fmt.Errorf("first frame is not hello: %.100s", msg)
		}
		return nil
	case SocketIO, LanfeedSIO:
		if len(msg) == 0 || msg[0] != '0' {
			return fmt.Errorf("engine.io open packet expected, got %.100s", msg)
		}
		connect := "40"
		if proto == LanfeedSIO {
			connect = `40{"presence":false}`
			if token != "" {
				connect = `40{"presence":false,"token":` + strconv.Quote(token) + `}`
			}
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(connect)); err != nil {
			return err
		}
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return fmt.Errorf("no socket.io connect: %w", err)
			}
			switch {
			case bytes.HasPrefix(msg, []byte("40")):
				return nil
			case bytes.Equal(msg, []byte("2")):
				c.WriteMessage(websocket.TextMessage, []byte("3"))
			case bytes.HasPrefix(msg, []byte("44")):
				return fmt.Errorf("socket.io connect refused: %.100s", msg)
			}
		}
	}
	return errors.New("unknown protocol")
}

// Message classes a peer cares about.
const (
	msgOther = iota
	msgPost  // a posts event
	msgPing  // engine.io ping: answer "3"
)

var (
	lanfeedPost = []byte(`{"type":"event","event":"posts"`)
	sioPost     = []byte(`42["posts"`)
	bodyKey     = []byte(`"body":"`)
)

func classify(proto string, msg []byte) int {
	switch proto {
	case Lanfeed:
		if bytes.HasPrefix(msg, lanfeedPost) {
			return msgPost
		}
	case SocketIO, LanfeedSIO:
		if bytes.HasPrefix(msg, sioPost) {
			return msgPost
		}
		if len(msg) == 1 && msg[0] == '2' {
			return msgPing
		}
	}
	return msgOther
}

// postBody reads the "<index> <sent ns>" the publisher put in a post's body,
// without decoding the JSON: the load generator must stay cheaper than the
// server it measures.
func postBody(msg []byte) (idx int, sent int64, ok bool) {
	i := bytes.Index(msg, bodyKey)
	if i < 0 {
		return 0, 0, false
	}
	rest := msg[i+len(bodyKey):]
	a, rest, ok1 := readUint(rest)
	if !ok1 || len(rest) == 0 || rest[0] != ' ' {
		return 0, 0, false
	}
	b, _, ok2 := readUint(rest[1:])
	return int(a), b, ok2
}

func readUint(b []byte) (int64, []byte, bool) {
	var n int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, b[i:], i > 0
}

// emitFrame is the publisher's write of post idx, sent at sent ns.
func emitFrame(proto string, buf []byte, idx int, sent int64) []byte {
	buf = buf[:0]
	switch proto {
	case Lanfeed:
		buf = append(buf, `{"type":"emit","id":`...)
		buf = strconv.AppendInt(buf, int64(idx), 10)
		buf = append(buf, `,"event":"posts.create","data":{"title":"bench","body":"`...)
	case SocketIO:
		buf = append(buf, "42"...)
		buf = strconv.AppendInt(buf, int64(idx), 10)
		buf = append(buf, `["posts",{"action":"create","post":{"title":"bench","body":"`...)
	case LanfeedSIO:
		buf = append(buf, "42"...)
		buf = strconv.AppendInt(buf, int64(idx), 10)
		buf = append(buf, `["posts:create",{"title":"bench","body":"`...)
	}
	buf = strconv.AppendInt(buf, int64(idx), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, sent, 10)
	switch proto {
	case SocketIO:
		return append(buf, `"}}]`...)
	case LanfeedSIO:
		return append(buf, `"}]`...)
	}
	return append(buf, `"}}`...)
}

// Answer classes the publisher sees.
const (
	ansOther = iota
	ansAck
	ansError
)

var (
	lanfeedAck = []byte(`{"type":"ack","id":`)
	lanfeedErr = []byte(`{"type":"error"`)
	idKey      = []byte(`"id":`)
)

// answer classifies a frame the publisher received and returns the emit id
// it answers.
func answer(proto string, msg []byte) (kind, id int) {
	switch proto {
	case Lanfeed:
		if bytes.HasPrefix(msg, lanfeedAck) {
			n, _, ok := readUint(msg[len(lanfeedAck):])
			if ok {
				return ansAck, int(n)
			}
		}
		if bytes.HasPrefix(msg, lanfeedErr) {
			id := -1
			if i := bytes.Index(msg, idKey); i >= 0 {
				if n, _, ok := readUint(msg[i+len(idKey):]); ok {
					id = int(n)
				}
			}
			return ansError, id
		}
	case SocketIO, LanfeedSIO:
		if bytes.HasPrefix(msg, []byte("43")) {
			n, rest, ok := readUint(msg[2:])
			if !ok {
				return ansOther, 0
			}
			if bytes.Contains(rest, []byte(`"error"`)) {
				return ansError, int(n)
			}
			return ansAck, int(n)
		}
	}
	return ansOther, 0
}
