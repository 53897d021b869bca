package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// BenchmarkParsePrometheus reads syft's CycloneDX 1.6 SBOM of Prometheus (2,754 components,
// 3.4 MB). The sub-benchmarks split the time between the steps of Parse.
func BenchmarkParsePrometheus(b *testing.B) {
	path := filepath.Join(sharedSBOMs, "generated/prometheus-d15adb9-syft.cdx.json")
	needShared(b, path)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cdxSchema("1.6"); err != nil { // compile outside the timings
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.Run("Parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(path, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DepthCheck", func(b *testing.B) {
		for b.Loop() {
			if err := checkJSONDepth(path, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GenericDecode", func(b *testing.B) {
		for b.Loop() {
			if _, err := jsonschema.UnmarshalJSON(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("SchemaValidation", func(b *testing.B) {
		for b.Loop() {
			if err := validateCycloneDX(path, data, "1.6", inst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			var bom cdx.BOM
			if err := json.Unmarshal(data, &bom); err != nil {
				b.Fatal(err)
			}
		}
	})
	doc, err := Parse(path, data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Check", func(b *testing.B) {
		for b.Loop() {
			Check(doc, CheckOptions{})
		}
	})
}

func BenchmarkCompileSchemas(b *testing.B) {
	for b.Loop() {
		if _, err := compileSchemas(); err != nil {
			b.Fatal(err)
		}
	}
}
