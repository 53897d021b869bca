package sbom

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseLenientReadsTheSameComponents: the fast path used by scanning must see exactly what
// the validating path sees in valid documents, and still refuse what is not an SBOM.
func TestParseLenientReadsTheSameComponents(t *testing.T) {
	files := []string{
		"testdata/infusion-pump.cdx.json",
		"testdata/pump.spdx.json",
		"../../shared/data/sboms/generated/telegraf-v1.20.0-gomod-syft.cdx.json",
		"../../shared/data/sboms/generated/prometheus-d15adb9-syft.cdx.json",
		"../../shared/data/sboms/medical/sbom-completeness-case-study-extended.sbom.json",
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Logf("skip %s: %v", f, err)
			continue
		}
		strict, err := ParseFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lenient, err := ParseFileLenient(f)
		if err != nil {
			t.Fatalf("%s lenient: %v", f, err)
		}
		if !reflect.DeepEqual(strict.Components, lenient.Components) || !reflect.DeepEqual(strict.Dependencies, lenient.Dependencies) ||
			strict.SpecVersion != lenient.SpecVersion || strict.Format != lenient.Format {
			t.Errorf("%s: lenient parse differs (%d vs %d components)", filepath.Base(f), len(strict.Components), len(lenient.Components))
		}
	}
	for _, bad := range []string{`{"bomFormat":"CycloneDX","specVersion":"1.1"}`, `{"hello":1}`, `[1,2]`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, err := ParseLenient("bad.json", []byte(bad)); err == nil {
			t.Errorf("lenient parse accepted %q", bad)
		}
	}
}

func BenchmarkParseLenientPrometheus(b *testing.B) {
	data, err := os.ReadFile("../../shared/data/sboms/generated/prometheus-d15adb9-syft.cdx.json")
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := ParseLenient("p.cdx.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
