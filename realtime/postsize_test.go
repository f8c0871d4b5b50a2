package realtime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"lanfeed/feed"
	"lanfeed/internal/wiretest"
	"lanfeed/realtime"

	"github.com/gorilla/websocket"
)

// The worst-case texts come from wiretest, shared with the desktop's test.
var (
	escaped   = wiretest.Escaped
	worstText = wiretest.WorstText
)

// object joins escaped keys and raw JSON values into an object.
func object(members ...string) string {
	var parts []string
	for i := 0; i < len(members); i += 2 {
		parts = append(parts, escaped(members[i])+":"+members[i+1])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// worstPost is a create's JSON with title, body and author of the given
// lengths in the worst escaping, and the post the node should store.
func worstPost(title, body, author int) (data string, want wirePost) {
	t, _ := worstText(title, false) // trimmed: a CRLF at either end would not count
	b, bk := worstText(body, true)
	a, _ := worstText(author, false)
	return object("title", escaped(t), "body", escaped(b), "author", escaped(a)), wirePost{Title: t, Body: bk, Author: a}
}

// worstEmit wraps data in an emit with the longest id and event name.
func worstEmit(event, data string) string {
	return object("type", escaped("emit"), "id", "-9223372036854775808", "event", escaped(event), "data", data)
}

// TestPostSize_LimitFitsTheWorstValidPost: the size limit is derived from
// the post limits, so the largest valid create and update, escaped in the
// worst way, fit, and the limit is not much larger than they need.
func TestPostSize_LimitFitsTheWorstValidPost(t *testing.T) {
	// The derivation names these fields; a new one must enter it.
	var names []string
	for f := range reflect.TypeFor[feed.NewPost]().Fields() {
		names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	if got := strings.Join(names, " "); got != "title body author" {
		t.Fatalf("feed.NewPost has JSON fields %q; the size limit counts title, body and author: update feed.MaxMessage", got)
	}
	create, _ := worstPost(feed.MaxTitle, feed.MaxBody, feed.MaxAuthor)
	t2, _ := worstText(feed.MaxTitle, false)
	b2, _ := worstText(feed.MaxBody, true)
	update := object("id", escaped(unknownID), "version", "-9223372036854775808", "title", escaped(t2), "body", escaped(b2))
	worst := 0
	for _, m := range []string{worstEmit(realtime.EmitCreate, create), worstEmit(realtime.EmitUpdate, update), worstEmit(realtime.EmitDelete, update)} {
		worst = max(worst, len(m))
	}
	if worst > realtime.DefaultMaxMessage {
		t.Fatalf("the largest valid emit takes %d bytes; DefaultMaxMessage = %d: valid posts would be refused", worst, realtime.DefaultMaxMessage)
	}
	if slack := realtime.DefaultMaxMessage - worst; slack > 4<<10 {
		t.Errorf("DefaultMaxMessage = %d is %d bytes over the largest valid emit; want it derived from the post limits (a little slack only)", realtime.DefaultMaxMessage, slack)
	}
	t.Logf("largest valid emit: %d bytes; limit %d", worst, realtime.DefaultMaxMessage)
}

// TestPostSize_WorstCaseAcceptedOverREST: the largest valid post, every
// character escaped (and pretty-printed too), is created and updated over
// REST; one character more in any field is refused as invalid, naming it.
func TestPostSize_WorstCaseAcceptedOverREST(t *testing.T) {
	n := startNode(t, realtime.Config{})
	auth := bearer(n.token)
	data, want := worstPost(feed.MaxTitle, feed.MaxBody, feed.MaxAuthor)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(data), "", "  "); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"Compact": data, "Indented": pretty.String()} {
		t.Run(name, func(t *testing.T) {
			var p wirePost
			if status := n.do(t, "POST", "/api/posts", auth, body, &p); status != http.StatusCreated {
				t.Fatalf("POST of the largest valid post (%d bytes) = %d; want 201", len(body), status)
			}
			if p.Title != want.Title || p.Body != want.Body || p.Author != want.Author {
				t.Errorf("stored %d/%d/%d characters; want the post as sent (line endings as LF)", len([]rune(p.Title)), len([]rune(p.Body)), len([]rune(p.Author)))
			}
			title, _ := worstText(feed.MaxTitle, false)
			text, _ := worstText(feed.MaxBody, true)
			patch := object("version", "1", "title", escaped(title), "body", escaped(text))
			if status := n.do(t, "PATCH", "/api/posts/"+p.ID, auth, patch, nil); status != http.StatusOK {
				t.Errorf("PATCH of the largest valid update (%d bytes) = %d; want 200", len(patch), status)
			}
		})
	}
	for _, o := range wiretest.OverByOnes {
		t.Run("OneCharacterTooMany/"+o.Field, func(t *testing.T) {
			body, _ := worstPost(o.Title, o.Body, o.Author)
			before := n.seq()
			var e apiError
			status := n.do(t, "POST", "/api/posts", auth, body, &e)
			want := fmt.Sprintf("%s is %d characters; the limit is %d", o.Field, o.Limit+1, o.Limit)
			if status != http.StatusBadRequest || e.Code != "invalid" || e.Field != o.Field || e.Message != want {
				t.Errorf("POST with %s over by one = %d %+v; want 400 invalid %s %q", o.Field, status, e, o.Field, want)
			}
			if n.seq() != before {
				t.Errorf("seq %d -> %d; want nothing stored", before, n.seq())
			}
		})
	}
	t.Run("FarOverTheLimit", func(t *testing.T) {
		var e apiError
		body := `{"title":"t","body":"` + strings.Repeat("x", realtime.DefaultMaxMessage) + `"}`
		want := fmt.Sprintf("the request body is over the %d-byte limit; a post within the length limits (title 200, body 20000, author 64 characters) always fits", realtime.DefaultMaxMessage)
		if status := n.do(t, "POST", "/api/posts", auth, body, &e); status != http.StatusRequestEntityTooLarge || e.Code != "too_large" || e.Message != want {
			t.Errorf("POST of %d bytes = %d %+v; want 413 too_large %q", len(body), status, e, want)
		}
	})
}

// TestPostSize_WorstCaseAcceptedOverWebsocket: the largest valid emit is
// acknowledged; one character more in any field gets an invalid error
// frame naming it, and the connection stays open.
func TestPostSize_WorstCaseAcceptedOverWebsocket(t *testing.T) {
	n := startNode(t, realtime.Config{})
	c := n.dial(t, dialOpts{name: "big", token: n.token})
	data, want := worstPost(feed.MaxTitle, feed.MaxBody, feed.MaxAuthor)
	c.sendRaw(websocket.TextMessage, []byte(worstEmit(realtime.EmitCreate, data)))
	f, _ := c.readUntil("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
	if f.Type != "ack" || f.ID == nil || *f.ID != -9223372036854775808 {
		t.Fatalf("reply to the largest valid emit = %.200s; want its ack", f)
	}
	p := f.AckPost(t)
	if p.Title != want.Title || p.Body != want.Body || p.Author != want.Author {
		t.Errorf("ack carries %d/%d/%d characters; want the post as sent (line endings as LF)", len([]rune(p.Title)), len([]rune(p.Body)), len([]rune(p.Author)))
	}
	title, _ := worstText(feed.MaxTitle, false)
	text, _ := worstText(feed.MaxBody, true)
	update := object("id", escaped(p.ID), "version", "1", "title", escaped(title), "body", escaped(text))
	c.sendRaw(websocket.TextMessage, []byte(worstEmit(realtime.EmitUpdate, update)))
	if f, _ := c.readUntil("ack", func(f frame) bool { return f.Type == "ack" || f.Type == "error" }); f.Type != "ack" {
		t.Errorf("reply to the largest valid update = %.200s; want its ack", f)
	}

	for _, o := range wiretest.OverByOnes {
		data, _ := worstPost(o.Title, o.Body, o.Author)
		before := n.seq()
		c.sendRaw(websocket.TextMessage, []byte(worstEmit(realtime.EmitCreate, data)))
		f, _ := c.readUntil("an answer", func(f frame) bool { return f.Type == "ack" || f.Type == "error" })
		want := fmt.Sprintf("%s is %d characters; the limit is %d", o.Field, o.Limit+1, o.Limit)
		if f.Type != "error" || f.Code != "invalid" || f.Field != o.Field || f.Message != want {
			t.Errorf("emit with %s over by one: got %.300s; want error invalid %s %q", o.Field, f, o.Field, want)
		}
		if n.seq() != before {
			t.Errorf("seq %d -> %d; want nothing stored", before, n.seq())
		}
	}
	// Still connected: a sync is answered.
	c.sync(n.seq(), n.epoch)
	if f, _ := c.readUntil("synced", func(f frame) bool { return f.Type == "synced" }); f.Type != "synced" {
		t.Errorf("after the refusals got %s; want synced", f)
	}
}
