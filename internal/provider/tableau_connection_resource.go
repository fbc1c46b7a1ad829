package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
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

type tableauConnectionResource struct {
	client *dbtcloud.Client
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

// integrationName is the lineage integration's tool in dbt Cloud's API.
const integrationName = "tableau"

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
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
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
	pid := plan.ProjectID.ValueInt64()
	created, err := r.client.CreateLineageIntegration(ctx, pid, dbtcloud.CreateLineageIntegrationRequest{Name: integrationName, Config: cfg})
	if err != nil {
		if created = r.recoverCreate(ctx, pid, cfg, err, &resp.Diagnostics); created == nil {
			return
		}
	}
	plan.applyKeepingArguments(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// recoverCreate finds out what a failed create left behind, since the create is
// never sent twice. When dbt Cloud may have acted on it (a lost response, a
// timeout, a 5xx) and the project has a Tableau integration with the planned
// host, site and token name, that is the one the create made: it is adopted,
// with the planned values and token sent again. Any other Tableau integration
// in the project is someone else's, and the error says how to import it.
func (r *tableauConnectionResource) recoverCreate(ctx context.Context, pid int64, cfg dbtcloud.IntegrationConfig, createErr error, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	where := fmt.Sprintf("project %d", pid)
	existing, err := r.client.ListLineageIntegrations(ctx, pid)
	if err != nil {
		diags.Append(diagnostics.DBTCloud("create the Tableau connection", where, createErr))
		diags.AddError("Could not check what the failed create left behind",
			fmt.Sprintf("Listing the lineage integrations of project %d failed too, so it is not known whether the create took effect. "+
				"Before applying again, look in dbt Cloud for a Tableau integration in the project and, if there is one, import it with "+
				"terraform import dbtexposures_tableau_connection.<name> %d:<integration_id>.\n\nError: %s", pid, pid, err))
		return nil
	}
	unknown := dbtcloud.OutcomeUnknown(createErr)
	var others []dbtcloud.LineageIntegration
	for _, in := range existing {
		if in.Name != integrationName {
			continue
		}
		if unknown && sameTableauSite(in.Config, cfg) {
			return r.adopt(ctx, pid, in.ID, cfg, createErr, diags)
		}
		others = append(others, in)
	}
	if len(others) == 0 {
		diags.Append(diagnostics.DBTCloud("create the Tableau connection", where, createErr))
		return nil
	}
	other := others[0]
	maybeOurs := ""
	if unknown {
		maybeOurs = " It may also be the one this apply created before its answer was lost, if dbt Cloud does not show its settings."
	}
	diags.AddError("The project already has a Tableau connection",
		fmt.Sprintf("Project %d already has Tableau lineage integration %d, made outside this configuration (in dbt Cloud's UI or by another configuration).%s "+
			"dbt Cloud keeps one per project. To manage it with this resource, import it:\n\n"+
			"  terraform import dbtexposures_tableau_connection.<name> %d:%d\n\n"+
			"where <name> is this resource's name in your configuration (or use an import block with that id). "+
			"Otherwise delete it in dbt Cloud and apply again.\n\nThe create failed with: %s",
			pid, other.ID, maybeOurs, pid, other.ID, createErr))
	return nil
}

// sameTableauSite reports whether an integration's config (when dbt Cloud
// shows it) has the planned host, site and token name.
func sameTableauSite(got *dbtcloud.IntegrationConfig, want dbtcloud.IntegrationConfig) bool {
	eq := func(a, b *string) bool { return a != nil && b != nil && *a == *b }
	return got != nil && eq(got.Host, want.Host) && eq(got.SiteID, want.SiteID) && eq(got.TokenName, want.TokenName)
}

// adopt takes over the integration a lost create made: it sends the planned
// values, token included, so state and dbt Cloud agree.
func (r *tableauConnectionResource) adopt(ctx context.Context, pid, id int64, cfg dbtcloud.IntegrationConfig, createErr error, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	got, err := r.client.UpdateLineageIntegration(ctx, pid, id, dbtcloud.PatchLineageIntegrationRequest{Config: &cfg})
	if err != nil {
		diags.Append(diagnostics.DBTCloud("take over the Tableau connection the failed create made", fmt.Sprintf("project %d, connection %d", pid, id), err))
		return nil
	}
	diags.AddWarning("Took over the Tableau connection a failed create made",
		fmt.Sprintf("The create's answer was lost (%s), but dbt Cloud had made the connection: integration %d of project %d, with the planned host, site and token name. "+
			"It is now managed by this resource, with the planned settings and token.", createErr, id, pid))
	return got
}

func (r *tableauConnectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tableauConnectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := r.client.GetLineageIntegration(ctx, state.ProjectID.ValueInt64(), state.IntegrationID.ValueInt64())
	if dbtcloud.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Tableau connection not found",
			fmt.Sprintf("The Tableau connection (%s) no longer exists in dbt Cloud; it was removed from state and the next apply creates it again.", subject(state.ProjectID, state.IntegrationID)))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("read the Tableau connection", subject(state.ProjectID, state.IntegrationID), err))
		return
	}
	if got.Name != "" && got.Name != integrationName {
		resp.Diagnostics.AddError("Not a Tableau connection",
			fmt.Sprintf("Lineage integration %s is a %q integration, not %q. Import the ID of the project's Tableau integration instead.", subject(state.ProjectID, state.IntegrationID), got.Name, integrationName))
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
	cfg := dbtcloud.IntegrationConfig{}
	changed := false
	if !plan.Host.Equal(state.Host) {
		cfg.Host, changed = plan.Host.ValueStringPointer(), true
	}
	if !plan.SiteID.Equal(state.SiteID) {
		cfg.SiteID, changed = plan.SiteID.ValueStringPointer(), true
	}
	if !plan.TokenName.Equal(state.TokenName) {
		cfg.TokenName, changed = plan.TokenName.ValueStringPointer(), true
	}
	switch {
	case !plan.Token.IsNull() && !plan.Token.Equal(state.Token):
		cfg.Token, changed = plan.Token.ValueStringPointer(), true
	case !wo.IsNull() && (!plan.TokenWOVersion.Equal(state.TokenWOVersion) || !state.Token.IsNull()):
		// A new token_wo_version, or a move from token to token_wo: send the write-only token.
		cfg.Token, changed = wo.ValueStringPointer(), true
	}
	if cfg.Token != nil {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, *cfg.Token)
	}

	var (
		got *dbtcloud.LineageIntegration
		err error
	)
	if changed {
		got, err = r.client.UpdateLineageIntegration(ctx, state.ProjectID.ValueInt64(), state.IntegrationID.ValueInt64(), dbtcloud.PatchLineageIntegrationRequest{Config: &cfg})
	} else {
		got, err = r.client.GetLineageIntegration(ctx, state.ProjectID.ValueInt64(), state.IntegrationID.ValueInt64())
	}
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("update the Tableau connection", subject(state.ProjectID, state.IntegrationID), err))
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
	err := r.client.DeleteLineageIntegration(ctx, state.ProjectID.ValueInt64(), state.IntegrationID.ValueInt64())
	if err != nil && !dbtcloud.IsNotFound(err) {
		resp.Diagnostics.Append(diagnostics.DBTCloud("delete the Tableau connection", subject(state.ProjectID, state.IntegrationID), err))
	}
}

func (r *tableauConnectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	projectID, integrationID, err := parseTwoPartID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("Expected \"<project_id>:<integration_id>\", for example \"123:456\"; got %q. %s", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), twoPartID(projectID, integrationID))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), projectID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("integration_id"), integrationID)...)
}
