package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"lanfeed/client"
	"lanfeed/feed"
)

// A script that posts once: connect with the pairing token, write, and tell
// the three kinds of failure apart.
func ExampleConn_Create() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.Config{
		URL:           "http://192.168.1.20:7700",
		Name:          "lunch-bot",
		Token:         os.Getenv("LANFEED_TOKEN"),
		DiscardEvents: true, // it only writes: nobody reads events
	})
	if err != nil {
		log.Fatal(err) // a *client.RefusedError says what the node answered
	}
	defer c.Close()

	p, err := c.Create(ctx, feed.NewPost{Title: "Lunch at noon", Body: "Pizza in the big room."})
	var fe *feed.Error
	switch {
	case errors.As(err, &fe):
		fmt.Printf("the node refused it: %s (field %q): %s\n", fe.Code, fe.Field, fe.Message)
	case errors.Is(err, client.ErrOutcomeUnknown):
		fmt.Println("connection lost: the post may be there; look before posting again")
	case err != nil:
		log.Fatal(err) // not sent at all
	default:
		fmt.Println("posted", p.ID, "at seq", p.Seq)
	}
}

// One connection, read by hand: catch up from a known position, then watch
// live changes.
func ExampleConn_Next() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := client.Dial(ctx, client.Config{
		URL:        "192.168.1.20:7700",
		NoPresence: true,
		Resume:     &client.Position{Epoch: "8e75bf2a1e04439fd6d3139b4f525e2d", Seq: 41},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for {
		ev, err := c.Next(ctx)
		if err != nil {
			log.Fatal(err) // Ctrl-C, or the connection ended: a Follower would resume
		}
		switch ev := ev.(type) {
		case *client.Reset:
			fmt.Println("another database: start over")
		case *client.PostEvent:
			fmt.Println(ev.Seq, ev.Action, ev.Post.Title)
		case *client.Synced:
			fmt.Println("caught up at", ev.Seq)
		}
	}
}

// A follower that keeps a copy of a node's feed. Its position travels with
// the posts: saved together, a restart neither skips nor repeats a change.
func ExampleFollower() {
	posts := map[string]feed.Post{} // stands for a database
	var saved *client.Position      // loaded from the same database; nil the first time
	if saved == nil {
		saved = &client.Position{} // replay the node's whole feed
	}

	f := client.NewFollower(client.FollowConfig{
		Config: client.Config{URL: "http://192.168.1.20:7700", Name: "mirror", NoPresence: true, Resume: saved},
		OnRetry: func(err error, wait time.Duration) {
			log.Printf("mirror: %v; reconnecting in %v", err, wait)
		},
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pos := *saved
	err := f.Run(ctx, func(ev client.Event) error {
		switch ev := ev.(type) {
		case *client.Hello:
			log.Printf("following %s (%s)", ev.Node.Name, ev.Node.ID)
		case *client.Reset:
			clear(posts) // the node's database is not the one we copied
		case *client.PostEvent:
			// Trust nothing from the wire: a real mirror checks the post
			// like any write before applying it. Keep the newest version.
			if old, ok := posts[ev.Post.ID]; !ok || old.Version < ev.Post.Version {
				posts[ev.Post.ID] = ev.Post
			}
		}
		pos = pos.After(ev) // in the same transaction as the change
		return nil
	})
	log.Printf("stopped at %+v: %v", pos, err)
}

// How a position moves through a resume that the node answers with a reset.
func ExamplePosition_After() {
	pos := client.Position{Epoch: "old-epoch", Seq: 41}
	for _, ev := range []client.Event{
		&client.Reset{Epoch: "new-epoch"},
		&client.PostEvent{Seq: 3, Action: "create"},
		&client.PostEvent{Seq: 7, Action: "update"},
		&client.Synced{Seq: 7},
		&client.Ack{ID: 1, Seq: 8}, // this connection's own write: a resume sends it again
	} {
		pos = pos.After(ev)
		fmt.Printf("%T -> %+v\n", ev, pos)
	}
	// Output:
	// *client.Reset -> {Epoch:new-epoch Seq:0}
	// *client.PostEvent -> {Epoch:new-epoch Seq:3}
	// *client.PostEvent -> {Epoch:new-epoch Seq:7}
	// *client.Synced -> {Epoch:new-epoch Seq:7}
	// *client.Ack -> {Epoch:new-epoch Seq:7}
}
