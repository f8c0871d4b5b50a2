package app_test

import (
	"bytes"
	"encoding"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"lanfeed/app"
	"lanfeed/feed"
)

var update = flag.Bool("update", false, "rewrite "+contractFile+" from the bound Go services")

const (
	contractFile = "../frontend/src/transport/wails.contract.gen.ts"
	regenerate   = "go test ./app -run TestBindingsContract -update && (cd frontend && npm run typecheck)"
)

// TestBindingsContract guards the types the window calls the bound services
// with, which are written by hand in frontend/src/transport/wails.ts. It
// describes the Go side of that boundary in TypeScript (contractFile) and
// fails when the checked-in description is out of date; the frontend's
// typecheck then holds the hand-written types to the description
// (wails.contract.check.ts). So a Go change fails here until regenerated,
// and fails `npm run typecheck` until wails.ts follows it.
func TestBindingsContract(t *testing.T) {
	d := app.NewDesktop(app.Config{DataDir: t.TempDir(), Logger: discardLogger()}, "127.0.0.1:0")
	got, err := describeBindings(d.Bindings(), paramNames(t, "."))
	if err != nil {
		t.Fatalf("describeBindings() = %v", err)
	}
	if *update {
		if err := os.WriteFile(contractFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(contractFile)
	if err != nil {
		t.Fatalf("%v; create it with:\n\t%s", err, regenerate)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: the bound Go services changed (%s).\nRegenerate it and check wails.ts against it with:\n\t%s",
			filepath.Base(contractFile), firstDiff(want, got), regenerate)
	}
}

// TestBindings_NoNullOnAnEmptyNode backs a promise of the contract file:
// a Go slice is described as an array, never null, because the services
// return empty slices rather than nil ones. An empty node is where a nil
// slice would show.
func TestBindings_NoNullOnAnEmptyNode(t *testing.T) {
	d, _, _ := startDesktop(t, "")
	results := map[string]func() (any, error){
		"Posts.List":      func() (any, error) { return d.Posts.List("", 10) },
		"Posts.ListAfter": func() (any, error) { return d.Posts.ListAfter("", 10) },
		"Posts.Sync":      func() (any, error) { return d.Posts.Sync(0, "") },
		"Node.Info":       func() (any, error) { return d.Node.Info() },
		"Node.Peers":      func() (any, error) { return d.Node.Peers() },
		"Node.Follows":    func() (any, error) { return d.Node.Follows() },
		"Node.Nearby":     func() (any, error) { return d.Node.Nearby() },
		"Node.Settings":   func() (any, error) { return d.Node.Settings() },
		"Node.SetName":    func() (any, error) { return d.Node.SetName("renamed") },
	}
	for name, call := range results {
		v, err := call()
		if err != nil {
			t.Fatalf("%s() = %v", name, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s(): %v", name, err)
		}
		var tree any
		if err := json.Unmarshal(b, &tree); err != nil {
			t.Fatal(err)
		}
		if path := findNull(tree, "result"); path != "" {
			t.Errorf("%s() = %s; %s is null, want an empty array (the contract file has no null here)", name, b, path)
		}
	}
}

// TestDescribe_JSONRules pins the encoding/json rules the description
// follows, on shapes the bound types do not have yet.
func TestDescribe_JSONRules(t *testing.T) {
	type shape struct {
		Plain    *int            `json:"plain"`         // nil is written as null
		Optional *int            `json:"opt,omitempty"` // nil is left out
		Quoted   int64           `json:"quoted,string"`
		Bytes    []byte          `json:"bytes"` // base64
		Map      map[string]bool `json:"map"`
		Skipped  string          `json:"-"`
		Untagged string
		Dash     string            `json:"a-b"`
		Raw      []json.RawMessage `json:"raw"`
		Number   json.Number       `json:"n"`
		Time     *feed.Time        `json:"time"`
	}
	w := newDescriber()
	got := w.object(reflect.TypeFor[shape](), "shape")
	want := `{
  plain: number | null;
  opt?: number;
  quoted: string;
  bytes: string;
  map: Record<string, boolean>;
  Untagged: string;
  "a-b": string;
  raw: unknown[];
  n: number;
  time: string | null;
}`
	if got != want || len(w.errs) > 0 {
		t.Errorf("object(shape) = %s, errors %q; want %s", got, w.errs, want)
	}

	w.ts(reflect.TypeFor[net.IP](), "ip") // MarshalText: must be listed in jsonAs
	w.ts(reflect.TypeFor[chan int](), "chan")
	if len(w.errs) != 2 {
		t.Errorf("errors = %q; want two (net.IP encodes itself; a chan has no JSON)", w.errs)
	}
}

// findNull returns the path of the first JSON null in v, or "".
func findNull(v any, path string) string {
	switch v := v.(type) {
	case nil:
		return path
	case []any:
		for i, x := range v {
			if p := findNull(x, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p := findNull(v[k], path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

// firstDiff names the first line where want and got differ.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d is %q; the Go side now gives %q", i+1, wl, gl)
		}
	}
	return "they differ"
}

// paramNames reads the parameter names of the methods declared in dir,
// keyed "Type.Method": reflection knows only their types.
func paramNames(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			id, ok := recv.(*ast.Ident)
			if !ok {
				continue
			}
			var params []string
			for _, field := range fn.Type.Params.List {
				if len(field.Names) == 0 {
					params = append(params, "")
				}
				for _, n := range field.Names {
					params = append(params, n.Name)
				}
			}
			names[id.Name+"."+fn.Name.Name] = params
		}
	}
	return names
}

// jsonAs gives the JSON of the types that encode themselves (MarshalJSON,
// MarshalText), which reflection over their fields would get wrong. A bound
// type that encodes itself and is not listed fails the test.
var jsonAs = map[reflect.Type]string{
	reflect.TypeFor[feed.Time]():       "string", // RFC 3339 UTC, three fraction digits
	reflect.TypeFor[time.Time]():       "string", // RFC 3339
	reflect.TypeFor[json.RawMessage](): "unknown",
	reflect.TypeFor[json.Number]():     "number", // a string in Go, a number in JSON
}

var errorType = reflect.TypeFor[error]()

// describer writes the TypeScript for bound services and the types they
// reach, following what Wails v2 does with a call: each argument is decoded
// with json.Unmarshal into its parameter's type (the count must match), and
// the result, with a final error as the rejection, is encoded with
// json.Marshal.
type describer struct {
	names map[reflect.Type]string // named struct -> its TypeScript interface
	taken map[string]reflect.Type // TypeScript name -> the Go type that has it
	decls map[string]string       // TypeScript name -> declaration
	errs  []string
}

func newDescriber() *describer {
	return &describer{names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}, decls: map[string]string{}}
}

// describeBindings writes the contract file for the bound services; params
// names their methods' parameters ("Type.Method").
func describeBindings(bound []any, params map[string][]string) ([]byte, error) {
	w := newDescriber()
	type service struct{ pkg, name, ts string }
	var services []service
	var body strings.Builder
	for _, v := range bound {
		t := reflect.TypeOf(v)
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			w.fail(fmt.Sprint(t), "Wails binds pointers to structs only")
			continue
		}
		pkg, name, _ := strings.Cut(t.Elem().String(), ".")
		s := service{pkg, name, tsName(t.Elem())}
		services = append(services, s)
		fmt.Fprintf(&body, "\n/** %s is the bound *%s.%s (window.go.%[2]s.%[3]s). */\nexport interface %[1]s {\n", s.ts, pkg, name)
		for i := range t.NumMethod() { // exported methods, sorted by name, as Wails binds them
			m := t.Method(i)
			fmt.Fprintf(&body, "  %s;\n", w.method(name+"."+m.Name, m.Type, params[name+"."+m.Name]))
		}
		body.WriteString("}\n")
	}
	for _, name := range slices.Sorted(maps.Keys(w.decls)) {
		body.WriteString(w.decls[name])
	}
	if len(w.errs) > 0 {
		return nil, fmt.Errorf("cannot describe the bindings:\n\t%s", strings.Join(w.errs, "\n\t"))
	}

	var out strings.Builder
	out.WriteString(`// Code generated by "go test ./app -run TestBindingsContract -update"; DO NOT EDIT.

// The Go side of the Wails bindings, read by reflection from the services
// app.Desktop.Bindings() returns: each method with its arguments and result
// as they cross the bridge in JSON (json tags; omitempty makes a field
// optional; feed.Time is its RFC 3339 string). Slices are arrays, never
// null: the services return empty slices (TestBindings_NoNullOnAnEmptyNode).
// wails.contract.check.ts holds the hand-typed bindings in wails.ts to it.

/** GoBindings is window.go: each bound service under its Go package and type. */
export interface GoBindings {
`)
	for i, s := range services {
		if i == 0 || services[i-1].pkg != s.pkg {
			fmt.Fprintf(&out, "  %s: {\n", s.pkg)
		}
		fmt.Fprintf(&out, "    %s: %s;\n", s.name, s.ts)
		if i == len(services)-1 || services[i+1].pkg != s.pkg {
			out.WriteString("  };\n")
		}
	}
	out.WriteString("}\n")
	out.WriteString(body.String())
	return []byte(out.String()), nil
}

func (w *describer) fail(where, format string, args ...any) {
	w.errs = append(w.errs, where+": "+fmt.Sprintf(format, args...))
}

// method describes one bound method; mt includes the receiver.
func (w *describer) method(where string, mt reflect.Type, names []string) string {
	if mt.IsVariadic() {
		w.fail(where, "variadic methods are not described")
	}
	var args []string
	for i := 1; i < mt.NumIn(); i++ {
		name := ""
		if len(names) == mt.NumIn()-1 {
			name = names[i-1]
		}
		if name == "" || name == "_" {
			name = fmt.Sprintf("arg%d", i)
		}
		if jsReserved[name] {
			name += "_"
		}
		args = append(args, name+": "+w.ts(mt.In(i), fmt.Sprintf("%s argument %d", where, i)))
	}
	result := "void"
	switch {
	case mt.NumOut() == 0, mt.NumOut() == 1 && mt.Out(0) == errorType:
	case mt.NumOut() == 1, mt.NumOut() == 2 && mt.Out(1) == errorType:
		result = w.ts(mt.Out(0), where+" result")
	default:
		w.fail(where, "Wails v2 takes a result, an error, or a result and an error")
	}
	_, method, _ := strings.Cut(where, ".")
	return fmt.Sprintf("%s(%s): Promise<%s>", method, strings.Join(args, ", "), result)
}

// ts returns the TypeScript for the JSON of t.
func (w *describer) ts(t reflect.Type, where string) string {
	if s, ok := jsonAs[t]; ok {
		return s
	}
	if t.Kind() == reflect.Pointer { // before encodesItself: *T has T's methods
		return w.ts(t.Elem(), where) + " | null"
	}
	if encodesItself(t) {
		w.fail(where, "%s has its own JSON encoding; add it to jsonAs", t)
		return "never"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "unknown"
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !encodesItself(t.Elem()) {
			return "string" // base64
		}
		elem := w.ts(t.Elem(), where+"[]")
		if strings.Contains(elem, " ") {
			elem = "(" + elem + ")"
		}
		return elem + "[]"
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if !encodesItself(t.Key()) {
				return "Record<string, " + w.ts(t.Elem(), where+"[key]") + ">"
			}
		}
	case reflect.Struct:
		if t.Name() == "" {
			return w.object(t, where)
		}
		return w.named(t, where)
	}
	w.fail(where, "%s has no JSON form this test knows", t)
	return "never"
}

// named declares the interface of a named struct once and returns its name.
func (w *describer) named(t reflect.Type, where string) string {
	if name, ok := w.names[t]; ok {
		return name
	}
	name := tsName(t)
	if other, ok := w.taken[name]; ok {
		w.fail(where, "%s and %s would both be %s", t, other, name)
	}
	w.names[t], w.taken[name] = name, t // before the fields: a type may reach itself
	w.decls[name] = fmt.Sprintf("\n/** %s is %s in JSON. */\nexport interface %s %s\n", name, t, name, w.object(t, t.String()))
	return name
}

var tsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// object describes the fields of a struct as encoding/json writes them.
func (w *describer) object(t reflect.Type, where string) string {
	var b strings.Builder
	b.WriteString("{\n")
	seen := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			w.fail(where+"."+f.Name, "embedded fields are not described; give the field a name or a json name")
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if seen[name] {
			w.fail(where+"."+f.Name, "a second field named %q in JSON", name)
		}
		seen[name] = true
		options := strings.Split(opts, ",")
		optional := slices.Contains(options, "omitempty") || slices.Contains(options, "omitzero")
		ft := f.Type
		if optional && ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // nil is left out, not written as null
		}
		typ := w.ts(ft, where+"."+f.Name)
		if slices.Contains(options, "string") {
			switch ft.Kind() {
			case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
				typ = "string"
			}
		}
		key := name
		if !tsIdent.MatchString(key) {
			key = fmt.Sprintf("%q", key)
		}
		if optional {
			key += "?"
		}
		fmt.Fprintf(&b, "  %s: %s;\n", key, typ)
	}
	b.WriteString("}")
	return b.String()
}

// encodesItself tells whether encoding/json leaves t's JSON to t's methods.
func encodesItself(t reflect.Type) bool {
	for _, i := range []reflect.Type{
		reflect.TypeFor[json.Marshaler](), reflect.TypeFor[json.Unmarshaler](),
		reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](),
	} {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

// tsName names a Go type in TypeScript: feed.Post is FeedPost.
func tsName(t reflect.Type) string {
	pkg, name, _ := strings.Cut(t.String(), ".")
	r := []rune(strings.TrimLeft(pkg, "*"))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r) + strings.NewReplacer("[", "_", "]", "", ",", "_", ".", "_", "/", "_", " ", "").Replace(name)
}

// jsReserved are the words a parameter may not be called in TypeScript.
var jsReserved = func() map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(`break case catch class const continue debugger default delete do else
		enum export extends false finally for function if implements import in instanceof interface let new
		null package private protected public return static super switch this throw true try typeof var void
		while with yield await`) {
		set[w] = true
	}
	return set
}()
