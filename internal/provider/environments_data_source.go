package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
)

// NewEnvironmentsDataSource is dbtexposures_environments: a project's
// environments, so that an environment ID is never a guess.
func NewEnvironmentsDataSource() datasource.DataSource { return &environmentsDataSource{} }

type environmentsDataSource struct{ client *dbtcloud.Client }

type environmentModel struct {
	ID             types.Int64  `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	Type           types.String `tfsdk:"type"`
	DeploymentType types.String `tfsdk:"deployment_type"`
}

type environmentsModel struct {
	ProjectID      types.Int64        `tfsdk:"project_id"`
	Name           types.String       `tfsdk:"name"`
	Type           types.String       `tfsdk:"type"`
	DeploymentType types.String       `tfsdk:"deployment_type"`
	Environments   []environmentModel `tfsdk:"environments"`
}

func (d *environmentsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_environments"
}

func (d *environmentsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The environments of a dbt Cloud project (or of dbtexposures-server's), through dbt Cloud's list " +
			"environments endpoint, filtered by name and type: where `dbtexposures_active_exposures` finds its `environment_id`.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.Int64Attribute{Required: true, MarkdownDescription: "ID of the dbt Cloud project."},
			"name":       schema.StringAttribute{Optional: true, MarkdownDescription: "Only the environment with this name (exact)."},
			"type": schema.StringAttribute{Optional: true, MarkdownDescription: "Only environments of this type: `deployment` or `development`.",
				Validators: []validator.String{stringvalidator.OneOf("deployment", "development")}},
			"deployment_type": schema.StringAttribute{Optional: true, MarkdownDescription: "Only deployment environments of this kind: `production` or `staging`.",
				Validators: []validator.String{stringvalidator.OneOf("production", "staging")}},
			"environments": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching environments, by ID.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Environment ID."},
					"name":            str("Environment name."),
					"type":            str("`deployment` or `development`."),
					"deployment_type": str("`production` or `staging` for a deployment environment that has one; null otherwise."),
				}},
			},
		},
	}
}

func (d *environmentsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = dbtClientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *environmentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m environmentsModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	f := dbtcloud.EnvironmentFilter{Name: m.Name.ValueString(), Type: m.Type.ValueString(), DeploymentType: m.DeploymentType.ValueString()}
	envs, err := d.client.ListEnvironments(ctx, m.ProjectID.ValueInt64(), f)
	if err != nil {
		resp.Diagnostics.Append(diagnostics.DBTCloud("list environments", fmt.Sprintf("project %d", m.ProjectID.ValueInt64()), err))
		return
	}
	m.Environments = make([]environmentModel, 0, len(envs))
	for _, e := range envs {
		m.Environments = append(m.Environments, environmentModel{ID: types.Int64Value(e.ID), Name: types.StringValue(e.Name),
			Type: types.StringValue(e.Type), DeploymentType: types.StringPointerValue(e.DeploymentType)})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
