package realtime

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"lanfeed/feed"
)

// This file turns encoding/json's errors into sentences about the request
// ("title must be a string, not a number"), so that no client ever reads a
// Go type name or a scanner's state. The JSON part of a message is named
// by what: "the request body", "the message", "the data of posts.create".

// decodeData decodes one JSON object into v strictly: unknown fields and
// trailing data are refused, a value of the wrong type is invalid and
// names its field.
func decodeData(data []byte, v any, what string) error {
	shape := "a JSON object with " + fieldList(v)
	if len(bytes.TrimSpace(data)) == 0 {
		return feed.Errorf(feed.CodeBadRequest, "%s is empty: send %s", what, shape)
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD and store
	// text the writer never sent; JSON must be UTF-8 (RFC 8259 8.1).
	if !utf8.Valid(data) {
		return feed.Errorf(feed.CodeBadRequest, "%s is not valid UTF-8, which JSON must be", what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, data, what, shape, fieldList(v))
	}
	if _, err := dec.Token(); err != io.EOF {
		return feed.Errorf(feed.CodeBadRequest, "%s holds more than one JSON value: send %s and nothing after it", what, shape)
	}
	return nil
}

// jsonError describes err, which decoding data gave. A value of the wrong
// type in a field is invalid, naming the field; anything else is a
// bad_request. fields lists the fields the object may have.
func jsonError(err error, data []byte, what, shape, fields string) *feed.Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax) && syntax.Offset >= int64(len(data)):
		return feed.Errorf(feed.CodeBadRequest, "%s ends before its JSON is complete: send %s", what, shape)
	case syntax != nil && strings.Contains(syntax.Error(), "exceeded max depth"):
		return feed.Errorf(feed.CodeBadRequest, "%s is nested too deeply to be %s", what, shape)
	case syntax != nil:
		at := max(syntax.Offset-1, 0) // Offset counts the offending byte
		r, _ := utf8.DecodeRune(data[at:])
		return feed.Errorf(feed.CodeBadRequest, "%s is not valid JSON: unexpected %s at byte %d; send %s", what, charName(r), at+1, shape)
	case errors.As(err, &typ) && typ.Field == "":
		return feed.Errorf(feed.CodeBadRequest, "%s must be %s, not %s", what, shape, valueName(typ.Value))
	case typ != nil:
		// Field is a Go path ("PostPatch.version" through an embedded
		// struct); clients know only the JSON name, its last element.
		field := typ.Field[strings.LastIndexByte(typ.Field, '.')+1:]
		want := typeName(typ.Type)
		if n, ok := strings.CutPrefix(typ.Value, "number "); ok && isInt(typ.Type) && !strings.ContainsAny(n, ".eE") {
			want += fmt.Sprintf(" from %d to %d", int64(-1)<<(typ.Type.Bits()-1), int64(1)<<(typ.Type.Bits()-1)-1) // a whole number, out of range
		}
		return feed.Invalid(field, fmt.Sprintf("%s must be %s, not %s", field, want, valueName(typ.Value)))
	}
	// DisallowUnknownFields has no error type of its own.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if s, uerr := strconv.Unquote(name); uerr == nil {
			name = s
		}
		return feed.Errorf(feed.CodeBadRequest, "%s has an unknown field %.40q; its fields are %s", what, name, fields)
	}
	return feed.Wrap(feed.CodeBadRequest, what+" could not be read as "+shape, err)
}

// charName shows r as a reader would type it: 'x' for printable ASCII,
// U+XXXX (and the character, if printable) otherwise.
func charName(r rune) string {
	switch {
	case r >= 0x21 && r < 0x7f:
		return "'" + string(r) + "'"
	case strconv.IsPrint(r) && r > 0x7f:
		return fmt.Sprintf("U+%04X '%c'", r, r)
	}
	return fmt.Sprintf("U+%04X", r)
}

// valueName names the JSON value encoding/json describes as v ("array",
// "number", "number 2.5").
func valueName(v string) string {
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n // the literal itself: 2.5, 9223372036854775808
	}
	switch v {
	case "array", "object":
		return "an " + v
	case "bool":
		return "a boolean"
	}
	return "a " + v
}

// typeName names what a Go type expects in JSON.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a " + t.Kind().String()
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// fieldList lists the JSON fields of the struct v points to, embedded
// structs' included: "id, version, title and body".
func fieldList(v any) string {
	var names []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Anonymous && name == "":
				walk(f.Type)
			case name != "-" && f.IsExported():
				names = append(names, cmp.Or(name, f.Name))
			}
		}
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "its fields"
	}
	walk(t)
	switch len(names) {
	case 0:
		return "no fields"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
