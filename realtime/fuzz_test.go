package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lanfeed/app"
	"lanfeed/feed"
	"lanfeed/realtime"
)

// restStatus maps each documented error code to its HTTP status (PROTOCOL.md).
var restStatus = map[string]int{
	feed.CodeInvalid:      http.StatusBadRequest,
	feed.CodeBadRequest:   http.StatusBadRequest,
	feed.CodeUnauthorized: http.StatusUnauthorized,
	feed.CodeNotFound:     http.StatusNotFound,
	feed.CodeConflict:     http.StatusConflict,
	feed.CodeReadOnly:     http.StatusForbidden,
	feed.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	feed.CodeRateLimited:  http.StatusTooManyRequests,
}

// restFields are the JSON names and query parameters an invalid error may
// point at.
var restFields = map[string]bool{"title": true, "body": true, "author": true, "version": true, "limit": true, "before": true, "after": true}

// openFuzzNode opens a real node (SQLite file, app.Service, hub) without
// serving it: the fuzz target calls its handler directly.
func openFuzzNode(tb testing.TB) *app.Server {
	tb.Helper()
	srv, err := app.Open(context.Background(), app.Config{
		DataDir: tb.TempDir(), Name: nodeName,
		Hub:    realtime.Config{HTTPWriteRate: -1}, // the fuzzer writes faster than any person
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatalf("app.Open() = %v; want nil error", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// FuzzREST sends random requests to the REST API of a real node and checks
// what any client may rely on: only documented statuses, never a 500 for
// client input, every API error a JSON error object whose code matches the
// status, and nothing stored by a request that failed. In the inputs,
// "$ID" in the path stands for a live post's id and "$TOKEN" in auth for the
// right bearer token, so that mutations reach the write paths.
func FuzzREST(f *testing.F) {
	seeds := []struct {
		method, path, auth, origin, ctype string
		body                              string
	}{
		{"GET", "/api/posts", "", "", "", ""},
		{"GET", "/api/posts?limit=0&before=%00", "", "", "", ""},
		{"GET", "/api/posts?limit=99999999999999999999", "", "", "", ""},
		{"GET", "/api/posts?before=Zm9vYmFy", "", "", "", ""},
		{"GET", "/api/posts?after=MC54&limit=2", "", "", "", ""},
		{"GET", "/api/posts?after=Zm9vYmFy&before=MC54", "", "", "", ""},
		{"GET", "/api/posts/$ID", "", "", "", ""},
		{"GET", "/api/posts/..%2f..%2fetc%2fpasswd", "", "", "", ""},
		{"POST", "/api/posts", "$TOKEN", "", "application/json", `{"title":"<script>alert(1)</script>","body":"'; DROP TABLE posts; --"}`},
		{"POST", "/api/posts", "$TOKEN", "", "application/json", `{"title":1e400}`},
		{"POST", "/api/posts", "$TOKEN", "", "application/json", `{"title":"a","title":"b","x":1}`},
		{"POST", "/api/posts", "$TOKEN", "", "text/plain", "[{\"title\":\"\xff\"}]"},
		{"POST", "/api/posts", "Bearer nope", "", "application/json", `{"title":"x"}`},
		{"POST", "/api/posts", "$TOKEN", "http://evil.example", "application/json", `{"title":"x"}`},
		{"POST", "/api/posts", "$TOKEN", "", "application/json", `{"title":"x"} trailing`},
		{"POST", "/api/posts", "$TOKEN", "", "application/json", ``},
		{"PATCH", "/api/posts/$ID", "$TOKEN", "", "application/json", `{"version":1,"title":"new"}`},
		{"PATCH", "/api/posts/$ID", "$TOKEN", "", "application/json", `{"version":9223372036854775808,"title":"x"}`},
		{"PATCH", "/api/posts/$ID", "$TOKEN", "", "application/json", `{"version":99,"body":"\u0000"}`},
		{"PATCH", "/api/posts/nope", "$TOKEN", "", "application/json", `{"version":1,"title":"x"}`},
		{"DELETE", "/api/posts/$ID?version=-1", "$TOKEN", "", "", ""},
		{"DELETE", "/api/posts/$ID?version=7", "$TOKEN", "", "", ""},
		{"PUT", "/api/posts/$ID", "$TOKEN", "", "application/json", `{}`},
		{"OPTIONS", "/api/info", "", "", "", ""},
		{"GET", "/api/peers", "", "", "", ""},
		{"GET", "/healthz", "", "", "", ""},
		{"GET", "/api//posts/./$ID/../", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.auth, s.origin, s.ctype, []byte(s.body))
	}
	srv := openFuzzNode(f)
	h := srv.Hub.Handler()
	token := srv.Service.Token()
	live, err := srv.Service.Create(context.Background(), feed.NewPost{Title: "fuzz target"}, feed.Caller{})
	if err != nil {
		f.Fatalf("Create() = %v; want nil error", err)
	}
	f.Fuzz(func(t *testing.T, method, path, auth, origin, ctype string, body []byte) {
		if _, err := srv.Service.Get(context.Background(), live.ID); err != nil {
			// An earlier input deleted it: give "$ID" a live post again.
			if live, err = srv.Service.Create(context.Background(), feed.NewPost{Title: "fuzz target"}, feed.Caller{}); err != nil {
				t.Fatalf("Create() = %v; want nil error", err)
			}
		}
		path = strings.ReplaceAll(path, "$ID", live.ID)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://127.0.0.1:7700"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		// ServeMux routes on the escaped path: "/api%2f" is not under /api/.
		api := strings.HasPrefix(req.URL.EscapedPath(), "/api/")
		if !api && req.URL.Path != "/healthz" {
			return // not a request a client can send, or not the REST API
		}
		req.Host = "127.0.0.1:7700"
		auth = strings.ReplaceAll(auth, "$TOKEN", "Bearer "+token)
		for k, v := range map[string]string{"Authorization": auth, "Origin": origin, "Content-Type": ctype} {
			if v != "" && validHeader(v) {
				req.Header.Set(k, v)
			}
		}
		before := srv.Service.Seq()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		res := w.Result()
		raw, _ := io.ReadAll(res.Body)
		after := srv.Service.Seq()

		switch res.StatusCode {
		case http.StatusOK, http.StatusCreated:
			if !json.Valid(raw) {
				t.Fatalf("%s %q = %d with body %q; want JSON", method, path, res.StatusCode, raw)
			}
			if method == "POST" || method == "PATCH" {
				// A write succeeded: it must have been valid UTF-8, and what
				// was stored must follow the rules.
				if !utf8.Valid(body) {
					t.Fatalf("%s %q with invalid UTF-8 body %q = %d; want it refused", method, path, body, res.StatusCode)
				}
				var p wirePost
				if err := json.Unmarshal(raw, &p); err != nil {
					t.Fatalf("%s %q = %s: %v", method, path, raw, err)
				}
				if n := utf8.RuneCountInString(p.Title); p.Title != strings.TrimSpace(p.Title) || n < 1 || n > feed.MaxTitle ||
					utf8.RuneCountInString(p.Body) > feed.MaxBody || strings.ContainsAny(p.Title+p.Body, "\x00\r") {
					t.Fatalf("%s %q stored %+v; want a post within the rules", method, path, p)
				}
			}
			return
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			return // ServeMux cleaning the path; nothing was handled
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q (auth %q, body %q) = %d %s; want no server error for client input", method, path, auth, body, res.StatusCode, raw)
		}
		if !api {
			return // outside /api/ (the web UI, /healthz, /ws) statuses are HTTP's own: 405, a handshake's 400
		}
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s %q = %d with body %q; want a JSON error object", method, path, res.StatusCode, raw)
		}
		want, ok := restStatus[e.Code]
		if e.Code == feed.CodeUnauthorized && res.StatusCode == http.StatusForbidden {
			want = http.StatusForbidden // a refused origin
		}
		if !ok || want != res.StatusCode || e.Message == "" {
			t.Fatalf("%s %q = %d %s; want a documented code whose status is the response's", method, path, res.StatusCode, raw)
		}
		if e.Code == feed.CodeInvalid && !restFields[e.Field] {
			t.Fatalf("%s %q = %s; want invalid to name its field", method, path, raw)
		}
		if !utf8.Valid(raw) {
			t.Fatalf("%s %q: error body %q is not UTF-8", method, path, raw)
		}
		if after != before {
			t.Fatalf("%s %q = %d but seq went %d -> %d; want nothing stored", method, path, res.StatusCode, before, after)
		}
	})
}

// validHeader reports whether v can be sent as a header value at all.
func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
