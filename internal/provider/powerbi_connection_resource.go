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
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
)

var (
	_ resource.Resource                     = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithConfigure        = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*powerbiConnectionResource)(nil)
)

// NewPowerBIConnectionResource is dbtexposures_powerbi_connection: the Power
// BI lineage integration of one dbt Cloud project.
func NewPowerBIConnectionResource() resource.Resource {
	return &powerbiConnectionResource{connectionResource[powerbiConnectionModel, *powerbiConnectionModel]{
		connection: connection{kind: powerbiConnection}, secret: "client_secret"}}
}

type powerbiConnectionResource struct {
	connectionResource[powerbiConnectionModel, *powerbiConnectionModel]
}

// powerbiConnection is the Power BI connection's kind: a lost create's
// integration is the one with the planned tenant and app.
var powerbiConnection = connectionKind{
	tool: powerbi.Tool.Name, label: powerbi.Tool.Label, resource: "dbtexposures_powerbi_connection", identity: "tenant and client ID",
	sameTarget: func(got *dbtcloud.IntegrationConfig, want dbtcloud.IntegrationConfig) bool {
		return got != nil && sameStrings(got.TenantID, want.TenantID, got.ClientID, want.ClientID)
	},
}

type powerbiConnectionModel struct {
	ID                    types.String `tfsdk:"id"`
	ProjectID             types.Int64  `tfsdk:"project_id"`
	IntegrationID         types.Int64  `tfsdk:"integration_id"`
	TenantID              types.String `tfsdk:"tenant_id"`
	ClientID              types.String `tfsdk:"client_id"`
	ClientSecret          types.String `tfsdk:"client_secret"`
	ClientSecretWO        types.String `tfsdk:"client_secret_wo"`
	ClientSecretWOVersion types.Int64  `tfsdk:"client_secret_wo_version"`
	CreatedAt             types.String `tfsdk:"created_at"`
	UpdatedAt             types.String `tfsdk:"updated_at"`
}

func (r *powerbiConnectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_powerbi_connection"
}

func (r *powerbiConnectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The Power BI connection of a dbt Cloud project: the `powerbi` *lineage integration*, which auto-exposures " +
			"use to scan one Power BI tenant with an Entra ID app registration (a service principal allowed to use read-only admin APIs). " +
			"Give the app's client secret either as `client_secret` (kept in state, marked sensitive) or, on Terraform 1.11 and later, as " +
			"the write-only `client_secret_wo` with `client_secret_wo_version` (never stored in state; bump the version to rotate it).\n\n" +
			"**dbt Cloud has not published this integration's config.** Its API lists `powerbi` as a lineage integration type but not " +
			"its settings, so `{tenant_id, client_id, client_secret}` is dbtexposures-server's contract until dbt Cloud publishes one; " +
			"against dbt Cloud itself this resource may be refused.\n\n" +
			"A project keeps one Power BI connection. Creating it is never sent twice blindly: if the answer is lost (a timeout, a `5xx`), " +
			"the provider looks for the integration the create made (same `tenant_id` and `client_id`) and adopts it; a Power BI " +
			"integration made elsewhere fails the apply with the `terraform import` command to use.",
		Attributes: connectionAttributes("client_secret", "The app registration's client secret value", map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Entra ID tenant (directory) ID, e.g. `72f988bf-86f1-41af-91ab-2d7cd011db47`, or its domain, e.g. `contoso.onmicrosoft.com`.",
				Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`),
					"must be the Entra ID tenant (directory) ID or its domain, e.g. contoso.onmicrosoft.com")},
			},
			"client_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Application (client) ID of the Entra ID app registration.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
		}),
	}
}

func (m *powerbiConnectionModel) ids() (types.Int64, types.Int64) {
	return m.ProjectID, m.IntegrationID
}

func (m *powerbiConnectionModel) setIDs(projectID, integrationID types.Int64) {
	m.ProjectID, m.IntegrationID = projectID, integrationID
}

func (m *powerbiConnectionModel) createConfig(wo types.String) dbtcloud.IntegrationConfig {
	secret := m.ClientSecret.ValueString()
	if secret == "" {
		secret = wo.ValueString()
	}
	return dbtcloud.IntegrationConfig{TenantID: m.TenantID.ValueStringPointer(), ClientID: m.ClientID.ValueStringPointer(), ClientSecret: &secret}
}

func (m *powerbiConnectionModel) patchConfig(state *powerbiConnectionModel, wo types.String) *dbtcloud.IntegrationConfig {
	changed := false
	cfg := dbtcloud.IntegrationConfig{
		TenantID:     changedString(m.TenantID, state.TenantID, &changed),
		ClientID:     changedString(m.ClientID, state.ClientID, &changed),
		ClientSecret: secretToSend(m.ClientSecret, state.ClientSecret, wo, m.ClientSecretWOVersion, state.ClientSecretWOVersion),
	}
	if !changed && cfg.ClientSecret == nil {
		return nil
	}
	return &cfg
}

// apply copies what the API returned into m; the config is read when the
// server returns it, so changes made elsewhere show as drift.
func (m *powerbiConnectionModel) apply(in *dbtcloud.LineageIntegration) {
	m.IntegrationID = types.Int64Value(in.ID)
	m.ID = types.StringValue(twoPartID(m.ProjectID.ValueInt64(), in.ID))
	m.CreatedAt = types.StringValue(in.CreatedAt)
	m.UpdatedAt = types.StringValue(in.UpdatedAt)
	if c := in.Config; c != nil {
		if c.TenantID != nil {
			m.TenantID = types.StringValue(*c.TenantID)
		}
		if c.ClientID != nil {
			m.ClientID = types.StringValue(*c.ClientID)
		}
	}
	m.ClientSecretWO = types.StringNull() // write-only: never in state
}

func (m *powerbiConnectionModel) keepArguments(plan *powerbiConnectionModel) {
	m.TenantID, m.ClientID = plan.TenantID, plan.ClientID
}
