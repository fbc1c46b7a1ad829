// Package connectors registers every BI tool that the provider and the server
// serve. Adding a tool is its package and one line here; CONTRIBUTING.md has
// the recipe.
package connectors

import (
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

func init() {
	bi.Register(tableau.Connector())
	bi.Register(powerbi.Connector())
}
