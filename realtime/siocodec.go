package realtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The codec of /socket.io/: Engine.IO protocol 4 packets (the transport
// layer: open, heartbeat, messages, upgrade) carrying Socket.IO protocol 5
// packets (namespaces, events, acks). Written from the two specifications
// (docs/SOCKETIO.md names them); only text payloads are supported, binary
// attachments are refused with a clear error.

// Engine.IO packet types, as their one-character wire form.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// eioSeparator separates packets in a long-polling payload.
const eioSeparator = '\x1e'

// eioPacket is one Engine.IO packet; binary marks a binary message (a
// websocket binary frame, or a "b"-prefixed base64 packet in a payload).
type eioPacket struct {
	typ    byte
	data   []byte
	binary bool
}

var (
	errEIOEmpty   = errors.New("engine.io: empty packet")
	errEIOType    = errors.New("engine.io: unknown packet type")
	errEIOBase64  = errors.New("engine.io: binary packet is not valid base64")
	errSIOEmpty   = errors.New("socket.io: empty packet")
	errSIOType    = errors.New("socket.io: unknown packet type")
	errSIOBinary  = errors.New("socket.io: binary attachments are not supported; send JSON only")
	errSIOAckID   = errors.New("socket.io: the ack id is not a whole number")
	errSIONsp     = errors.New("socket.io: the namespace is not terminated by a comma")
	errSIOPayload = errors.New("socket.io: the payload is not valid JSON")
)

// decodeEIO parses one Engine.IO packet as one websocket text frame (or one
// record of a polling payload) holds it.
func decodeEIO(frame []byte) (eioPacket, error) {
	if len(frame) == 0 {
		return eioPacket{}, errEIOEmpty
	}
	switch frame[0] {
	case eioOpen, eioClose, eioPing, eioPong, eioMessage, eioUpgrade, eioNoop:
		return eioPacket{typ: frame[0], data: frame[1:]}, nil
	}
	return eioPacket{}, fmt.Errorf("%w %q", errEIOType, frame[0])
}

// appendEIO appends the text form of a packet of type typ carrying data.
func appendEIO(b []byte, typ byte, data []byte) []byte {
	b = append(b, typ)
	return append(b, data...)
}

// decodePayload splits a long-polling request body into its packets. A
// record starting with "b" is a binary message in base64.
func decodePayload(body []byte) ([]eioPacket, error) {
	var out []eioPacket
	for rec := range bytes.SplitSeq(body, []byte{eioSeparator}) {
		if len(rec) > 0 && rec[0] == 'b' {
			data, err := base64.StdEncoding.AppendDecode(nil, rec[1:])
			if err != nil {
				return nil, errEIOBase64
			}
			out = append(out, eioPacket{typ: eioMessage, data: data, binary: true})
			continue
		}
		p, err := decodeEIO(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// appendPayload appends packets, each already in its text form, as one
// long-polling response body.
func appendPayload(b []byte, packets [][]byte) []byte {
	for i, p := range packets {
		if i > 0 {
			b = append(b, eioSeparator)
		}
		b = append(b, p...)
	}
	return b
}

// Socket.IO packet types, as their one-character wire form.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// sioNoID marks a packet without an ack id (ids on the wire are 0 or more).
const sioNoID = -1

// sioPacket is one Socket.IO packet. nsp is "/" when the wire form names
// no namespace; data is the JSON payload as sent, nil when absent.
type sioPacket struct {
	typ  byte
	nsp  string
	id   int64
	data json.RawMessage
}

// decodeSIO parses a Socket.IO packet: type, [attachments-], [namespace,],
// [ack id], [JSON payload]. It checks the payload's shape for the packet
// type as the specification requires (an event is a non-empty array whose
// first element is the event name; an ack an array with an id; a connect
// an object or nothing).
func decodeSIO(s []byte) (sioPacket, error) {
	if len(s) == 0 {
		return sioPacket{}, errSIOEmpty
	}
	p := sioPacket{typ: s[0], nsp: "/", id: sioNoID}
	switch p.typ {
	case sioConnect, sioDisconnect, sioEvent, sioAck, sioConnectError:
	case sioBinaryEvent, sioBinaryAck:
		return sioPacket{}, errSIOBinary
	default:
		return sioPacket{}, fmt.Errorf("%w %q", errSIOType, s[0])
	}
	rest := s[1:]
	if len(rest) > 0 && rest[0] == '/' {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			// A namespace alone ends the packet ("1/admin" has no payload).
			if bytes.ContainsAny(rest, `[{"`) {
				return sioPacket{}, errSIONsp
			}
			p.nsp, rest = string(rest), nil
		} else {
			p.nsp, rest = string(rest[:i]), rest[i+1:]
		}
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n > 0 {
		id, err := strconv.ParseInt(string(rest[:n]), 10, 64)
		if err != nil {
			return sioPacket{}, errSIOAckID
		}
		p.id, rest = id, rest[n:]
	}
	if len(rest) > 0 {
		if !json.Valid(rest) {
			return sioPacket{}, errSIOPayload
		}
		p.data = rest
	}
	return p, p.check()
}

// check enforces the payload each packet type must carry.
func (p sioPacket) check() error {
	first := byte(0)
	if d := bytes.TrimLeft(p.data, " \t\r\n"); len(d) > 0 {
		first = d[0]
	}
	switch p.typ {
	case sioConnect:
		if p.data != nil && first != '{' {
			return errors.New("socket.io: a CONNECT payload must be an object")
		}
	case sioDisconnect:
		if p.data != nil {
			return errors.New("socket.io: a DISCONNECT has no payload")
		}
	case sioEvent:
		var args []json.RawMessage
		if first != '[' || json.Unmarshal(p.data, &args) != nil || len(args) == 0 {
			return errors.New("socket.io: an EVENT payload must be a non-empty array")
		}
		var name string
		if json.Unmarshal(args[0], &name) != nil {
			return errors.New("socket.io: an EVENT's first element must be the event name, a string")
		}
	case sioAck:
		if p.id == sioNoID {
			return errors.New("socket.io: an ACK needs an id")
		}
		if first != '[' {
			return errors.New("socket.io: an ACK payload must be an array")
		}
	case sioConnectError:
		if first != '{' && first != '"' {
			return errors.New("socket.io: a CONNECT_ERROR payload must be an object")
		}
	}
	return nil
}

// eventArgs splits an EVENT's payload into its name and arguments.
func (p sioPacket) eventArgs() (string, []json.RawMessage) {
	var args []json.RawMessage
	var name string
	json.Unmarshal(p.data, &args) // checked by decodeSIO
	json.Unmarshal(args[0], &name)
	return name, args[1:]
}

// appendSIO appends the text form of a Socket.IO packet; id sioNoID
// writes none, data nil writes no payload.
func appendSIO(b []byte, typ byte, nsp string, id int64, data []byte) []byte {
	b = append(b, typ)
	if nsp != "" && nsp != "/" {
		b = append(b, nsp...)
		b = append(b, ',')
	}
	if id != sioNoID {
		b = strconv.AppendInt(b, id, 10)
	}
	return append(b, data...)
}
