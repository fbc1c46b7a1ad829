package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*powerbiWorkspacesDataSource)(nil)

// NewPowerBIWorkspacesDataSource is dbtexposures_powerbi_workspaces.
func NewPowerBIWorkspacesDataSource() datasource.DataSource {
	return &powerbiWorkspacesDataSource{powerbiData("_powerbi_workspaces")}
}

type powerbiWorkspacesDataSource struct{ toolDataSource[*powerbiSource] }

type powerbiWorkspaceModel struct {
	ID    types.String `tfsdk:"id"`
	Name  types.String `tfsdk:"name"`
	Type  types.String `tfsdk:"type"`
	State types.String `tfsdk:"state"`
}

type powerbiWorkspacesModel struct {
	Workspaces []powerbiWorkspaceModel `tfsdk:"workspaces"`
}

func (d *powerbiWorkspacesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Every Power BI workspace the provider's service principal can scan (personal and inactive ones left out), " +
			"read with the admin Scanner API during plan. Needs the provider's `powerbi` settings.",
		Attributes: map[string]schema.Attribute{
			"workspaces": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The workspaces, sorted by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: computedStrings(map[string]string{
					"id": "Workspace (group) ID.", "name": "Workspace name.",
					"type": "`Workspace`, `PersonalGroup`, … as Power BI says.", "state": "`Active`, `Deleted`, … as Power BI says.",
				})},
			},
		},
	}
}

func (d *powerbiWorkspacesDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	res, err := d.src.Scan(ctx)
	if err != nil {
		d.src.scanFailed(err, &resp.Diagnostics)
		return
	}
	out := powerbiWorkspacesModel{Workspaces: make([]powerbiWorkspaceModel, 0, len(res.Workspaces))}
	for _, w := range res.Workspaces {
		out.Workspaces = append(out.Workspaces, powerbiWorkspaceModel{ID: types.StringValue(w.ID), Name: types.StringValue(w.Name),
			Type: types.StringValue(w.Type), State: types.StringValue(w.State)})
	}
	sort.SliceStable(out.Workspaces, func(a, b int) bool {
		return out.Workspaces[a].Name.ValueString() < out.Workspaces[b].Name.ValueString()
	})
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
