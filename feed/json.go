package feed

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends p as JSON to b, byte for byte what json.Marshal(p)
// gives (the differential tests hold it to that), without reflection: a
// post is encoded once per change and once per post of every replay, and
// encoding/json spent most of that time walking the struct and
// re-validating each Time's MarshalJSON output.
func (p Post) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = AppendJSONString(b, p.ID)
	b = append(b, `,"title":`...)
	b = AppendJSONString(b, p.Title)
	b = append(b, `,"body":`...)
	b = AppendJSONString(b, p.Body)
	b = append(b, `,"author":`...)
	b = AppendJSONString(b, p.Author)
	b = append(b, `,"origin":`...)
	b = AppendJSONString(b, p.Origin)
	b = append(b, `,"createdAt":`...)
	b = p.CreatedAt.AppendJSON(b)
	b = append(b, `,"updatedAt":`...)
	b = p.UpdatedAt.AppendJSON(b)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, p.Version, 10)
	b = append(b, `,"deleted":`...)
	b = strconv.AppendBool(b, p.Deleted)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	return append(b, '}')
}

// AppendJSON appends t as a quoted JSON string, as MarshalJSON does.
func (t Time) AppendJSON(b []byte) []byte {
	u := t.UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 { // outside the fixed-width layout: let time format it
		b = append(b, '"')
		b = u.AppendFormat(b, timeLayout)
		return append(b, '"')
	}
	hour, minute, sec := u.Clock()
	ms := u.Nanosecond() / 1e6
	b = append(b, '"')
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, ms, 3)
	return append(b, 'Z', '"')
}

// appendDigits appends v (0 <= v < 10^n) as n decimal digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "0000"[:n]...)
	for i := len(b) - 1; n > 0; i, n = i-1, n-1 {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// jsonPlain marks the ASCII bytes encoding/json writes as they are (with
// its default HTML escaping: <, > and & are escaped).
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string with encoding/json's escaping:
// quotes, backslashes and control characters escaped, <, > and & as \u00XX,
// U+2028 and U+2029 escaped, and each byte of invalid UTF-8 as \ufffd.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
