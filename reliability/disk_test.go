//go:build linux

package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lanfeed/app"
	"lanfeed/internal/testproc"
)

// diskSize is the tmpfs the database lives on: small enough to fill in a
// moment, large enough for the schema and a few posts.
const diskSize = "2m"

// Disk trouble (issue 4, item 9): with the database on a tiny filesystem
// that fills up, writes fail with a clear error and broadcast nothing, reads
// keep working, and writes succeed again once space is freed.
func TestDisk_FullDiskFailsWritesCleanly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a tiny tmpfs needs root (run the tests as root, e.g. in the CI container)")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+diskSize, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a %s tmpfs at %s (%v: %s); this test needs mount privileges", diskSize, mnt, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})

	var logBuf testproc.Buffer
	srv, err := app.Open(context.Background(), app.Config{DataDir: filepath.Join(mnt, "data"), Name: "disk",
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	base := srv.URLs()[0]
	wsBase := "ws" + strings.TrimPrefix(base, "http") + "ws?"
	token := srv.Service.Token()
	client := newHTTPClient()
	defer client.CloseIdleConnections()

	// A reading peer: every post event it receives, by seq.
	reader := dialPeer(t, wsBase+"name=reader", "127.0.0.2", 0)
	waitCount(t, srv.Hub, 1) // registered: the first post's event is its
	events := make(chan frame, 4096)
	go func() {
		defer close(events)
		for {
			_, b, err := reader.ReadMessage()
			if err != nil {
				return
			}
			if f, ok, _ := decode(b); ok && f.Type == "event" && f.Event == "posts" {
				events <- f
			}
		}
	}()
	expectEvent := func(seq int64) {
		t.Helper()
		timeout := time.After(waitFor)
		for {
			select {
			case f, ok := <-events:
				if !ok {
					t.Fatalf("reader disconnected waiting for seq %d", seq)
				}
				if f.Seq == seq {
					return
				}
				if f.Seq > seq {
					t.Fatalf("reader got seq %d; want %d", f.Seq, seq)
				}
			case <-timeout:
				t.Fatalf("reader got no event for seq %d within %v", seq, waitFor)
			}
		}
	}
	expectNothing := func(what string) {
		t.Helper()
		select {
		case f, ok := <-events:
			if ok {
				t.Errorf("after %s the reader got event seq %d; want nothing", what, f.Seq)
			}
		case <-time.After(500 * time.Millisecond):
		}
	}

	// Some posts while there is room.
	const before = 3
	var lastOK post
	for i := range before {
		status, p, raw, err := createPost(context.Background(), client, base, token, fmt.Sprintf("roomy #%d", i), "fits")
		if err != nil || status != http.StatusCreated {
			t.Fatalf("POST with room = %d %s, %v; want 201", status, raw, err)
		}
		expectEvent(p.Seq)
		lastOK = p
	}

	// Fill the disk: a ballast file until ENOSPC, then posts until one fails.
	ballast := filepath.Join(mnt, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 16<<10)
	for i := 0; ; i++ {
		if _, err = f.Write(chunk); err != nil || i > 1000 {
			break
		}
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling %s: %v; want ENOSPC", mnt, err)
	}
	body := strings.Repeat("full disk ", 400)
	var failStatus int
	var failBody []byte
	okWrites := 0
	for i := range 1000 {
		status, p, raw, err := createPost(context.Background(), client, base, token, fmt.Sprintf("disk #%d", i), body)
		if err != nil {
			t.Fatalf("POST /api/posts: %v", err)
		}
		if status == http.StatusCreated {
			lastOK = p
			okWrites++
			continue
		}
		failStatus, failBody = status, raw
		break
	}
	if failStatus == 0 {
		t.Fatalf("1000 posts fitted on a full %s filesystem; want a failure", diskSize)
	}
	if okWrites > 0 {
		expectEvent(lastOK.Seq)
	}
	var e struct{ Code, Message string }
	json.Unmarshal(failBody, &e)
	if failStatus < 500 || e.Code == "" || e.Message == "" {
		t.Errorf("POST on a full disk = %d %s; want a 5xx with a code and a message", failStatus, failBody)
	}
	expectNothing("a failed HTTP write")
	t.Logf("full disk: %d posts fitted after the ballast; then POST = %d %s", okWrites, failStatus, failBody)

	// The same over the websocket: an error for the writer, nothing for others.
	writer := dialPeer(t, wsBase+"name=writer&token="+token, "127.0.0.3", 0)
	writer.WriteJSON(map[string]any{"type": "emit", "id": 1, "event": "posts.create", "data": map[string]string{"title": "ws on full disk", "body": body}})
	var answer frame
	writer.SetReadDeadline(time.Now().Add(waitFor))
	for answer.Type != "ack" && answer.Type != "error" {
		_, b, err := writer.ReadMessage()
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
		answer, _, _ = decode(b)
		if answer.Type == "error" {
			t.Logf("full disk: emit answered %s", b)
		}
	}
	if answer.Type != "error" {
		t.Errorf("emit on a full disk answered %s; want an error", answer.Type)
	}
	expectNothing("a failed websocket write")

	// Reads still work.
	all, seq := listAll(t, client, base)
	if seq != lastOK.Seq || len(all) != before+okWrites {
		t.Errorf("GET /api/posts on a full disk: %d posts at seq %d; want %d at seq %d", len(all), seq, before+okWrites, lastOK.Seq)
	}
	{
		resp, err := client.Get(base + "api/posts/" + lastOK.ID)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/posts/{id} on a full disk = %v, %v; want 200", resp, err)
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}

	// Space again: writes succeed and are broadcast, with the next seq.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	status, p, raw, err := createPost(context.Background(), client, base, token, "after the ballast", body)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("POST after freeing space = %d %s, %v; want 201", status, raw, err)
	}
	if p.Seq != lastOK.Seq+1 {
		t.Errorf("post after the failures has seq %d; want %d (failed writes take no seq)", p.Seq, lastOK.Seq+1)
	}
	expectEvent(p.Seq)
	if got := srv.Hub.Seq(); got != p.Seq {
		t.Errorf("Hub.Seq() = %d; want %d", got, p.Seq)
	}
	for _, l := range strings.Split(logBuf.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			t.Logf("FIGURES disk: node log says: %s", l)
			break
		}
	}
	if t.Failed() {
		t.Logf("node log:\n%s", logBuf.Tail(3000))
	}
}
