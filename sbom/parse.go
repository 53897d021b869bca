package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"unicode/utf8"

	cdx "github.com/CycloneDX/cyclonedx-go"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// Formats, encodings and the names Parse gives them.
const (
	FormatCycloneDX = "CycloneDX"
	FormatSPDX      = "SPDX"

	EncodingJSON     = "json"
	EncodingXML      = "xml"
	EncodingTagValue = "tag-value"
)

// ParseFile reads and parses the SBOM at path; see Parse.
func ParseFile(path string) (*Document, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readLimited reads a file of at most MaxSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &yamlfile.Error{File: path, Msg: "cannot read the file: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &yamlfile.Error{File: path, Msg: "cannot read the file: " + err.Error()}
	}
	if st.IsDir() {
		return nil, &yamlfile.Error{File: path, Msg: "is a directory; expected an SBOM file"}
	}
	if st.Size() > MaxSize {
		return nil, tooLarge(path, st.Size())
	}
	// Room for the file and one more read: Buffer.ReadFrom grows (doubling, and touching every
	// new page) when less than MinRead bytes are free, even when only EOF is left to read.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	// Read at most one byte past the limit: the file may have grown since Stat.
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxSize+1)); err != nil {
		return nil, &yamlfile.Error{File: path, Msg: "cannot read the file: " + err.Error()}
	}
	return buf.Bytes(), nil
}

// Parse reads an SBOM named name (used in messages) from data, detecting the format from the
// content, not the file name:
//
//   - CycloneDX JSON 1.2–1.7, validated against the official JSON schema of its specVersion;
//   - CycloneDX XML 1.2–1.7 (namespace http://cyclonedx.org/schema/bom/1.x), decoded and then
//     validated against the JSON schema of the same version through a JSON re-encoding, as no
//     XSD validator is available in pure Go;
//   - SPDX 2.2 and 2.3 (and 2.1) JSON and tag-value, converted to the 2.3 model.
//
// SPDX RDF/XML, SPDX XML, SPDX YAML, SPDX 3 and CycloneDX protobuf are refused with a message
// saying so. Files over MaxSize, JSON or XML nested deeper than MaxDepth and XML carrying a
// DOCTYPE are refused before decoding. Parse never panics: a panic in a decoding library is
// turned into an error. Every error is a *yamlfile.Error or yamlfile.Errors naming the file (and
// the line and field where known).
func Parse(name string, data []byte) (doc *Document, err error) {
	return parse(name, data, true)
}

// ParseLenient reads an SBOM like Parse but skips the CycloneDX JSON schema validation, which is
// most of the cost of reading a large CycloneDX JSON file. Scanning uses it: like other
// scanners, it reads whatever components a producer wrote; `vigil sbom check` and SBOM import
// into a device version use the validating Parse.
func ParseLenient(name string, data []byte) (*Document, error) {
	return parse(name, data, false)
}

// ParseFileLenient is ParseFile without schema validation (see ParseLenient).
func ParseFileLenient(path string) (*Document, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParseLenient(path, data)
}

// ParseFileInventory reads an SBOM for vulnerability matching: like ParseFileLenient, but a
// CycloneDX JSON document is read without what matching never looks at (component hashes,
// licences, properties, external references, evidence, pedigree and the like), which is most of
// a large generated SBOM. Components keep their ref, type, name, version, package URL, CPE,
// supplier and parent, exactly as the other parsers read them; Hashes, Licenses and the support
// fields are left empty. `vigil scan` uses it.
func ParseFileInventory(path string) (*Document, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return parseMode(path, data, modeInventory)
}

// Parse modes: validate against the schema, read without validating, read the inventory only.
const (
	modeValidate = iota
	modeLenient
	modeInventory
)

func parse(name string, data []byte, validate bool) (doc *Document, err error) {
	if validate {
		return parseMode(name, data, modeValidate)
	}
	return parseMode(name, data, modeLenient)
}

func parseMode(name string, data []byte, mode int) (doc *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc = nil
			err = &yamlfile.Error{File: name, Msg: fmt.Sprintf("the SBOM could not be read (the decoder failed: %v); please report this file", r)}
			if os.Getenv("VIGIL_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "%s\n", debug.Stack())
			}
		}
	}()
	if len(data) > MaxSize {
		return nil, tooLarge(name, int64(len(data)))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &yamlfile.Error{File: name, Msg: "file is empty; expected a CycloneDX or SPDX SBOM"}
	}
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return nil, &yamlfile.Error{File: name, Msg: "is a ZIP archive; extract the SBOM from it and check that file"}
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return nil, &yamlfile.Error{File: name, Msg: "is gzip-compressed; decompress it first (gunzip)"}
	}
	if !utf8.Valid(data) {
		if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
			return nil, &yamlfile.Error{File: name, Msg: "file is UTF-16; expected UTF-8 (convert it, e.g. with iconv -f UTF-16 -t UTF-8)"}
		}
		return nil, &yamlfile.Error{File: name, Msg: "file is not UTF-8 text; expected a CycloneDX or SPDX SBOM (CycloneDX protobuf is not supported)"}
	}
	switch trimmed[0] {
	case '{', '[':
		if mode == modeValidate {
			doc, err = testHookJSON(name, data)
		} else {
			doc, err = parseJSONLenient(name, data, mode == modeInventory)
		}
	case '<':
		doc, err = parseXML(name, data)
	default:
		doc, err = parseText(name, data)
	}
	if err != nil {
		return nil, err
	}
	doc.File = name
	if doc.Components == nil {
		doc.Components = []Component{}
	}
	return doc, nil
}

func tooLarge(name string, size int64) error {
	return &yamlfile.Error{File: name, Msg: fmt.Sprintf("file is %d bytes; at most %d (%d MiB) are accepted", size, MaxSize, MaxSize>>20)}
}

// parseJSONLenient reads the top-level keys only to tell the format, then decodes CycloneDX
// directly into the typed model without the generic decode and schema validation.
func parseJSONLenient(name string, data []byte, inventory bool) (*Document, error) {
	if err := checkJSONDepth(name, data); err != nil {
		return nil, err
	}
	// One typed decode: the CycloneDX document, plus the SPDX marker to tell the two apart.
	var top struct {
		cdx.BOM
		SPDXVersion json.RawMessage `json:"spdxVersion"`
	}
	// The JSON v2 decoder reads large SBOMs about 2.5 times as fast as encoding/json; any error
	// sends the document down the validating path, whose messages are the ones users see.
	opts := lenientOpts()
	if inventory {
		opts = inventoryOpts()
	}
	err := jsonv2.Unmarshal(data, &top, opts)
	spdxVersion := top.SPDXVersion
	if err != nil {
		// An SPDX document can fail the CycloneDX decode (its annotations have another shape):
		// look for its version alone.
		var peek struct {
			SPDXVersion json.RawMessage `json:"spdxVersion"`
		}
		if jsonv2.Unmarshal(data, &peek, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) == nil && peek.SPDXVersion != nil {
			spdxVersion, err = peek.SPDXVersion, nil
			top.BOMFormat = ""
		}
	}
	if err == nil && top.BOMFormat == "" && spdxVersion != nil {
		// SPDX JSON: straight to its reader, without the generic decode that the validating path
		// makes for the CycloneDX schema (a quarter of the time on a large SPDX file).
		var v any
		_ = json.Unmarshal(spdxVersion, &v)
		if s, ok := v.(string); ok && inventory && (s == "SPDX-2.2" || s == "SPDX-2.3") {
			if doc, err := parseSPDXInventory(name, data, spdxVersions[s]); err == nil {
				return doc, nil
			}
			// Anything the inventory read cannot take goes to the full reader and its messages.
		}
		return parseSPDXJSON(name, data, v)
	}
	if err != nil || top.BOMFormat == "" || top.SPDXVersion != nil {
		return parseJSON(name, data) // anything unusual: the full path and its messages
	}
	version := top.SpecVersion.String()
	if top.BOMFormat != "CycloneDX" || cdxSchemaFiles[version] == "" {
		return parseJSON(name, data)
	}
	bom := top.BOM
	return fromCycloneDX(name, &bom, version, EncodingJSON)
}

// lenientOpts are the options of the typed CycloneDX decode: duplicate member names are read
// (the last wins), as encoding/json reads them, and components arrays are decoded into slices
// of their final length (see presizeComponents).
var lenientOpts = sync.OnceValue(func() jsonv2.Options {
	var opts jsonv2.Options
	opts = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true),
		jsonv2.WithUnmarshalers(presizeComponents(func() jsonv2.Options { return opts })))
	return opts
})

// inventoryOpts are lenientOpts plus skipping the values of the types that ParseFileInventory
// leaves out, instead of building them: in a syft SBOM, component properties and hashes are
// most of the document. A skipped value is still checked to be well-formed JSON.
var inventoryOpts = sync.OnceValue(func() jsonv2.Options {
	var opts jsonv2.Options
	opts = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(
		presizeComponents(func() jsonv2.Options { return opts }),
		skipValue[*[]cdx.Property](), skipValue[*[]cdx.Hash](), skipValue[*cdx.Licenses](),
		skipValue[*[]cdx.ExternalReference](), skipValue[*cdx.Evidence](), skipValue[*cdx.Pedigree](),
		skipValue[*cdx.SWID](), skipValue[*cdx.ReleaseNotes](), skipValue[*cdx.MLModelCard](),
		skipValue[*[]cdx.ComponentData](), skipValue[*cdx.CryptoProperties](),
	)))
	return opts
})

func skipValue[T any]() *jsonv2.Unmarshalers {
	return jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ T) error { return dec.SkipValue() })
}

// presizeComponents decodes a components array into a slice of its final length: a
// cdx.Component is a struct of several hundred bytes, and growing a slice of thousands of them
// by doubling (copying, and touching fresh memory each time) costs more than counting the
// elements first. opts returns the options to decode the elements with.
func presizeComponents(opts func() jsonv2.Options) *jsonv2.Unmarshalers {
	return jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *[]cdx.Component) error {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if raw.Kind() != '[' {
			return fmt.Errorf("components: expected an array, found %s", raw.Kind())
		}
		n := 0
		count := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
		if _, err := count.ReadToken(); err != nil {
			return err
		}
		for count.PeekKind() != ']' {
			if err := count.SkipValue(); err != nil {
				return err
			}
			n++
		}
		list := make([]cdx.Component, n)
		elems := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
		if _, err := elems.ReadToken(); err != nil {
			return err
		}
		for i := range list {
			if err := jsonv2.UnmarshalDecode(elems, &list[i], opts()); err != nil {
				return err
			}
		}
		*v = list
		return nil
	})
}

// testHookJSON lets a test make the JSON path panic.
var testHookJSON = parseJSON

func parseJSON(name string, data []byte) (*Document, error) {
	if err := checkJSONDepth(name, data); err != nil {
		return nil, err
	}
	// One generic decode serves both the format detection and the CycloneDX schema validation.
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, jsonSyntaxError(name, data, err)
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return nil, &yamlfile.Error{File: name, Line: 1, Msg: "JSON document is not an object; expected a CycloneDX or SPDX SBOM"}
	}
	_, hasSPDX := obj["spdxVersion"]
	_, hasFormat := obj["bomFormat"]
	_, hasSpec := obj["specVersion"]
	_, hasContext := obj["@context"]
	schema, _ := obj["$schema"].(string)
	switch {
	case hasSPDX:
		return parseSPDXJSON(name, data, obj["spdxVersion"])
	case hasFormat || hasSpec || strings.Contains(schema, "cyclonedx"):
		return parseCycloneDXJSON(name, data, inst)
	case hasContext:
		return nil, &yamlfile.Error{File: name, Msg: "looks like JSON-LD (SPDX 3 or another linked-data format), which is not supported; expected CycloneDX 1.2–1.7 or SPDX 2.2/2.3"}
	}
	return nil, &yamlfile.Error{File: name, Line: 1, Msg: `JSON document is neither CycloneDX (no "bomFormat") nor SPDX (no "spdxVersion"); expected a CycloneDX or SPDX SBOM`}
}

func parseXML(name string, data []byte) (*Document, error) {
	root, err := checkXML(name, data)
	if err != nil {
		return nil, err
	}
	switch {
	case root.Local == "bom" && strings.HasPrefix(root.Space, "http://cyclonedx.org/schema/bom/"):
		return parseCycloneDXXML(name, data, root.Space)
	case root.Local == "bom":
		return nil, &yamlfile.Error{File: name, Line: 1, Field: "bom",
			Msg: fmt.Sprintf("XML namespace %q is not a CycloneDX BOM namespace; expected http://cyclonedx.org/schema/bom/1.2 to 1.7", root.Space)}
	case root.Local == "RDF":
		return nil, &yamlfile.Error{File: name, Msg: "SPDX RDF/XML is not supported; convert it to SPDX JSON or tag-value (e.g. with the SPDX online tools or pyspdxtools)"}
	case strings.Contains(strings.ToLower(root.Local), "spdx") || root.Local == "Document":
		return nil, &yamlfile.Error{File: name, Msg: "SPDX XML is not supported; convert it to SPDX JSON or tag-value"}
	}
	return nil, &yamlfile.Error{File: name, Line: 1, Msg: fmt.Sprintf("XML root element <%s> is not a CycloneDX <bom>; expected a CycloneDX or SPDX SBOM", root.Local)}
}

func parseText(name string, data []byte) (*Document, error) {
	for i, line := range strings.SplitN(string(data), "\n", 200) {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "SPDXVersion:"):
			return parseSPDXTagValue(name, data)
		case strings.HasPrefix(l, "spdxVersion:"), strings.HasPrefix(l, "bomFormat:"):
			return nil, &yamlfile.Error{File: name, Line: i + 1, Msg: "SBOMs in YAML are not supported; expected JSON, XML (CycloneDX) or tag-value (SPDX)"}
		}
	}
	return nil, &yamlfile.Error{File: name, Line: 1, Msg: "not a recognised SBOM: expected CycloneDX JSON or XML, or SPDX JSON or tag-value (a line \"SPDXVersion: SPDX-2.3\")"}
}
