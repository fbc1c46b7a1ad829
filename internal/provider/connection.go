package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
)

// connectionKind is what sets one BI tool's connection resource apart: its
// tool, documentation and arguments. The lifecycle (a create never resent,
// adoption of what a lost create made, the BI check, drift, import) is shared.
type connectionKind struct {
	tool      bi.Tool
	identity  string // the arguments that identify the integration a create made, for messages
	doc       string // the resource's description
	secret    string // the secret's argument, as the API names it; "<secret>_wo" and "<secret>_wo_version" go with it
	secretDoc string // what the secret is
	// args are the tool's other arguments, named as the API names the config's
	// fields. Together they identify the integration a create made.
	args []connectionArg
}

// connectionArg is one of a tool's arguments.
type connectionArg struct {
	name string
	attr schema.StringAttribute
}

// resource is the resource type, for import commands.
func (k *connectionKind) resource() string { return "dbtexposures_" + k.tool.Name + "_connection" }

// sameTarget reports whether an integration's config (when dbt Cloud shows
// it) names the planned target: the create's own, when its answer was lost.
func (k *connectionKind) sameTarget(got *dbtcloud.IntegrationConfig, want dbtcloud.IntegrationConfig) bool {
	if got == nil {
		return false
	}
	for _, a := range k.args {
		if g, w := *got.Field(a.name), *want.Field(a.name); g == nil || w == nil || *g != *w {
			return false
		}
	}
	return true
}

// connection is a connection resource's dbt Cloud client and kind.
type connection struct {
	kind   connectionKind
	client *dbtcloud.Client
}

// create makes the integration, sending the create once. On failure it finds
// out what the create left behind (see recover); nil means diags say why.
func (c *connection) create(ctx context.Context, pid int64, cfg dbtcloud.IntegrationConfig, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	created, err := c.client.CreateLineageIntegration(ctx, pid, dbtcloud.CreateLineageIntegrationRequest{Name: c.kind.tool.Name, Config: cfg})
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
	what := "create the " + k.tool.Label + " connection"
	existing, err := c.client.ListLineageIntegrations(ctx, pid)
	if err != nil {
		diags.Append(diagnostics.DBTCloud(what, fmt.Sprintf("project %d", pid), createErr))
		diags.AddError("Could not check what the failed create left behind",
			fmt.Sprintf("Listing the lineage integrations of project %d failed too, so it is not known whether the create took effect. "+
				"Before applying again, look in dbt Cloud for a %s integration in the project and, if there is one, import it with "+
				"terraform import %s.<name> %d:<integration_id>.\n\ndbt Cloud's answer: %s", pid, k.tool.Label, k.resource(), pid, err))
		return nil
	}
	unknown := dbtcloud.OutcomeUnknown(createErr)
	var others []dbtcloud.LineageIntegration
	for _, in := range existing {
		if in.Name != k.tool.Name {
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
	diags.AddError("The project already has a "+k.tool.Label+" connection",
		fmt.Sprintf("Project %d already has %s lineage integration %d, made outside this configuration (in dbt Cloud's UI or by another configuration).%s "+
			"dbt Cloud keeps one per project. To manage it with this resource, import it:\n\n"+
			"  terraform import %s.<name> %d:%d\n\n"+
			"where <name> is this resource's name in your configuration (or use an import block with that id). "+
			"Otherwise delete it in dbt Cloud and apply again.\n\nThe create failed with: %s",
			pid, k.tool.Label, other.ID, maybeOurs, k.resource(), pid, other.ID, createErr))
	return nil
}

// adopt takes over the integration a lost create made: it sends the planned
// values, secret included, so state and dbt Cloud agree.
func (c *connection) adopt(ctx context.Context, pid, id int64, cfg dbtcloud.IntegrationConfig, createErr error, diags *diag.Diagnostics) *dbtcloud.LineageIntegration {
	k := c.kind
	got, err := c.client.UpdateLineageIntegration(ctx, pid, id, dbtcloud.PatchLineageIntegrationRequest{Config: &cfg})
	if err != nil {
		diags.Append(diagnostics.DBTCloud("take over the "+k.tool.Label+" connection the failed create made", fmt.Sprintf("project %d, connection %d", pid, id), err))
		return nil
	}
	diags.AddWarning("Took over the "+k.tool.Label+" connection a failed create made",
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
		diags.AddWarning(k.tool.Label+" connection not found",
			fmt.Sprintf("The %s connection (%s) no longer exists in dbt Cloud; it was removed from state and the next apply creates it again.", k.tool.Label, subject(projectID, integrationID)))
		state.State.RemoveResource(ctx)
		return nil
	}
	if err != nil {
		diags.Append(diagnostics.DBTCloud("read the "+k.tool.Label+" connection", subject(projectID, integrationID), err))
		return nil
	}
	if got.Name != "" && got.Name != k.tool.Name {
		diags.AddError("Not a "+k.tool.Label+" connection",
			fmt.Sprintf("Lineage integration %s is a %q integration, not %q. Import the ID of the project's %s integration instead.", subject(projectID, integrationID), got.Name, k.tool.Name, k.tool.Label))
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
		diags.Append(diagnostics.DBTCloud("update the "+c.kind.tool.Label+" connection", subject(projectID, integrationID), err))
		return nil
	}
	return got
}

// delete removes the integration, saying why it could not.
func (c *connection) delete(ctx context.Context, projectID, integrationID types.Int64, diags *diag.Diagnostics) {
	if err := c.remove(ctx, projectID, integrationID); err != nil {
		diags.Append(diagnostics.DBTCloud("delete the "+c.kind.tool.Label+" connection", subject(projectID, integrationID), err))
	}
}

// remove deletes the integration; one already gone is fine.
func (c *connection) remove(ctx context.Context, projectID, integrationID types.Int64) error {
	err := c.client.DeleteLineageIntegration(ctx, projectID.ValueInt64(), integrationID.ValueInt64())
	if dbtcloud.IsNotFound(err) {
		return nil
	}
	return err
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
