package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"lanfeed/feed"
)

var (
	// ErrClosed is returned by a Conn's methods once Close was called.
	ErrClosed = errors.New("client: connection closed")
	// ErrOutcomeUnknown is wrapped by the error of an emit whose connection
	// ended (or whose context was done) after the emit was sent but before
	// the node answered. Before writing it again, see whether it landed:
	// resume and look for the post (an ack is never sent twice).
	ErrOutcomeUnknown = errors.New("no answer from the node: the write may or may not have been committed")
	// ErrProto is wrapped by the error of a connection that ended because
	// the node broke wire protocol v1: its hello announces another version,
	// or it sent a frame that is not JSON of the protocol's shape, a binary
	// frame, or a frame over feed.MaxMessage. Dial returns it for the hello,
	// Next once the connection has ended; a Follower does not retry it (see
	// Follower.Run).
	ErrProto = errors.New("client: the node broke wire protocol v1")
)

// RefusedError is a websocket handshake the node answered with an HTTP error
// instead of an upgrade.
type RefusedError struct {
	Host       string // the node's host:port, as dialled
	StatusCode int    // e.g. 401
	Status     string // e.g. "401 Unauthorized"
	// Err is the error object of the response body; nil if the body was not
	// one (a proxy's page, say).
	Err *feed.Error
	// RetryAfter is the wait the node asked for in Retry-After; 0 if none.
	RetryAfter time.Duration
}

func (e *RefusedError) Error() string {
	msg := "client: the node at " + e.Host + " refused the connection: it answered " + e.Status
	if e.Err != nil && e.Err.Message != "" {
		msg += ": " + e.Err.Message
	}
	return msg
}

// Unwrap returns the body's error object, so that feed.AsError(err).Code gives
// the node's code.
func (e *RefusedError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Retryable reports whether the refusal is worth retrying later: too many
// connections or writes (429), or a node in trouble (5xx). Any other 4xx
// (wrong token, host or origin) stays the same however often one asks.
func (e *RefusedError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// refused builds the RefusedError of a failed handshake's response.
func refused(host string, resp *http.Response) *RefusedError {
	e := &RefusedError{Host: host, StatusCode: resp.StatusCode, Status: resp.Status}
	if body, err := io.ReadAll(resp.Body); err == nil {
		var fe feed.Error
		if json.Unmarshal(body, &fe) == nil && fe.Code != "" {
			e.Err = &fe
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// malformed is the error for a frame that breaks the protocol; it quotes
// the start of the frame.
func malformed(raw []byte, why string) error {
	const quote = 200
	if len(raw) > quote {
		raw = raw[:quote]
	}
	return fmt.Errorf("%w: malformed frame (%s): %s", ErrProto, why, raw)
}

// outcomeUnknown is the error of emit id whose answer will not come.
func outcomeUnknown(event string, id int64, cause error) error {
	return fmt.Errorf("client: %s (emit %d): %w (%w)", event, id, ErrOutcomeUnknown, cause)
}

// notSent is the error of an emit that never left: cause ended the
// connection first.
func notSent(event string, cause error) error {
	return fmt.Errorf("%w (%s not sent)", cause, event)
}
