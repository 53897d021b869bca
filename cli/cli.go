// Package cli implements the vigil command line. Run is the whole program, so tests drive it with
// arguments and buffers exactly as a user or a CI pipeline would.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/internal/yamlfile"
	"github.com/vigil-med/vigil/store"
)

// Version is the program version, set at build time with -ldflags "-X ...cli.Version=...".
var Version = "0.1.0-dev"

// Exit codes of the contract.
const (
	ExitOK      = 0
	ExitFailOn  = 1
	ExitBadUse  = 2
	ExitFailure = 3
)

// usageError marks bad usage or bad input (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// env is what every command needs.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// Run runs vigil with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var fe failOnError
	if errors.As(err, &fe) {
		fmt.Fprintln(stderr, "vigil:", fe.Error())
		return ExitFailOn
	}
	var ye yamlfile.Errors
	var y1 *yamlfile.Error
	var ue usageError
	switch {
	case errors.As(err, &ye), errors.As(err, &y1):
		fmt.Fprintln(stderr, err.Error())
		return ExitBadUse
	case errors.As(err, &ue), isCobraUsage(err), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		fmt.Fprintln(stderr, "vigil:", err.Error())
		return ExitBadUse
	}
	fmt.Fprintln(stderr, "vigil:", err.Error())
	return ExitFailure
}

// failOnError reports that a --fail-on threshold was met (exit 1).
type failOnError struct{ msg string }

func (e failOnError) Error() string { return e.msg }

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (e *env) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Medical-device cybersecurity compliance for the US, Canadian, EU and UK markets",
		Long: `Vigil knows the cybersecurity rules of FDA, Health Canada, the EU and the UK, decides which apply
to a device and why, and maps them onto common control objectives so that one piece of evidence
serves every market that asks for it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetVersionTemplate("vigil {{.Version}}\n")
	root.AddCommand(e.profileCmd(), e.applicabilityCmd(), e.controlsCmd(), e.catalogCmd(), e.serveCmd(), e.migrateCmd(), e.userCmd(), e.auditCmd(), e.backupCmd(), e.sbomCmd(), e.vulndbCmd(), e.scanCmd(), e.impactCmd(), e.vexCmd())
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// formatFlag registers --format with its allowed values and checks it before the command runs.
func formatFlag(cmd *cobra.Command, target *string, def string, allowed ...string) {
	cmd.Flags().StringVarP(target, "format", "f", def, "output format: "+strings.Join(allowed, "|"))
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if !slices.Contains(allowed, *target) {
			return usagef("--format %q: expected one of %s", *target, strings.Join(allowed, ", "))
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

func loadCatalog() (*catalog.Catalog, error) {
	c, err := catalog.Default()
	if err != nil {
		return nil, fmt.Errorf("embedded catalog is invalid (a build problem, please report it): %w", err)
	}
	return c, nil
}
