package feed

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// NewID returns a UUIDv7 string (RFC 9562): 48 bits of Unix milliseconds, then
// random bits, so ids sort by creation time. Ids made by one process are
// strictly increasing, even within one millisecond or when the clock steps
// back, so posts created in the same millisecond sort (date, then id) in the
// order they were created.
func NewID() string { return ids.next(time.Now()) }

// ids is the process's id sequence; a process-wide value because strict
// order only holds if every id comes from the same sequence.
var ids idSeq

// idSeq hands out increasing UUIDv7s: an id that would not sort after the
// previous one is the previous one plus one in its 74 random bits (RFC 9562
// 6.2, monotonic random), carrying into the milliseconds when they overflow.
type idSeq struct {
	mu   sync.Mutex
	last [16]byte
}

func (s *idSeq) next(now time.Time) string {
	u := newUUIDv7(now)
	s.mu.Lock()
	if bytes.Compare(u[:], s.last[:]) <= 0 {
		u = s.last
		increment(&u)
	}
	s.last = u
	s.mu.Unlock()
	return format(u)
}

// increment adds one to u, skipping the version and variant bits.
func increment(u *[16]byte) {
	for i := 15; i >= 0; i-- {
		mask := byte(0xff)
		switch i {
		case 6:
			mask = 0x0f // the low nibble; the high one is the version
		case 8:
			mask = 0x3f // the low 6 bits; the top 2 are the variant
		}
		if v := u[i] & mask; v < mask {
			u[i] = u[i]&^mask | (v + 1)
			return
		}
		u[i] &^= mask
	}
}

func newUUIDv7(now time.Time) [16]byte {
	var u [16]byte
	rand.Read(u[6:]) // never fails on supported platforms (Go 1.24+)
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(u[0:6], ms[2:8])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	return u
}

func format(u [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

// CheckID reports whether id has the shape NewID gives every post and node
// id: a UUIDv7 in canonical lowercase form. field names the input in the
// error, which never quotes the value (it may be anything a peer sent).
func CheckID(field, id string) error {
	if !isUUIDv7(id) {
		return Invalid(field, field+" must be a UUIDv7: 8-4-4-4-12 lowercase hex digits, version 7")
	}
	return nil
}

func isUUIDv7(s string) bool {
	if len(s) != 36 || s[14] != '7' || !strings.ContainsRune("89ab", rune(s[19])) {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// RandomToken returns n random bytes as lowercase hex.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
