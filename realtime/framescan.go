package realtime

import "errors"

// frameScanner follows the frame headers of what a peer sends, to catch the
// one framing error gorilla cannot see: a close frame whose payload is a
// single byte (RFC 6455 5.5.1: a close body, if any, starts with a two-byte
// code). gorilla reads it as "no status code" and answers with an empty
// close; the RFC wants the connection failed with 1002. Everything else
// about the frame (masking, sizes, opcodes) is still gorilla's to judge.
//
// It looks at header bytes only and steps over payloads whole, so its cost
// does not grow with message size.
type frameScanner struct {
	state   scanState
	op      byte
	ext     int    // extended length bytes still to read
	mask    int    // masking key bytes still to read
	payload uint64 // payload bytes still to step over
	bad     error  // set once a violation is seen
}

type scanState uint8

const (
	scanByte0 scanState = iota
	scanByte1
	scanExtLen
	scanMask
	scanPayload
)

// errCloseOneByte is the violation frameScanner reports.
var errCloseOneByte = errors.New("close frame with a 1-byte payload")

// scan reads b, the next bytes from the peer, and returns how many of them
// may go to gorilla: all of them, or those before the byte that revealed a
// violation (then s.bad is set and nothing after it is ever passed on).
func (s *frameScanner) scan(b []byte) int {
	if s.bad != nil {
		return 0
	}
	for i := 0; i < len(b); {
		switch s.state {
		case scanByte0:
			s.op = b[i] & 0x0f
			s.state = scanByte1
			i++
		case scanByte1:
			masked, l7 := b[i]&0x80 != 0, b[i]&0x7f
			if s.op == 0x8 && l7 == 1 {
				s.bad = errCloseOneByte
				return i // gorilla never gets this header's length byte
			}
			s.payload, s.ext, s.mask = uint64(l7), 0, 0
			switch l7 {
			case 126:
				s.payload, s.ext = 0, 2
			case 127:
				s.payload, s.ext = 0, 8
			}
			if masked {
				s.mask = 4
			}
			i++
			s.next()
		case scanExtLen:
			s.payload = s.payload<<8 | uint64(b[i])
			s.ext--
			i++
			s.next()
		case scanMask:
			s.mask--
			i++
			s.next()
		case scanPayload:
			step := min(s.payload, uint64(len(b)-i))
			s.payload -= step
			i += int(step)
			s.next()
		}
	}
	return len(b)
}

// next moves past the header part just completed.
func (s *frameScanner) next() {
	switch {
	case s.ext > 0:
		s.state = scanExtLen
	case s.mask > 0:
		s.state = scanMask
	case s.payload > 0:
		s.state = scanPayload
	default:
		s.state = scanByte0
	}
}
