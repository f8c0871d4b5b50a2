package feed

// MaxMessage is the largest message of wire protocol v1, in bytes, either
// way: what a node accepts from a peer (and as a REST body) and what a
// follower accepts from a node. It is the largest valid write JSON-escaped
// in the worst way, so that every post within the limits above (counted in
// code points) gets through on every transport, and the web UI's counter
// agrees with the node. JSON lets a writer spell any character as a
// \uXXXX escape, and encoders do (Python's json.dumps escapes all of
// non-ASCII by default), so:
//
//   - an ASCII character takes at most 6 bytes (\u0074);
//   - a counted code point takes at most 12: one outside the BMP as a
//     surrogate pair (\ud83d\ude00), or a CRLF, which counts as one once
//     normalised to LF (\u000d\u000a). One in the BMP takes 6 at most.
//
// The largest write is a create with every field at its limit:
//
//	{"type":"emit","id":-9223372036854775808,"event":"posts.create","data":
//	 {"title":"<200>","body":"<20000>","author":"<64>"}}
//
// An update's data (id, version, title, body) is smaller, and a REST body
// is the data alone; realtime's limits_test.go builds each worst case and
// sends it. Surrounding white space that Normalize trims from a title or
// author is not counted by the limits, nor bounded here. A node's own
// frames stay well below: Go's encoder escapes a character in 6 bytes at
// most, and a post event's extra fields (ids, times, seqs) take a few
// hundred bytes.
const MaxMessage = maxEmitEnvelope + maxCreateJSON + jsonSlack // 244,528 bytes with today's limits

const (
	escapedASCII = 6
	escapedRune  = 12
	// maxCreateJSON is the worst case of a create's data (a NewPost).
	maxCreateJSON = 2 + 2 + 3 + // braces, two commas, three colons
		(len("title")+len("body")+len("author"))*escapedASCII + 3*2 + // keys, quoted
		(MaxTitle+MaxBody+MaxAuthor)*escapedRune + 3*2 // values, quoted
	// maxEmitEnvelope is the worst case of an emit around its data; the
	// longest event name is "posts.create" (realtime.EmitCreate).
	maxEmitEnvelope = 2 + 3 + 4 + // braces, three commas, four colons
		(len("type")+len("id")+len("event")+len("data"))*escapedASCII + 4*2 + // keys, quoted
		len("emit")*escapedASCII + 2 + len("-9223372036854775808") + len("posts.create")*escapedASCII + 2
	// jsonSlack is room for white space between tokens, which JSON does
	// not bound (pretty-printing adds some), and for a post a few
	// characters over a limit: it should hear which field is too long,
	// not lose its connection.
	jsonSlack = 1 << 10
)
