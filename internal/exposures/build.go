package exposures

import (
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// Options shape the exposures.
type Options struct {
	Maturity          string // low, medium or high; "" leaves it out
	DefaultOwnerName  string // when Tableau has no owner for a workbook
	DefaultOwnerEmail string
}

// Exposure is one dbt exposure for one workbook.
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
	WorkbookID   string
	ProjectPath  string
	Tags         []string
	Extracts     []tableau.Extract // what refreshing the dashboard's data takes
}

// Unmatched is a table a workbook reads that is no dbt node.
type Unmatched struct {
	WorkbookID string
	Table      string // database.schema.name as Tableau gives it
}

// Result is what Build finds.
type Result struct {
	Exposures []Exposure // sorted by name
	Unmatched []Unmatched
}

// Build makes one exposure per workbook that reads at least one dbt node,
// through its upstream tables or its custom SQL. A workbook that matches
// nothing is not downstream of dbt: it gets no exposure and its tables are
// reported as unmatched.
func Build(workbooks []tableau.Workbook, ix *Index, opt Options) Result {
	var res Result
	type candidate struct {
		w    tableau.Workbook
		deps []string
		ids  []string
	}
	var cands []candidate
	for _, w := range workbooks {
		deps, nodeIDs := map[string]bool{}, map[string]bool{}
		found := func(n *Node) {
			deps[n.Ref(ix.Qualify(n))] = true
			nodeIDs[n.UniqueID] = true
		}
		miss := func(table string) {
			res.Unmatched = append(res.Unmatched, Unmatched{WorkbookID: w.ID, Table: table})
		}
		for _, t := range w.UpstreamTables {
			db, schema, name := TableParts(t.Database, t.Schema, t.Name, t.FullName)
			if n := ix.Lookup(db, schema, name); n != nil {
				found(n)
			} else {
				miss(dotted(t.Database, schema, name))
			}
		}
		for _, q := range w.CustomSQL {
			for _, ref := range ExtractTables(q.Query) {
				p := SplitName(ref)
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
					miss(qualify(q.Database, p))
				}
			}
		}
		if len(deps) == 0 {
			continue
		}
		cands = append(cands, candidate{w, sortedKeys(deps), sortedKeys(nodeIDs)})
	}
	ids := make([]string, len(cands))
	labels := make([]string, len(cands))
	for i, c := range cands {
		ids[i], labels[i] = c.w.ID, c.w.Name
	}
	names := uniqueNames(ids, labels)
	for i, c := range cands {
		e := Exposure{
			Name: names[i], Label: c.w.Name, Type: "dashboard", URL: c.w.URL, Maturity: opt.Maturity,
			OwnerName: c.w.OwnerName, OwnerEmail: c.w.OwnerEmail, Description: c.w.Description,
			DependsOn: c.deps, DependsOnIDs: c.ids, WorkbookID: c.w.ID, ProjectPath: c.w.ProjectPath, Tags: c.w.Tags, Extracts: c.w.Extracts,
		}
		if e.OwnerName == "" && e.OwnerEmail == "" {
			e.OwnerName, e.OwnerEmail = opt.DefaultOwnerName, opt.DefaultOwnerEmail
		}
		if e.OwnerName == "" && e.OwnerEmail == "" {
			e.OwnerName = "Tableau" // dbt requires an owner name or email
		}
		res.Exposures = append(res.Exposures, e)
	}
	sort.Slice(res.Exposures, func(i, j int) bool { return res.Exposures[i].Name < res.Exposures[j].Name })
	sort.SliceStable(res.Unmatched, func(i, j int) bool {
		a, b := res.Unmatched[i], res.Unmatched[j]
		return a.WorkbookID < b.WorkbookID || (a.WorkbookID == b.WorkbookID && a.Table < b.Table)
	})
	res.Unmatched = dedupe(res.Unmatched)
	return res
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
