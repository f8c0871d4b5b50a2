package realtime

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"unicode/utf8"

	"lanfeed/feed"
)

// fuzzService is a Service that validates like the real one and records the
// writes that reach it. Only the post with id fuzzPostID exists, at version 1.
type fuzzService struct {
	writes int
}

const fuzzPostID = "01a20146-55c4-7d74-ba3f-e9f124a82429"

func (s *fuzzService) Identity() feed.Identity {
	return feed.Identity{Node: feed.Node{ID: "n1", Name: "fuzz"}, Epoch: "e1"}
}
func (s *fuzzService) Seq() int64                  { return 1 }
func (s *fuzzService) Authorize(token string) bool { return token == "t" }
func (s *fuzzService) List(context.Context, feed.PageQuery) (feed.Page, error) {
	return feed.Page{}, nil
}
func (s *fuzzService) Get(_ context.Context, id string) (feed.Post, error) { return s.find(id, 0) }

func (s *fuzzService) find(id string, version int64) (feed.Post, error) {
	p := feed.Post{ID: fuzzPostID, Title: "t", Version: 1, Seq: 1}
	switch {
	case id != fuzzPostID:
		return feed.Post{}, feed.Errorf(feed.CodeNotFound, "no post with id %q", id)
	case version != 0 && version != p.Version:
		return feed.Post{}, &feed.Error{Code: feed.CodeConflict, Message: "changed meanwhile", Post: &p}
	}
	return p, nil
}

func (s *fuzzService) Create(_ context.Context, in feed.NewPost, _ feed.Caller) (feed.Post, error) {
	if err := in.Normalize(); err != nil {
		return feed.Post{}, err
	}
	s.writes++
	return feed.Post{ID: fuzzPostID, Title: in.Title, Body: in.Body, Version: 1, Seq: 2}, nil
}

func (s *fuzzService) Update(_ context.Context, id string, patch feed.PostPatch, _ feed.Caller) (feed.Post, error) {
	if err := patch.Normalize(); err != nil {
		return feed.Post{}, err
	}
	p, err := s.find(id, patch.Version)
	if err == nil {
		s.writes++
	}
	return p, err
}

func (s *fuzzService) Delete(_ context.Context, id string, version int64, _ feed.Caller) (feed.Post, error) {
	if version < 0 {
		return feed.Post{}, feed.Invalid("version", "version must be 1 or more, or left out")
	}
	p, err := s.find(id, version)
	if err == nil {
		s.writes++
	}
	return p, err
}

func (s *fuzzService) Sync(context.Context, int64, string, string, int) (feed.SyncPage, error) {
	return feed.SyncPage{Epoch: "e1"}, nil
}
func (s *fuzzService) Presence(string, feed.Peer, int) {}
func (s *fuzzService) Follows(context.Context) ([]feed.FollowInfo, error) {
	return []feed.FollowInfo{}, nil
}
func (s *fuzzService) Follow(context.Context, string) (feed.FollowInfo, error) {
	return feed.FollowInfo{}, feed.Invalid("url", "no")
}
func (s *fuzzService) Unfollow(context.Context, string) error {
	return feed.Errorf(feed.CodeNotFound, "no")
}
func (s *fuzzService) Nearby(context.Context) ([]feed.NearbyNode, error) {
	return []feed.NearbyNode{}, nil
}
func (s *fuzzService) Settings(context.Context) (feed.MeshSettings, error) {
	return feed.MeshSettings{}, nil
}
func (s *fuzzService) SetSettings(_ context.Context, ms feed.MeshSettings) (feed.MeshSettings, error) {
	s.writes++
	return ms, nil
}

// wsCodes are the error codes protocol v1 documents for a websocket message;
// internal would mean client input reached a server fault.
var wsCodes = map[string]bool{
	feed.CodeInvalid: true, feed.CodeBadRequest: true, feed.CodeUnauthorized: true,
	feed.CodeNotFound: true, feed.CodeConflict: true,
}

// wireFields are the JSON names an invalid error may point at.
var wireFields = map[string]bool{"title": true, "body": true, "author": true, "id": true, "version": true, "limit": true, "before": true}

// FuzzDecodeMessage feeds one inbound text message through the peer's real
// handling (JSON decode, type and event dispatch, strict data decoding,
// validation) and checks that it never panics and ends in exactly one
// documented outcome: a write reaching the service, a sync request, or one
// error frame with a documented code, echoing the id when one was readable.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":"hi","body":"b","author":"bob"}}`,
		`{"type":"emit","id":2,"event":"posts.update","data":{"id":"` + fuzzPostID + `","version":1,"title":"x"}}`,
		`{"type":"emit","id":3,"event":"posts.delete","data":{"id":"` + fuzzPostID + `","version":2}}`,
		`{"type":"sync","since":0,"epoch":""}`,
		`{"type":"sync","since":-1}`,
		`{"type":"ack","id":7,"seq":42,"data":{}}`,
		`{"type":"emit","id":9223372036854775808,"event":"posts.create","data":{"title":"x"}}`,
		`{"type":"emit","id":1e400,"event":"posts.create","data":{"title":"x"}}`,
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":5}}`,
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":"x","bogus":1}}`,
		`{"type":"emit","id":1,"event":"posts.create","data":[1,2]}`,
		`{"type":"emit","id":1,"event":"posts.create","data":null}`,
		`{"type":"emit","id":1,"event":"posts.create"}`,
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":"a"}}{"x":1}`,
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":"a\u0000b"}}`,
		"{\"type\":\"emit\",\"id\":1,\"event\":\"posts.create\",\"data\":{\"title\":\"\xff\xfe\"}}",
		`{"type":"emit","id":1,"type":"sync","since":3}`,
		`{"type":"emit","event":"posts.create","data":{"title":"no id"}}`,
		`{"type":"emit","id":1,"event":"posts.nuke","data":{}}`,
		`{"type":"","id":4}`,
		`{"type":"emit","id":3,"event":5,"data":{"title":"x"}}`,
		`{"id":1,"id":"x","type":"emit"}`,
		`{"type":"emit","id":"8","event":"posts.create","data":{"title":"x"}}`,
		`{"type":"emit","id":9,"event":"posts.update","data":{"id":"x","version":"2","title":"x"}}`,
		`[{"type":"sync","since":0}]`,
		`"just a string"`,
		`null`,
		``,
		`{"type":"emit","id":1,"event":"posts.update","data":{"id":"","version":1,"title":"x"}}`,
		`{"type":"emit","id":1,"event":"posts.update","data":{"id":"` + fuzzPostID + `","version":"1","title":"x"}}`,
		`{"type":"emit","id":1,"event":"posts.delete","data":{"id":"` + fuzzPostID + `","version":-5}}`,
		`{"type":"emit","id":1,"event":"posts.create","data":{"title":{"a":{"b":{"c":[[[[[[[]]]]]]]}}}}}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(`{"type":"emit","id":1,"event":"posts.create","data":{"title":"hi"}}`), false)
	f.Fuzz(func(t *testing.T, msg []byte, canWrite bool) {
		svc := &fuzzService{}
		h := NewHub(Config{Service: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		// No writer starts (start does nothing), so what handle queues stays
		// for take.
		p := &peer{hub: h, id: 1, canWrite: canWrite, dialect: v1, done: make(chan struct{})}
		p.outbox = newOutbox(h.cfg.QueueBytes, 0, nil, func() {})
		p.handle(msg)
		w := p.outbox.take()
		frames, req, closing := w.frames, w.sync, w.closing
		if closing != nil {
			t.Fatalf("handle(%q) closed the peer (%d %s); want it to stay open", msg, closing.code, closing.reason)
		}

		// What a client could read as the message's id.
		var probe struct {
			ID *int64 `json:"id"`
		}
		idKnown := json.Unmarshal(msg, &probe) == nil && probe.ID != nil

		outcomes := len(frames) + svc.writes
		if req != nil {
			outcomes++
		}
		if outcomes != 1 {
			t.Fatalf("handle(%q): %d frames, %d writes, sync %v; want exactly one outcome", msg, len(frames), svc.writes, req != nil)
		}
		if svc.writes == 1 && !canWrite {
			t.Fatalf("handle(%q) wrote without the token", msg)
		}
		if len(frames) == 0 {
			return
		}
		raw := frames[0].frame
		if !utf8.Valid(raw) {
			t.Fatalf("error frame %q is not valid UTF-8", raw)
		}
		var e struct {
			Type    string `json:"type"`
			ID      *int64 `json:"id"`
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("frame %s: %v", raw, err)
		}
		if e.Type != "error" || !wsCodes[e.Code] || e.Message == "" {
			t.Fatalf("handle(%q) sent %s; want an error frame with a documented code and a message", msg, raw)
		}
		if e.Field != "" && !wireFields[e.Field] {
			t.Fatalf("handle(%q) sent %s; want field to name a documented JSON field", msg, raw)
		}
		if (e.Code == feed.CodeInvalid) != (e.Field != "") {
			t.Fatalf("handle(%q) sent %s; want field set exactly for invalid", msg, raw)
		}
		if e.Code == feed.CodeUnauthorized && canWrite {
			t.Fatalf("handle(%q) sent %s to a peer with the token", msg, raw)
		}
		if idKnown && (e.ID == nil || *e.ID != *probe.ID) {
			t.Fatalf("handle(%q) sent %s; want it to echo id %d", msg, raw, *probe.ID)
		}
		if e.ID != nil && !idKnown && *e.ID == 0 {
			t.Fatalf("handle(%q) sent %s: an id the message does not carry", msg, raw)
		}
	})
}
