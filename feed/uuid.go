package feed

import (
	"crypto/rand"
	"encoding/hex"

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

// RandomToken returns n random bytes as lowercase hex.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
