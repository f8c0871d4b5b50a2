package realtime

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The cases below follow the examples and rules of the Engine.IO protocol 4
// and Socket.IO protocol 5 specifications.

func TestEIO_DecodePacket(t *testing.T) {
	tests := []struct {
		in      string
		typ     byte
		data    string
		wantErr bool
	}{
		{in: "0{\"sid\":\"x\"}", typ: eioOpen, data: `{"sid":"x"}`},
		{in: "1", typ: eioClose},
		{in: "2", typ: eioPing},
		{in: "2probe", typ: eioPing, data: "probe"},
		{in: "3probe", typ: eioPong, data: "probe"},
		{in: "4hello", typ: eioMessage, data: "hello"},
		{in: "4€", typ: eioMessage, data: "€"}, // UTF-8, no character counting (v4)
		{in: "5", typ: eioUpgrade},
		{in: "6", typ: eioNoop},
		{in: "", wantErr: true},
		{in: "7", wantErr: true},
		{in: "x4hello", wantErr: true},
	}
	for _, tt := range tests {
		p, err := decodeEIO([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("decodeEIO(%q) error = %v; want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (p.typ != tt.typ || string(p.data) != tt.data) {
			t.Errorf("decodeEIO(%q) = %c %q; want %c %q", tt.in, p.typ, p.data, tt.typ, tt.data)
		}
	}
}

func TestEIO_Payload(t *testing.T) {
	// The specification's examples: three packets, and a binary one in base64.
	got, err := decodePayload([]byte("4hello\x1e2\x1e4world"))
	want := []eioPacket{{typ: eioMessage, data: []byte("hello")}, {typ: eioPing, data: []byte{}}, {typ: eioMessage, data: []byte("world")}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("decodePayload(three packets) = %+v, %v; want %+v", got, err, want)
	}
	got, err = decodePayload([]byte("4hello\x1ebAQIDBA=="))
	want = []eioPacket{{typ: eioMessage, data: []byte("hello")}, {typ: eioMessage, data: []byte{1, 2, 3, 4}, binary: true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("decodePayload(binary) = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "4a\x1e", "4a\x1e\x1e4b", "9", "b!!!"} {
		if got, err := decodePayload([]byte(bad)); err == nil {
			t.Errorf("decodePayload(%q) = %+v, nil; want an error", bad, got)
		}
	}
	body := appendPayload(nil, [][]byte{[]byte("4hello"), []byte("2"), []byte("4world")})
	if string(body) != "4hello\x1e2\x1e4world" {
		t.Errorf("appendPayload() = %q; want %q", body, "4hello\x1e2\x1e4world")
	}
	if body := appendPayload(nil, [][]byte{[]byte("6")}); string(body) != "6" {
		t.Errorf("appendPayload(one) = %q; want %q", body, "6")
	}
}

func TestSIO_Decode(t *testing.T) {
	tests := []struct {
		in   string
		want sioPacket
	}{
		{"0", sioPacket{typ: sioConnect, nsp: "/", id: sioNoID}},
		{`0{"token":"123"}`, sioPacket{typ: sioConnect, nsp: "/", id: sioNoID, data: []byte(`{"token":"123"}`)}},
		{`0/admin,{"token":"123"}`, sioPacket{typ: sioConnect, nsp: "/admin", id: sioNoID, data: []byte(`{"token":"123"}`)}},
		{"0/admin,", sioPacket{typ: sioConnect, nsp: "/admin", id: sioNoID}},
		{"1", sioPacket{typ: sioDisconnect, nsp: "/", id: sioNoID}},
		{"1/admin,", sioPacket{typ: sioDisconnect, nsp: "/admin", id: sioNoID}},
		{`2["foo"]`, sioPacket{typ: sioEvent, nsp: "/", id: sioNoID, data: []byte(`["foo"]`)}},
		{`2/admin,["bar"]`, sioPacket{typ: sioEvent, nsp: "/admin", id: sioNoID, data: []byte(`["bar"]`)}},
		{`212["foo"]`, sioPacket{typ: sioEvent, nsp: "/", id: 12, data: []byte(`["foo"]`)}},
		{`2/admin,13["foo"]`, sioPacket{typ: sioEvent, nsp: "/admin", id: 13, data: []byte(`["foo"]`)}},
		{`312["bar"]`, sioPacket{typ: sioAck, nsp: "/", id: 12, data: []byte(`["bar"]`)}},
		{`30[]`, sioPacket{typ: sioAck, nsp: "/", id: 0, data: []byte(`[]`)}},
		{`4{"message":"Not authorized"}`, sioPacket{typ: sioConnectError, nsp: "/", id: sioNoID, data: []byte(`{"message":"Not authorized"}`)}},
	}
	for _, tt := range tests {
		got, err := decodeSIO([]byte(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeSIO(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestSIO_DecodeRefuses(t *testing.T) {
	tests := []struct {
		in   string
		want error // nil: any error
	}{
		{"", errSIOEmpty},
		{"7", errSIOType},
		{"a", errSIOType},
		{`51-["baz",{"_placeholder":true,"num":0}]`, errSIOBinary},
		{`61-12["bar",{"_placeholder":true,"num":0}]`, errSIOBinary},
		{`2["foo"`, errSIOPayload},
		{`2{"a":1}x`, errSIOPayload},
		{`299999999999999999999["foo"]`, errSIOAckID},
		{`2/admin["foo"]`, errSIONsp},
		{`2[]`, nil},        // an event must name itself
		{`2{"a":1}`, nil},   // not an array
		{`2[42]`, nil},      // the name must be a string
		{`2`, nil},          // no payload
		{`0[]`, nil},        // a connect payload is an object
		{`0"tok"`, nil},     // a connect payload is an object
		{`1{}`, nil},        // a disconnect has no payload
		{`3["bar"]`, nil},   // an ack needs an id
		{`312{"a":1}`, nil}, // an ack payload is an array
		{`312`, nil},        // an ack payload is an array, possibly empty, never absent
		{`4[]`, nil},        // a connect error is an object
	}
	for _, tt := range tests {
		got, err := decodeSIO([]byte(tt.in))
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("decodeSIO(%q) = %+v, %v; want error %v", tt.in, got, err, tt.want)
		}
	}
}

func TestSIO_Encode(t *testing.T) {
	tests := []struct {
		typ  byte
		nsp  string
		id   int64
		data string
		want string
	}{
		{sioConnect, "/", sioNoID, "", "0"},
		{sioConnect, "/admin", sioNoID, `{"sid":"oSO0OpakMV_3jnilAAAA"}`, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
		{sioConnectError, "/", sioNoID, `{"message":"Not authorized"}`, `4{"message":"Not authorized"}`},
		{sioEvent, "/", sioNoID, `["foo"]`, `2["foo"]`},
		{sioEvent, "/admin", sioNoID, `["bar"]`, `2/admin,["bar"]`},
		{sioAck, "/", 12, `["bar"]`, `312["bar"]`},
		{sioAck, "/admin", 13, `[]`, `3/admin,13[]`},
		{sioDisconnect, "/admin", sioNoID, "", `1/admin,`},
	}
	for _, tt := range tests {
		var data []byte
		if tt.data != "" {
			data = []byte(tt.data)
		}
		got := string(appendSIO(nil, tt.typ, tt.nsp, tt.id, data))
		if got != tt.want {
			t.Errorf("appendSIO(%c, %q, %d, %s) = %q; want %q", tt.typ, tt.nsp, tt.id, tt.data, got, tt.want)
		}
		// What we encode, we decode back (a connect error's and a
		// disconnect's shape included).
		back, err := decodeSIO([]byte(got))
		if err != nil || back.typ != tt.typ || back.nsp != tt.nsp || (tt.id != back.id) {
			t.Errorf("decodeSIO(%q) = %+v, %v; want type %c, namespace %q, id %d", got, back, err, tt.typ, tt.nsp, tt.id)
		}
	}
	// Inside an Engine.IO message, as a websocket frame carries it.
	if got := string(appendEIO(nil, eioMessage, appendSIO(nil, sioEvent, "/", sioNoID, []byte(`["foo"]`)))); got != `42["foo"]` {
		t.Errorf("event in a message = %q; want %q", got, `42["foo"]`)
	}
}

func TestSIO_EventArgs(t *testing.T) {
	p, err := decodeSIO([]byte(`25["posts:create",{"title":"hi"},"x"]`))
	if err != nil {
		t.Fatalf("decodeSIO() = %v", err)
	}
	name, args := p.eventArgs()
	if name != "posts:create" || len(args) != 2 || string(args[0]) != `{"title":"hi"}` || !strings.Contains(string(args[1]), "x") {
		t.Errorf("eventArgs() = %q, %s; want posts:create with two arguments", name, args)
	}
}

func TestSIO_Frame(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"type":"event","event":"posts","seq":42,"data":{"action":"create","post":{"id":"x","seq":42}}}`,
			`42["posts",{"action":"create","post":{"id":"x","seq":42}},"42"]`},
		{`{"type":"event","event":"peers","data":{"action":"join","count":2}}`, `42["peers",{"action":"join","count":2}]`},
		// Another field order still translates, through the slow path.
		{`{"data":{"a":1},"event":"posts","seq":7,"type":"event"}`, `42["posts",{"a":1},"7"]`},
	}
	for _, tt := range tests {
		if got := string(sioFrame([]byte(tt.in))); got != tt.want {
			t.Errorf("sioFrame(%s) = %s; want %s", tt.in, got, tt.want)
		}
	}
}
