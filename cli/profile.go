package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/internal/yamlfile"
	"github.com/vigil-med/vigil/profile"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

func (e *env) profileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Write and check device profiles (vigil/device/v1)",
	}
	cmd.AddCommand(e.profileValidateCmd(), e.profileInitCmd())
	return cmd
}

func (e *env) profileValidateCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate PROFILE...",
		Short: "Check device profiles; problems are reported as file:line: field: expectation",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all yamlfile.Errors
			type ok struct {
				File   string `json:"file"`
				Device string `json:"device"`
				Valid  bool   `json:"valid"`
			}
			var results []ok
			for _, path := range args {
				p, err := profile.LoadFile(path)
				if err != nil {
					var es yamlfile.Errors
					var one *yamlfile.Error
					switch {
					case errors.As(err, &es):
						all = append(all, es...)
					case errors.As(err, &one):
						all = append(all, one)
					default:
						return err
					}
					continue
				}
				results = append(results, ok{File: path, Device: p.Name, Valid: true})
			}
			if len(all) > 0 {
				return all
			}
			if format == "json" {
				return writeJSON(e.stdout, map[string]any{"schema": "vigil/profile-validation/v1", "profiles": results})
			}
			for _, r := range results {
				fmt.Fprintf(e.stdout, "%s: ok (%s)\n", r.File, r.Device)
			}
			return nil
		},
	}
	formatFlag(cmd, &format, "text", "text", "json")
	return cmd
}

type initValues struct {
	Name, Manufacturer, Kind                  string
	Software                                  bool
	US, CA, EU, UK                            bool
	EURegulation, EUClass, UKClass, UKMarking string
}

var initTemplate = template.Must(template.New("profile").Parse(`# Vigil device profile (schema vigil/device/v1).
# Check it with:  vigil profile validate {{"{{"}}FILE{{"}}"}}
# See what applies: vigil applicability {{"{{"}}FILE{{"}}"}}
schema: vigil/device/v1
name: {{.Name}}
version: 1.0.0                    # device software version under assessment
manufacturer:
  name: {{.Manufacturer}}
  employees: 120                  # headcount (NIS2 size cap, Recommendation 2003/361/EC)
  annual_turnover_eur: 18000000
  balance_sheet_eur: 12000000
  established_in: [DE]            # ISO 3166-1 alpha-2 codes of the legal entities
device:
  kind: {{.Kind}}                 # simd | samd | ivd-simd | ivd-samd | accessory | non-device
  software: {{.Software}}         # includes software or firmware
  connectivity:
    internet: false               # your statement; FDA also counts USB, Ethernet, serial and radio links
    interfaces: [bluetooth-le]    # bluetooth | bluetooth-le | wifi | ethernet | cellular | usb | nfc | serial | removable-media | none
    cloud: false                  # relies on manufacturer-operated cloud services
    remote_updates: false
  data:
    personal: true                # processes personal data
    health: true                  # processes health data (special category)
    data_subjects_in: [DE]        # where the people whose data it processes live
  ai: false                       # includes an AI/ML-enabled function
  implantable: false
  lay_user: false                 # intended for lay persons / self-testing
  critical_in_public_health_emergency: false   # on the EU list of critical devices (NIS2 Annex I)
markets:                          # keep only the markets the device is, or will be, placed on
{{- if .US}}
  us: { class: II, submission: 510k }        # class I|II|III; submission 510k|de-novo|pma|pdp|hde|exempt
{{- end}}
{{- if .CA}}
  ca: { class: II }                          # I|II|III|IV
{{- end}}
{{- if .EU}}
  eu: { regulation: {{.EURegulation}}{{if .EUClass}}, class: {{.EUClass}}{{end}} }   # mdr: I|Is|Im|Ir|IIa|IIb|III; ivdr: A|As|B|C|D; none
{{- end}}
{{- if .UK}}
  uk: { marking: {{.UKMarking}}{{if .UKClass}}, class: {{.UKClass}}{{end}} }   # ukca | ce | none
{{- end}}
`))

func (e *env) profileInitCmd() *cobra.Command {
	var v initValues
	var markets, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starting profile to stdout or a file",
		Example: `  vigil profile init --name "InsuPump X2" --manufacturer "Acme Medical" --kind simd --markets us,eu -o insupump.yaml
  vigil profile validate insupump.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(profile.Kinds, v.Kind) {
				return usagef("--kind %q: expected one of %s", v.Kind, strings.Join(profile.Kinds, ", "))
			}
			for _, m := range strings.Split(markets, ",") {
				switch strings.TrimSpace(strings.ToLower(m)) {
				case "us":
					v.US = true
				case "ca":
					v.CA = true
				case "eu":
					v.EU = true
				case "uk", "gb":
					v.UK = true
				default:
					return usagef("--markets %q: expected a comma-separated list of us, ca, eu, uk", markets)
				}
			}
			ivd := strings.HasPrefix(v.Kind, "ivd-")
			switch {
			case v.Kind == "non-device":
				v.EURegulation, v.UKMarking = "none", "none"
				v.US, v.CA = false, false
			case ivd:
				v.EURegulation, v.EUClass, v.UKMarking, v.UKClass = "ivdr", "B", "ukca", "general"
			default:
				v.EURegulation, v.EUClass, v.UKMarking, v.UKClass = "mdr", "IIa", "ukca", "IIa"
			}
			if !v.US && !v.CA && !v.EU && !v.UK {
				return usagef("a non-device profile needs --markets eu and/or uk (US and Canada have no class for it); add them by hand otherwise")
			}
			v.Software = true
			var buf bytes.Buffer
			if err := initTemplate.Execute(&buf, v); err != nil {
				return err
			}
			// The template must produce a valid profile; check before writing anything.
			if _, err := profile.Parse("template", buf.Bytes()); err != nil {
				return fmt.Errorf("generated profile is invalid: %w", err)
			}
			if out == "" || out == "-" {
				_, err := e.stdout.Write(buf.Bytes())
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if err != nil {
				if errors.Is(err, os.ErrExist) {
					return usagef("%s exists; use --force to overwrite it", out)
				}
				return err
			}
			if _, err := f.Write(buf.Bytes()); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "wrote %s; edit it, then run: vigil profile validate %s\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&v.Name, "name", "My Device", "device name")
	cmd.Flags().StringVar(&v.Manufacturer, "manufacturer", "Example Medical GmbH", "manufacturer legal name")
	cmd.Flags().StringVar(&v.Kind, "kind", "samd", "device kind: "+strings.Join(profile.Kinds, "|"))
	cmd.Flags().StringVar(&markets, "markets", "us,ca,eu,uk", "markets, comma-separated: us,ca,eu,uk")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	// The JSON v2 encoder with encoding/json's semantics writes the same bytes as an indenting
	// json.Encoder, but in one pass: encoding/json marshals, then indents a copy, which on a
	// scan with tens of thousands of findings costs as much as the matching.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := jsonv2.MarshalWrite(bw, v, jsonOutOpts); err != nil {
		return err
	}
	if err := bw.WriteByte('\n'); err != nil {
		return err
	}
	return bw.Flush()
}

var jsonOutOpts = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.WithIndent("  "), jsontext.EscapeForHTML(false))
