// Package schemacheck validates JSON documents against JSON Schemas (draft-07 and 2020-12); tests
// use it to hold real output to the published contract.
package schemacheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate checks doc (JSON bytes) against the schema in schemaFile.
func Validate(schemaFile string, doc []byte) error {
	f, err := os.Open(schemaFile)
	if err != nil {
		return err
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return fmt.Errorf("schema %s: %w", schemaFile, err)
	}
	abs, err := filepath.Abs(schemaFile)
	if err != nil {
		return err
	}
	if m, ok := schemaDoc.(map[string]any); ok && strings.Contains(fmt.Sprint(m["$schema"]), "draft-07") {
		hoistRefs(m)
	}
	// Register the schema under its own $id when it has an absolute one, so that its internal
	// references (draft-07 "$id": "#anchor" style, as in NIST's OSCAL schemas) resolve.
	if m, ok := schemaDoc.(map[string]any); ok {
		if id, ok := m["$id"].(string); ok && strings.Contains(id, "://") {
			abs = id
		}
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(abs, schemaDoc); err != nil {
		return fmt.Errorf("schema %s: %w", schemaFile, err)
	}
	sch, err := c.Compile(abs)
	if err != nil {
		return fmt.Errorf("compile %s: %w", schemaFile, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// hoistRefs rewrites {"$id": "#a", "$ref": R} into {"$id": "#a", "allOf": [{"$ref": R}]}. In draft-07
// a $ref hides its siblings, so such an $id would define no anchor; NIST's OSCAL schemas rely on
// those anchors, and this rewrite keeps their meaning while making them resolvable.
func hoistRefs(v any) {
	switch n := v.(type) {
	case map[string]any:
		if ref, ok := n["$ref"]; ok {
			if _, hasID := n["$id"]; hasID {
				delete(n, "$ref")
				n["allOf"] = []any{map[string]any{"$ref": ref}}
			}
		}
		for _, c := range n {
			hoistRefs(c)
		}
	case []any:
		for _, c := range n {
			hoistRefs(c)
		}
	}
}
