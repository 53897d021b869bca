package sbom

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// The official CycloneDX JSON schemas (Apache-2.0, OWASP Foundation); see schemas/README.md.
//
//go:embed schemas/*.json
var schemaFS embed.FS

// schemaBase is where the CycloneDX schemas live; their relative $refs resolve against it.
const schemaBase = "http://cyclonedx.org/schema/"

// cdxSchemaFiles maps a specVersion to its schema file. 1.0 and 1.1 had no JSON encoding.
var cdxSchemaFiles = map[string]string{
	"1.2": "bom-1.2.schema.json",
	"1.3": "bom-1.3.schema.json",
	"1.4": "bom-1.4.schema.json",
	"1.5": "bom-1.5.schema.json",
	"1.6": "bom-1.6.schema.json",
	"1.7": "bom-1.7.schema.json",
}

// Documents the BOM schemas reference with "$ref", registered under the URLs the $refs name.
var cdxSchemaDeps = []string{"spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json"}

var (
	schemaMu       sync.Mutex
	schemaCompiler *jsonschema.Compiler
	schemas        = map[string]*jsonschema.Schema{}
)

// cdxSchema returns the compiled schema for a CycloneDX specVersion. The shared documents are
// registered once; each version is compiled on first use and kept for the life of the process.
func cdxSchema(version string) (*jsonschema.Schema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if sch, ok := schemas[version]; ok {
		return sch, nil
	}
	file, ok := cdxSchemaFiles[version]
	if !ok {
		return nil, nil
	}
	if schemaCompiler == nil {
		c, err := newSchemaCompiler()
		if err != nil {
			return nil, err
		}
		schemaCompiler = c
	}
	if err := addSchema(schemaCompiler, file); err != nil {
		return nil, fmt.Errorf("embedded CycloneDX schema (a build problem): %w", err)
	}
	sch, err := schemaCompiler.Compile(schemaBase + file)
	if err != nil {
		return nil, fmt.Errorf("embedded CycloneDX schema %s (a build problem): %w", file, err)
	}
	schemas[version] = sch
	return sch, nil
}

func addSchema(c *jsonschema.Compiler, file string) error {
	data, err := schemaFS.ReadFile("schemas/" + file)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return c.AddResource(schemaBase+file, doc)
}

func newSchemaCompiler() (*jsonschema.Compiler, error) {
	c := jsonschema.NewCompiler()
	// Nothing may be fetched: every document a schema refers to is embedded and registered here.
	c.UseLoader(noLoader{})
	for _, f := range cdxSchemaDeps {
		if err := addSchema(c, f); err != nil {
			return nil, fmt.Errorf("embedded CycloneDX schema (a build problem): %w", err)
		}
	}
	return c, nil
}

// compileSchemas compiles every version at once (the benchmark measures the full cost).
func compileSchemas() (map[string]*jsonschema.Schema, error) {
	c, err := newSchemaCompiler()
	if err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for v, f := range cdxSchemaFiles {
		if err := addSchema(c, f); err != nil {
			return nil, err
		}
		s, err := c.Compile(schemaBase + f)
		if err != nil {
			return nil, fmt.Errorf("embedded CycloneDX schema %s (a build problem): %w", f, err)
		}
		out[v] = s
	}
	return out, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded; nothing is fetched", url)
}

// maxSchemaErrors caps how many schema violations one error reports.
const maxSchemaErrors = 8

var printer = message.NewPrinter(language.English)

// validateCycloneDX checks a CycloneDX JSON document against the official schema of its
// specVersion. inst is the document decoded with jsonschema.UnmarshalJSON.
func validateCycloneDX(name string, data []byte, version string, inst any) error {
	sch, err := cdxSchema(version)
	if err != nil {
		return err
	}
	if sch == nil {
		return &yamlfile.Error{File: name, Line: jsonLine(data, []string{"specVersion"}), Field: "specVersion",
			Msg: fmt.Sprintf("CycloneDX %s has no JSON schema; expected one of 1.2 to 1.7", version)}
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &yamlfile.Error{File: name, Msg: "schema validation failed: " + err.Error()}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	var errs yamlfile.Errors
	seen := map[string]bool{}
	for _, l := range leaves {
		field := fieldPath(l.InstanceLocation)
		msg := fmt.Sprintf("not valid against the CycloneDX %s schema: %s", version, shortenEnum(l.ErrorKind.LocalizedString(printer)))
		if seen[field+msg] {
			continue
		}
		seen[field+msg] = true
		if len(errs) == maxSchemaErrors {
			errs = append(errs, &yamlfile.Error{File: name, Msg: fmt.Sprintf("and %d more schema violations", len(leaves)-maxSchemaErrors)})
			break
		}
		errs = append(errs, &yamlfile.Error{File: name, Line: jsonLine(data, l.InstanceLocation), Field: field, Msg: msg})
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errs
}

// collectLeaves gathers the innermost causes: they say what is wrong where, while the outer
// errors only say that a subschema failed. For a oneOf/anyOf failure all alternatives are leaves;
// those pointing deepest into the document come first, being the most specific.
func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			*out = append(*out, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(e)
	slices.SortStableFunc(*out, func(a, b *jsonschema.ValidationError) int {
		return len(b.InstanceLocation) - len(a.InstanceLocation)
	})
}

// fieldPath renders a JSON pointer's tokens as "components[3].hashes[0].content".
func fieldPath(loc []string) string { return yamlfile.FieldPath(loc) }

// shortenEnum cuts "value must be one of 'a', 'b', ..." down to a readable length: the licence
// ID enumeration alone has hundreds of entries.
func shortenEnum(msg string) string {
	const prefix = "value must be one of "
	i := strings.Index(msg, prefix)
	if i < 0 {
		return msg
	}
	items := strings.Split(msg[i+len(prefix):], ", ")
	if len(items) <= 12 {
		return msg
	}
	return fmt.Sprintf("%s%s, ... (%d allowed values)", msg[:i+len(prefix)], strings.Join(items[:6], ", "), len(items))
}
