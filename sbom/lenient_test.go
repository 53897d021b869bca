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
		"../../shared/data/sboms/generated/prometheus-d15adb9-syft.spdx.json",
		"../../shared/data/sboms/spdx/spdx-spec-2.3/SPDXJSONExample-v2.3.spdx.json",
		"../../shared/data/sboms/spdx/spdx-spec-2.2/SPDXJSONExample-v2.2.spdx.json",
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
		inv, err := ParseFileInventory(f)
		if err != nil {
			t.Fatalf("%s inventory: %v", f, err)
		}
		if want, got := inventoryOf(strict), inventoryOf(inv); !reflect.DeepEqual(want, got) {
			t.Errorf("%s: inventory parse differs (%d vs %d components)", filepath.Base(f), len(strict.Components), len(inv.Components))
		}
		// The inventory readers skip hashes and licences: a file whose full read has some shows
		// that the fast path, not the fallback to the full reader, produced the inventory.
		full, read := 0, 0
		for i := range strict.Components {
			full += len(strict.Components[i].Hashes) + len(strict.Components[i].Licenses)
			read += len(inv.Components[i].Hashes) + len(inv.Components[i].Licenses)
		}
		if (strict.Encoding == EncodingJSON) && full > 0 && read > 0 {
			t.Errorf("%s: the inventory parse read %d hashes and licences (the full read %d): it fell back to the full reader", f, read, full)
		}
		t.Logf("%s: %d components; hashes and licences: full read %d, inventory %d", filepath.Base(f), len(inv.Components), full, read)
	}
	for _, bad := range []string{`{"bomFormat":"CycloneDX","specVersion":"1.1"}`, `{"hello":1}`, `[1,2]`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, err := ParseLenient("bad.json", []byte(bad)); err == nil {
			t.Errorf("lenient parse accepted %q", bad)
		}
	}
}

// inventoryOf is what ParseFileInventory promises to read as the other parsers do.
func inventoryOf(d *Document) any {
	type comp struct{ Ref, Type, Name, Version, PURL, CPE, Supplier, Parent string }
	type inv struct {
		Format, SpecVersion, Name, Version, Root string
		Components                               []comp
		Dependencies                             []Dependency
	}
	out := inv{Format: d.Format, SpecVersion: d.SpecVersion, Name: d.Name, Version: d.Version, Root: d.Root, Dependencies: d.Dependencies}
	for _, c := range d.Components {
		out.Components = append(out.Components, comp{c.Ref, c.Type, c.Name, c.Version, c.PURL, c.CPE, c.Supplier, c.Parent})
	}
	return out
}

func BenchmarkParseInventoryPrometheus(b *testing.B) {
	const f = "../../shared/data/sboms/generated/prometheus-d15adb9-syft.cdx.json"
	if _, err := os.Stat(f); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := ParseFileInventory(f); err != nil {
			b.Fatal(err)
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
