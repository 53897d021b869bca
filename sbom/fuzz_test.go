package sbom

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzParse is the property both fuzz targets check: Parse returns a document or a located
// error, and never panics; a panic inside a decoding library (which Parse recovers) counts as a
// failure too, as does a document that breaks the model's invariants or makes Check panic.
func fuzzParse(t *testing.T, data []byte) {
	doc, err := Parse("fuzz.sbom", data)
	// The scan's fast path reads what the validating path reads, and never panics either.
	lenient, lerr := ParseLenient("fuzz.sbom", data)
	if lerr != nil && strings.Contains(lerr.Error(), "the decoder failed") {
		t.Fatalf("a decoder panicked on the lenient path: %v", lerr)
	}
	if err == nil && (lerr != nil || !reflect.DeepEqual(doc.Components, lenient.Components)) {
		t.Fatalf("the lenient parse differs from the validating one: %v", lerr)
	}
	inv, ierr := parseMode("fuzz.sbom", data, modeInventory)
	if ierr != nil && strings.Contains(ierr.Error(), "the decoder failed") {
		t.Fatalf("a decoder panicked on the inventory path: %v", ierr)
	}
	if err == nil && (ierr != nil || !reflect.DeepEqual(inventoryOf(doc), inventoryOf(inv))) {
		t.Fatalf("the inventory parse differs from the validating one: %v", ierr)
	}
	if err != nil {
		if strings.Contains(err.Error(), "the decoder failed") {
			t.Fatalf("a decoder panicked: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.sbom") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	checkInvariants(t, doc)
	r := Check(doc, CheckOptions{Now: checkNow})
	if r.Score < 0 || r.Score > 100 {
		t.Fatalf("score %d", r.Score)
	}
}

func addSeedFiles(f *testing.F, paths ...string) {
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParseCycloneDX(f *testing.F) {
	addSeedFiles(f, "testdata/infusion-pump.cdx.json", "testdata/infusion-pump.cdx.xml",
		filepath.Join(sharedSBOMs, "cyclonedx/bom-examples/SBOM/laravel-7.12.0/bom.1.4.xml"),
		filepath.Join(sharedSBOMs, "cyclonedx/bom-examples/VEX/vex.json"),
		filepath.Join(sharedSBOMs, "cyclonedx/bom-examples/CBOM/Protocol/bom.json"))
	for _, s := range []string{
		`{"bomFormat":"CycloneDX","specVersion":"1.2","version":1,"components":[{"type":"library","name":"a","version":"1"}]}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"metadata":{"tools":[{"name":"t"}],"component":{"type":"application","name":"x","bom-ref":"x","components":[{"type":"library","name":"y","bom-ref":"y"}]}},"dependencies":[{"ref":"x","dependsOn":["y","z"]}]}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"tools":{"components":[{"type":"application","name":"t"}]}},"components":[{"type":"library","name":"a","properties":[{"name":"cdx:fda:level-of-support","value":"abandoned"}]}]}`,
		`{"bomFormat":"CycloneDX","specVersion":"1.7","version":1,"components":[{"type":"library","bom-ref":"a","name":"a"},{"type":"library","bom-ref":"a","name":"b"}]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component type="library" bom-ref="a"><name>a</name><hashes><hash alg="SHA-1">e6d119755acdf9104d7ba236b1242696940ed6dd</hash></hashes></component></components><dependencies><dependency ref="a"/></dependencies></bom>`,
		`<!DOCTYPE bom [<!ENTITY a "aaaa">]><bom xmlns="http://cyclonedx.org/schema/bom/1.6">&a;</bom>`,
		`<bom xmlns="http://cyclonedx.org/schema/bom/1.3"><metadata><timestamp>yesterday</timestamp></metadata></bom>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzParse)
}

func FuzzParseSPDX(f *testing.F) {
	addSeedFiles(f, "testdata/pump.spdx.json", "testdata/pump.spdx",
		filepath.Join(sharedSBOMs, "spdx/spdx-spec-2.2/SPDXTagExample-v2.2.spdx"),
		filepath.Join(sharedSBOMs, "spdx/spdx-spec-2.3/SPDXJSONExample-v2.3.spdx.json"))
	for _, s := range []string{
		`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","packages":[{"name":"a","SPDXID":"SPDXRef-a","supplier":"Organization: A"}],"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-a"}]}`,
		`{"spdxVersion":"SPDX-2.2","creationInfo":{"created":"x","creators":["Person: a (b)"]},"packages":[{"SPDXID":"SPDXRef-a","externalRefs":[{"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:x"}]}]}`,
		"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nPackageName: a\nSPDXID: SPDXRef-a\nSnippetSPDXID: SPDXRef-s\nRelationship: SPDXRef-a DEPENDS_ON NONE\n",
		"SPDXVersion: SPDX-2.2\nPackageName: a\nPackageComment: <text>multi\nline: not a tag\n</text>\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzParse)
}
