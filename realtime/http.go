package realtime

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lanfeed/feed"

	"github.com/gorilla/websocket"
)

// Info describes the node as the LAN sees it.
func (h *Hub) Info() feed.NodeInfo {
	id := h.svc.Identity()
	urls := h.cfg.URLs()
	if urls == nil {
		urls = []string{}
	}
	return feed.NodeInfo{Proto: Proto, Node: id.Node, Epoch: id.Epoch, Seq: h.Seq(), Peers: h.Count(), URLs: urls}
}

// Handler serves the websocket at /ws, the REST API under /api/, /healthz and
// the web UI at /.
func (h *Hub) Handler() http.Handler { return h.handler }

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", h.serveWS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /api/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, h.Info())
	})
	mux.HandleFunc("GET /api/peers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string][]feed.Peer{"peers": h.Peers()})
	})
	mux.HandleFunc("GET /api/posts", h.listPosts)
	mux.HandleFunc("GET /api/posts/{id}", h.getPost)
	mux.HandleFunc("POST /api/posts", h.guard(h.createPost))
	mux.HandleFunc("PATCH /api/posts/{id}", h.guard(h.updatePost))
	mux.HandleFunc("DELETE /api/posts/{id}", h.guard(h.deletePost))
	mux.HandleFunc("GET /api/follows", h.listFollows)
	mux.HandleFunc("POST /api/follows", h.guard(h.addFollow))
	mux.HandleFunc("DELETE /api/follows/{node}", h.guard(h.removeFollow))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, feed.Errorf(feed.CodeNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
	mux.Handle("/", h.ui())
	return mux
}

// serveWS upgrades a peer. A token, if given, must be right: a peer that
// believes it can write learns at once that it cannot.
func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	if !r.ProtoAtLeast(1, 1) { // RFC 6455 4.1; gorilla would upgrade HTTP/1.0
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "a websocket handshake needs HTTP/1.1 or later"))
		return
	}
	if !h.checkOrigin(r) {
		refuseOrigin(w, r)
		return
	}
	q := r.URL.Query()
	token := q.Get("token")
	if token != "" && !h.svc.Authorize(token) {
		h.writeError(w, feed.Errorf(feed.CodeUnauthorized, "token is not this node's pairing token"))
		return
	}
	name := strings.TrimSpace(q.Get("name"))
	if name == "" {
		name = "anonymous"
	}
	if err := feed.CheckName("name", name); err != nil {
		h.writeError(w, err)
		return
	}
	// A sync in the URL starts the replay right after hello, leaving no window
	// in which live events could arrive before it.
	var initial *syncRequest
	if v := q.Get("since"); v != "" {
		since, err := strconv.ParseInt(v, 10, 64)
		if err != nil || since < 0 {
			h.writeError(w, feed.Errorf(feed.CodeBadRequest, "since must be a seq of 0 or more"))
			return
		}
		initial = &syncRequest{since: since, epoch: q.Get("epoch")}
	}
	presence := true
	switch q.Get("presence") {
	case "", "1":
	case "0":
		presence = false
	default:
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "presence must be 0 or 1"))
		return
	}
	// A follower asks for the posts this node originated only; relaying
	// other nodes' posts would be another value.
	var origin string
	switch q.Get("origin") {
	case "", "all":
	case OriginSelf:
		origin = h.svc.Identity().ID
	default:
		h.writeError(w, feed.Errorf(feed.CodeBadRequest, "origin must be %q or %q", OriginSelf, "all"))
		return
	}
	addr := sourceAddr(r)
	if wait := h.barred.barred(addr, time.Now()); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeJSON(w, http.StatusTooManyRequests, feed.Errorf(feed.CodeRateLimited,
			"a peer from %s was closed for flooding; reconnect in %s s", addr, retryAfter(wait)))
		return
	}
	if !h.conns.acquire(addr) {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, feed.Errorf(feed.CodeRateLimited,
			"too many connections: this node serves at most %d peers, %d per address; try again later",
			h.cfg.MaxPeers, h.cfg.MaxPeersPerAddr))
		return
	}
	cw := &corkingWriter{ResponseWriter: w, sendBuffer: h.cfg.SendBuffer}
	conn, err := h.upgrader.Upgrade(cw, r, nil)
	if err != nil {
		h.conns.release(addr)
		return // the upgrader has answered with the HTTP error
	}
	id := h.nextID.Add(1)
	p := &peer{
		hub: h, conn: conn, out: cw.conn, id: id, addr: addr, canWrite: token != "", token: token, presence: presence, origin: origin,
		info: feed.Peer{ID: "p" + strconv.FormatUint(id, 10), Name: name, Since: feed.Now()},
		done: make(chan struct{}),
	}
	count, err := h.register(p, initial)
	if err != nil {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
		conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WriteWait))
		conn.Close()
		h.conns.release(addr)
		return
	}
	h.svc.Presence(feed.ActionJoin, p.info, count)
	go p.readLoop()
}

// checkOrigin accepts requests without Origin (programs), from the node's
// own host, or from an allowed origin.
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range h.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			return true
		}
	}
	return false
}

// refuseOrigin answers 403: the request is well-formed, but pages from that
// origin may not use this node.
func refuseOrigin(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusForbidden, feed.Errorf(feed.CodeUnauthorized,
		"origin %q is not allowed; add it with --allow-origin", r.Header.Get("Origin")))
}

// guard lets a state-changing request through only from an allowed origin,
// within the source address's write rate, and with the pairing token as a
// bearer token. Every attempt takes a token from the rate bucket, so
// guessing the pairing token is throttled too.
func (h *Hub) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.checkOrigin(r) {
			refuseOrigin(w, r)
			return
		}
		if h.httpRate != nil {
			if ok, wait := h.httpRate.take(sourceAddr(r), time.Now()); !ok {
				w.Header().Set("Retry-After", retryAfter(wait))
				h.writeError(w, feed.Errorf(feed.CodeRateLimited,
					"too many writes from %s: at most %g a second in bursts of %d; retry in %s s",
					sourceAddr(r), h.cfg.HTTPWriteRate, h.cfg.HTTPWriteBurst, retryAfter(wait)))
				return
			}
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !h.svc.Authorize(strings.TrimSpace(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lanfeed"`)
			h.writeError(w, feed.Errorf(feed.CodeUnauthorized, "writing needs the node's pairing token as \"Authorization: Bearer <token>\""))
			return
		}
		next(w, r)
	}
}

func (h *Hub) listPosts(w http.ResponseWriter, r *http.Request) {
	limit := feed.DefaultLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			h.writeError(w, feed.Invalid("limit", fmt.Sprintf("limit must be a number between %d and %d", feed.MinLimit, feed.MaxLimit)))
			return
		}
		limit = n
	}
	page, err := h.svc.List(r.Context(), r.URL.Query().Get("before"), limit)
	h.reply(w, http.StatusOK, page, err)
}

func (h *Hub) getPost(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Get(r.Context(), r.PathValue("id"))
	h.reply(w, http.StatusOK, p, err)
}

func (h *Hub) createPost(w http.ResponseWriter, r *http.Request) {
	var in feed.NewPost
	if err := h.decodeBody(w, r, &in); err != nil {
		h.writeError(w, err)
		return
	}
	p, err := h.svc.Create(r.Context(), in, feed.Caller{})
	h.reply(w, http.StatusCreated, p, err)
}

func (h *Hub) updatePost(w http.ResponseWriter, r *http.Request) {
	var patch feed.PostPatch
	if err := h.decodeBody(w, r, &patch); err != nil {
		h.writeError(w, err)
		return
	}
	p, err := h.svc.Update(r.Context(), r.PathValue("id"), patch, feed.Caller{})
	h.reply(w, http.StatusOK, p, err)
}

func (h *Hub) deletePost(w http.ResponseWriter, r *http.Request) {
	var version int64
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 1 {
			h.writeError(w, feed.Invalid("version", "version must be a whole number of 1 or more"))
			return
		}
		version = v
	}
	p, err := h.svc.Delete(r.Context(), r.PathValue("id"), version, feed.Caller{})
	h.reply(w, http.StatusOK, p, err)
}

func (h *Hub) listFollows(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Follows(r.Context())
	h.reply(w, http.StatusOK, map[string][]feed.FollowInfo{"follows": list}, err)
}

func (h *Hub) addFollow(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL string `json:"url"`
	}
	if err := h.decodeBody(w, r, &in); err != nil {
		h.writeError(w, err)
		return
	}
	if in.URL == "" {
		h.writeError(w, feed.Invalid("url", "url is required: the address of the node to follow"))
		return
	}
	fi, err := h.svc.Follow(r.Context(), in.URL)
	h.reply(w, http.StatusOK, fi, err)
}

func (h *Hub) removeFollow(w http.ResponseWriter, r *http.Request) {
	err := h.svc.Unfollow(r.Context(), r.PathValue("node"))
	h.reply(w, http.StatusOK, map[string]string{"node": r.PathValue("node")}, err)
}

// decodeBody reads a JSON body of at most MaxMessage bytes into v.
func (h *Hub) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxMessage))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return feed.Errorf(feed.CodeTooLarge, "request body is over the %d-byte limit", tooBig.Limit)
	}
	if err != nil {
		return feed.Errorf(feed.CodeBadRequest, "could not read the request body")
	}
	return decodeData(data, v)
}

// decodeData decodes one JSON object into v strictly: unknown fields and
// trailing data are refused, a value of the wrong type names its field.
func decodeData(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return feed.Errorf(feed.CodeBadRequest, "expected a JSON object")
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD and store
	// text the writer never sent; JSON must be UTF-8 (RFC 8259 8.1).
	if !utf8.Valid(data) {
		return feed.Errorf(feed.CodeBadRequest, "malformed JSON: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// Field is a Go path ("PostPatch.version" through an embedded
			// struct); clients know only the JSON name, its last element.
			field := typeErr.Field[strings.LastIndexByte(typeErr.Field, '.')+1:]
			return feed.Invalid(field, fmt.Sprintf("%s must be a %s, not %s", field, kindName(typeErr.Type.Kind().String()), typeErr.Value))
		}
		return feed.Errorf(feed.CodeBadRequest, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return feed.Errorf(feed.CodeBadRequest, "malformed JSON: data after the object")
	}
	return nil
}

func kindName(kind string) string {
	switch kind {
	case "int64", "int":
		return "whole number"
	case "ptr", "struct":
		return "JSON object"
	}
	return kind
}

func (h *Hub) reply(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		h.writeError(w, err)
		return
	}
	writeJSON(w, status, v)
}

// statusOf maps each error code to its HTTP status, once for the whole API.
var statusOf = map[string]int{
	feed.CodeInvalid:      http.StatusBadRequest,
	feed.CodeBadRequest:   http.StatusBadRequest,
	feed.CodeUnauthorized: http.StatusUnauthorized,
	feed.CodeNotFound:     http.StatusNotFound,
	feed.CodeConflict:     http.StatusConflict,
	feed.CodeReadOnly:     http.StatusForbidden,
	feed.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	feed.CodeRateLimited:  http.StatusTooManyRequests,
	feed.CodeInternal:     http.StatusInternalServerError,
}

func (h *Hub) writeError(w http.ResponseWriter, err error) {
	e := feed.AsError(err)
	if e.Code == feed.CodeInternal {
		h.log.Error("request failed", "err", err)
	}
	writeJSON(w, statusOf[e.Code], e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ui serves the built web UI, or a notice when the bundle was not built in.
func (h *Hub) ui() http.Handler {
	var files http.Handler
	if h.cfg.UI != nil {
		if f, err := h.cfg.UI.Open("index.html"); err == nil {
			f.Close()
			files = http.FileServer(h.cfg.UI)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		if files == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>lanfeed</title><p>This lanfeed node was built without its web UI. "+
				"The API is at <code>/api/posts</code> and the live feed at <code>/ws</code>.</p>")
			return
		}
		files.ServeHTTP(w, r)
	})
}

// ConstantTimeEqual compares a presented token with the real one without
// leaking, through timing, how much of it matched.
func ConstantTimeEqual(presented, real string) bool {
	return real != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(real)) == 1
}
