package client

import (
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"lanfeed/feed"
)

// decodeCanonicalPost reads a posts event laid out exactly as
// feed.EncodePostEvent writes it: the same keys in the same order, no
// spaces, every field present. It reads most of a follower's catch-up,
// several times faster than encoding/json, which scans each frame twice
// and finds every field by reflection.
//
// It is a shortcut, never the last word: ok is false for anything it does
// not read with certainty (another layout, a number it does not expect, a
// string with invalid UTF-8, a control character or a surrogate escape),
// and the caller then decodes the frame with encoding/json. When ok is
// true, the values are the ones encoding/json would give for the same
// bytes (FuzzDecodeCanonicalPost holds the two together).
func decodeCanonicalPost(raw []byte) (seq int64, action string, p feed.Post, ok bool) {
	s := canonScanner{b: raw, ok: true}
	s.lit(`{"type":"event","event":"posts","seq":`)
	seq = s.int()
	s.lit(`,"data":{"action":`)
	action = s.str()
	s.lit(`,"post":{"id":`)
	p.ID = s.str()
	s.lit(`,"title":`)
	p.Title = s.str()
	s.lit(`,"body":`)
	p.Body = s.str()
	s.lit(`,"author":`)
	p.Author = s.str()
	s.lit(`,"origin":`)
	p.Origin = s.str()
	s.lit(`,"createdAt":`)
	p.CreatedAt = s.time()
	s.lit(`,"updatedAt":`)
	p.UpdatedAt = s.time()
	s.lit(`,"version":`)
	p.Version = s.int()
	s.lit(`,"deleted":`)
	p.Deleted = s.bool()
	s.lit(`,"seq":`)
	p.Seq = s.int()
	s.lit(`}}}`)
	if !s.ok || s.i != len(raw) {
		return 0, "", feed.Post{}, false
	}
	return seq, action, p, true
}

// canonScanner reads raw from i on; the first thing it cannot read clears
// ok, and every later read then returns a zero value.
type canonScanner struct {
	b  []byte
	i  int
	ok bool
}

// lit consumes l.
func (s *canonScanner) lit(l string) {
	if !s.ok || len(s.b)-s.i < len(l) || string(s.b[s.i:s.i+len(l)]) != l {
		s.ok = false
		return
	}
	s.i += len(l)
}

// int consumes a non-negative integer without sign, exponent or leading
// zeros that fits an int64.
func (s *canonScanner) int() int64 {
	if !s.ok {
		return 0
	}
	j := s.i
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	digits := s.b[s.i:j]
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		s.ok = false
		return 0
	}
	if len(digits) > 18 { // might not fit: leave it to strconv
		v, err := strconv.ParseInt(string(digits), 10, 64)
		if err != nil {
			s.ok = false
			return 0
		}
		s.i = j
		return v
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	s.i = j
	return v
}

// bool consumes true or false.
func (s *canonScanner) bool() bool {
	if !s.ok {
		return false
	}
	switch rest := s.b[s.i:]; {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false
	}
	s.ok = false
	return false
}

// time consumes a quoted time as feed.Time.UnmarshalJSON reads it.
func (s *canonScanner) time() feed.Time {
	str := s.str()
	if !s.ok {
		return feed.Time{}
	}
	v, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		s.ok = false
		return feed.Time{}
	}
	return feed.UnixMilli(v.UnixMilli())
}

// str consumes a JSON string and returns its value. Escapes are those of
// JSON; a \u escape of a surrogate (encoding/json pairs them up or puts
// U+FFFD), invalid UTF-8 (U+FFFD too) and a control character (an error)
// are left to encoding/json.
func (s *canonScanner) str() string {
	if !s.ok || s.i >= len(s.b) || s.b[s.i] != '"' {
		s.ok = false
		return ""
	}
	start := s.i + 1
	j := start
	for j < len(s.b) && s.b[j] != '"' && s.b[j] != '\\' && s.b[j] >= 0x20 {
		j++
	}
	if j < len(s.b) && s.b[j] == '"' { // nothing escaped: the usual case
		if !utf8.Valid(s.b[start:j]) {
			s.ok = false
			return ""
		}
		s.i = j + 1
		return string(s.b[start:j])
	}
	out := make([]byte, 0, j-start+64)
	out = append(out, s.b[start:j]...)
	for j < len(s.b) {
		c := s.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) { // escapes add only valid UTF-8: this finds raw bytes
				s.ok = false
				return ""
			}
			s.i = j + 1
			return string(out)
		case c < 0x20:
			s.ok = false
			return ""
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(s.b) {
			break
		}
		switch e := s.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(s.b) {
				s.ok = false
				return ""
			}
			r, ok := hex4(s.b[j+2 : j+6])
			if !ok || utf16.IsSurrogate(r) {
				s.ok = false
				return ""
			}
			out = utf8.AppendRune(out, r)
			j += 6
			continue
		default:
			s.ok = false
			return ""
		}
		j += 2
	}
	s.ok = false
	return ""
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, len(b) == 4
}
