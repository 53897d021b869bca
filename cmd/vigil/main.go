// Command vigil is the medical-device cybersecurity compliance tool: regulatory catalog,
// applicability, and (as it grows) SBOMs, vulnerabilities and reporting clocks.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-med/vigil/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
