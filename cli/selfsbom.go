package cli

import (
	"errors"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/vex"
)

// sbomSelfCmd prints Vigil's own SBOM: practising what the regulations preach, every build can
// say exactly which modules it contains.
func (e *env) sbomSelfCmd() *cobra.Command {
	var vexFormat string
	cmd := &cobra.Command{
		Use:   "self",
		Short: "Print the CycloneDX 1.6 SBOM of this vigil binary (from its embedded build information), or its VEX",
		Long: `Print the CycloneDX 1.6 SBOM of this vigil binary, built from its embedded build information: the
main module, every linked module with its version and go.sum hash, and the Go standard library.

With --vex FORMAT (openvex, cyclonedx or csaf), print instead Vigil's own VEX statements about
the advisories that match its modules and that do not affect it, for the module versions this
binary links. Scan the SBOM with them:

  vigil sbom self > vigil.cdx.json
  vigil sbom self --vex openvex > vigil.openvex.json
  vigil scan vigil.cdx.json --db vulns.db --vex vigil.openvex.json`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if vexFormat != "" && !slices.Contains(vex.FormatNames, vexFormat) {
				return usagef("--vex %q: expected one of %s", vexFormat, strings.Join(vex.FormatNames, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if vexFormat != "" {
				doc, err := selfVEX()
				if err != nil {
					return err
				}
				data, err := vex.Encode(doc, vexFormat, vex.Options{Author: "Vigil project", Tool: "vigil " + Version})
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(data)
				return err
			}
			bom, err := selfSBOM(time.Now())
			if err != nil {
				return err
			}
			enc := cdx.NewBOMEncoder(e.stdout, cdx.BOMFileFormatJSON)
			enc.SetPretty(true)
			return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
		},
	}
	cmd.Flags().StringVar(&vexFormat, "vex", "", "print Vigil's own VEX statements in this format (openvex, cyclonedx, csaf) instead of the SBOM")
	return cmd
}

// selfRoot is the package URL and version of the main module.
func selfRoot(info *debug.BuildInfo) (string, string) {
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = Version
	}
	return "pkg:golang/" + info.Main.Path + "@" + v, v
}

// selfSBOM builds the SBOM of the running binary from runtime/debug build information: the main
// module, every linked module with its version and go.sum hash, and the Go toolchain.
func selfSBOM(now time.Time) (*cdx.BOM, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, errors.New("this binary carries no build information (was it built with -buildvcs=false and stripped?)")
	}
	root, mainVersion := selfRoot(info)
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
