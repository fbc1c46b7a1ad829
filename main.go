package main

import (
	"context"
	"flag"
	"log"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/provider"
)

// Generate the docs from schema descriptions, templates/ and examples/.
//go:generate go tool tfplugindocs generate --provider-name dbtexposures

// version is set by goreleaser or `make build`.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/dbtexposures/dbtexposures",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	// Serve returns when Terraform stops the plugin; it waits about two seconds
	// before killing it, time enough to sign out of Tableau.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	provider.Shutdown(ctx)
	cancel()
	if err != nil {
		log.Fatal(err.Error())
	}
}
