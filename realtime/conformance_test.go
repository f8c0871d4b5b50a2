package realtime_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"lanfeed/realtime"
)

// Websocket opcodes (RFC 6455 5.2), spelled out so that the tests do not
// depend on the library under test.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// rawWS is a websocket client built by hand on a TCP connection, so that it
// can send frames no library would: unmasked, with reserved bits, oversized
// control frames, broken UTF-8.
type rawWS struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// wsHandshake is a client handshake with the RFC 6455 sample key; query and
// extra header lines are appended as given.
func wsHandshake(addr, query, extra string) string {
	return "GET /ws" + query + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n"
}

// rawHandshake sends req on a new connection and returns the response.
func (n *node) rawHandshake(t *testing.T, req string) (*rawWS, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.ts.Listener.Addr().String(), readWait)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(readWait))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	r := &rawWS{t: t, c: c, br: bufio.NewReader(c)}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	return r, resp
}

// rawDial completes a handshake (the token lets it write) and reads hello.
func (n *node) rawDial(t *testing.T) *rawWS {
	t.Helper()
	addr := n.ts.Listener.Addr().String()
	r, resp := n.rawHandshake(t, wsHandshake(addr, "?name=raw&token="+n.token, "Sec-WebSocket-Version: 13\r\n"))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake = %d; want 101", resp.StatusCode)
	}
	// The accept value for the sample key, from RFC 6455 1.3.
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept = %q; want the RFC 6455 value", got)
	}
	if op, p := r.readFrame(); op != opText || !strings.Contains(string(p), `"type":"hello"`) {
		t.Fatalf("first frame = op %d %q; want hello", op, p)
	}
	return r
}

// frameOpts are the unusual parts of a client frame.
type frameOpts struct {
	notFinal bool // FIN clear
	rsv      byte // RSV1..3 as bits 4, 2, 1
	unmasked bool
}

// writeFrame sends one frame exactly as described.
func (r *rawWS) writeFrame(op byte, payload []byte, o frameOpts) {
	r.t.Helper()
	b0 := op | o.rsv<<4
	if !o.notFinal {
		b0 |= 0x80
	}
	hdr := []byte{b0, 0}
	switch n := len(payload); {
	case n < 126:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] = 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	body := append([]byte(nil), payload...)
	if !o.unmasked {
		hdr[1] |= 0x80
		key := []byte{0x37, 0xfa, 0x21, 0x3d}
		hdr = append(hdr, key...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	r.c.SetWriteDeadline(time.Now().Add(readWait))
	if _, err := r.c.Write(append(hdr, body...)); err != nil {
		r.t.Fatalf("write frame: %v", err)
	}
}

// nextFrame reads one server frame; server frames must be final-or-not,
// unmasked and without reserved bits.
func (r *rawWS) nextFrame() (op byte, payload []byte, err error) {
	r.c.SetReadDeadline(time.Now().Add(readWait))
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("server frame %x has reserved bits or a mask", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r.br, payload)
	return h[0] & 0x0f, payload, err
}

func (r *rawWS) readFrame() (byte, []byte) {
	r.t.Helper()
	op, p, err := r.nextFrame()
	if err != nil {
		r.t.Fatalf("read frame: %v", err)
	}
	return op, p
}

// readUntilOp skips text frames until a frame with opcode op arrives.
func (r *rawWS) readUntilOp(op byte) []byte {
	r.t.Helper()
	for {
		got, p := r.readFrame()
		if got == op {
			return p
		}
		if got != opText {
			r.t.Fatalf("got frame op %d %q while waiting for op %d", got, p, op)
		}
	}
}

// readText skips frames until a text frame containing want arrives.
func (r *rawWS) readText(want string) string {
	r.t.Helper()
	for {
		op, p := r.readFrame()
		if op == opText && strings.Contains(string(p), want) {
			return string(p)
		}
		if op == opClose {
			r.t.Fatalf("got close %s while waiting for %q", closeString(p), want)
		}
	}
}

// closeString renders a close payload as "code reason".
func closeString(p []byte) string {
	if len(p) < 2 {
		return fmt.Sprintf("(no code, %d bytes)", len(p))
	}
	return fmt.Sprintf("%d %q", binary.BigEndian.Uint16(p), p[2:])
}

// expectClose reads up to the server's close frame, checks its code,
// answers it as RFC 6455 5.5.1 asks and checks that the server then closes
// the TCP connection.
func (r *rawWS) expectClose(want int) {
	r.t.Helper()
	p := r.readUntilOp(opClose)
	code := 1005 // no status code in the frame
	if len(p) >= 2 {
		code = int(binary.BigEndian.Uint16(p))
	}
	if code != want {
		r.t.Fatalf("server close = %s; want code %d", closeString(p), want)
	}
	// Our reply; the server may already have dropped the connection.
	r.c.Write([]byte{0x80 | opClose, 0x80, 1, 2, 3, 4})
	r.expectEOF()
}

// expectEOF checks that the server closes the TCP connection, with nothing
// more than control frames before it.
func (r *rawWS) expectEOF() {
	r.t.Helper()
	for {
		op, p, err := r.nextFrame()
		var ne net.Error
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
			return
		case errors.As(err, &ne) && ne.Timeout():
			r.t.Fatalf("server kept the TCP connection open after the close handshake")
		case err != nil:
			if strings.Contains(err.Error(), "reset") {
				return
			}
			r.t.Fatalf("read after close: %v", err)
		case op == opText || op == opBinary:
			r.t.Fatalf("server sent data %q after its close frame", p)
		}
	}
}

// expectAlive proves the connection still works: a sync is answered with
// synced.
func (r *rawWS) expectAlive() {
	r.t.Helper()
	r.writeFrame(opText, []byte(`{"type":"sync","since":0}`), frameOpts{})
	r.readText(`"type":"synced"`)
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// TestConformance_Framing sends frames that break RFC 6455 and checks that
// each ends the connection with the close code the RFC requires, and that
// legal but unusual framing is handled.
func TestConformance_Framing(t *testing.T) {
	n := startNode(t, realtime.Config{WriteRate: -1})
	emit := []byte(`{"type":"emit","id":1,"event":"posts.create","data":{"title":"fragmented €"}}`)
	euro := strings.Index(string(emit), "€") + 1 // inside the 3-byte rune

	tests := []struct {
		name string
		run  func(r *rawWS)
	}{
		{name: "UnmaskedClientFrame/1002", run: func(r *rawWS) {
			r.writeFrame(opText, []byte(`{"type":"sync","since":0}`), frameOpts{unmasked: true})
			r.expectClose(1002)
		}},
		{name: "RSV1WithoutExtension/1002", run: func(r *rawWS) {
			r.writeFrame(opText, []byte(`{}`), frameOpts{rsv: 4})
			r.expectClose(1002)
		}},
		{name: "RSV2/1002", run: func(r *rawWS) {
			r.writeFrame(opText, []byte(`{}`), frameOpts{rsv: 2})
			r.expectClose(1002)
		}},
		{name: "RSV3OnPing/1002", run: func(r *rawWS) {
			r.writeFrame(opPing, nil, frameOpts{rsv: 1})
			r.expectClose(1002)
		}},
		{name: "ReservedDataOpcode3/1002", run: func(r *rawWS) {
			r.writeFrame(0x3, []byte(`{}`), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "ReservedControlOpcodeB/1002", run: func(r *rawWS) {
			r.writeFrame(0xB, nil, frameOpts{})
			r.expectClose(1002)
		}},
		{name: "PingOver125Bytes/1002", run: func(r *rawWS) {
			r.writeFrame(opPing, make([]byte, 126), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "CloseOver125Bytes/1002", run: func(r *rawWS) {
			r.writeFrame(opClose, closePayload(1000, strings.Repeat("x", 124)), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "FragmentedPing/1002", run: func(r *rawWS) {
			r.writeFrame(opPing, []byte("a"), frameOpts{notFinal: true})
			r.expectClose(1002)
		}},
		{name: "ContinuationWithoutStart/1002", run: func(r *rawWS) {
			r.writeFrame(opCont, []byte(`{}`), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "NewMessageInsideFragmented/1002", run: func(r *rawWS) {
			r.writeFrame(opText, []byte(`{"type":`), frameOpts{notFinal: true})
			r.writeFrame(opText, []byte(`"sync","since":0}`), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "InvalidUTF8Text/1007", run: func(r *rawWS) {
			r.writeFrame(opText, []byte("{\"type\":\"sync\",\"epoch\":\"\xff\xfe\",\"since\":0}"), frameOpts{})
			r.expectClose(1007)
		}},
		{name: "InvalidUTF8AcrossFragments/1007", run: func(r *rawWS) {
			r.writeFrame(opText, []byte("{\"type\":\"x\",\"epoch\":\"\xe2\x82"), frameOpts{notFinal: true})
			r.writeFrame(opCont, []byte("(\"}"), frameOpts{})
			r.expectClose(1007)
		}},
		{name: "SurrogateInText/1007", run: func(r *rawWS) {
			r.writeFrame(opText, []byte("{\"type\":\"\xed\xa0\x80\"}"), frameOpts{})
			r.expectClose(1007)
		}},
		{name: "CloseReasonInvalidUTF8/1002", run: func(r *rawWS) {
			// RFC 6455 8.1 says fail the connection; gorilla does with 1002.
			r.writeFrame(opClose, closePayload(1000, "\xff"), frameOpts{})
			r.expectClose(1002)
		}},
		{name: "CloseOneBytePayload/1002", // gorilla alone answers with an empty close: see frameScanner
			run: func(r *rawWS) {
				r.writeFrame(opClose, []byte{0x03}, frameOpts{})
				r.expectClose(1002)
			}},
		{name: "BinaryFrame/BadRequestAndOpen", run: func(r *rawWS) {
			r.writeFrame(opBinary, []byte(`{"type":"sync","since":0}`), frameOpts{})
			r.readText(`"code":"bad_request"`)
			r.expectAlive()
		}},
		{name: "PingPongSamePayload", run: func(r *rawWS) {
			r.writeFrame(opPing, []byte("are you there? ✓"), frameOpts{})
			if got := r.readUntilOp(opPong); string(got) != "are you there? ✓" {
				t.Errorf("pong payload = %q; want the ping's", got)
			}
			r.writeFrame(opPing, make([]byte, 125), frameOpts{}) // the largest legal control frame
			if got := r.readUntilOp(opPong); len(got) != 125 {
				t.Errorf("pong payload is %d bytes; want 125", len(got))
			}
			r.expectAlive()
		}},
		{name: "UnsolicitedPongIgnored", run: func(r *rawWS) {
			r.writeFrame(opPong, []byte("x"), frameOpts{})
			r.expectAlive()
		}},
		{name: "FragmentedTextReassembled", run: func(r *rawWS) {
			// Three fragments split inside a UTF-8 rune, with a ping between
			// them (control frames may interleave, RFC 6455 5.4).
			r.writeFrame(opText, emit[:10], frameOpts{notFinal: true})
			r.writeFrame(opCont, emit[10:euro], frameOpts{notFinal: true})
			r.writeFrame(opPing, []byte("mid"), frameOpts{})
			if got := r.readUntilOp(opPong); string(got) != "mid" {
				t.Errorf("pong payload = %q; want %q", got, "mid")
			}
			r.writeFrame(opCont, emit[euro:], frameOpts{})
			ack := r.readText(`"type":"ack"`)
			if !strings.Contains(ack, `"title":"fragmented €"`) {
				t.Errorf("ack = %s; want the reassembled title", ack)
			}
			r.expectAlive()
		}},
		{name: "EmptyFragments", run: func(r *rawWS) {
			r.writeFrame(opText, nil, frameOpts{notFinal: true})
			r.writeFrame(opCont, []byte(`{"type":"sync","since":0}`), frameOpts{notFinal: true})
			r.writeFrame(opCont, nil, frameOpts{})
			r.readText(`"type":"synced"`)
		}},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1012 + 3, 1016, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name string
			run  func(r *rawWS)
		}{name: fmt.Sprintf("BadCloseCode%d/1002", code), run: func(r *rawWS) {
			r.writeFrame(opClose, closePayload(code, ""), frameOpts{})
			r.expectClose(1002)
		}})
	}
	for _, code := range []uint16{1000, 1001, 1003, 1011, 3000, 4999} {
		tests = append(tests, struct {
			name string
			run  func(r *rawWS)
		}{name: fmt.Sprintf("CloseCode%d/Echoed", code), run: func(r *rawWS) {
			r.writeFrame(opClose, closePayload(code, "bye"), frameOpts{})
			p := r.readUntilOp(opClose)
			if len(p) < 2 || binary.BigEndian.Uint16(p) != code {
				t.Fatalf("server close = %s; want code %d echoed", closeString(p), code)
			}
			r.expectEOF()
		}})
	}
	tests = append(tests, struct {
		name string
		run  func(r *rawWS)
	}{name: "CloseWithoutCode/EmptyClose", run: func(r *rawWS) {
		r.writeFrame(opClose, nil, frameOpts{})
		if p := r.readUntilOp(opClose); len(p) != 0 {
			t.Fatalf("server close = %s; want an empty close (RFC 6455 5.5.1)", closeString(p))
		}
		r.expectEOF()
	}})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(n.rawDial(t))
		})
	}
}

// TestConformance_Handshake checks the opening handshake rules of RFC 6455
// 4.2: a bad request never becomes a websocket.
func TestConformance_Handshake(t *testing.T) {
	n := startNode(t, realtime.Config{})
	addr := n.ts.Listener.Addr().String()
	tests := []struct {
		name   string
		req    string
		status int
		check  func(t *testing.T, resp *http.Response)
	}{
		{"UnsupportedVersion/400WithVersion13", wsHandshake(addr, "", "Sec-WebSocket-Version: 8\r\n"), http.StatusBadRequest,
			func(t *testing.T, resp *http.Response) {
				if v := resp.Header.Get("Sec-WebSocket-Version"); v != "13" {
					t.Errorf("Sec-WebSocket-Version = %q; want 13 (RFC 6455 4.4)", v)
				}
			}},
		{"MissingVersion/400", wsHandshake(addr, "", ""), http.StatusBadRequest, nil},
		{"MissingKey/400", "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest, nil},
		{"NoUpgradeHeader/400", "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest, nil},
		{"PostMethod/405", strings.Replace(wsHandshake(addr, "", "Sec-WebSocket-Version: 13\r\n"), "GET", "POST", 1), http.StatusMethodNotAllowed, nil},
		{"HTTP10/NotUpgraded", strings.Replace(wsHandshake(addr, "", "Sec-WebSocket-Version: 13\r\n"), "HTTP/1.1", "HTTP/1.0", 1), http.StatusBadRequest, nil},
		{"ForeignOrigin/403", wsHandshake(addr, "", "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n"), http.StatusForbidden, nil},
		{"WrongToken/401", wsHandshake(addr, "?token=nope", "Sec-WebSocket-Version: 13\r\n"), http.StatusUnauthorized, nil},
		{"ConnectionHeaderList/101", wsHandshake(addr, "", "Sec-WebSocket-Version: 13\r\n") + "", http.StatusSwitchingProtocols, nil},
	}
	// A Connection header listing more than one token is legal.
	tests[len(tests)-1].req = strings.Replace(tests[len(tests)-1].req, "Connection: Upgrade", "Connection: keep-alive, Upgrade", 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, resp := n.rawHandshake(t, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("handshake = %d; want %d", resp.StatusCode, tc.status)
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}
}
