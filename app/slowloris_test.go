package app_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"lanfeed/app"
)

// TestServer_SlowClientsTimedOut: with ReadHeaderTimeout 200 ms, a client
// that connects and sends nothing, or sends a websocket handshake's headers
// a byte at a time, has its connection closed at about that time, never
// upgraded; a client that sends its request promptly is served.
func TestServer_SlowClientsTimedOut(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv, err := app.Open(t.Context(), app.Config{DataDir: t.TempDir(), Name: testName, Logger: discardLogger(),
		ReadHeaderTimeout: timeout, ReadTimeout: 3 * timeout})
	if err != nil {
		t.Fatalf("app.Open() = %v; want nil error", err)
	}
	t.Cleanup(func() { srv.Close(t.Context()) })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("Listen() = %v; want nil error", err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URLs()[0], "http://"), "/")

	// closedWithin reads from conn until the server closes it and reports
	// after how long, failing if that takes more than limit or if the
	// server answered with an upgrade or a success.
	closedWithin := func(t *testing.T, conn net.Conn, began time.Time, limit time.Duration) time.Duration {
		t.Helper()
		conn.SetReadDeadline(began.Add(limit))
		got, err := io.ReadAll(conn)
		took := time.Since(began)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v; want it closed after about %v", took, timeout)
		}
		if s := string(got); strings.Contains(s, " 101 ") || strings.Contains(s, " 200 ") {
			t.Errorf("server answered %q; want the connection closed unserved", s)
		}
		return took
	}

	t.Run("SilentClient", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		began := time.Now()
		if took := closedWithin(t, conn, began, 10*timeout); took < timeout*3/4 {
			t.Errorf("closed after %v; want no sooner than the %v timeout", took, timeout)
		}
	})

	t.Run("ByteByByteHandshake", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		began := time.Now()
		done := make(chan int, 1)
		go func() { // 20 ms a byte: the headers would take seconds
			sent := 0
			for i := range len(req) {
				if _, err := conn.Write([]byte{req[i]}); err != nil {
					break
				}
				sent++
				time.Sleep(20 * time.Millisecond)
			}
			done <- sent
		}()
		took := closedWithin(t, conn, began, 10*timeout)
		conn.Close()
		if sent := <-done; sent == len(req) {
			t.Errorf("the whole handshake went through (%d bytes in %v); want it cut off", sent, took)
		}
		if took < timeout*3/4 {
			t.Errorf("closed after %v; want no sooner than the %v timeout", took, timeout)
		}
	})

	// A POST whose headers come at once but whose body trickles in is cut
	// off by ReadTimeout (600 ms): nothing is written.
	t.Run("TrickledBody", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"title":"` + strings.Repeat("x", 200) + `"}`
		began := time.Now()
		io.WriteString(conn, "POST /api/posts HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+srv.Service.Token()+
			"\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
		done := make(chan int, 1)
		go func() { // 20 ms a byte: the body would take 4 s
			sent := 0
			for i := range len(body) {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					break
				}
				sent++
				time.Sleep(20 * time.Millisecond)
			}
			done <- sent
		}()
		conn.SetReadDeadline(began.Add(10 * 3 * timeout))
		got, _ := io.ReadAll(conn)
		took := time.Since(began)
		conn.Close()
		if sent := <-done; sent == len(body) {
			t.Errorf("the whole body went through in %v; want it cut off", took)
		}
		if strings.Contains(string(got), " 201 ") {
			t.Errorf("server answered %q; want the post refused", got)
		}
		if took > 10*timeout {
			t.Errorf("connection lasted %v; want it closed after about %v", took, 3*timeout)
		}
		if seq := srv.Service.Seq(); seq != 0 {
			t.Errorf("seq = %d after a trickled body; want 0 (nothing written)", seq)
		}
	})

	t.Run("PromptClientServed", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %v, %v; want 200", resp, err)
		}
		resp.Body.Close()
	})
}
