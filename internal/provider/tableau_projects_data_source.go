package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// NewTableauProjectsDataSource is dbtexposures_tableau_projects.
func NewTableauProjectsDataSource() datasource.DataSource {
	return &rowsDataSource[*tableauSource]{
		toolDataSource: tableauData("_tableau_projects"),
		doc: "Every project (folder) of the configured Tableau site, read from Tableau's REST API during plan, " +
			"with its path from the top (`Finance/Quarterly`). Needs the provider's `tableau` settings.",
		list: "projects", listDoc: "The projects, sorted by path.",
		columns: map[string]string{
			"id": "Project LUID.", "name": "Project name.", "parent_id": "LUID of the parent project; null at the top level.",
			"path": "Names from the top-level project down, joined by `/`.", "description": "Project description.",
		},
		rows: tableauProjectRows,
	}
}

// tableauProjectRows are the site's projects, in the path order Projects keeps.
func tableauProjectRows(ctx context.Context, src *tableauSource, diags *diag.Diagnostics) []map[string]types.String {
	projects, err := src.Projects(ctx)
	if err != nil {
		src.report("read Tableau projects", err, diags)
		return nil
	}
	rows := make([]map[string]types.String, 0, len(projects))
	for _, p := range projects {
		parent := types.StringNull()
		if p.ParentID != "" {
			parent = types.StringValue(p.ParentID)
		}
		rows = append(rows, map[string]types.String{"id": types.StringValue(p.ID), "name": types.StringValue(p.Name),
			"parent_id": parent, "path": types.StringValue(p.Path), "description": types.StringValue(p.Description)})
	}
	return rows
}
