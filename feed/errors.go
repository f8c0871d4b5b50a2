package feed

import (
	"errors"
	"fmt"
)

// Error codes: the whole vocabulary clients ever see. Each transport maps them
// once (HTTP status, websocket error frame, Wails rejected promise).
const (
	CodeInvalid      = "invalid"      // a field breaks a rule; Field names it
	CodeNotFound     = "not_found"    // no such post (or it was deleted)
	CodeConflict     = "conflict"     // version mismatch; Post is the current state
	CodeReadOnly     = "read_only"    // the post belongs to another node: only that node changes it
	CodeUnauthorized = "unauthorized" // a write without the pairing token
	CodeBadRequest   = "bad_request"  // malformed message: bad JSON, unknown type or event
	CodeRateLimited  = "rate_limited" // too many writes too fast
	CodeTooLarge     = "too_large"    // message or body over its size limit
	CodeInternal     = "internal"     // anything else; details are logged, not shown
)

// Error is an error a client may see. Message is safe to show to users.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // with CodeInvalid
	Post    *Post  `json:"post,omitempty"`  // with CodeConflict: the current post
	cause   error  // for the log only; never sent
}

func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Wrap returns an *Error showing clients message while keeping cause for
// the log.
func Wrap(code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, cause: cause}
}

// Invalid returns a CodeInvalid error naming field.
func Invalid(field, message string) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: message}
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, or an internal error that hides
// err's text (which may hold paths or SQL) from clients.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error; see the node's log"}
}
