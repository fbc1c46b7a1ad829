package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

var (
	_ resource.Resource                     = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithConfigure        = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*tableauConnectionResource)(nil)
)

// NewTableauConnectionResource is dbtexposures_tableau_connection: dbt Cloud's
// Tableau lineage integration of one project.
func NewTableauConnectionResource() resource.Resource {
	return &tableauConnectionResource{connectionResource[tableauConnectionModel, *tableauConnectionModel]{
		connection: connection{kind: tableauConnection}, secret: "token"}}
}

type tableauConnectionResource struct {
	connectionResource[tableauConnectionModel, *tableauConnectionModel]
}

// tableauConnection is the Tableau connection's kind: a lost create's
// integration is the one with the planned host, site and token name.
var tableauConnection = connectionKind{
	tool: tableau.Tool.Name, label: tableau.Tool.Label, resource: "dbtexposures_tableau_connection", identity: "host, site and token name",
	sameTarget: func(got *dbtcloud.IntegrationConfig, want dbtcloud.IntegrationConfig) bool {
		return got != nil && sameStrings(got.Host, want.Host, got.SiteID, want.SiteID, got.TokenName, want.TokenName)
	},
}

type tableauConnectionModel struct {
	ID             types.String `tfsdk:"id"`
	ProjectID      types.Int64  `tfsdk:"project_id"`
	IntegrationID  types.Int64  `tfsdk:"integration_id"`
	Host           types.String `tfsdk:"host"`
	SiteID         types.String `tfsdk:"site_id"`
	TokenName      types.String `tfsdk:"token_name"`
	Token          types.String `tfsdk:"token"`
	TokenWO        types.String `tfsdk:"token_wo"`
	TokenWOVersion types.Int64  `tfsdk:"token_wo_version"`
	CreatedAt      types.String `tfsdk:"created_at"`
	UpdatedAt      types.String `tfsdk:"updated_at"`
}

func (r *tableauConnectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tableau_connection"
}

func (r *tableauConnectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The Tableau connection of a dbt Cloud project: dbt Cloud's Tableau *lineage integration*, " +
			"which auto-exposures use to read workbooks from one Tableau site. Give the Tableau personal access token " +
			"either as `token` (kept in state, marked sensitive) or, on Terraform 1.11 and later, as the write-only " +
			"`token_wo` with `token_wo_version` (never stored in state; bump the version to rotate the token).\n\n" +
			"dbt Cloud keeps one Tableau connection per project. Creating it is never sent twice blindly: if the answer is lost " +
			"(a timeout, a `5xx`), the provider looks for the integration the create made (same `host`, `site_id` and `token_name`) " +
			"and adopts it; a Tableau integration made elsewhere fails the apply with the `terraform import` command to use.",
		Attributes: connectionAttributes("token", "Secret of the Tableau personal access token", map[string]schema.Attribute{
			"host": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Tableau host, e.g. `10az.online.tableau.com` or `https://tableau.example.com`.",
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.RegexMatches(regexp.MustCompile(`^\S+$`), "must be a host name or URL without spaces, e.g. 10az.online.tableau.com"),
				},
			},
			"site_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Tableau site's URL name (the `contentUrl`, the part after `/site/` in Tableau's URLs). Use `\"\"` for the default site of Tableau Server.",
			},
			"token_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the Tableau personal access token. Give the connection a token of its own: Tableau keeps one session per token, so dbt Cloud's syncs would end the sessions of anything else signing in with it, such as the provider's discovery.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
		}),
	}
}

func (m *tableauConnectionModel) ids() (types.Int64, types.Int64) {
	return m.ProjectID, m.IntegrationID
}

func (m *tableauConnectionModel) setIDs(projectID, integrationID types.Int64) {
	m.ProjectID, m.IntegrationID = projectID, integrationID
}

func (m *tableauConnectionModel) createConfig(wo types.String) dbtcloud.IntegrationConfig {
	token := m.Token.ValueString()
	if token == "" {
		token = wo.ValueString()
	}
	return dbtcloud.IntegrationConfig{Host: m.Host.ValueStringPointer(), SiteID: m.SiteID.ValueStringPointer(),
		TokenName: m.TokenName.ValueStringPointer(), Token: &token}
}

func (m *tableauConnectionModel) patchConfig(state *tableauConnectionModel, wo types.String) *dbtcloud.IntegrationConfig {
	changed := false
	cfg := dbtcloud.IntegrationConfig{
		Host:      changedString(m.Host, state.Host, &changed),
		SiteID:    changedString(m.SiteID, state.SiteID, &changed),
		TokenName: changedString(m.TokenName, state.TokenName, &changed),
		Token:     secretToSend(m.Token, state.Token, wo, m.TokenWOVersion, state.TokenWOVersion),
	}
	if !changed && cfg.Token == nil {
		return nil
	}
	return &cfg
}

// apply copies what dbt Cloud returned into m. The config is not in dbt Cloud's
// published schema; when a server returns it we read it (so changes made in the
// UI show as drift), otherwise the configured values stand.
func (m *tableauConnectionModel) apply(in *dbtcloud.LineageIntegration) {
	m.IntegrationID = types.Int64Value(in.ID)
	m.ID = types.StringValue(twoPartID(m.ProjectID.ValueInt64(), in.ID))
	m.CreatedAt = types.StringValue(in.CreatedAt)
	m.UpdatedAt = types.StringValue(in.UpdatedAt)
	if c := in.Config; c != nil {
		if c.Host != nil {
			m.Host = types.StringValue(*c.Host)
		}
		if c.SiteID != nil {
			m.SiteID = types.StringValue(*c.SiteID)
		}
		if c.TokenName != nil {
			m.TokenName = types.StringValue(*c.TokenName)
		}
	}
	m.TokenWO = types.StringNull() // write-only: never in state
}

func (m *tableauConnectionModel) keepArguments(plan *tableauConnectionModel) {
	m.Host, m.SiteID, m.TokenName = plan.Host, plan.SiteID, plan.TokenName
}
