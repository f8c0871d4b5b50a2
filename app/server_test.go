package app_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"lanfeed/app"

	"github.com/gorilla/websocket"
)

// listenNode opens a node and serves it on a free loopback port.
func listenNode(t *testing.T) *app.Server {
	t.Helper()
	srv, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	t.Cleanup(func() {
		ctx, cancel := closeCtx()
		defer cancel()
		srv.Close(ctx)
	})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("Listen(127.0.0.1:0) = %v; want nil error", err)
	}
	return srv
}

func TestServer_ListenAndClose(t *testing.T) {
	srv := listenNode(t)
	urls := srv.URLs()
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "http://127.0.0.1:") || !strings.HasSuffix(urls[0], "/") {
		t.Fatalf("URLs() = %v; want [http://127.0.0.1:PORT/]", urls)
	}
	client := &http.Client{Timeout: waitFor}
	resp, err := client.Get(urls[0] + "healthz")
	if err != nil {
		t.Fatalf("GET /healthz = %v; want nil error", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %d; want 200", resp.StatusCode)
	}
	peer, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(urls[0], "http")+"ws", nil)
	if err != nil {
		t.Fatalf("Dial(/ws) = %v; want nil error", err)
	}
	defer peer.Close()
	ended := make(chan error, 1)
	go func() { // a live peer keeps reading, and so answers the goodbye
		peer.SetReadDeadline(time.Now().Add(2 * waitFor))
		for {
			if _, _, err := peer.ReadMessage(); err != nil {
				ended <- err
				return
			}
		}
	}()

	ctx, cancel := closeCtx()
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	// The peer was told goodbye.
	if err := <-ended; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("peer read after Close = %v; want close 1001", err)
	}
	if err := srv.Close(ctx); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	if _, err := client.Get(urls[0] + "healthz"); err == nil {
		t.Errorf("GET /healthz after Close = nil error; want the connection refused")
	}
}

func TestServer_ListenOnTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	defer ln.Close()
	srv, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	err = srv.Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "cannot listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("Listen(taken) = %v; want \"cannot listen on %s ... --listen\"", err, ln.Addr())
	}
	if got := srv.URLs(); len(got) != 0 {
		t.Errorf("URLs() = %v without a listener; want none", got)
	}
	ctx, cancel := closeCtx()
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Errorf("Close() of a node that never listened = %v; want nil", err)
	}
}

// While Close waits for an HTTP request to finish, that request may still
// ask for the node's URLs (GET /api/info does); it must not wait for Close.
func TestServer_URLsAnswerWhileCloseWaits(t *testing.T) {
	srv := listenNode(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URLs()[0], "http://"), "/")
	conn, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * waitFor))
	body := `{"title":"slow upload"}`
	fmt.Fprintf(conn, "POST /api/posts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, srv.Service.Token(), len(body), body[:5])
	time.Sleep(quiet) // let the server start on the request; it now waits for the body

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := closeCtx()
		defer cancel()
		closed <- srv.Close(ctx)
	}()
	time.Sleep(quiet) // Close is now waiting for the upload
	urls := make(chan []string, 1)
	go func() { urls <- srv.URLs() }()
	select {
	case u := <-urls:
		if len(u) != 1 {
			t.Errorf("URLs() during Close = %v; want the listening URL", u)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("URLs() still blocked 2s into Close; want it to answer at once")
	}

	// The upload completes, the request is answered, Close finishes cleanly.
	fmt.Fprint(conn, body[5:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response = %v; want it answered", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("slow POST = %d; want 201", resp.StatusCode)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	case <-time.After(2 * waitFor):
		t.Fatalf("Close() still running; want it done once the request finished")
	}
}

// TestOpen_DefaultDataDirIsPrivate is the first launch on a clean desktop:
// with no --data-dir, the node creates lanfeed's folder in the user config
// directory (and that directory, if it is missing too) readable by the user
// only, since the database holds the pairing token.
func TestOpen_DefaultDataDirIsPrivate(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME decides os.UserConfigDir on Linux only")
	}
	config := filepath.Join(t.TempDir(), "fresh-home", ".config")
	t.Setenv("XDG_CONFIG_HOME", config)
	dir, err := app.DefaultDataDir()
	if err != nil || dir != filepath.Join(config, "lanfeed") {
		t.Fatalf("DefaultDataDir() = %q, %v; want %q", dir, err, filepath.Join(config, "lanfeed"))
	}
	srv, err := app.Open(t.Context(), app.Config{Logger: discardLogger()})
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	ctx, cancel := closeCtx()
	defer cancel()
	defer srv.Close(ctx)
	for _, d := range []string{config, dir} {
		info, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s: mode %v; want -rwx------ (0700)", d, perm)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "lanfeed.db")); err != nil {
		t.Errorf("the database is not in the default data dir: %v", err)
	}
}
