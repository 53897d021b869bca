package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/profile"
)

func (e *env) evaluate(path string) (*applicability.Result, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	p, err := profile.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return applicability.Evaluate(cat, p)
}

func (e *env) applicabilityCmd() *cobra.Command {
	var format string
	var width int
	cmd := &cobra.Command{
		Use:   "applicability PROFILE",
		Short: "Decide which regimes and requirements apply to a device, and why",
		Example: `  vigil applicability examples/insulin-pump.yaml
  vigil applicability examples/insulin-pump.yaml --format json | jq '.regimes[] | select(.applies) | .id'
  vigil applicability examples/insulin-pump.yaml --format markdown > applicability.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := e.evaluate(args[0])
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(e.stdout, res)
			case "markdown":
				cat, _ := loadCatalog()
				return applicability.WriteMarkdown(e.stdout, cat, res)
			default:
				return applicability.WriteTable(e.stdout, res, width)
			}
		},
	}
	formatFlag(cmd, &format, "table", "table", "json", "markdown")
	cmd.Flags().IntVar(&width, "width", 110, "line width of the table")
	return cmd
}

func (e *env) controlsCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "controls PROFILE",
		Short: "Cross-market matrix: each control objective and the clauses of every market it serves",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := e.evaluate(args[0])
			if err != nil {
				return err
			}
			cat, _ := loadCatalog()
			m := applicability.BuildMatrix(cat, res)
			switch format {
			case "json":
				return writeJSON(e.stdout, m)
			case "markdown":
				return applicability.WriteMatrixMarkdown(e.stdout, m)
			default:
				return applicability.WriteMatrixTable(e.stdout, m)
			}
		},
	}
	formatFlag(cmd, &format, "table", "table", "json", "markdown")
	return cmd
}
