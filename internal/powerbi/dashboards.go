package powerbi

import (
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
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

// datasetMeta is the report's dataset as the server's answers list it.
type datasetMeta struct {
	WorkspaceID string `json:"workspace_id"`
	ID          string `json:"id"`
	Name        string `json:"name"`
}

// TargetDataset is the target type of a report's dataset.
const TargetDataset = "powerbi_dataset"

// Dashboard is the report as the exposures core sees it: its warehouse
// tables (native queries' tables included), where it lives, and the dataset
// a refresh of its data rebuilds.
func (f Found) Dashboard() bi.Dashboard {
	name, email := f.Report.Owner()
	d := bi.Dashboard{Tool: Tool, ID: f.Report.ID, Name: f.Report.Name, URL: ReportURL(f.Workspace.ID, f.Report),
		OwnerName: name, OwnerEmail: email, Folder: f.Workspace.Name}
	d.Tables = make([]bi.Table, len(f.Lineage.Tables))
	for i, t := range f.Lineage.Tables {
		d.Tables[i] = bi.Table{Database: t.Database, Schema: t.Schema, Name: t.Name}
	}
	var datasets []datasetMeta
	if f.Dataset != nil {
		d.Targets = []bi.Target{{Type: TargetDataset, ID: f.Dataset.ID, Name: f.Dataset.Name, Scope: f.DatasetWorkspaceID}}
		datasets = []datasetMeta{{WorkspaceID: f.DatasetWorkspaceID, ID: f.Dataset.ID, Name: f.Dataset.Name}}
	}
	d.Meta = []bi.Field{{Key: "powerbi_report_id", Value: f.Report.ID}, {Key: "powerbi_workspace", Value: f.Workspace.Name},
		{Key: "powerbi_datasets", Value: datasets, APIOnly: true}}
	d.Columns, d.UnresolvedColumns = f.Lineage.dashboardColumns()
	return d
}

// dashboardColumns are the warehouse columns the dataset's columns read, and
// the dataset columns that were not followed (calculations aside).
func (l Lineage) dashboardColumns() ([]bi.Column, []bi.UnresolvedColumn) {
	cols := []bi.Column{}
	var unresolved []bi.UnresolvedColumn
	for _, c := range l.Columns {
		for _, src := range c.Sources {
			t := src.Table
			cols = append(cols, bi.Column{Table: bi.Table{Database: t.Database, Schema: t.Schema, Name: t.Name}, Name: src.Name, Derived: c.Derived})
		}
		if len(c.Sources) == 0 && c.Reason != "" && !c.Derived {
			unresolved = append(unresolved, bi.UnresolvedColumn{Column: c.Table + "[" + c.Column + "]", Reason: c.Reason})
		}
	}
	return cols, unresolved
}
