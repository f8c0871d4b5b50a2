// Package feed holds lanfeed's domain: posts, the node's identity, the input
// types every writer uses, their validation, and the error vocabulary that
// crosses every boundary (HTTP, websocket, Wails) as data.
//
// It also holds the vocabulary of changes (event.go): event and action
// names, who asked for a change (Caller), the one event envelope every
// consumer receives (EncodePostEvent), and the resume rule's page
// (SyncPage), which the app's Service.Sync fills for the window and for
// websocket peers alike.
//
// It imports nothing of lanfeed's; store, realtime and app all depend on it,
// and meet each other only in app and main.
package feed

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on post fields, counted in Unicode code points.
const (
	MaxTitle  = 200
	MaxBody   = 20000
	MaxAuthor = 64
	MaxName   = 64 // node and peer display names
)

// Post is one entry of the feed. A deleted post is kept as a tombstone (Deleted
// set, Title and Body emptied) so that peers resuming later learn of the delete.
type Post struct {
	ID        string `json:"id"` // UUIDv7
	Title     string `json:"title"`
	Body      string `json:"body"`
	Author    string `json:"author"`
	Origin    string `json:"origin"` // id of the node that owns the post; only that node changes it
	CreatedAt Time   `json:"createdAt"`
	UpdatedAt Time   `json:"updatedAt"`
	Version   int64  `json:"version"` // 1 on create, +1 per update or delete
	Deleted   bool   `json:"deleted"`
	Seq       int64  `json:"seq"` // database-wide sequence number of the post's last change
}

// Node is the identity of one lanfeed database, shown to peers.
type Node struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Page limits for listing the feed.
const (
	MinLimit     = 1
	MaxLimit     = 200
	DefaultLimit = 50
)

// Page is one page of the feed, newest first. Next is the cursor of the
// older page after it, empty when there are no older posts; Prev is the
// cursor of the newer page before it, empty when the page reaches the head
// of the feed. Seq is the node's seq when the page was read: the page
// reflects every change up to it and none after, so a client applies only
// events with a greater seq on top of it.
type Page struct {
	Posts []Post `json:"posts"`
	Next  string `json:"next"`
	Prev  string `json:"prev"`
	Seq   int64  `json:"seq"`
}

// PageQuery asks for one page of the feed: the Limit posts just older than
// cursor Before (a page's Next), or just newer than cursor After (a page's
// Prev), or with neither the newest Limit posts. At most one cursor is set.
type PageQuery struct {
	Before string
	After  string
	Limit  int // MinLimit..MaxLimit
}

// Check returns an *Error with CodeInvalid naming the field that breaks a
// rule. Whether a cursor is one the node returned is for the node to tell.
func (q PageQuery) Check() error {
	if q.Limit < MinLimit || q.Limit > MaxLimit {
		return Invalid("limit", fmt.Sprintf("limit must be between %d and %d", MinLimit, MaxLimit))
	}
	if q.Before != "" && q.After != "" {
		return Invalid("after", "give before (older posts) or after (newer posts), not both")
	}
	return nil
}

// NewPost is the input of a create. Author is optional: empty means the
// node's display name.
type NewPost struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	Author string `json:"author,omitempty"`
}

// Normalize turns CRLF and lone CR into LF in every field, trims the title
// and author and checks every rule; limits count the text after that. It
// returns an *Error with CodeInvalid naming the first field that fails.
func (p *NewPost) Normalize() error {
	p.Title = strings.TrimSpace(normalizeNewlines(p.Title))
	p.Body = normalizeNewlines(p.Body)
	p.Author = strings.TrimSpace(normalizeNewlines(p.Author))
	if err := checkText("title", p.Title, 1, MaxTitle); err != nil {
		return err
	}
	if err := checkText("body", p.Body, 0, MaxBody); err != nil {
		return err
	}
	if p.Author != "" {
		return checkText("author", p.Author, 1, MaxAuthor)
	}
	return nil
}

// PostPatch is the input of an update: the version the writer last saw and the
// fields to change. A nil field is left as it is.
type PostPatch struct {
	Version int64   `json:"version"`
	Title   *string `json:"title,omitempty"`
	Body    *string `json:"body,omitempty"`
}

// Normalize turns line endings into LF, trims the title and checks every
// rule, as NewPost.Normalize does.
func (p *PostPatch) Normalize() error {
	if p.Version < 1 {
		return Invalid("version", "version is required and must be 1 or more")
	}
	if p.Title == nil && p.Body == nil {
		return Invalid("title", "nothing to update: give a title, a body or both")
	}
	if p.Title != nil {
		t := strings.TrimSpace(normalizeNewlines(*p.Title))
		p.Title = &t
		if err := checkText("title", t, 1, MaxTitle); err != nil {
			return err
		}
	}
	if p.Body != nil {
		b := normalizeNewlines(*p.Body)
		p.Body = &b
		return checkText("body", b, 0, MaxBody)
	}
	return nil
}

// Validate checks p as it arrives whole from another node: every field
// holds what a lanfeed node can commit. Ids are UUIDv7s; title and author
// are trimmed and within their limits (a tombstone has neither title nor
// body); version is 1 or more; createdAt is not before 1970 and updatedAt
// not before createdAt nor after year 9999. Seq is the sender's and is not
// checked. Like Normalize it returns an *Error with CodeInvalid naming the
// first field that fails, and changes nothing.
func (p Post) Validate() error {
	if err := CheckID("id", p.ID); err != nil {
		return err
	}
	if err := CheckID("origin", p.Origin); err != nil {
		return err
	}
	if p.Deleted {
		if p.Title != "" || p.Body != "" {
			return Invalid("title", "a deleted post keeps no title or body")
		}
	} else {
		if err := checkTrimmed("title", p.Title, MaxTitle); err != nil {
			return err
		}
		if err := checkText("body", p.Body, 0, MaxBody); err != nil {
			return err
		}
	}
	if err := checkTrimmed("author", p.Author, MaxAuthor); err != nil {
		return err
	}
	if p.Version < 1 {
		return Invalid("version", "version must be 1 or more")
	}
	switch {
	case p.CreatedAt.UnixMilli() < 0:
		return Invalid("createdAt", "createdAt is before 1970")
	case p.UpdatedAt.Before(p.CreatedAt.Time):
		return Invalid("updatedAt", "updatedAt is before createdAt")
	case p.UpdatedAt.Year() > 9999:
		return Invalid("updatedAt", "updatedAt is after the year 9999")
	}
	return nil
}

// checkTrimmed is checkText for a required field that Normalize trims: text
// with surrounding white space was not written by a lanfeed node.
func checkTrimmed(field, s string, max int) error {
	if s != strings.TrimSpace(s) {
		return Invalid(field, field+" has surrounding white space")
	}
	return checkText(field, s, 1, max)
}

// normalizeNewlines turns CRLF and lone CR into LF. Scripts on Windows end
// lines with CRLF (old Mac programs with CR), and what is stored must not
// depend on the writer's platform; every text field of a post gets it, as
// each accepts newlines. Limits count the text after it, so a CRLF counts
// as one character. Display names are identifiers, not text: a CR there is
// still a control character and refused.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// CheckName validates a node or peer display name.
func CheckName(field, name string) error {
	return checkText(field, name, 1, MaxName)
}

// checkText enforces length in code points, valid UTF-8 and no control
// characters other than newline and tab (CR is gone by now in post fields:
// see normalizeNewlines).
func checkText(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, field+" is not valid UTF-8")
	}
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return Invalid(field, fmt.Sprintf("%s contains control character U+%04X", field, r))
		}
		n++
	}
	switch {
	case n < min && min == 1:
		return Invalid(field, field+" is required")
	case n < min:
		return Invalid(field, fmt.Sprintf("%s must be at least %d characters", field, min))
	case n > max:
		return Invalid(field, fmt.Sprintf("%s is %d characters; the limit is %d", field, n, max))
	}
	return nil
}

// Time is a UTC instant with millisecond precision. In JSON it is RFC 3339
// with exactly three fractional digits, e.g. "2026-11-22T09:30:00.250Z".
type Time struct{ time.Time }

// timeLayout always prints milliseconds so that clients can compare strings.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Now returns the current time truncated to the millisecond, in UTC.
func Now() Time { return UnixMilli(time.Now().UnixMilli()) }

// UnixMilli returns the Time of a Unix timestamp in milliseconds.
func UnixMilli(ms int64) Time { return Time{time.UnixMilli(ms).UTC()} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return t.AppendJSON(make([]byte, 0, len(timeLayout)+2)), nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = UnixMilli(v.UnixMilli())
	return nil
}
