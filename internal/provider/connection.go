package provider

import (
	"context"
	"fmt"

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
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
)

// connectionKind is what sets one BI tool's connection resource apart; the
// lifecycle (a create never resent, adoption of what a lost create made,
// drift, import) is shared.
type connectionKind struct {
	tool     string // the integration's name in dbt Cloud's API: "tableau", "powerbi"
	label    string // "Tableau", "Power BI"
	resource string // the resource type, for import commands
	identity string // the settings that identify the integration a create made, for messages
	// sameTarget reports whether an integration's config (when dbt Cloud shows
	// it) names the planned target: the create's own, when its answer was lost.
	sameTarget func(got *dbtcloud.IntegrationConfig, want dbtcloud.IntegrationConfig) bool
}

// connection is a connection resource's dbt Cloud client and kind.
type connection struct {
	kind   connectionKind
	client *dbtcloud.Client
}

// create makes the integration, sending the create once. On failure it finds
// out what the create left behind (see recover); nil means diags say why.
func (c *connection) create(ctx context.Context, pid int64, cfg dbtcloud.IntegrationConfig, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	created, err := c.client.CreateLineageIntegration(ctx, pid, dbtcloud.CreateLineageIntegrationRequest{Name: c.kind.tool, Config: cfg})
	if err == nil {
		return created
	}
	return c.recover(ctx, pid, cfg, err, diags)
}

// recover finds out what a failed create left behind, since the create is
// never sent twice. When dbt Cloud may have acted on it (a lost response, a
// timeout, a 5xx) and the project has an integration of this tool with the
// planned target, that is the one the create made: it is adopted, with the
// planned values and secret sent again. Any other integration of the tool in
// the project is someone else's, and the error says how to import it.
func (c *connection) recover(ctx context.Context, pid int64, cfg dbtcloud.IntegrationConfig, createErr error, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	k := c.kind
	what := "create the " + k.label + " connection"
	existing, err := c.client.ListLineageIntegrations(ctx, pid)
	if err != nil {
		diags.Append(diagnostics.DBTCloud(what, fmt.Sprintf("project %d", pid), createErr))
		diags.AddError("Could not check what the failed create left behind",
			fmt.Sprintf("Listing the lineage integrations of project %d failed too, so it is not known whether the create took effect. "+
				"Before applying again, look in dbt Cloud for a %s integration in the project and, if there is one, import it with "+
				"terraform import %s.<name> %d:<integration_id>.\n\ndbt Cloud's answer: %s", pid, k.label, k.resource, pid, err))
		return nil
	}
	unknown := dbtcloud.OutcomeUnknown(createErr)
	var others []dbtcloud.LineageIntegration
	for _, in := range existing {
		if in.Name != k.tool {
			continue
		}
		if unknown && k.sameTarget(in.Config, cfg) {
			return c.adopt(ctx, pid, in.ID, cfg, createErr, diags)
		}
		others = append(others, in)
	}
	if len(others) == 0 {
		diags.Append(diagnostics.DBTCloud(what, fmt.Sprintf("project %d", pid), createErr))
		return nil
	}
	other := others[0]
	maybeOurs := ""
	if unknown {
		maybeOurs = " It may also be the one this apply created before its answer was lost, if dbt Cloud does not show its settings."
	}
	diags.AddError("The project already has a "+k.label+" connection",
		fmt.Sprintf("Project %d already has %s lineage integration %d, made outside this configuration (in dbt Cloud's UI or by another configuration).%s "+
			"dbt Cloud keeps one per project. To manage it with this resource, import it:\n\n"+
			"  terraform import %s.<name> %d:%d\n\n"+
			"where <name> is this resource's name in your configuration (or use an import block with that id). "+
			"Otherwise delete it in dbt Cloud and apply again.\n\nThe create failed with: %s",
			pid, k.label, other.ID, maybeOurs, k.resource, pid, other.ID, createErr))
	return nil
}

// adopt takes over the integration a lost create made: it sends the planned
// values, secret included, so state and dbt Cloud agree.
func (c *connection) adopt(ctx context.Context, pid, id int64, cfg dbtcloud.IntegrationConfig, createErr error, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	k := c.kind
	got, err := c.client.UpdateLineageIntegration(ctx, pid, id, dbtcloud.PatchLineageIntegrationRequest{Config: &cfg})
	if err != nil {
		diags.Append(diagnostics.DBTCloud("take over the "+k.label+" connection the failed create made", fmt.Sprintf("project %d, connection %d", pid, id), err))
		return nil
	}
	diags.AddWarning("Took over the "+k.label+" connection a failed create made",
		fmt.Sprintf("The create's answer was lost (%s), but dbt Cloud had made the connection: integration %d of project %d, with the planned %s. "+
			"It is now managed by this resource, with the planned settings and secret.", createErr, id, pid, k.identity))
	return got
}

// read reads the integration for Read; nil with no error in diags means it
// is gone, and it was removed from state with a warning.
func (c *connection) read(ctx context.Context, projectID, integrationID types.Int64, state *resource.ReadResponse) *dbtcloud.LineageIntegration {
	k, diags := c.kind, &state.Diagnostics
	got, err := c.client.GetLineageIntegration(ctx, projectID.ValueInt64(), integrationID.ValueInt64())
	if dbtcloud.IsNotFound(err) {
		diags.AddWarning(k.label+" connection not found",
			fmt.Sprintf("The %s connection (%s) no longer exists in dbt Cloud; it was removed from state and the next apply creates it again.", k.label, subject(projectID, integrationID)))
		state.State.RemoveResource(ctx)
		return nil
	}
	if err != nil {
		diags.Append(diagnostics.DBTCloud("read the "+k.label+" connection", subject(projectID, integrationID), err))
		return nil
	}
	if got.Name != "" && got.Name != k.tool {
		diags.AddError("Not a "+k.label+" connection",
			fmt.Sprintf("Lineage integration %s is a %q integration, not %q. Import the ID of the project's %s integration instead.", subject(projectID, integrationID), got.Name, k.tool, k.label))
		return nil
	}
	return got
}

// update PATCHes cfg when anything changed, else reads the integration.
func (c *connection) update(ctx context.Context, projectID, integrationID types.Int64, cfg *dbtcloud.IntegrationConfig, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	var (
		got *dbtcloud.LineageIntegration
		err error
	)
	if cfg != nil {
		got, err = c.client.UpdateLineageIntegration(ctx, projectID.ValueInt64(), integrationID.ValueInt64(), dbtcloud.PatchLineageIntegrationRequest{Config: cfg})
	} else {
		got, err = c.client.GetLineageIntegration(ctx, projectID.ValueInt64(), integrationID.ValueInt64())
	}
	if err != nil {
		diags.Append(diagnostics.DBTCloud("update the "+c.kind.label+" connection", subject(projectID, integrationID), err))
		return nil
	}
	return got
}

// delete removes the integration; one already gone is fine.
func (c *connection) delete(ctx context.Context, projectID, integrationID types.Int64, diags *diag.Diagnostics) {
	err := c.client.DeleteLineageIntegration(ctx, projectID.ValueInt64(), integrationID.ValueInt64())
	if err != nil && !dbtcloud.IsNotFound(err) {
		diags.Append(diagnostics.DBTCloud("delete the "+c.kind.label+" connection", subject(projectID, integrationID), err))
	}
}

// secretToSend is the secret an update sends: a changed plain secret, or the
// write-only one when its version changed or it replaces the plain one; nil
// when the secret stays.
func secretToSend(plan, state, wo types.String, planVersion, stateVersion types.Int64) *string {
	switch {
	case !plan.IsNull() && !plan.Equal(state):
		return plan.ValueStringPointer()
	case !wo.IsNull() && (!planVersion.Equal(stateVersion) || !state.IsNull()):
		return wo.ValueStringPointer()
	}
	return nil
}

// changedString is v's value when it differs from was, else nil: a PATCH
// sends only what changed.
func changedString(v, was types.String, changed *bool) *string {
	if v.Equal(was) {
		return nil
	}
	*changed = true
	return v.ValueStringPointer()
}

// sameStrings reports whether every pair (got, want) is set and equal.
func sameStrings(pairs ...*string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == nil || pairs[i+1] == nil || *pairs[i] != *pairs[i+1] {
			return false
		}
	}
	return true
}

// connectionModel is what a connection resource's model knows of its tool's
// config; M is the model itself.
type connectionModel[M any] interface {
	*M
	ids() (projectID, integrationID types.Int64)
	setIDs(projectID, integrationID types.Int64)
	// createConfig is what a create sends, the secret taken from the plan or
	// from the write-only value wo.
	createConfig(wo types.String) dbtcloud.IntegrationConfig
	// patchConfig is what an update from state sends: only what changed, the
	// secret when it changed (see secretToSend); nil when nothing did.
	patchConfig(state *M, wo types.String) *dbtcloud.IntegrationConfig
	// apply copies what the API returned; the config, when the API returns it,
	// so changes made elsewhere show as drift.
	apply(in *dbtcloud.LineageIntegration)
	// keepArguments restores the planned arguments after apply, since an apply's
	// result must match its plan (a later Read reports drift).
	keepArguments(plan *M)
}

// connectionResource is the Create/Read/Update/Delete/Import of a connection
// resource, shared by every BI tool; each tool's resource adds its schema.
type connectionResource[M any, PM connectionModel[M]] struct {
	connection
	secret string // the secret's argument, e.g. "token"; "<secret>_wo" and "<secret>_wo_version" go with it
}

// ConfigValidators take the secret either in state or write-only with a version.
func (r *connectionResource[M, PM]) ConfigValidators(context.Context) []resource.ConfigValidator {
	wo := r.secret + "_wo"
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot(r.secret), path.MatchRoot(wo)),
		resourcevalidator.RequiredTogether(path.MatchRoot(wo), path.MatchRoot(wo+"_version")),
	}
}

// connectionAttributes are a connection's attributes: the tool's own, the
// secret (what it is, in secretDoc) in its two forms, and the IDs and times
// every connection has.
func connectionAttributes(secret, secretDoc string, own map[string]schema.Attribute) map[string]schema.Attribute {
	wo := secret + "_wo"
	attrs := map[string]schema.Attribute{
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
		secret: schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			MarkdownDescription: secretDoc + ", kept in state. Exactly one of `" + secret + "` and `" + wo + "` is required.",
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		wo: schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			WriteOnly:           true,
			MarkdownDescription: secretDoc + ", write-only: sent to dbt Cloud, never stored in plan or state. Requires Terraform 1.11 or later and `" + wo + "_version`.",
			Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
		},
		wo + "_version": schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: "Version of `" + wo + "`. Terraform cannot see a write-only value change, so change this number to send a new secret.",
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
	}
	for k, v := range own {
		attrs[k] = v
	}
	return attrs
}

func (r *connectionResource[M, PM]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
}

// finish records an apply's answer in state, keeping the planned arguments.
func finish[M any, PM connectionModel[M]](ctx context.Context, plan PM, got *dbtcloud.LineageIntegration, state *tfsdk.State, diags *diag.Diagnostics) {
	planned := *plan
	plan.apply(got)
	plan.keepArguments(&planned)
	diags.Append(state.Set(ctx, plan)...)
}

func (r *connectionResource[M, PM]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan := PM(new(M))
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(r.secret+"_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := plan.createConfig(wo)
	ctx = maskSecrets(ctx, &cfg)
	pid, _ := plan.ids()
	if created := r.create(ctx, pid.ValueInt64(), cfg, &resp.Diagnostics); created != nil {
		finish[M](ctx, plan, created, &resp.State, &resp.Diagnostics)
	}
}

func (r *connectionResource[M, PM]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	state := PM(new(M))
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pid, iid := state.ids()
	if got := r.read(ctx, pid, iid, resp); got != nil {
		state.apply(got)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	}
}

func (r *connectionResource[M, PM]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, state := PM(new(M)), PM(new(M))
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	var wo types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(r.secret+"_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pid, iid := state.ids()
	plan.setIDs(pid, iid)
	patch := plan.patchConfig((*M)(state), wo)
	if patch != nil {
		ctx = maskSecrets(ctx, patch)
	}
	if got := r.update(ctx, pid, iid, patch, &resp.Diagnostics); got != nil {
		finish[M](ctx, plan, got, &resp.State, &resp.Diagnostics)
	}
}

func (r *connectionResource[M, PM]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	state := PM(new(M))
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if !resp.Diagnostics.HasError() {
		pid, iid := state.ids()
		r.delete(ctx, pid, iid, &resp.Diagnostics)
	}
}

func (r *connectionResource[M, PM]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTwoPartID(ctx, req, resp, "integration_id")
}

// maskSecrets keeps the config's secrets out of every log line of ctx.
func maskSecrets(ctx context.Context, cfg *dbtcloud.IntegrationConfig) context.Context {
	for _, s := range []*string{cfg.Token, cfg.ClientSecret} {
		if s != nil && *s != "" {
			ctx = tflog.MaskAllFieldValuesStrings(ctx, *s)
		}
	}
	return ctx
}
