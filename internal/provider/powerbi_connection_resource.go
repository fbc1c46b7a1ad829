package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

var (
	_ resource.Resource                     = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithConfigure        = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*powerbiConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*powerbiConnectionResource)(nil)
)

// NewPowerBIConnectionResource is dbtexposures_powerbi_connection: the Power
// BI lineage integration of one dbt Cloud project.
func NewPowerBIConnectionResource() resource.Resource { return &powerbiConnectionResource{} }

type powerbiConnectionResource struct{ connection }

// powerbiConnection is the Power BI connection's kind: a lost create's
// integration is the one with the planned tenant and app.
var powerbiConnection = connectionKind{
	tool: "powerbi", label: "Power BI", resource: "dbtexposures_powerbi_connection", identity: "tenant and client ID",
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
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<project_id>:<integration_id>`, also the import ID.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "ID of the dbt Cloud project. Changing it replaces the connection.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"integration_id": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "ID of the lineage integration.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
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
			"client_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "The app registration's client secret value, kept in state. Exactly one of `client_secret` and `client_secret_wo` is required.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"client_secret_wo": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				WriteOnly:           true,
				MarkdownDescription: "The client secret, write-only: sent to dbt Cloud, never stored in plan or state. Requires Terraform 1.11 or later and `client_secret_wo_version`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"client_secret_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Version of `client_secret_wo`. Terraform cannot see a write-only value change, so change this number to send a new secret.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the integration was created.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the integration last changed.",
			},
		},
	}
}

func (r *powerbiConnectionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("client_secret"), path.MatchRoot("client_secret_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("client_secret_wo"), path.MatchRoot("client_secret_wo_version")),
	}
}

func (r *powerbiConnectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.connection = connection{kind: powerbiConnection, client: dbtClientFrom(req.ProviderData, &resp.Diagnostics)}
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

// applyKeepingArguments takes the computed values but keeps the planned
// arguments, as the apply result must match the plan.
func (m *powerbiConnectionModel) applyKeepingArguments(in *dbtcloud.LineageIntegration) {
	tenant, client := m.TenantID, m.ClientID
	m.apply(in)
	m.TenantID, m.ClientID = tenant, client
}

func (r *powerbiConnectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan powerbiConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("client_secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	secret := plan.ClientSecret.ValueString()
	if secret == "" {
		secret = wo.ValueString()
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, secret)
	cfg := dbtcloud.IntegrationConfig{TenantID: plan.TenantID.ValueStringPointer(), ClientID: plan.ClientID.ValueStringPointer(), ClientSecret: &secret}
	created := r.create(ctx, plan.ProjectID.ValueInt64(), cfg, &resp.Diagnostics)
	if created == nil {
		return
	}
	plan.applyKeepingArguments(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *powerbiConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state powerbiConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	got := r.read(ctx, state.ProjectID, state.IntegrationID, resp)
	if got == nil {
		return
	}
	state.apply(got)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *powerbiConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state powerbiConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("client_secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ProjectID, plan.IntegrationID = state.ProjectID, state.IntegrationID
	changed := false
	cfg := dbtcloud.IntegrationConfig{
		TenantID:     changedString(plan.TenantID, state.TenantID, &changed),
		ClientID:     changedString(plan.ClientID, state.ClientID, &changed),
		ClientSecret: secretToSend(plan.ClientSecret, state.ClientSecret, wo, plan.ClientSecretWOVersion, state.ClientSecretWOVersion),
	}
	var patch *dbtcloud.IntegrationConfig
	if changed || cfg.ClientSecret != nil {
		patch = &cfg
	}
	if cfg.ClientSecret != nil {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, *cfg.ClientSecret)
	}
	got := r.update(ctx, state.ProjectID, state.IntegrationID, patch, &resp.Diagnostics)
	if got == nil {
		return
	}
	plan.applyKeepingArguments(got)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *powerbiConnectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state powerbiConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.delete(ctx, state.ProjectID, state.IntegrationID, &resp.Diagnostics)
}

func (r *powerbiConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importConnection(ctx, req, resp)
}
