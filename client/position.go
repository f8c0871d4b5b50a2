package client

// Position is where a follower stands in one node's feed: it holds every
// change up to Seq of the database Epoch. It is data, to keep beside what
// was applied from it (in the same transaction), so that a restart neither
// skips nor repeats a change.
type Position struct {
	Epoch string // the node's epoch; "" claims none, and never causes a Reset
	Seq   int64  // the last seq held; 0: nothing, a resume replays the whole feed
}

// After returns the position once ev is applied: a PostEvent or Synced
// moves Seq forward, a Reset starts over at 0 in the node's epoch, and a
// Hello fills in an empty epoch. An Ack does not move it: a connection that
// drops after its own write may see that post again when it resumes, but
// never misses one that the node sent in between.
func (p Position) After(ev Event) Position {
	switch ev := ev.(type) {
	case *Hello:
		if p.Epoch == "" {
			p.Epoch = ev.Epoch
		}
	case *Reset:
		return Position{Epoch: ev.Epoch}
	case *PostEvent:
		p.Seq = max(p.Seq, ev.Seq)
	case *Synced:
		p.Seq = max(p.Seq, ev.Seq)
	}
	return p
}
