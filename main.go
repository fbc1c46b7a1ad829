package main

import (
	"context"
	"flag"
	"log"

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
	if err != nil {
		log.Fatal(err.Error())
	}
}
