package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
)

// NewPowerBIConnectionResource is dbtexposures_powerbi_connection: the Power
// BI lineage integration of one dbt Cloud project.
func NewPowerBIConnectionResource() resource.Resource {
	return newConnectionResource(powerbiConnection)
}

// tenantPattern is an Entra ID tenant as a directory ID or a domain.
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// powerbiConnection: a lost create's integration is the one with the
// planned tenant and app. dbt Cloud has not published this integration's
// config; {tenant_id, client_id, client_secret} is dbtexposures-server's.
var powerbiConnection = connectionKind{
	tool: powerbi.Tool, identity: "tenant and client ID", secret: "client_secret",
	secretDoc: "The app registration's client secret value",
	doc: "The Power BI connection of a dbt Cloud project: the `powerbi` *lineage integration*, which auto-exposures " +
		"use to scan one Power BI tenant with an Entra ID app registration (a service principal allowed to use read-only admin APIs). " +
		"Give the app's client secret either as `client_secret` (kept in state, marked sensitive) or, on Terraform 1.11 and later, as " +
		"the write-only `client_secret_wo` with `client_secret_wo_version` (never stored in state; bump the version to rotate it).\n\n" +
		"**dbt Cloud has not published this integration's config.** Its API lists `powerbi` as a lineage integration type but not " +
		"its settings, so `{tenant_id, client_id, client_secret}` is dbtexposures-server's contract until dbt Cloud publishes one; " +
		"against dbt Cloud itself this resource may be refused.\n\n" +
		"A project keeps one Power BI connection. Creating it is never sent twice blindly: if the answer is lost (a timeout, a `5xx`), " +
		"the provider looks for the integration the create made (same `tenant_id` and `client_id`) and adopts it; a Power BI " +
		"integration made elsewhere fails the apply with the `terraform import` command to use.\n\n" +
		checkedDoc("Power BI", "client_secret"),
	args: []connectionArg{
		{name: "tenant_id", attr: schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Entra ID tenant (directory) ID, e.g. `72f988bf-86f1-41af-91ab-2d7cd011db47`, or its domain, e.g. `contoso.onmicrosoft.com`.",
			Validators: []validator.String{stringvalidator.RegexMatches(tenantPattern,
				"must be the Entra ID tenant (directory) ID or its domain, e.g. contoso.onmicrosoft.com")},
		}},
		{name: "client_id", attr: schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Application (client) ID of the Entra ID app registration.",
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
		}},
	},
}
