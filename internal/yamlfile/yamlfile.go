// Package yamlfile decodes YAML (and JSON, a subset of YAML) input files strictly and reports every
// problem as "file:line: field: what was expected", so that a typo in a compliance file never passes
// silently and the user is pointed at the exact place to fix.
package yamlfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MaxSize is the largest input file accepted, in bytes.
const MaxSize = 4 << 20

// Error is one problem in one input file.
type Error struct {
	File  string // file name as the user gave it
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path such as "device.connectivity.interfaces[2]"; empty for the whole file
	Msg   string // what was expected
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of problems found in one pass; it prints one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil for an empty list, so that callers can `return errs.Err()`.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Doc is a parsed file: it decodes into Go values and finds the line of any field path.
type Doc struct {
	Name string
	file *ast.File
}

// Parse parses data (YAML or JSON) named name. Syntax errors come back as *Error.
func Parse(name string, data []byte) (*Doc, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is %d bytes; at most %d are accepted", len(data), MaxSize)}
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, &Error{File: name, Msg: "file is empty; expected a YAML or JSON document"}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, convert(name, nil, err)
	}
	if len(f.Docs) != 1 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("found %d YAML documents; expected exactly one", len(f.Docs))}
	}
	if n := findAlias(f.Docs[0].Body); n != nil {
		return nil, &Error{File: name, Line: line(n), Field: pathAt(f, n.GetToken()),
			Msg: "YAML anchors and aliases (&name, *name) are not accepted; write the value out"}
	}
	return &Doc{Name: name, file: f}, nil
}

// findAlias returns the first anchor or alias node. They are refused: input files never need
// them, and alias expansion is the classic way to make a small file decode into a huge value.
func findAlias(n ast.Node) ast.Node {
	switch v := n.(type) {
	case nil:
		return nil
	case *ast.AliasNode, *ast.AnchorNode:
		return v
	case *ast.MappingNode:
		for _, kv := range v.Values {
			if a := findAlias(kv); a != nil {
				return a
			}
		}
	case *ast.MappingValueNode:
		if a := findAlias(v.Key); a != nil {
			return a
		}
		return findAlias(v.Value)
	case *ast.SequenceNode:
		for _, item := range v.Values {
			if a := findAlias(item); a != nil {
				return a
			}
		}
	case *ast.TagNode:
		return findAlias(v.Value)
	}
	return nil
}

// Decode decodes the whole document into v, rejecting unknown fields.
func (d *Doc) Decode(v any) error {
	body := d.file.Docs[0].Body
	if body == nil {
		return &Error{File: d.Name, Msg: "document is empty"}
	}
	if err := yaml.NodeToValue(body, v, yaml.Strict()); err != nil {
		return convert(d.Name, d.file, err)
	}
	return nil
}

// Line returns the line of the value at the dotted path (e.g. "device.kind",
// "markets.us.class", "requirements[3].id"), or of its nearest existing parent, or 0.
func (d *Doc) Line(path string) int {
	p := path
	for {
		if n := d.node(p); n != nil {
			return line(n)
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			if n := d.node(""); n != nil {
				return line(n)
			}
			return 0
		}
		p = p[:i]
	}
}

// Errorf builds an *Error at the given field path.
func (d *Doc) Errorf(path, format string, args ...any) *Error {
	return &Error{File: d.Name, Line: d.Line(path), Field: path, Msg: fmt.Sprintf(format, args...)}
}

func (d *Doc) node(path string) ast.Node {
	if len(d.file.Docs) == 0 {
		return nil
	}
	if path == "" {
		return d.file.Docs[0].Body
	}
	p, err := yaml.PathString("$." + path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(d.file)
	if err != nil || n == nil {
		return nil
	}
	return n
}

func line(n ast.Node) int {
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

// convert turns a go-yaml error into an *Error with a field path where the token allows it.
func convert(name string, f *ast.File, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{File: name, Msg: err.Error()}
	}
	tok := ye.GetToken()
	e := &Error{File: name, Msg: tidy(ye.GetMessage())}
	if tok != nil && tok.Position != nil {
		e.Line = tok.Position.Line
		if f != nil {
			e.Field = pathAt(f, tok)
		}
	}
	var uf *yaml.UnknownFieldError
	if errors.As(err, &uf) {
		key := strings.Trim(strings.TrimPrefix(uf.Message, "unknown field "), `"`)
		e.Msg = fmt.Sprintf("unknown field %q; check the spelling against the format", key)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		e.Msg = "expected " + kind(te.DstType.String()) + ", found " + describe(tok)
	}
	var de *yaml.DuplicateKeyError
	if errors.As(err, &de) || strings.Contains(e.Msg, "already defined") {
		e.Msg = "duplicate key: " + e.Msg + "; each field may appear once"
	}
	return e
}

func tidy(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "invalid YAML"
	}
	return msg
}

func kind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case goType == "string":
		return "a text value"
	}
	return "a value of type " + goType
}

func describe(t *token.Token) string {
	if t == nil {
		return "something else"
	}
	return fmt.Sprintf("%q", t.Value)
}

// pathAt returns the dotted path of the node that holds tok, walking the document.
func pathAt(f *ast.File, tok *token.Token) string {
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return ""
	}
	var best string
	var walk func(n ast.Node, path string)
	walk = func(n ast.Node, path string) {
		if n == nil {
			return
		}
		if t := n.GetToken(); t != nil && t.Position != nil && tok.Position != nil &&
			t.Position.Line == tok.Position.Line && t.Position.Column == tok.Position.Column {
			best = path
		}
		switch v := n.(type) {
		case *ast.MappingNode:
			for _, kv := range v.Values {
				walk(kv, path)
			}
		case *ast.MappingValueNode:
			key := v.Key.GetToken().Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			if kt := v.Key.GetToken(); kt != nil && kt.Position != nil && tok.Position != nil &&
				kt.Position.Line == tok.Position.Line && kt.Position.Column == tok.Position.Column {
				best = p
			}
			walk(v.Value, p)
		case *ast.SequenceNode:
			for i, item := range v.Values {
				walk(item, fmt.Sprintf("%s[%d]", path, i))
			}
		case *ast.TagNode:
			walk(v.Value, path)
		case *ast.AnchorNode:
			walk(v.Value, path)
		}
	}
	walk(f.Docs[0].Body, "")
	return best
}

// FieldPath writes the tokens of a JSON pointer as a field path for messages:
// ["components", "3", "hashes"] is "components[3].hashes".
func FieldPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
