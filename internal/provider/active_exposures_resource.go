package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
)

var (
	_ resource.ResourceWithConfigure   = (*activeExposuresResource)(nil)
	_ resource.ResourceWithImportState = (*activeExposuresResource)(nil)
)

// The environment variables of dbt Cloud's active exposures, and the
// project-wide defaults this resource gives them when it has to create them:
// values that change nothing for the environments it does not manage.
const (
	envActive      = dbtcloud.EnvActiveExposures
	envBuildAfter  = dbtcloud.EnvActiveExposuresBuildAfter
	defaultActive  = "0"
	defaultMinutes = dbtcloud.DefaultBuildAfterMinutes
)

// defaultAfter is dbt Cloud's default interval as the variable's value.
var defaultAfter = strconv.Itoa(defaultMinutes)

// NewActiveExposuresResource is dbtexposures_active_exposures: active exposures
// on or off for one dbt Cloud environment.
func NewActiveExposuresResource() resource.Resource { return &activeExposuresResource{} }

type activeExposuresResource struct {
	client *dbtcloud.Client
}

type activeExposuresModel struct {
	ID                types.String `tfsdk:"id"`
	ProjectID         types.Int64  `tfsdk:"project_id"`
	EnvironmentID     types.Int64  `tfsdk:"environment_id"`
	Enabled           types.Bool   `tfsdk:"enabled"`
	BuildAfterMinutes types.Int64  `tfsdk:"build_after_minutes"`
	EnvironmentName   types.String `tfsdk:"environment_name"`
}

func (r *activeExposuresResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_active_exposures"
}

func (r *activeExposuresResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Active exposures for one dbt Cloud deployment environment: after a job in it builds models, dbt Cloud " +
			"refreshes the Tableau extracts downstream of them, at most once per `build_after_minutes` (dbtexposures-server, given the " +
			"run's results, also refreshes the Power BI datasets downstream). This sets the environment's " +
			"values of `" + envActive + "` and `" + envBuildAfter + "` through dbt Cloud's environment variables API, and owns only " +
			"those two values: a variable it has to create gets a project-wide default that changes nothing elsewhere (`0` and `1440`), " +
			"and destroying it removes this environment's values and leaves the others'. A value changed in dbt Cloud shows as drift; " +
			"renaming the environment in dbt Cloud is followed, as the resource keeps its ID.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`<project_id>:<environment_id>`, also the import ID.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.Int64Attribute{
				Required: true, MarkdownDescription: "ID of the dbt Cloud project. Changing it replaces the resource.",
				PlanModifiers: replace, Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"environment_id": schema.Int64Attribute{
				Required: true, MarkdownDescription: "ID of the deployment environment. Changing it replaces the resource.",
				PlanModifiers: replace, Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the environment's jobs refresh downstream extracts (`" + envActive + "` is `1`). Default `true`.",
			},
			"build_after_minutes": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(defaultMinutes),
				MarkdownDescription: "Least time between two refreshes of one extract, in minutes (`" + envBuildAfter + "`). Default `1440`.",
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"environment_name": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The environment's name, looked up by its ID on every read.",
			},
		},
	}
}

func (r *activeExposuresResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *activeExposuresModel) subject() string {
	return fmt.Sprintf("project %d, environment %d", m.ProjectID.ValueInt64(), m.EnvironmentID.ValueInt64())
}

// wanted is the environment's value of each variable the model asks for.
func (m *activeExposuresModel) wanted() map[string]string {
	active := "0"
	if m.Enabled.ValueBool() {
		active = "1"
	}
	return map[string]string{envActive: active, envBuildAfter: strconv.FormatInt(m.BuildAfterMinutes.ValueInt64(), 10)}
}

// write sets the environment's values, creating a variable the project lacks
// with its neutral default first.
func (r *activeExposuresResource) write(ctx context.Context, m *activeExposuresModel) error {
	pid := m.ProjectID.ValueInt64()
	env, err := r.client.GetEnvironment(ctx, pid, m.EnvironmentID.ValueInt64())
	if err != nil {
		return err
	}
	vars, err := r.client.ListEnvVars(ctx, pid)
	if err != nil {
		return err
	}
	defaults := map[string]string{envActive: defaultActive, envBuildAfter: defaultAfter}
	for name, value := range m.wanted() {
		if _, exists := vars.Variables[name]; !exists {
			if err := r.createVariable(ctx, pid, name, defaults[name]); err != nil {
				return err
			}
		}
		v := value
		if err := r.client.SetEnvVar(ctx, pid, name, map[string]*string{env.Name: &v}); err != nil {
			return err
		}
	}
	m.ID = types.StringValue(twoPartID(pid, env.ID))
	m.EnvironmentName = types.StringValue(env.Name)
	return nil
}

// createVariable creates a variable with its project default. A create whose
// outcome is unknown, or that finds the variable made meanwhile, is checked
// by listing, never sent again.
func (r *activeExposuresResource) createVariable(ctx context.Context, pid int64, name, projectDefault string) error {
	err := r.client.CreateEnvVar(ctx, pid, name, map[string]string{dbtcloud.ProjectScope: projectDefault})
	if err == nil {
		return nil
	}
	vars, lerr := r.client.ListEnvVars(ctx, pid)
	if lerr == nil {
		if _, exists := vars.Variables[name]; exists {
			return nil
		}
	}
	return err
}

func (r *activeExposuresResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics, "turn on active exposures")
}

func (r *activeExposuresResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics, "update active exposures")
}

type stateSetter interface {
	Set(context.Context, any) diag.Diagnostics
}

func (r *activeExposuresResource) apply(ctx context.Context, get func(context.Context, any) diag.Diagnostics, state stateSetter, diags *diag.Diagnostics, action string) {
	var plan activeExposuresModel
	if diags.Append(get(ctx, &plan)...); diags.HasError() {
		return
	}
	if err := r.write(ctx, &plan); err != nil {
		diags.Append(diagnostics.DBTCloud(action, plan.subject(), err))
		return
	}
	diags.Append(state.Set(ctx, &plan)...)
}

// Read reports the environment's values. A value that is missing, or that is
// not what dbt Cloud understands (a non-numeric interval), is read as null,
// so the plan shows it set again.
func (r *activeExposuresResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state activeExposuresModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	pid := state.ProjectID.ValueInt64()
	env, err := r.client.GetEnvironment(ctx, pid, state.EnvironmentID.ValueInt64())
	if dbtcloud.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Environment not found",
			fmt.Sprintf("The environment of these active exposures (%s) no longer exists in dbt Cloud; they were removed from state.", state.subject()))
		resp.State.RemoveResource(ctx)
		return
	}
	vars, lerr := r.client.ListEnvVars(ctx, pid)
	if err == nil {
		err = lerr
	}
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("read active exposures", state.subject(), err))
		return
	}
	state.EnvironmentName = types.StringValue(env.Name)
	state.ID = types.StringValue(twoPartID(pid, env.ID))
	state.Enabled = types.BoolNull()
	switch vars.Variables[envActive][env.Name].Value {
	case "1":
		state.Enabled = types.BoolValue(true)
	case "0":
		state.Enabled = types.BoolValue(false)
	}
	state.BuildAfterMinutes = types.Int64Null()
	if v, ok := vars.Variables[envBuildAfter][env.Name]; ok {
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil && n >= 0 {
			state.BuildAfterMinutes = types.Int64Value(n)
		} else {
			resp.Diagnostics.AddWarning("Active exposures interval is not a number",
				fmt.Sprintf("%s of environment %q is %q in dbt Cloud, which is not a whole number of minutes; the next apply sets it to build_after_minutes.", envBuildAfter, env.Name, v.Value))
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete removes this environment's values of both variables, leaving the
// project default and the other environments' values as they are.
func (r *activeExposuresResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state activeExposuresModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &state)...); resp.Diagnostics.HasError() {
		return
	}
	pid := state.ProjectID.ValueInt64()
	env, err := r.client.GetEnvironment(ctx, pid, state.EnvironmentID.ValueInt64())
	if dbtcloud.IsNotFound(err) {
		return // the environment took its values with it
	}
	if err == nil {
		for _, name := range []string{envActive, envBuildAfter} {
			if err = r.client.SetEnvVar(ctx, pid, name, map[string]*string{env.Name: nil}); err != nil && !dbtcloud.IsNotFound(err) {
				break
			}
			err = nil
		}
	}
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("remove active exposures", state.subject(), err))
	}
}

func (r *activeExposuresResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importTwoPartID(ctx, req, resp, "environment_id")
}
