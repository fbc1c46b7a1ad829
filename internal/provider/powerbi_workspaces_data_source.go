package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// NewPowerBIWorkspacesDataSource is dbtexposures_powerbi_workspaces.
func NewPowerBIWorkspacesDataSource() datasource.DataSource {
	return &rowsDataSource[*powerbiSource]{
		toolDataSource: powerbiData("_powerbi_workspaces"),
		doc: "Every Power BI workspace the provider's service principal can scan (personal and inactive ones left out), " +
			"read with the admin Scanner API during plan. Needs the provider's `powerbi` settings.",
		list: "workspaces", listDoc: "The workspaces, sorted by name.",
		columns: map[string]string{
			"id": "Workspace (group) ID.", "name": "Workspace name.",
			"type": "`Workspace`, `PersonalGroup`, … as Power BI says.", "state": "`Active`, `Deleted`, … as Power BI says.",
		},
		rows: powerbiWorkspaceRows,
	}
}

// powerbiWorkspaceRows are the scanned workspaces by name; the scan is shared
// with the other Power BI data sources.
func powerbiWorkspaceRows(ctx context.Context, src *powerbiSource, diags *diag.Diagnostics) []map[string]types.String {
	res, err := src.Scan(ctx)
	if err != nil {
		src.scanFailed(err, diags)
		return nil
	}
	workspaces := append(res.Workspaces[:0:0], res.Workspaces...)
	sort.SliceStable(workspaces, func(a, b int) bool { return workspaces[a].Name < workspaces[b].Name })
	rows := make([]map[string]types.String, 0, len(workspaces))
	for _, w := range workspaces {
		rows = append(rows, map[string]types.String{"id": types.StringValue(w.ID), "name": types.StringValue(w.Name),
			"type": types.StringValue(w.Type), "state": types.StringValue(w.State)})
	}
	return rows
}
