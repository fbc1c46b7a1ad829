package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

var (
	_ resource.Resource                     = (*connectionResource)(nil)
	_ resource.ResourceWithConfigure        = (*connectionResource)(nil)
	_ resource.ResourceWithImportState      = (*connectionResource)(nil)
	_ resource.ResourceWithConfigValidators = (*connectionResource)(nil)
)

// connectionResource is a BI tool's connection resource: the tool's lineage
// integration in one dbt Cloud project, described by its kind.
type connectionResource struct {
	connection
}

func newConnectionResource(kind connectionKind) resource.Resource {
	return &connectionResource{connection{kind: kind}}
}

func (r *connectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.kind.tool.Name + "_connection"
}

func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	own := map[string]schema.Attribute{}
	for _, a := range r.kind.args {
		own[a.name] = a.attr
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: r.kind.doc,
		Attributes:          connectionAttributes(r.kind.tool.Label, r.kind.secret, r.kind.secretDoc, own),
	}
}

// ConfigValidators take the secret either in state or write-only with a version.
func (r *connectionResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	secret, wo := r.kind.secret, r.kind.secret+"_wo"
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot(secret), path.MatchRoot(wo)),
		resourcevalidator.RequiredTogether(path.MatchRoot(wo), path.MatchRoot(wo+"_version")),
	}
}

func (r *connectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
}

// writeOnly is the write-only secret from the configuration (null when the
// secret is given in state instead).
func (r *connectionResource) writeOnly(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) types.String {
	var wo types.String
	diags.Append(config.GetAttribute(ctx, path.Root(r.kind.secret+"_wo"), &wo)...)
	return wo
}

func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	k, diags := &r.kind, &resp.Diagnostics
	plan := k.values(ctx, req.Plan, diags)
	wo := r.writeOnly(ctx, req.Config, diags)
	if diags.HasError() {
		return
	}
	cfg := k.createConfig(plan, wo)
	ctx = k.maskSecret(ctx, &cfg)
	pid := plan.projectID.ValueInt64()
	created := r.create(ctx, pid, cfg, diags)
	if created == nil {
		return
	}
	plan.record(created)
	plan.check = r.check(ctx, pid, created.ID)
	if plan.check.status == statusRefused {
		r.refusedCreate(ctx, plan, &resp.State, diags)
		return
	}
	r.warnUnchecked(plan, diags)
	k.save(ctx, plan, &resp.State, diags)
}

func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	k := &r.kind
	state := k.values(ctx, req.State, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	got := r.read(ctx, state.projectID, state.integrationID, resp)
	if got == nil {
		return
	}
	state.apply(k, got)
	state.check = r.check(ctx, state.projectID.ValueInt64(), got.ID)
	k.save(ctx, state, &resp.State, &resp.Diagnostics)
}

func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	k, diags := &r.kind, &resp.Diagnostics
	plan, state := k.values(ctx, req.Plan, diags), k.values(ctx, req.State, diags)
	wo := r.writeOnly(ctx, req.Config, diags)
	if diags.HasError() {
		return
	}
	plan.projectID, plan.integrationID = state.projectID, state.integrationID
	patch, sent := k.patchConfig(plan, state, wo)
	if patch != nil {
		ctx = k.maskSecret(ctx, patch)
	}
	got := r.update(ctx, state.projectID, state.integrationID, patch, diags)
	if got == nil {
		return
	}
	plan.record(got)
	plan.check = r.check(ctx, state.projectID.ValueInt64(), got.ID)
	if plan.check.status == statusRefused {
		// The secret the tool refused is not kept: the next apply sends the
		// corrected one without another version bump.
		plan.secret, plan.secretVersion = state.secret, state.secretVersion
		k.save(ctx, plan, &resp.State, diags)
		r.refusedUpdate(plan, sent, diags)
		return
	}
	r.warnUnchecked(plan, diags)
	k.save(ctx, plan, &resp.State, diags)
}

func (r *connectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	state := r.kind.values(ctx, req.State, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		r.delete(ctx, state.projectID, state.integrationID, &resp.Diagnostics)
	}
}

func (r *connectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTwoPartID(ctx, req, resp, "integration_id")
}

// maskSecret keeps the config's secret out of every log line of ctx.
func (k *connectionKind) maskSecret(ctx context.Context, cfg *dbtcloud.IntegrationConfig) context.Context {
	if s := *cfg.Field(k.secret); s != nil && *s != "" {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, *s)
	}
	return ctx
}
