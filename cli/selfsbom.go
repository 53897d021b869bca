package cli

import (
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spf13/cobra"
)

// sbomSelfCmd prints Vigil's own SBOM: practising what the regulations preach, every build can
// say exactly which modules it contains.
func (e *env) sbomSelfCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "self",
		Short: "Print the CycloneDX 1.6 SBOM of this vigil binary (from its embedded build information)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bom, err := selfSBOM(time.Now())
			if err != nil {
				return err
			}
			enc := cdx.NewBOMEncoder(e.stdout, cdx.BOMFileFormatJSON)
			enc.SetPretty(true)
			return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
		},
	}
}

// selfSBOM builds the SBOM of the running binary from runtime/debug build information: the main
// module, every linked module with its version and go.sum hash, and the Go toolchain.
func selfSBOM(now time.Time) (*cdx.BOM, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, errors.New("this binary carries no build information (was it built with -buildvcs=false and stripped?)")
	}
	mainVersion := info.Main.Version
	if mainVersion == "" || mainVersion == "(devel)" {
		mainVersion = Version
	}
	root := "pkg:golang/" + info.Main.Path + "@" + mainVersion
	bom := cdx.NewBOM()
	bom.SerialNumber = ""
	bom.Metadata = &cdx.Metadata{
		Timestamp: now.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "vigil sbom self", Version: Version,
		}}},
		Authors: &[]cdx.OrganizationalContact{{Name: "Vigil build (runtime/debug build information)"}},
		Component: &cdx.Component{
			BOMRef: root, Type: cdx.ComponentTypeApplication, Name: "vigil", Version: mainVersion,
			PackageURL: root, Supplier: &cdx.OrganizationalEntity{Name: "Vigil project"},
			Description: "Medical-device cybersecurity compliance: regulatory catalog, applicability, SBOMs, vulnerabilities",
		},
	}
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	stdRef := "pkg:golang/stdlib@" + goVersion
	components := []cdx.Component{{
		BOMRef: stdRef, Type: cdx.ComponentTypeLibrary, Name: "stdlib", Version: goVersion, PackageURL: stdRef,
		Supplier: &cdx.OrganizationalEntity{Name: "The Go Authors"},
	}}
	deps := []string{stdRef}
	for _, m := range info.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		ref := "pkg:golang/" + m.Path + "@" + m.Version
		c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, PackageURL: ref,
			Supplier: &cdx.OrganizationalEntity{Name: modulePublisher(m.Path)}}
		if m.Sum != "" {
			c.Properties = &[]cdx.Property{{Name: "go:module:sum", Value: m.Sum}}
		}
		components = append(components, c)
		deps = append(deps, ref)
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: root, Dependencies: &deps}}
	return bom, nil
}

// modulePublisher names the organisation a module path points at (its host and first element).
func modulePublisher(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) >= 2 && strings.Contains(parts[0], ".") {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}
