package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// NewTableauConnectionResource is dbtexposures_tableau_connection: dbt Cloud's
// Tableau lineage integration of one project.
func NewTableauConnectionResource() resource.Resource {
	return newConnectionResource(tableauConnection)
}

// tableauConnection: a lost create's integration is the one with the planned
// host, site and token name.
var tableauConnection = connectionKind{
	tool:      tableau.Tool,
	identity:  "host, site and token name",
	secret:    "token",
	secretDoc: "Secret of the Tableau personal access token",
	doc: "The Tableau connection of a dbt Cloud project: dbt Cloud's Tableau *lineage integration*, " +
		"which auto-exposures use to read workbooks from one Tableau site. Give the Tableau personal access token " +
		"either as `token` (kept in state, marked sensitive) or, on Terraform 1.11 and later, as the write-only " +
		"`token_wo` with `token_wo_version` (never stored in state; bump the version to rotate the token).\n\n" +
		"dbt Cloud keeps one Tableau connection per project. Creating it is never sent twice blindly: if the answer is lost " +
		"(a timeout, a `5xx`), the provider looks for the integration the create made (same `host`, `site_id` and `token_name`) " +
		"and adopts it; a Tableau integration made elsewhere fails the apply with the `terraform import` command to use.\n\n" +
		checkedDoc("Tableau", "token"),
	args: []connectionArg{
		{"host", schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Tableau host, e.g. `10az.online.tableau.com` or `https://tableau.example.com`.",
			Validators: []validator.String{
				stringvalidator.LengthAtLeast(1),
				stringvalidator.RegexMatches(regexp.MustCompile(`^\S+$`), "must be a host name or URL without spaces, e.g. 10az.online.tableau.com"),
			},
		}},
		{"site_id", schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Tableau site's URL name (the `contentUrl`, the part after `/site/` in Tableau's URLs). Use `\"\"` for the default site of Tableau Server.",
		}},
		{"token_name", schema.StringAttribute{
			Required: true,
			MarkdownDescription: "Name of the Tableau personal access token. Give the connection a token of its own: Tableau keeps one session per token, " +
				"so dbt Cloud's syncs would end the sessions of anything else signing in with it, such as the provider's discovery.",
			Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
		}},
	},
}
