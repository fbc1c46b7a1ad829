package main

import (
	"context"
	"flag"
	"log"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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

	server, err := provider.NewProtocol6(version)()
	if err != nil {
		log.Fatal(err.Error())
	}
	var opts []tf6server.ServeOpt
	if debug {
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
