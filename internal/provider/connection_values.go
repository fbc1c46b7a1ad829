package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// connectionValues are a connection resource's values: those every
// connection has, and the tool's own arguments by name.
type connectionValues struct {
	projectID, integrationID types.Int64
	args                     map[string]types.String
	secret                   types.String
	secretVersion            types.Int64
	createdAt, updatedAt     types.String
	check                    biCheck
}

// attributeReader is a plan, a state or a configuration.
type attributeReader interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

// values reads a connection's values from a plan or a state.
func (k *connectionKind) values(ctx context.Context, from attributeReader, diags *diag.Diagnostics) *connectionValues {
	v := &connectionValues{args: map[string]types.String{}}
	get := func(name string, target any) { diags.Append(from.GetAttribute(ctx, path.Root(name), target)...) }
	get("project_id", &v.projectID)
	get("integration_id", &v.integrationID)
	get(k.secret, &v.secret)
	get(k.secret+"_wo_version", &v.secretVersion)
	get("created_at", &v.createdAt)
	get("updated_at", &v.updatedAt)
	for _, a := range k.args {
		var s types.String
		get(a.name, &s)
		v.args[a.name] = s
	}
	return v
}

// save writes v into state; the write-only secret is never kept.
func (k *connectionKind) save(ctx context.Context, v *connectionValues, state *tfsdk.State, diags *diag.Diagnostics) {
	set := func(name string, value any) { diags.Append(state.SetAttribute(ctx, path.Root(name), value)...) }
	set("id", types.StringValue(twoPartID(v.projectID.ValueInt64(), v.integrationID.ValueInt64())))
	set("project_id", v.projectID)
	set("integration_id", v.integrationID)
	set(k.secret, v.secret)
	set(k.secret+"_wo", types.StringNull())
	set(k.secret+"_wo_version", v.secretVersion)
	set("created_at", v.createdAt)
	set("updated_at", v.updatedAt)
	set("status", types.StringValue(v.check.status))
	set("status_message", types.StringValue(v.check.message))
	for name, s := range v.args {
		set(name, s)
	}
}

// createConfig is what a create sends, the secret taken from the plan or
// from the write-only value wo.
func (k *connectionKind) createConfig(v *connectionValues, wo types.String) dbtcloud.IntegrationConfig {
	var cfg dbtcloud.IntegrationConfig
	for name, s := range v.args {
		*cfg.Field(name) = s.ValueStringPointer()
	}
	secret := v.secret.ValueString()
	if secret == "" {
		secret = wo.ValueString()
	}
	*cfg.Field(k.secret) = &secret
	return cfg
}

// patchConfig is what an update from state sends: only the arguments that
// changed, and the secret when it changed (see secretToSend); nil when
// nothing did. sent names what it sends, as the user writes it.
func (k *connectionKind) patchConfig(plan, state *connectionValues, wo types.String) (*dbtcloud.IntegrationConfig, []string) {
	var (
		cfg  dbtcloud.IntegrationConfig
		sent []string
	)
	if s := secretToSend(plan.secret, state.secret, wo, plan.secretVersion, state.secretVersion); s != nil {
		*cfg.Field(k.secret) = s
		sent = append(sent, k.secretArgument(plan))
	}
	for _, a := range k.args {
		if v := plan.args[a.name]; !v.Equal(state.args[a.name]) {
			*cfg.Field(a.name) = v.ValueStringPointer()
			sent = append(sent, a.name)
		}
	}
	if len(sent) == 0 {
		return nil, nil
	}
	return &cfg, sent
}

// secretArgument is the argument that holds v's secret: the plain one or the
// write-only one.
func (k *connectionKind) secretArgument(v *connectionValues) string {
	if v.secret.IsNull() {
		return k.secret + "_wo"
	}
	return k.secret
}

// record copies an apply's answer into v, keeping the planned arguments,
// since an apply's result must match its plan (a later Read reports drift).
func (v *connectionValues) record(in *dbtcloud.LineageIntegration) {
	v.integrationID = types.Int64Value(in.ID)
	v.createdAt = types.StringValue(in.CreatedAt)
	v.updatedAt = types.StringValue(in.UpdatedAt)
}

// apply copies what dbt Cloud returned into v. The config is not in dbt
// Cloud's published schema; when a server returns it, it is read (so changes
// made elsewhere show as drift), otherwise the known values stand.
func (v *connectionValues) apply(k *connectionKind, in *dbtcloud.LineageIntegration) {
	v.record(in)
	if in.Config == nil {
		return
	}
	for _, a := range k.args {
		if s := *in.Config.Field(a.name); s != nil {
			v.args[a.name] = types.StringValue(*s)
		}
	}
}
