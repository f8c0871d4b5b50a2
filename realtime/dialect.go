package realtime

import (
	"time"
	"unicode/utf8"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// dialect is one wire protocol a peer speaks: protocol v1 on /ws
// (PROTOCOL.md) or Socket.IO on /socket.io/ (sio.go). It is chosen when
// the peer is created; the hub and the peer's loops build every frame
// through it and never ask which protocol a peer speaks. Outbox, limits
// and seq order are the same for both.
type dialect struct {
	// kind indexes the frames Broadcast and RevokeWriters build once per
	// dialect, not once per peer.
	kind int
	// hello is what a new peer gets first (live: it starts live, no replay).
	hello func(p *peer, hello helloFrame, live bool) [][]byte
	// event translates one of the hub's event envelopes.
	event func(envelope []byte) []byte
	// ack answers the emit id of the peer that wrote post; nil: it gets
	// the event instead, like every other peer.
	ack func(id int64, post feed.Post) []byte
	// failed answers a write that failed (id nil: the message had none).
	failed func(id *int64, e *feed.Error) []byte
	reset  func(epoch string) []byte
	synced func(p *peer, seq int64, epoch string) []byte
	// auth tells a peer it lost write access.
	auth func(reason string) []byte
	// ping is the writer's heartbeat.
	ping func(p *peer) error
	// read handles one message the reader read.
	read func(p *peer, kind int, data []byte)
}

// dialects is the number of dialects (the range of kind).
const dialects = 2

// v1 is protocol v1's dialect: the hub's envelopes are its frames.
var v1 = &dialect{
	kind: 0,
	hello: func(_ *peer, hello helloFrame, _ bool) [][]byte {
		hello.Type = "hello"
		return [][]byte{mustJSON(hello)}
	},
	event:  func(envelope []byte) []byte { return envelope },
	ack:    EncodeAck, // built for the one peer that needs it
	failed: encodeError,
	reset:  func(epoch string) []byte { return mustJSON(resetFrame{Type: "reset", Epoch: epoch}) },
	synced: func(_ *peer, seq int64, _ string) []byte { return mustJSON(seqFrame{Type: "synced", Seq: seq}) },
	auth:   func(reason string) []byte { return mustJSON(authFrame{Type: "auth", CanWrite: false, Reason: reason}) },
	ping: func(p *peer) error {
		return p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(p.hub.cfg.WriteWait))
	},
	read: func(p *peer, kind int, data []byte) {
		if kind != websocket.TextMessage {
			p.sendError(nil, feed.Errorf(feed.CodeBadRequest, "binary frames are not part of protocol v1; send JSON text frames"))
			return
		}
		if !utf8.Valid(data) { // RFC 6455 8.1; gorilla leaves this check to us
			p.outbox.close(websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			return
		}
		p.handle(data)
	},
}

// socketIO is the Socket.IO dialect: the same events, as Socket.IO events
// inside Engine.IO message packets.
var socketIO = &dialect{
	kind: 1,
	hello: func(p *peer, hello helloFrame, live bool) [][]byte {
		hello.Type = "" // the event's name says it
		return p.sioHelloFrames(hello, live)
	},
	event: sioFrame,
	ack: func(id int64, post feed.Post) []byte {
		if id == sioNoID {
			return nil // emitted without an ack callback: the event comes back
		}
		return sioAckFrame(id, post)
	},
	failed: sioErrorFrame,
	reset: func(epoch string) []byte {
		return sioEmit(SIOEventReset, mustJSON(struct {
			Epoch string `json:"epoch"`
		}{epoch}), noOffset)
	},
	synced: (*peer).sioSynced,
	auth: func(reason string) []byte {
		return sioEmit(SIOEventAuth, mustJSON(authFrame{CanWrite: false, Reason: reason}), noOffset)
	},
	// Engine.IO's heartbeat is a packet; the client answers it with a pong packet.
	ping: func(p *peer) error { return p.write([]byte{eioPing}) },
	read: func(p *peer, kind int, data []byte) {
		if kind != websocket.TextMessage {
			p.outbox.close(websocket.CloseUnsupportedData, errSIOBinaryFrame.Error())
			return
		}
		if !utf8.Valid(data) {
			p.outbox.close(websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			return
		}
		p.handleSIO(data)
	},
}
