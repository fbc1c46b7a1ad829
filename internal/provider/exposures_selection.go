package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// selected reads the selection of the configured connection from dbt Cloud
// and the dashboards it covers from the connection's tool, read with the
// provider's own settings for it.
func (d *exposuresDataSource) selected(ctx context.Context, cfg dashboardFilterModel, diags *diag.Diagnostics) ([]bi.Dashboard, []string) {
	if d.data.dbt == nil {
		diags.AddAttributeError(path.Root("connection_id"), "dbt Cloud is not configured",
			"connection_id reads the connection's selection from dbt Cloud. "+d.data.dbtErr)
		return nil, nil
	}
	pid, cid := cfg.ProjectID.ValueInt64(), cfg.ConnectionID.ValueInt64()
	tree, err := d.data.trees.get(ctx, d.data.dbt, pid, cid)
	if err != nil {
		diags.Append(diagnostics.DBTCloud("read the connection's selection", subject(cfg.ProjectID, cfg.ConnectionID), err))
		return nil, nil
	}
	sel := bi.Selection{Folders: map[string]bool{}, Dashboards: map[string]bool{}}
	for id, it := range tree.watching() {
		if it.Type == dbtcloud.ItemFolder {
			sel.Folders[id] = true
		} else {
			sel.Dashboards[id] = true
		}
	}
	switch tree.tool {
	case tableau.Tool.Name:
		return d.selectedWorkbooks(ctx, cfg, sel, diags)
	case powerbi.Tool.Name:
		return d.selectedReports(ctx, cfg, sel, diags)
	}
	diags.AddAttributeError(path.Root("connection_id"), "Connection of another BI tool",
		fmt.Sprintf("The connection of %s is a %q connection; this data source renders Tableau and Power BI selections.", subject(cfg.ProjectID, cfg.ConnectionID), tree.tool))
	return nil, nil
}

// toolMissing says that rendering a selection needs the tool's settings.
func toolMissing(diags *diag.Diagnostics, label, block string) {
	diags.AddAttributeError(path.Root("connection_id"), label+" is not configured",
		fmt.Sprintf("The selection's connection is a %s connection: the provider reads its dashboards with its own %s settings. "+
			"Add the provider's %s block (or its environment variables).", label, block, block))
}

func (d *exposuresDataSource) selectedWorkbooks(ctx context.Context, cfg dashboardFilterModel, sel bi.Selection, diags *diag.Diagnostics) ([]bi.Dashboard, []string) {
	if d.tableau == nil {
		toolMissing(diags, tableau.Tool.Label, "tableau")
		return nil, nil
	}
	projects, err := d.tableau.Projects(ctx)
	if err != nil {
		d.tableau.report("read Tableau projects", err, diags)
		return nil, nil
	}
	wbs := d.workbooks(ctx, cfg, diags)
	return tableau.Dashboards(tableau.Selected(projects, wbs, sel)), []string{"Tableau at " + d.tableau.client.Host()}
}

func (d *exposuresDataSource) selectedReports(ctx context.Context, cfg dashboardFilterModel, sel bi.Selection, diags *diag.Diagnostics) ([]bi.Dashboard, []string) {
	if d.powerbi == nil {
		toolMissing(diags, powerbi.Tool.Label, "powerbi")
		return nil, nil
	}
	found := d.powerbi.FilteredReports(ctx, reportFilter{WorkspaceNames: cfg.PowerBIWorkspaceNames, Endorsement: cfg.PowerBIEndorsement,
		NameRegex: cfg.PowerBINameRegex}, "powerbi_", diags)
	var out []bi.Dashboard
	for _, f := range found {
		if sel.Dashboards[f.Report.ID] || sel.Folders[f.Workspace.ID] {
			out = append(out, f.Dashboard())
		}
	}
	return out, []string{"Power BI tenant " + d.powerbi.tenant}
}
