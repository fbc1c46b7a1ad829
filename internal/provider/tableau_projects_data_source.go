package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*tableauProjectsDataSource)(nil)

// NewTableauProjectsDataSource is dbtexposures_tableau_projects.
func NewTableauProjectsDataSource() datasource.DataSource {
	return &tableauProjectsDataSource{tableauData("_tableau_projects")}
}

type tableauProjectsDataSource struct{ toolDataSource[*tableauSource] }

type tableauProjectModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	ParentID    types.String `tfsdk:"parent_id"`
	Path        types.String `tfsdk:"path"`
	Description types.String `tfsdk:"description"`
}

type tableauProjectsModel struct {
	Projects []tableauProjectModel `tfsdk:"projects"`
}

func (d *tableauProjectsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Every project (folder) of the configured Tableau site, read from Tableau's REST API during plan, " +
			"with its path from the top (`Finance/Quarterly`). Needs the provider's `tableau` settings.",
		Attributes: map[string]schema.Attribute{
			"projects": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The projects, sorted by path.",
				NestedObject: schema.NestedAttributeObject{Attributes: computedStrings(map[string]string{
					"id": "Project LUID.", "name": "Project name.", "parent_id": "LUID of the parent project; null at the top level.",
					"path": "Names from the top-level project down, joined by `/`.", "description": "Project description.",
				})},
			},
		},
	}
}

func (d *tableauProjectsDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	projects, err := d.src.Projects(ctx)
	if err != nil {
		d.src.report("read Tableau projects", err, &resp.Diagnostics)
		return
	}
	out := tableauProjectsModel{Projects: make([]tableauProjectModel, 0, len(projects))}
	for _, p := range projects {
		parent := types.StringNull()
		if p.ParentID != "" {
			parent = types.StringValue(p.ParentID)
		}
		out.Projects = append(out.Projects, tableauProjectModel{
			ID: types.StringValue(p.ID), Name: types.StringValue(p.Name), ParentID: parent,
			Path: types.StringValue(p.Path), Description: types.StringValue(p.Description),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
