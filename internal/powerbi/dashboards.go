package powerbi

import (
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

// Found is a scanned report with its workspace and its dataset's lineage.
type Found struct {
	Workspace *Workspace
	Report    Report
	Lineage   Lineage
	// Dataset is the report's dataset and DatasetWorkspaceID the workspace it
	// lives in, when the scan has it.
	Dataset            *Dataset
	DatasetWorkspaceID string
}

// Reports are the scan's reports that keep accepts, each with its lineage,
// sorted by workspace name, then report name. A report whose dataset lives in
// another scanned workspace is followed there.
func (r *ScanResult) Reports(keep func(w *Workspace, rep *Report) bool) []Found {
	datasets := r.Datasets()
	home := map[string]string{} // dataset ID (lower case) -> its workspace
	for _, w := range r.Workspaces {
		for _, d := range w.Datasets {
			home[strings.ToLower(d.ID)] = w.ID
		}
	}
	var out []Found
	for i := range r.Workspaces {
		w := &r.Workspaces[i]
		for _, rep := range w.Reports {
			if keep == nil || keep(w, &rep) {
				key := strings.ToLower(rep.DatasetID)
				out = append(out, Found{Workspace: w, Report: rep, Lineage: r.ReportLineage(datasets, rep), Dataset: datasets[key], DatasetWorkspaceID: home[key]})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Workspace.Name != out[b].Workspace.Name {
			return out[a].Workspace.Name < out[b].Workspace.Name
		}
		return out[a].Report.Name < out[b].Report.Name
	})
	return out
}

// Dashboard is the report as exposures see it: its warehouse tables (native
// queries' tables included) and where it lives.
func (f Found) Dashboard() exposures.Dashboard {
	name, email := f.Report.Owner()
	d := exposures.Dashboard{Tool: exposures.ToolPowerBI, ID: f.Report.ID, Name: f.Report.Name, URL: ReportURL(f.Workspace.ID, f.Report),
		OwnerName: name, OwnerEmail: email, Folder: f.Workspace.Name}
	d.Tables = make([]exposures.Table, len(f.Lineage.Tables))
	for i, t := range f.Lineage.Tables {
		d.Tables[i] = exposures.Table{Database: t.Database, Schema: t.Schema, Name: t.Name}
	}
	return d
}
