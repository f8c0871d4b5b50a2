package realtime

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The handlers of Config.SocketIOConformance: what the official Socket.IO
// protocol test suite (socketio/socket.io-protocol, test-suite/) expects of
// the server it drives, as its README describes it. The transport, the
// codec, the heartbeat and the hub underneath are the endpoint's own; only
// the events differ:
//
//   - on connect (to "/" or "/custom"), the socket is sent "auth" with the
//     CONNECT payload ({} when there was none), and the CONNECT answer
//     carries the sid alone;
//   - "message" is echoed back as "message-back" with the same arguments;
//     "message-with-ack" is acked with its arguments;
//   - a DISCONNECT leaves the transport open;
//   - a transport without CONNECT is closed after a second.

// EngineIOPath is where, in conformance mode, the same Engine.IO layer is
// served without Socket.IO on top, as the echo server the official
// Engine.IO protocol test suite (socketio/engine.io-protocol, test-suite/)
// drives: every message packet comes back as it was sent.
const EngineIOPath = "/engine.io/"

// engineOnly reports whether r opens a session of the Engine.IO echo server.
func (h *Hub) engineOnly(r *http.Request) bool {
	return h.cfg.SocketIOConformance && strings.HasPrefix(r.URL.Path, EngineIOPath)
}

// sioConformanceNsp is the other namespace the suite connects to.
const sioConformanceNsp = "/custom"

// sioConformanceConnectTimeout is the suite's reference server's connectTimeout.
const sioConformanceConnectTimeout = time.Second

func (h *Hub) sioConnectTimeout() time.Duration {
	if h.cfg.SocketIOConformance {
		return sioConformanceConnectTimeout
	}
	return sioConnectTimeout
}

// sioOtherNamespace answers a CONNECT to a namespace other than "/": the
// protocol's error, or in conformance mode /custom's answer and auth event.
func (h *Hub) sioOtherNamespace(sp sioPacket) [][]byte {
	if h.cfg.SocketIOConformance && sp.nsp == sioConformanceNsp {
		connect := appendEIO(nil, eioMessage, appendSIO(nil, sioConnect, sp.nsp, sioNoID, mustJSON(struct {
			Sid string `json:"sid"`
		}{randomID()})))
		return [][]byte{connect, conformanceAuth(sp.nsp, sp.data)}
	}
	return [][]byte{appendEIO(nil, eioMessage, appendSIO(nil, sioConnectError, sp.nsp, sioNoID, mustJSON(sioRefusal{Message: sioInvalidNsp})))}
}

func conformanceAuth(nsp string, auth json.RawMessage) []byte {
	if len(bytes.TrimSpace(auth)) == 0 {
		auth = json.RawMessage("{}")
	}
	args := append(append([]byte(`["auth",`), auth...), ']')
	return appendEIO(nil, eioMessage, appendSIO(nil, sioEvent, nsp, sioNoID, args))
}

// conformanceHello is the CONNECT answer (the sid alone) and the auth event.
func (p *peer) conformanceHello() [][]byte {
	connect := mustJSON(struct {
		Sid string `json:"sid"`
	}{p.sio.sid})
	return [][]byte{sioMessage(sioConnect, sioNoID, connect), conformanceAuth(sioMainNsp, p.sio.auth)}
}

// conformancePacket handles a packet of the main namespace.
func (p *peer) conformancePacket(sp sioPacket) {
	if sp.typ != sioEvent {
		return // DISCONNECT keeps the transport; acks and CONNECTs change nothing
	}
	var args []json.RawMessage
	json.Unmarshal(sp.data, &args) // checked by decodeSIO
	var name string
	json.Unmarshal(args[0], &name)
	switch name {
	case "message":
		rest := mustJSON(append([]json.RawMessage{json.RawMessage(`"message-back"`)}, args[1:]...))
		p.outbox.push(sioMessage(sioEvent, sioNoID, rest), 0)
	case "message-with-ack":
		if sp.id != sioNoID {
			p.outbox.push(sioMessage(sioAck, sp.id, mustJSON(args[1:])), 0)
		}
	}
}
