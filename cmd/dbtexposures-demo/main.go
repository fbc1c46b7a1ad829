// Command dbtexposures-demo is what `make demo` runs: the server, the real
// terraform CLI and the locally built provider, end to end on this machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/demo"
)

func main() {
	bin := flag.String("bin", "bin", "directory with the built provider and server")
	version := flag.String("version", "", "the provider's version, as built into -bin (make demo passes the VERSION file's)")
	config := flag.String("config", "examples/demo", "Terraform configuration to apply")
	work := flag.String("work", "examples/demo/.demo", "scratch directory (emptied first)")
	fixture := flag.String("fixture", "examples/demo/tableau-site.json", "Tableau site for the emulator")
	powerbi := flag.String("powerbi", "examples/demo/powerbi-tenant.json", "Power BI tenant for its emulator")
	manifest := flag.String("manifest", "examples/demo/manifest.json", "dbt manifest of the demo project")
	runResults := flag.String("run-results", "examples/demo/run_results.json", "what dbt build of the demo project wrote")
	flag.Parse()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-demo: terraform is not on PATH; install Terraform 1.11 or later")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Run(ctx, demo.Options{BinDir: *bin, Version: *version, ConfigDir: *config, Fixture: *fixture, PowerBI: *powerbi, Manifest: *manifest, RunResults: *runResults, WorkDir: *work, Terraform: tf, Out: os.Stdout}); err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-demo:", err)
		os.Exit(1)
	}
	fmt.Printf("\nDone. Everything the demo started is stopped; its files are in %s\n", *work)
}
