package feed

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// NewID returns a UUIDv7 string (RFC 9562): 48 bits of Unix milliseconds,
// 12 bits of sub-millisecond time, then random bits, so ids sort by creation
// time. Ids made by one process are strictly increasing, even within one
// millisecond or when the clock steps back, so posts created in the same
// millisecond sort (date, then id) in the order they were created:
// google/uuid keeps the last (milliseconds, 12-bit fraction) it handed out
// behind a mutex and, when the clock has not moved past it, uses that plus
// one (RFC 9562 6.2, method 3).
func NewID() string {
	// NewV7 fails only if crypto/rand does, which since Go 1.24 never returns
	// an error.
	return uuid.Must(uuid.NewV7()).String()
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
