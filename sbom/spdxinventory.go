package sbom

import (
	"fmt"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// spdxInventory is the part of an SPDX 2.2/2.3 JSON document that ParseFileInventory reads. The
// fields that need parsing (identifiers, suppliers, creators, external references) use
// tools-golang's own types, so they are read as the full reader reads them; what is left out
// (files, checksums, licences, annotations...) is skipped. tools-golang's Document and Package
// decoders read the whole document twice, and the reader once more to find its version.
type spdxInventory struct {
	SPDXIdentifier    common.ElementID        `json:"SPDXID"`
	DocumentName      string                  `json:"name"`
	CreationInfo      *spdx.CreationInfo      `json:"creationInfo"`
	Packages          []*spdxInventoryPackage `json:"packages"`
	Relationships     []*spdx.Relationship    `json:"relationships"`
	DocumentDescribes []common.DocElementID   `json:"documentDescribes"`
}

type spdxInventoryPackage struct {
	SPDXIdentifier        common.ElementID    `json:"SPDXID"`
	Name                  string              `json:"name"`
	Version               string              `json:"versionInfo"`
	Supplier              *common.Supplier    `json:"supplier"`
	Originator            *common.Originator  `json:"originator"`
	PrimaryPackagePurpose string              `json:"primaryPackagePurpose"`
	ExternalReferences    []*spdxInventoryRef `json:"externalRefs"`
}

// spdxInventoryRef is an external reference, read without tools-golang's decoder for it (one
// encoding/json call per reference, which on a syft SBOM with several CPEs per package is most
// of the read). Only the type and locator are used.
type spdxInventoryRef struct {
	Category string `json:"referenceCategory"`
	RefType  string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

// parseSPDXInventory reads an SPDX 2.2/2.3 JSON document for matching (see ParseFileInventory).
func parseSPDXInventory(name string, data []byte, version string) (*Document, error) {
	var in spdxInventory
	if err := jsonv2.Unmarshal(data, &in, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)); err != nil {
		return nil, fmt.Errorf("inventory read: %w", err)
	}
	sd := &spdx.Document{SPDXIdentifier: in.SPDXIdentifier, DocumentName: in.DocumentName, CreationInfo: in.CreationInfo}
	for _, p := range in.Packages {
		if p == nil {
			sd.Packages = append(sd.Packages, nil)
			continue
		}
		var refs []*spdx.PackageExternalReference
		for _, r := range p.ExternalReferences {
			if r != nil {
				refs = append(refs, &spdx.PackageExternalReference{Category: strings.ReplaceAll(r.Category, "_", "-"), RefType: r.RefType, Locator: r.Locator})
			}
		}
		sd.Packages = append(sd.Packages, &spdx.Package{
			PackageSPDXIdentifier: p.SPDXIdentifier, PackageName: p.Name, PackageVersion: p.Version,
			PackageSupplier: p.Supplier, PackageOriginator: p.Originator, PrimaryPackagePurpose: p.PrimaryPackagePurpose,
			PackageExternalReferences: refs,
		})
	}
	// As tools-golang does: the relationships as listed, then one DESCRIBES relationship per
	// documentDescribes entry that the list does not already hold (DESCRIBED_BY counts too).
	key := func(a common.DocElementID, rel string, b common.DocElementID) string {
		switch rel {
		case common.TypeRelationshipDescribeBy:
			a, b, rel = b, a, common.TypeRelationshipDescribe
		case common.TypeRelationshipContainedBy:
			a, b, rel = b, a, common.TypeRelationshipContains
		}
		return common.RenderDocElementID(a) + "-" + rel + "->" + common.RenderDocElementID(b)
	}
	seen := map[string]bool{}
	for _, r := range in.Relationships {
		if r == nil {
			continue
		}
		sd.Relationships = append(sd.Relationships, r)
		seen[key(r.RefA, r.Relationship, r.RefB)] = true
	}
	for _, id := range in.DocumentDescribes {
		r := &spdx.Relationship{RefA: common.DocElementID{ElementRefID: in.SPDXIdentifier}, RefB: id, Relationship: common.TypeRelationshipDescribe}
		if k := key(r.RefA, r.Relationship, r.RefB); !seen[k] {
			seen[k] = true
			sd.Relationships = append(sd.Relationships, r)
		}
	}
	return fromSPDX(name, sd, version, EncodingJSON)
}
