package realtime

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// clientFrame builds a masked client frame with opcode op and n payload bytes.
func clientFrame(op byte, n int) []byte {
	f := []byte{0x80 | op}
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = append(f, 1, 2, 3, 4) // masking key
	// The payload repeats header-like bytes, to catch a scanner that reads
	// payload as headers.
	return append(f, bytes.Repeat([]byte{0x88, 0x81}, n/2+1)[:n]...)
}

// scanChunks passes stream to a scanner in chunks of size and returns how many
// bytes it let through.
func scanChunks(s *frameScanner, stream []byte, size int) int {
	passed := 0
	for len(stream) > 0 {
		k := min(size, len(stream))
		n := s.scan(stream[:k])
		passed += n
		if n < k {
			return passed
		}
		stream = stream[k:]
	}
	return passed
}

func TestFrameScanner_LegalStreamPassesWhole(t *testing.T) {
	var stream []byte
	for _, f := range []struct {
		op byte
		n  int
	}{{0x1, 0}, {0x1, 1}, {0x2, 125}, {0x1, 126}, {0x9, 0}, {0xA, 5}, {0x1, 65535}, {0x2, 65536}, {0x8, 0}, {0x8, 2}, {0x8, 30}} {
		stream = append(stream, clientFrame(f.op, f.n)...)
	}
	for _, size := range []int{1, 2, 3, 7, 1024, len(stream)} {
		var s frameScanner
		if got := scanChunks(&s, stream, size); got != len(stream) || s.bad != nil {
			t.Errorf("chunks of %d: passed %d of %d bytes, violation %v; want all, none", size, got, len(stream), s.bad)
		}
		if s.state != scanByte0 {
			t.Errorf("chunks of %d: ends in state %d; want at a frame boundary", size, s.state)
		}
	}
}

func TestFrameScanner_OneByteCloseStopsBeforeItsLength(t *testing.T) {
	before := clientFrame(0x1, 300)
	stream := append(append([]byte{}, before...), clientFrame(0x8, 1)...)
	stream = append(stream, clientFrame(0x1, 10)...) // never reaches gorilla
	for _, size := range []int{1, 2, 5, 64, len(stream)} {
		var s frameScanner
		got := scanChunks(&s, stream, size)
		if s.bad != errCloseOneByte {
			t.Fatalf("chunks of %d: violation %v; want %v", size, s.bad, errCloseOneByte)
		}
		if want := len(before) + 1; got != want {
			t.Errorf("chunks of %d: passed %d bytes; want %d (up to the close frame's first byte)", size, got, want)
		}
		if n := s.scan(clientFrame(0x1, 3)); n != 0 {
			t.Errorf("after the violation, scan passed %d bytes; want 0", n)
		}
	}
}
