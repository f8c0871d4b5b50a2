// Package client is the Go SDK of a lanfeed node: it speaks wire protocol
// v1 (docs/PROTOCOL.md) over the node's websocket, so programs can follow a
// feed and write to it. The tail command, tests and node-to-node followers
// all use it.
//
// Two types do the work:
//
//   - Conn is one websocket connection. Dial connects, reads the node's hello
//     and, if asked, resumes from a Position. Next returns the frames the
//     node sends as typed events; Create, Update and Delete send emits and
//     wait for their answer.
//   - Follower keeps following a node across disconnects. It remembers its
//     Position, resumes from it on every reconnect, and hands every event to
//     a handler in order.
//
// Guarantees:
//
//   - Ordering: Next returns events in the order the node sent them. The node
//     sends post events in seq order, and the ack of this connection's own
//     emit in the place its event would have had, so once a connection is
//     synced (or live from its hello) the seqs of its PostEvents and Acks
//     are contiguous.
//   - Resume: a Conn dialled with Config.Resume asks the node for the latest
//     state of every post changed after that seq; the node answers with
//     PostEvents in seq order, then Synced, then live events, with no gap and
//     no duplicate between replay and live stream. If the epoch is not the
//     node's, a Reset comes first and the replay starts from 0: drop what you
//     hold. Position.After is how a Position moves with each event.
//   - Writes: each emit carries its own id; its Ack or *feed.Error comes back
//     to the caller that sent it, whatever other goroutines emit meanwhile.
//     If the connection ends before the answer, the call returns an error
//     wrapping ErrOutcomeUnknown: the node may or may not have committed the
//     write, so check after resuming before writing it again.
//   - Backpressure: a Conn reads ahead at most a small number of events. A
//     caller that stops calling Next stops the reading, so TCP pushes back on
//     the node: a replay then goes at the caller's pace, and a live stream
//     that lags too far makes the node drop the connection (1013), after
//     which a Follower resumes. A connection that only writes sets
//     Config.DiscardEvents so that nobody has to call Next.
//   - Reconnect: a Follower whose connection ends dials again after a
//     backoff and resumes from its Position, so its handler misses no change
//     and sees none twice (a post changed several times meanwhile comes once,
//     in its latest state; an event the handler returned an error for stops
//     Run, and comes again when Run is called again). The backoff
//     starts at 250 ms and doubles up to 30 s; each wait is a random duration
//     in [0, backoff) ("full jitter"), so followers cut off together by a
//     restarting node do not all come back at the same moment; it starts
//     again from 250 ms after every hello. A node that refuses the handshake
//     with a 4xx status (wrong token, refused host or origin) stops the
//     Follower with a *RefusedError saying what the node answered; 429 and
//     5xx are retried, waiting at least the node's Retry-After. A node that
//     breaks the protocol (another version, a malformed, binary or
//     oversized frame) stops it with an error wrapping ErrProto: it is
//     broken or hostile, and redialling it at once would not help.
//   - Lifetime: a Conn owns two goroutines, one reading and one writing (the
//     only one that writes to the websocket: frames, pongs and the close
//     frame). Both end when the connection does; Close ends it and waits for
//     them, and may be called any number of times. A Follower starts nothing
//     that outlives its Run call.
package client
