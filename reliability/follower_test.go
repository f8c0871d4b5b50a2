//go:build linux

package reliability

import (
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// follower is a peer that keeps the feed as a client should: it applies
// post events by seq, resumes with since/epoch after a disconnect and notes
// every breach of the protocol's promises (a seq twice or out of order, an
// unexpected reset).
type follower struct {
	mu      sync.Mutex
	epoch   string
	last    int64 // seq of the last change applied
	posts   map[string]post
	seen    map[int64]int // how often each seq arrived, over all connections
	errs    []string
	synced  chan struct{} // closed at the synced of the current connection
	resets  int
	frames  int
	connNum int
}

func newFollower() *follower {
	return &follower{posts: map[string]post{}, seen: map[int64]int{}}
}

func (f *follower) errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) < 20 {
		f.errs = append(f.errs, fmt.Sprintf(format, args...))
	}
}

// query is the resume part of the websocket URL.
func (f *follower) query() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("name=follower&since=%d&epoch=%s", f.last, f.epoch)
}

// connect dials with a sync and starts reading; done is closed when the
// connection ends. It returns once the replay has ended (synced) or fails.
func (f *follower) connect(d *websocket.Dialer, url string) (conn *websocket.Conn, done chan struct{}, err error) {
	conn, _, err = d.Dial(url, nil)
	if err != nil {
		return nil, nil, err
	}
	synced := make(chan struct{})
	f.mu.Lock()
	f.synced = synced
	f.connNum++
	f.mu.Unlock()
	done = make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			f.apply(b)
		}
	}()
	select {
	case <-synced:
		return conn, done, nil
	case <-done:
		return nil, nil, fmt.Errorf("connection ended before synced")
	case <-time.After(waitFor):
		conn.Close()
		<-done
		return nil, nil, fmt.Errorf("no synced within %v", waitFor)
	}
}

func (f *follower) apply(b []byte) {
	fr, ok, err := decode(b)
	if err != nil {
		f.errorf("undecodable frame %q: %v", b, err)
		return
	}
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames++
	switch fr.Type {
	case "hello":
		if f.epoch != "" && fr.Epoch != f.epoch {
			f.errs = append(f.errs, fmt.Sprintf("hello epoch %s; want %s (a restart must keep the epoch)", fr.Epoch, f.epoch))
		}
		f.epoch = fr.Epoch
	case "reset":
		f.resets++
		if f.last != 0 {
			f.errs = append(f.errs, fmt.Sprintf("reset to epoch %s at seq %d: a restart must not reset peers", fr.Epoch, f.last))
		}
		f.epoch, f.last, f.posts = fr.Epoch, 0, map[string]post{}
	case "synced":
		if fr.Seq > f.last {
			f.last = fr.Seq
		}
		if f.synced != nil {
			close(f.synced)
			f.synced = nil
		}
	case "event":
		if fr.Event != "posts" {
			return
		}
		var ev postEvent
		if err := jsonUnmarshal(fr.Data, &ev); err != nil {
			f.errs = append(f.errs, fmt.Sprintf("posts event data %s: %v", fr.Data, err))
			return
		}
		f.seen[fr.Seq]++
		if f.seen[fr.Seq] > 1 {
			f.errs = append(f.errs, fmt.Sprintf("seq %d arrived %d times", fr.Seq, f.seen[fr.Seq]))
		}
		if fr.Seq <= f.last {
			f.errs = append(f.errs, fmt.Sprintf("seq %d after seq %d: out of order or duplicate", fr.Seq, f.last))
		}
		if ev.Post.Seq != fr.Seq {
			f.errs = append(f.errs, fmt.Sprintf("event seq %d carries post seq %d", fr.Seq, ev.Post.Seq))
		}
		f.last = max(f.last, fr.Seq)
		f.posts[ev.Post.ID] = ev.Post
	}
}
