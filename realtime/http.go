package realtime

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"lanfeed/feed"
	"lanfeed/internal/version"

	"github.com/gorilla/websocket"
)

// Info describes the node as the LAN sees it.
func (h *Hub) Info() feed.NodeInfo {
	id := h.svc.Identity()
	urls := h.cfg.URLs()
	if urls == nil {
		urls = []string{}
	}
	return feed.NodeInfo{Proto: Proto, Version: version.Get().Version, Node: id.Node, Epoch: id.Epoch, Seq: h.Seq(), Peers: h.Count(), URLs: urls}
}

// Handler serves the websocket at /ws, Socket.IO at /socket.io/, the REST API under /api/, /healthz and
// the web UI at /.
func (h *Hub) Handler() http.Handler { return h.handler }

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", h.serveWS)
	mux.HandleFunc(SocketIOPath, h.serveSIO)
	if h.cfg.SocketIOConformance {
		mux.HandleFunc(EngineIOPath, h.serveSIO) // the Engine.IO suite's echo server (sioconform.go)
	}
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
	mux.HandleFunc("GET /api/nearby", h.listNearby)
	mux.HandleFunc("GET /api/settings", h.getSettings)
	mux.HandleFunc("PUT /api/settings", h.guard(h.putSettings))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, feed.Errorf(feed.CodeNotFound, "there is no API endpoint %s %.100s; the API has %s",
			r.Method, r.URL.Path, apiEndpoints))
	})
	mux.Handle("/", h.ui())
	return mux
}

// apiEndpoints lists the REST API for the 404 of any other /api/ path.
const apiEndpoints = "GET /api/info, GET /api/peers, GET and POST /api/posts, GET, PATCH and DELETE /api/posts/{id}, " +
	"GET and POST /api/follows, DELETE /api/follows/{node}, GET /api/nearby, and GET and PUT /api/settings"

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
		h.writeError(w, feed.Errorf(feed.CodeUnauthorized, "%s; connect without ?token= to read only", wrongTokenWS))
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
	conn, out, addr, ok := h.admitUpgrade(w, r)
	if !ok {
		return
	}
	p := &peer{
		hub: h, conn: conn, out: out, addr: addr, canWrite: token != "", token: token, presence: presence, origin: origin,
		info: feed.Peer{Name: name}, dialect: v1, done: make(chan struct{}),
	}
	h.admitPeer(p, initial)
}

// admit refuses a new connection from addr while it is barred for
// flooding or over the connection caps; otherwise it holds one of addr's
// connections, which the caller must release if the peer never starts.
func (h *Hub) admit(w http.ResponseWriter, addr string) bool {
	if wait := h.barred.barred(addr, time.Now()); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeJSON(w, http.StatusTooManyRequests, feed.Errorf(feed.CodeRateLimited,
			"a peer from %s was closed for flooding; reconnect in %s s", addr, retryAfter(wait)))
		return false
	}
	if !h.conns.acquire(addr) {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, feed.Errorf(feed.CodeRateLimited,
			"too many connections: this node serves at most %d peers, %d per address; try again later",
			h.cfg.MaxPeers, h.cfg.MaxPeersPerAddr))
		return false
	}
	return true
}

// admitPeer gives an upgraded peer its id, registers it, announces it and
// starts its reader.
func (h *Hub) admitPeer(p *peer, initial *syncRequest) {
	p.id = h.nextID.Add(1)
	p.info.ID, p.info.Since = "p"+strconv.FormatUint(p.id, 10), feed.Now()
	count, err := h.register(p, initial)
	if err != nil {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
		p.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WriteWait))
		p.conn.Close()
		h.conns.release(p.addr)
		return
	}
	h.svc.Presence(feed.ActionJoin, p.info, count)
	p.outbox.release() // hello, then its own join, then any replay
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
			if ok, wait := h.httpRate.take(sourceAddr(r), h.cfg.Now()); !ok {
				w.Header().Set("Retry-After", retryAfter(wait))
				h.writeError(w, feed.Errorf(feed.CodeRateLimited,
					"too many writes from %s: at most %g a second in bursts of %d; retry in %s s",
					sourceAddr(r), h.cfg.HTTPWriteRate, h.cfg.HTTPWriteBurst, retryAfter(wait)))
				return
			}
		}
		if err := h.checkBearer(r.Header.Get("Authorization")); err != nil {
			// RFC 6750 3: a token that was sent and refused is invalid_token.
			challenge := `Bearer realm="lanfeed"`
			if err.Message == wrongTokenREST {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			h.writeError(w, err)
			return
		}
		next(w, r)
	}
}

// Messages for a write without the right token. A missing token and a
// wrong one read differently: someone whose token was regenerated must
// learn that it changed, and where the current one is shown.
const (
	tokenShown     = "the node's owner finds it in the desktop app's node panel or in the output of lanfeedd serve"
	noTokenREST    = `writing needs the node's pairing token: send the header "Authorization: Bearer <token>"; ` + tokenShown
	wrongTokenREST = "the token sent is not this node's pairing token: it may have been regenerated, or be another node's; " + tokenShown
	noTokenWS      = "writing needs the node's pairing token: reconnect with ?token=<token>; " + tokenShown
	wrongTokenWS   = "the token in ?token= is not this node's pairing token: it may have been regenerated, or be another node's; " + tokenShown
)

// checkBearer checks an Authorization header for the pairing token. The
// scheme is case-insensitive (RFC 9110 11.1): "bearer" and "BEARER" do.
func (h *Hub) checkBearer(header string) *feed.Error {
	scheme, token, spaced := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	switch {
	case scheme == "":
		return feed.Errorf(feed.CodeUnauthorized, noTokenREST)
	case !strings.EqualFold(scheme, "Bearer") && !spaced: // a bare token, most likely; never echoed
		return feed.Errorf(feed.CodeUnauthorized, `the Authorization header has no scheme: send "Authorization: Bearer <token>"`)
	case !strings.EqualFold(scheme, "Bearer"):
		return feed.Errorf(feed.CodeUnauthorized,
			`the Authorization header uses another scheme than Bearer: send "Authorization: Bearer <token>"`)
	case token == "":
		return feed.Errorf(feed.CodeUnauthorized, noTokenREST)
	case !h.svc.Authorize(token):
		return feed.Errorf(feed.CodeUnauthorized, wrongTokenREST)
	}
	return nil
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
	q := feed.PageQuery{Before: r.URL.Query().Get("before"), After: r.URL.Query().Get("after"), Limit: limit}
	page, err := h.svc.List(r.Context(), q)
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

func (h *Hub) listNearby(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Nearby(r.Context())
	h.reply(w, http.StatusOK, map[string][]feed.NearbyNode{"nearby": list}, err)
}

func (h *Hub) getSettings(w http.ResponseWriter, r *http.Request) {
	s, err := h.svc.Settings(r.Context())
	h.reply(w, http.StatusOK, s, err)
}

// putSettings replaces the settings: every field is required, so that a
// body missing one never turns it off by accident.
func (h *Hub) putSettings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AutoFollow *bool `json:"autoFollow"`
	}
	if err := h.decodeBody(w, r, &in); err != nil {
		h.writeError(w, err)
		return
	}
	if in.AutoFollow == nil {
		h.writeError(w, feed.Invalid("autoFollow",
			"autoFollow is required: true to follow every lanfeed node discovered on the LAN, false to follow only the nodes chosen here"))
		return
	}
	s, err := h.svc.SetSettings(r.Context(), feed.MeshSettings{AutoFollow: *in.AutoFollow})
	h.reply(w, http.StatusOK, s, err)
}

// decodeBody reads a JSON body of at most MaxMessage bytes into v.
func (h *Hub) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxMessage))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return feed.Errorf(feed.CodeTooLarge,
			"the request body is over the %d-byte limit; a post within the length limits (title %d, body %d, author %d characters) always fits",
			tooBig.Limit, feed.MaxTitle, feed.MaxBody, feed.MaxAuthor)
	}
	if err != nil {
		return feed.Errorf(feed.CodeBadRequest, "could not read the request body")
	}
	derr := decodeData(data, v, "the request body")
	if e := feed.AsError(derr); derr != nil && e.Code == feed.CodeBadRequest && formEncoded(r, data) {
		return feed.Errorf(feed.CodeBadRequest,
			"the request body is form-encoded, not JSON: send a JSON object with %s, and Content-Type: application/json", fieldList(v))
	}
	return derr
}

// formEncoded reports whether a body that did not decode as JSON is a form,
// as HTML forms and curl -d without JSON send.
func formEncoded(r *http.Request, data []byte) bool {
	if t, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); t == "multipart/form-data" {
		return true
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.IndexByte(data, '=') < 1 || bytes.IndexAny(data[:1], `{["`) == 0 {
		return false
	}
	_, err := url.ParseQuery(string(data))
	return err == nil
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
// The UI is one page with relative asset paths and no client-side routes,
// so an unknown path is not answered with the page (its assets and API
// calls would resolve under that path): it gets a clear 404, as HTML for
// a browser and as the API's JSON error for anything else. Directories
// other than the root are not listed.
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
			writeJSON(w, http.StatusMethodNotAllowed, feed.Errorf(feed.CodeBadRequest,
				"%s is not allowed on %.100s, which answers GET and HEAD; the API for writing is under /api/", r.Method, r.URL.Path))
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		root := r.URL.Path == "/" || r.URL.Path == "/index.html"
		switch {
		case files == nil && root:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>lanfeed</title><p>This lanfeed node was built without its web UI. "+
				"The API is at <code>/api/posts</code> and the live feed at <code>/ws</code>.</p>")
		case root || files != nil && h.isUIFile(r.URL.Path):
			files.ServeHTTP(w, r)
		default:
			notFoundPage(w, r)
		}
	})
}

// isUIFile reports whether p names a file of the bundle.
func (h *Hub) isUIFile(p string) bool {
	f, err := h.cfg.UI.Open(path.Clean(p))
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	return err == nil && !st.IsDir()
}

// notFoundPage answers a path that is neither the UI nor the API.
func notFoundPage(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("there is no page at %.100s on this lanfeed node: the web UI is at /, the REST API under /api/ and the websocket at /ws", r.URL.Path)
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		writeJSON(w, http.StatusNotFound, feed.Errorf(feed.CodeNotFound, "%s", msg))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `<!doctype html><title>Not found · lanfeed</title><p>There is no page at <code>%s</code> on this lanfeed node. `+
		`<a href="/">Open the feed</a>.</p>`, html.EscapeString(r.URL.Path))
}

// ConstantTimeEqual compares a presented token with the real one without
// leaking, through timing, how much of it matched.
func ConstantTimeEqual(presented, real string) bool {
	return real != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(real)) == 1
}
