package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// Limits on what Parse accepts. Real SBOMs stay far below them (the largest in our test data is
// 6 MB and 8 levels deep); they exist so that a hostile file cannot exhaust memory or stack.
const (
	// MaxSize is the largest SBOM accepted, in bytes.
	MaxSize = 64 << 20
	// MaxDepth is the deepest nesting of JSON objects/arrays or XML elements accepted.
	MaxDepth = 64
)

// checkJSONDepth refuses JSON nested deeper than MaxDepth before any decoder builds values from
// it. It is a single pass over the bytes that counts brackets outside strings: it keeps nothing
// and does not recurse, so a million "[" cost a scan and nothing more. (A json.Decoder token walk
// does the same job but took a third of Parse's time on a 3 MB SBOM.) Syntax errors are left to
// the decoder that follows.
func checkJSONDepth(name string, data []byte) error {
	depth := 0
	inString, escaped := false, false
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return &yamlfile.Error{File: name, Line: lineAt(data, int64(i)),
					Msg: fmt.Sprintf("JSON is nested more than %d levels deep; refused (no SBOM needs that, and it is a way to exhaust a parser)", MaxDepth)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// jsonSyntaxError turns an encoding/json error into a located *yamlfile.Error.
func jsonSyntaxError(name string, data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &yamlfile.Error{File: name, Line: lineAt(data, se.Offset), Msg: "invalid JSON: " + se.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		return &yamlfile.Error{File: name, Line: lineAt(data, te.Offset), Field: field,
			Msg: fmt.Sprintf("expected a JSON %s, found %s", jsonKind(te.Type.Kind().String()), te.Value)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &yamlfile.Error{File: name, Line: lineAt(data, int64(len(data))), Msg: "invalid JSON: the document ends in the middle of a value"}
	}
	return &yamlfile.Error{File: name, Msg: "invalid JSON: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "true or false"
	}
	return "number"
}

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// checkXML refuses XML that declares a DOCTYPE (the carrier of entity definitions: "billion
// laughs" expansion and external entities that read local files or URLs) or that nests deeper
// than MaxDepth. Go's encoding/xml expands neither kind of entity, but a CycloneDX document never
// needs a DOCTYPE, so refusing it outright gives a clear message instead of a confusing one.
// It returns the root element's name.
func checkXML(name string, data []byte) (xml.Name, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	depth := 0
	var root xml.Name
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			if root.Local == "" {
				return root, &yamlfile.Error{File: name, Msg: "XML has no root element"}
			}
			return root, nil
		}
		if err != nil {
			return root, xmlError(name, data, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			d := strings.ToUpper(strings.TrimSpace(string(t)))
			what := "a <!" + strings.Fields(d + " x")[0] + "> declaration"
			if strings.HasPrefix(d, "DOCTYPE") {
				what = "a DOCTYPE declaration"
			}
			if strings.Contains(d, "ENTITY") {
				what += " with ENTITY definitions"
			}
			return root, &yamlfile.Error{File: name, Line: lineAt(data, off),
				Msg: "XML with " + what + " is refused: SBOMs never need one, and entity definitions are used for entity-expansion and external-entity attacks"}
		case xml.StartElement:
			if depth == 0 {
				if root.Local != "" {
					return root, &yamlfile.Error{File: name, Line: lineAt(data, off), Msg: "XML has more than one root element"}
				}
				root = t.Name
			}
			depth++
			if depth > MaxDepth {
				return root, &yamlfile.Error{File: name, Line: lineAt(data, off),
					Msg: fmt.Sprintf("XML is nested more than %d elements deep; refused", MaxDepth)}
			}
		case xml.EndElement:
			depth--
		}
	}
}

func xmlError(name string, data []byte, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &yamlfile.Error{File: name, Line: se.Line, Msg: "invalid XML: " + se.Msg}
	}
	return &yamlfile.Error{File: name, Msg: "invalid XML: " + err.Error()}
}

// jsonLine returns the line where the value at the JSON pointer tokens loc starts (of its key,
// for object members), or 0 when it cannot be found. Used only to place error messages.
func jsonLine(data []byte, loc []string) int {
	if len(loc) == 0 {
		return 1
	}
	type frame struct {
		array   bool
		idx     int
		key     string
		wantKey bool
	}
	var stack []frame
	matches := func() bool {
		if len(stack) != len(loc) {
			return false
		}
		for i, f := range stack {
			want := loc[i]
			if f.array {
				if fmt.Sprint(f.idx) != want {
					return false
				}
			} else if f.key != want {
				return false
			}
		}
		return true
	}
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0
		}
		n := len(stack)
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:n-1]
			valueDone()
			continue
		}
		if n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].wantKey = false
			if matches() {
				return lineAt(data, dec.InputOffset())
			}
			continue
		}
		if n > 0 && stack[n-1].array {
			stack[n-1].idx++
			if matches() {
				return lineAt(data, dec.InputOffset())
			}
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{array: d == '[', idx: -1, wantKey: d == '{'})
			continue
		}
		valueDone()
	}
}
