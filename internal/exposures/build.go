package exposures

import (
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// Options shape the exposures.
type Options struct {
	Maturity          string // low, medium or high; "" leaves it out
	DefaultOwnerName  string // when the BI tool has no owner for a dashboard
	DefaultOwnerEmail string
}

// The BI tools a dashboard can come from.
const (
	ToolTableau = "tableau"
	ToolPowerBI = "powerbi"
)

// Dashboard is what an exposure is made for: a Tableau workbook or a Power BI
// report, with the warehouse tables and SQL it reads.
type Dashboard struct {
	Tool        string // ToolTableau or ToolPowerBI
	ID          string // workbook LUID or report ID
	Name        string
	URL         string
	Description string
	OwnerName   string
	OwnerEmail  string
	Folder      string // Tableau project path or Power BI workspace name
	Tags        []string
	Tables      []Table
	CustomSQL   []Query
	Extracts    []tableau.Extract
}

// Table is a warehouse table a dashboard reads; FullName is used when the parts are missing.
type Table struct{ Database, Schema, Name, FullName string }

// Query is SQL a dashboard runs on a database.
type Query struct{ SQL, Database string }

// Workbooks are Tableau workbooks as dashboards.
func Workbooks(list []tableau.Workbook) []Dashboard {
	out := make([]Dashboard, len(list))
	for i, w := range list {
		d := Dashboard{Tool: ToolTableau, ID: w.ID, Name: w.Name, URL: w.URL, Description: w.Description, OwnerName: w.OwnerName,
			OwnerEmail: w.OwnerEmail, Folder: w.ProjectPath, Tags: w.Tags, Extracts: w.Extracts}
		d.Tables = make([]Table, len(w.UpstreamTables))
		for j, t := range w.UpstreamTables {
			d.Tables[j] = Table{Database: t.Database, Schema: t.Schema, Name: t.Name, FullName: t.FullName}
		}
		d.CustomSQL = make([]Query, len(w.CustomSQL))
		for j, q := range w.CustomSQL {
			d.CustomSQL[j] = Query{SQL: q.Query, Database: q.Database}
		}
		out[i] = d
	}
	return out
}

// Exposure is one dbt exposure for one dashboard.
type Exposure struct {
	Name        string
	Label       string
	Type        string
	URL         string
	Maturity    string
	OwnerName   string
	OwnerEmail  string
	Description string
	DependsOn   []string // sorted ref()/source() strings
	// DependsOnIDs are the same nodes' unique IDs, sorted, as run results name them.
	DependsOnIDs []string
	Tool         string // ToolTableau or ToolPowerBI
	WorkbookID   string // Tableau
	ProjectPath  string // Tableau
	ReportID     string // Power BI
	Workspace    string // Power BI
	Tags         []string
	Extracts     []tableau.Extract // what refreshing the dashboard's data takes
}

// Unmatched is a table a dashboard reads that is no dbt node.
type Unmatched struct {
	WorkbookID string // Tableau
	ReportID   string // Power BI
	Table      string // database.schema.name as the BI tool gives it
}

func (u Unmatched) dashboard() string { return u.WorkbookID + u.ReportID }

// Result is what Build finds.
type Result struct {
	Exposures []Exposure // sorted by name
	Unmatched []Unmatched
}

// Build makes the exposures of Tableau workbooks; see BuildDashboards.
func Build(workbooks []tableau.Workbook, ix *Index, opt Options) Result {
	return BuildDashboards(Workbooks(workbooks), ix, opt)
}

// BuildDashboards makes one exposure per dashboard that reads at least one dbt
// node, through its upstream tables or its custom SQL. A dashboard that matches
// nothing is not downstream of dbt: it gets no exposure and its tables are
// reported as unmatched. Names are unique across tools.
func BuildDashboards(dashboards []Dashboard, ix *Index, opt Options) Result {
	var res Result
	type candidate struct {
		d    Dashboard
		deps []string
		ids  []string
	}
	var cands []candidate
	for _, d := range dashboards {
		deps, ids, missed := match(d, ix)
		for _, table := range missed {
			u := Unmatched{Table: table}
			if d.Tool == ToolPowerBI {
				u.ReportID = d.ID
			} else {
				u.WorkbookID = d.ID
			}
			res.Unmatched = append(res.Unmatched, u)
		}
		if len(deps) > 0 {
			cands = append(cands, candidate{d, deps, ids})
		}
	}
	ids := make([]string, len(cands))
	labels := make([]string, len(cands))
	fallbacks := make([]string, len(cands))
	for i, c := range cands {
		ids[i], labels[i], fallbacks[i] = c.d.ID, c.d.Name, fallbackPrefix(c.d.Tool)
	}
	names := uniqueNames(ids, labels, fallbacks)
	for i, c := range cands {
		res.Exposures = append(res.Exposures, exposureOf(c.d, names[i], c.deps, c.ids, opt))
	}
	sort.Slice(res.Exposures, func(i, j int) bool { return res.Exposures[i].Name < res.Exposures[j].Name })
	sort.SliceStable(res.Unmatched, func(i, j int) bool {
		a, b := res.Unmatched[i], res.Unmatched[j]
		return a.dashboard() < b.dashboard() || (a.dashboard() == b.dashboard() && a.Table < b.Table)
	})
	res.Unmatched = dedupe(res.Unmatched)
	return res
}

// match finds the dbt nodes a dashboard reads (as refs and unique IDs, sorted)
// and the tables it reads that are no dbt node.
func match(d Dashboard, ix *Index) (deps, nodeIDs, missed []string) {
	refs, uids := map[string]bool{}, map[string]bool{}
	found := func(n *Node) {
		refs[n.Ref(ix.Qualify(n))] = true
		uids[n.UniqueID] = true
	}
	for _, t := range d.Tables {
		db, schema, name := TableParts(t.Database, t.Schema, t.Name, t.FullName)
		if n := ix.Lookup(db, schema, name); n != nil {
			found(n)
		} else {
			missed = append(missed, dotted(t.Database, schema, name))
		}
	}
	for _, q := range d.CustomSQL {
		for _, ref := range sqlextract.ExtractTables(q.SQL) {
			p := sqlextract.SplitName(ref)
			var n *Node
			switch len(p) {
			case 3:
				n = ix.Lookup(p[0], p[1], p[2])
			case 2:
				if n = ix.Lookup(q.Database, p[0], p[1]); n == nil && q.Database != "" {
					n = ix.Lookup("", p[0], p[1])
				}
			}
			if n != nil {
				found(n)
			} else {
				missed = append(missed, qualify(q.Database, p))
			}
		}
	}
	return sortedKeys(refs), sortedKeys(uids), missed
}

// exposureOf is the exposure of a dashboard that reads dbt nodes.
func exposureOf(d Dashboard, name string, deps, ids []string, opt Options) Exposure {
	e := Exposure{
		Name: name, Label: d.Name, Type: "dashboard", URL: d.URL, Maturity: opt.Maturity,
		OwnerName: d.OwnerName, OwnerEmail: d.OwnerEmail, Description: d.Description,
		DependsOn: deps, DependsOnIDs: ids, Tool: d.Tool, Tags: d.Tags, Extracts: d.Extracts,
	}
	if d.Tool == ToolPowerBI {
		e.ReportID, e.Workspace = d.ID, d.Folder
	} else {
		e.WorkbookID, e.ProjectPath = d.ID, d.Folder
	}
	if e.OwnerName == "" && e.OwnerEmail == "" {
		e.OwnerName, e.OwnerEmail = opt.DefaultOwnerName, opt.DefaultOwnerEmail
	}
	if e.OwnerName == "" && e.OwnerEmail == "" {
		e.OwnerName = toolLabel(d.Tool) // dbt requires an owner name or email
	}
	return e
}

// toolLabel is the tool's name as people write it.
func toolLabel(tool string) string {
	if tool == ToolPowerBI {
		return "Power BI"
	}
	return "Tableau"
}

// fallbackPrefix starts the name of a dashboard whose own name gives none.
func fallbackPrefix(tool string) string {
	if tool == ToolPowerBI {
		return "report_"
	}
	return "workbook_"
}

func dotted(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func qualify(database string, parts []string) string {
	if len(parts) < 3 && database != "" {
		return dotted(append([]string{database}, parts...)...)
	}
	return dotted(parts...)
}

func dedupe(u []Unmatched) []Unmatched {
	var out []Unmatched
	for i, x := range u {
		if i == 0 || x != u[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
