// Command vigil is the medical-device cybersecurity compliance tool: regulatory catalog,
// applicability, and (as it grows) SBOMs, vulnerabilities and reporting clocks.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/vigil-med/vigil/cli"
)

func main() {
	// VIGIL_CPUPROFILE=FILE writes a CPU profile of the command (for `go tool pprof`): how the
	// benchmark figures in bench/README.md were taken apart.
	if path := os.Getenv("VIGIL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil: VIGIL_CPUPROFILE: %v\n", err)
			os.Exit(cli.ExitFailure)
		}
		code := run()
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
