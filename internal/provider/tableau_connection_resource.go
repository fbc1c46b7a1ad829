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
	_ resource.Resource                     = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithConfigure        = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithImportState      = (*tableauConnectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*tableauConnectionResource)(nil)
)

// NewTableauConnectionResource is dbtexposures_tableau_connection: dbt Cloud's
// Tableau lineage integration of one project.
func NewTableauConnectionResource() resource.Resource { return &tableauConnectionResource{} }

type tableauConnectionResource struct{ connection }

// tableauConnection is the Tableau connection's kind: a lost create's
// integration is the one with the planned host, site and token name.
var tableauConnection = connectionKind{
	tool: "tableau", label: "Tableau", resource: "dbtexposures_tableau_connection", identity: "host, site and token name",
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
				MarkdownDescription: "ID of the lineage integration in dbt Cloud.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
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
				MarkdownDescription: "Name of the Tableau personal access token.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Secret of the Tableau personal access token, kept in state. Exactly one of `token` and `token_wo` is required.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"token_wo": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				WriteOnly:           true,
				MarkdownDescription: "Secret of the Tableau personal access token, write-only: sent to dbt Cloud, never stored in plan or state. Requires Terraform 1.11 or later and `token_wo_version`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"token_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Version of `token_wo`. Terraform cannot see a write-only value change, so change this number to send a new token.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When dbt Cloud created the integration.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When dbt Cloud last changed the integration.",
			},
		},
	}
}

func (r *tableauConnectionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("token"), path.MatchRoot("token_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("token_wo"), path.MatchRoot("token_wo_version")),
	}
}

func (r *tableauConnectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.connection = connection{kind: tableauConnection, client: dbtClientFrom(req.ProviderData, &resp.Diagnostics)}
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

// applyKeepingArguments takes the computed values from an apply's answer but
// keeps the planned arguments: the apply result must match the plan, and Read
// reports any later drift.
func (m *tableauConnectionModel) applyKeepingArguments(in *dbtcloud.LineageIntegration) {
	host, site, name := m.Host, m.SiteID, m.TokenName
	m.apply(in)
	m.Host, m.SiteID, m.TokenName = host, site, name
}

func (r *tableauConnectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan tableauConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("token_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	token := plan.Token.ValueString()
	if token == "" {
		token = wo.ValueString()
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
	cfg := dbtcloud.IntegrationConfig{
		Host: plan.Host.ValueStringPointer(), SiteID: plan.SiteID.ValueStringPointer(),
		TokenName: plan.TokenName.ValueStringPointer(), Token: &token,
	}
	created := r.create(ctx, plan.ProjectID.ValueInt64(), cfg, &resp.Diagnostics)
	if created == nil {
		return
	}
	plan.applyKeepingArguments(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tableauConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tableauConnectionModel
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

func (r *tableauConnectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state tableauConnectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("token_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ProjectID, plan.IntegrationID = state.ProjectID, state.IntegrationID

	// Send only what changed: dbt Cloud's PATCH leaves other fields as they are.
	changed := false
	cfg := dbtcloud.IntegrationConfig{
		Host:      changedString(plan.Host, state.Host, &changed),
		SiteID:    changedString(plan.SiteID, state.SiteID, &changed),
		TokenName: changedString(plan.TokenName, state.TokenName, &changed),
		Token:     secretToSend(plan.Token, state.Token, wo, plan.TokenWOVersion, state.TokenWOVersion),
	}
	var patch *dbtcloud.IntegrationConfig
	if changed || cfg.Token != nil {
		patch = &cfg
	}
	if cfg.Token != nil {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, *cfg.Token)
	}
	got := r.update(ctx, state.ProjectID, state.IntegrationID, patch, &resp.Diagnostics)
	if got == nil {
		return
	}
	plan.applyKeepingArguments(got)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tableauConnectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state tableauConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.delete(ctx, state.ProjectID, state.IntegrationID, &resp.Diagnostics)
}

func (r *tableauConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importConnection(ctx, req, resp)
}
