package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"lanfeed/feed"
	"lanfeed/store"

	wails "github.com/wailsapp/wails/v2/pkg/runtime"
)

// syncPageSize is how many changes one Posts.Sync call returns at most.
const syncPageSize = 500

// Desktop runs a node inside the Wails window: it opens the node when the
// window starts, feeds the window with the events LAN peers get, and closes
// everything on quit. Its Posts and Node fields are the bound services.
type Desktop struct {
	cfg    Config
	listen string
	log    *slog.Logger

	Posts *Posts // window.go.app.Posts
	Node  *Node  // window.go.app.Node

	// Out is where Startup tells the terminal that started the app where
	// the node serves the LAN and its pairing token (Server.Announce), as
	// lanfeedd serve does; nil: nowhere. Set it before Startup.
	Out io.Writer

	mu        sync.Mutex
	ctx       context.Context // the Wails context, set by Startup
	srv       *Server
	ui        *UISink
	listenErr string
}

// NewDesktop prepares a desktop node; nothing is opened until Startup, so
// that `wails build` and `wails dev` can inspect the bindings harmlessly.
func NewDesktop(cfg Config, listen string) *Desktop {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Desktop{cfg: cfg, listen: listen, log: cfg.Logger}
	d.Posts = &Posts{d: d}
	d.Node = &Node{d: d}
	return d
}

// Bindings returns the services bound to the window.
func (d *Desktop) Bindings() []any { return []any{d.Posts, d.Node} }

// Startup opens the node and starts the LAN server. A database that cannot
// be opened ends the app with a dialog; a LAN port that is taken only leaves
// the node local, with the reason shown in the node panel.
func (d *Desktop) Startup(ctx context.Context) {
	srv, err := Open(ctx, d.cfg)
	if err != nil {
		d.log.Error("cannot open the database", "err", err)
		msg := fmt.Sprintf("The database could not be opened:\n\n%v", err)
		if errors.Is(err, store.ErrLocked) {
			msg = fmt.Sprintf("lanfeed is already running with the data folder\n%s\n\n"+
				"Switch to its window, or start this one with another --data-dir.", d.cfg.DataDir)
		}
		wails.MessageDialog(ctx, wails.MessageDialogOptions{Type: wails.ErrorDialog, Title: "lanfeed cannot start", Message: msg})
		wails.Quit(ctx)
		return
	}
	ui := NewUISink(wailsEmitter{ctx})
	srv.Fanout.Add(ui)
	d.serve(ctx, srv, ui)
}

// serve starts the LAN server of an opened node, says so on Out, and
// makes the node the bindings' own.
func (d *Desktop) serve(ctx context.Context, srv *Server, ui *UISink) {
	var listenErr string
	if err := srv.Listen(d.listen); err != nil {
		d.log.Warn("LAN server not started", "err", err)
		listenErr = err.Error()
		if d.Out != nil {
			fmt.Fprintf(d.Out, "lanfeed: the node is local only, not serving the LAN: %v\n", err)
		}
	} else if d.Out != nil {
		srv.Announce(d.Out)
	}
	d.mu.Lock()
	d.ctx, d.srv, d.ui, d.listenErr = ctx, srv, ui, listenErr
	d.mu.Unlock()
}

// Shutdown closes the LAN server and the database.
func (d *Desktop) Shutdown(context.Context) {
	d.mu.Lock()
	srv, ui := d.srv, d.ui
	d.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		d.log.Warn("shutdown", "err", err)
	}
	ui.Close(ctx)
}

// SecondInstance brings the window forward when lanfeed is launched again
// on the same data directory.
func (d *Desktop) SecondInstance() {
	d.mu.Lock()
	ctx := d.ctx
	d.mu.Unlock()
	if ctx != nil {
		wails.WindowUnminimise(ctx)
		wails.WindowShow(ctx)
	}
}

var errNotStarted = &feed.Error{Code: feed.CodeInternal, Message: "lanfeed is still starting; try again"}

func (d *Desktop) server() (*Server, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv == nil {
		return nil, errNotStarted
	}
	return d.srv, nil
}

// FormatError is the Wails error formatter: bound methods reject their
// promise with {code, message, field?, post?}, never with internal details,
// which go to the desktop's log.
func (d *Desktop) FormatError(err error) any {
	e := feed.AsError(err)
	if e.Code == feed.CodeInternal && !errors.Is(err, errNotStarted) {
		d.log.Error("desktop call failed", "err", err)
	}
	return e
}

// wailsEmitter emits to the window. Only the desktop wiring builds one: the
// Wails runtime ends the process when given a context that is not its own.
type wailsEmitter struct{ ctx context.Context }

func (w wailsEmitter) Emit(name string, envelope json.RawMessage) {
	wails.EventsEmit(w.ctx, name, envelope)
}

// Posts is the posts service bound to the window. Writes from the window
// reach LAN peers as events; the window gets them too, as every consumer does.
type Posts struct{ d *Desktop }

// List returns a page of the feed, newest first: the newest posts, or with
// before (a page's next) the older ones after that page.
func (p *Posts) List(before string, limit int) (feed.Page, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Page{}, err
	}
	return srv.Service.List(context.Background(), feed.PageQuery{Before: before, Limit: limit})
}

// ListAfter returns the page of the feed just newer than after (a page's
// prev), newest first.
func (p *Posts) ListAfter(after string, limit int) (feed.Page, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Page{}, err
	}
	return srv.Service.List(context.Background(), feed.PageQuery{After: after, Limit: limit})
}

// Get returns one post.
func (p *Posts) Get(id string) (feed.Post, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Post{}, err
	}
	return srv.Service.Get(context.Background(), id)
}

// Create publishes a new post.
func (p *Posts) Create(in feed.NewPost) (feed.Post, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Post{}, err
	}
	return srv.Service.Create(context.Background(), in, feed.Caller{})
}

// Update edits a post at the version the user saw.
func (p *Posts) Update(id string, patch feed.PostPatch) (feed.Post, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Post{}, err
	}
	return srv.Service.Update(context.Background(), id, patch, feed.Caller{})
}

// Delete deletes a post (version 0: whatever its version).
func (p *Posts) Delete(id string, version int64) (feed.Post, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.Post{}, err
	}
	return srv.Service.Delete(context.Background(), id, version, feed.Caller{})
}

// Sync returns the changes after since, as a LAN peer's resume would
// replay them (Service.Sync, pages of syncPageSize). The window calls it on
// mount and whenever it sees a seq gap.
func (p *Posts) Sync(since int64, epoch string) (feed.SyncPage, error) {
	srv, err := p.d.server()
	if err != nil {
		return feed.SyncPage{}, err
	}
	return srv.Service.Sync(context.Background(), since, epoch, "", syncPageSize)
}

// Node is the node service bound to the window: identity, LAN addresses,
// peers and the pairing token, which only the desktop owner may see.
type Node struct{ d *Desktop }

// Info describes the node as the LAN sees it, plus why the LAN server is
// not running, if it is not.
func (n *Node) Info() (feed.NodeInfo, error) {
	srv, err := n.d.server()
	if err != nil {
		return feed.NodeInfo{}, err
	}
	info := srv.Hub.Info()
	n.d.mu.Lock()
	info.ListenError = n.d.listenErr
	n.d.mu.Unlock()
	return info, nil
}

// Peers lists the LAN peers connected now.
func (n *Node) Peers() ([]feed.Peer, error) {
	srv, err := n.d.server()
	if err != nil {
		return nil, err
	}
	return srv.Hub.Peers(), nil
}

// Token returns the pairing token.
func (n *Node) Token() (string, error) {
	srv, err := n.d.server()
	if err != nil {
		return "", err
	}
	return srv.Service.Token(), nil
}

// RotateToken replaces the pairing token; the old one stops working at once
// for HTTP, new connections and connected peers, which get an auth frame.
func (n *Node) RotateToken() (string, error) {
	srv, err := n.d.server()
	if err != nil {
		return "", err
	}
	return srv.Service.RotateToken(context.Background())
}

// SetName renames the node.
func (n *Node) SetName(name string) (feed.Node, error) {
	srv, err := n.d.server()
	if err != nil {
		return feed.Node{}, err
	}
	return srv.Service.SetName(context.Background(), name)
}

// Follows lists the nodes this node follows and how replicating each goes.
func (n *Node) Follows() ([]feed.FollowInfo, error) {
	srv, err := n.d.server()
	if err != nil {
		return nil, err
	}
	return srv.Service.Follows(context.Background())
}

// Follow follows the node at url (a node's address, like
// http://192.168.1.20:7700/): this node then shows its posts.
func (n *Node) Follow(url string) (feed.FollowInfo, error) {
	srv, err := n.d.server()
	if err != nil {
		return feed.FollowInfo{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), followTimeout)
	defer cancel()
	return srv.Service.Follow(ctx, url)
}

// followTimeout bounds reaching a node to follow: on a LAN a hello takes
// milliseconds, and the window should not wait on a dead address for long.
const followTimeout = 15 * time.Second

// Unfollow stops following node (its id) and removes its posts here.
func (n *Node) Unfollow(node string) error {
	srv, err := n.d.server()
	if err != nil {
		return err
	}
	return srv.Service.Unfollow(context.Background(), node)
}

// Nearby lists the nodes discovered on the LAN that this node does not
// follow, each with the address to follow it at (Follow).
func (n *Node) Nearby() ([]feed.NearbyNode, error) {
	srv, err := n.d.server()
	if err != nil {
		return nil, err
	}
	return srv.Service.Nearby(context.Background())
}

// Settings returns the following settings in effect (auto-follow).
func (n *Node) Settings() (feed.MeshSettings, error) {
	srv, err := n.d.server()
	if err != nil {
		return feed.MeshSettings{}, err
	}
	return srv.Service.Settings(context.Background())
}

// SetSettings stores the following settings in the database and applies
// them at once; it returns the settings in effect.
func (n *Node) SetSettings(s feed.MeshSettings) (feed.MeshSettings, error) {
	srv, err := n.d.server()
	if err != nil {
		return feed.MeshSettings{}, err
	}
	return srv.Service.SetSettings(context.Background(), s)
}
