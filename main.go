package main

import (
	"context"
	"flag"
	"log"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/provider"
)

// Generate the docs from schema descriptions, templates/ and examples/.
//go:generate go tool tfplugindocs generate --provider-name dbtexposures

// version is set by goreleaser or `make build`.
var version = "dev"

// memoryTarget is where the Go runtime starts collecting harder: the
// provider is a short-lived process beside Terraform, and a plan over a large
// site should not double its heap before a collection. GOMEMLIMIT, when set,
// is the user's and wins.
const memoryTarget = 100 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryTarget)
	}
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run with support for debuggers like delve")
	flag.Parse()

	server, err := provider.NewProtocol6(version)()
	if err != nil {
		log.Fatal(err.Error())
	}
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	err = tf6server.Serve("registry.terraform.io/dbtexposures/dbtexposures", func() tfprotov6.ProviderServer { return server }, opts...)
	// Serve returns when Terraform stops the plugin; it waits about two seconds
	// before killing it, time enough to sign out of Tableau.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	provider.Shutdown(ctx)
	cancel()
	if err != nil {
		log.Fatal(err.Error())
	}
}
