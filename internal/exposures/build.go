package exposures

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// Options shape the exposures.
type Options struct {
	Maturity          string // low, medium or high; "" leaves it out
	DefaultOwnerName  string // when the BI tool has no owner for a dashboard
	DefaultOwnerEmail string
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
	Tool         bi.Tool
	DashboardID  string
	Folder       string
	Tags         []string
	Targets      []bi.Target // what refreshing the dashboard's data takes
	Meta         []bi.Field  // what the tool records on the exposure
	// Columns are the columns it uses of each dbt node, by unique ID,
	// lower-cased and sorted; nil when columns were not read.
	Columns map[string][]string
}

// Unmatched is a table a dashboard reads that is no dbt node.
type Unmatched struct {
	Tool        bi.Tool
	DashboardID string
	Table       string // database.schema.name as the BI tool gives it
}

// UnmatchedColumn is a column a dashboard uses that its dbt node does not
// have: the dashboard is already broken. Only nodes whose columns are known
// (from the catalog, or documented) are checked.
type UnmatchedColumn struct {
	Tool        bi.Tool
	DashboardID string
	Node        string // the node's unique ID
	Column      string // lower-cased
}

// Result is what BuildDashboards finds.
type Result struct {
	Exposures        []Exposure // sorted by name
	Unmatched        []Unmatched
	UnmatchedColumns []UnmatchedColumn // sorted by dashboard, node, column
}

// BuildDashboards makes one exposure per dashboard that reads at least one dbt
// node, through its upstream tables or its custom SQL. A dashboard that matches
// nothing is not downstream of dbt: it gets no exposure and its tables are
// reported as unmatched. Names are unique across tools.
func BuildDashboards(dashboards []bi.Dashboard, ix *Index, opt Options) Result {
	var res Result
	type candidate struct {
		d    bi.Dashboard
		deps []string
		ids  []string
	}
	var cands []candidate
	for _, d := range dashboards {
		deps, ids, missed := match(d, ix)
		for _, table := range missed {
			res.Unmatched = append(res.Unmatched, Unmatched{Tool: d.Tool, DashboardID: d.ID, Table: table})
		}
		if len(deps) > 0 {
			cands = append(cands, candidate{d, deps, ids})
		}
	}
	ids := make([]string, len(cands))
	labels := make([]string, len(cands))
	fallbacks := make([]string, len(cands))
	for i, c := range cands {
		ids[i], labels[i], fallbacks[i] = c.d.ID, c.d.Name, c.d.Tool.Dashboard+"_"
	}
	names := uniqueNames(ids, labels, fallbacks)
	dashboardsOf := make([]bi.Dashboard, len(cands))
	for i, c := range cands {
		dashboardsOf[i] = c.d
	}
	columns, missing := matchAllColumns(dashboardsOf, ix)
	for i, c := range cands {
		e := exposureOf(c.d, names[i], c.deps, c.ids, opt)
		e.Columns = columns[i]
		res.UnmatchedColumns = append(res.UnmatchedColumns, missing[i]...)
		if len(e.Columns) > 0 {
			e.Meta = append(e.Meta[:len(e.Meta):len(e.Meta)], bi.Field{Key: "referenced_columns", Value: e.Columns})
		}
		res.Exposures = append(res.Exposures, e)
	}
	sort.Slice(res.Exposures, func(i, j int) bool { return res.Exposures[i].Name < res.Exposures[j].Name })
	sort.SliceStable(res.Unmatched, func(i, j int) bool {
		a, b := res.Unmatched[i], res.Unmatched[j]
		return a.DashboardID < b.DashboardID || (a.DashboardID == b.DashboardID && a.Table < b.Table)
	})
	res.Unmatched = dedupe(res.Unmatched)
	sort.SliceStable(res.UnmatchedColumns, func(i, j int) bool {
		return res.UnmatchedColumns[i].DashboardID < res.UnmatchedColumns[j].DashboardID
	})
	return res
}

// match finds the dbt nodes a dashboard reads (as refs and unique IDs, sorted)
// and the tables it reads that are no dbt node.
func match(d bi.Dashboard, ix *Index) (deps, nodeIDs, missed []string) {
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

// matchColumns finds the columns a dashboard uses of each dbt node, and the
// ones a node with known columns does not have. Columns are matched
// case-insensitively.
func matchColumns(d bi.Dashboard, ix *Index, lower func(string) string) (map[string][]string, []UnmatchedColumn) {
	if d.Columns == nil {
		return nil, nil
	}
	type use struct {
		node *Node
		col  string
	}
	// A slice sorted once costs less than a map per node: a dashboard uses
	// tens of columns of a few tables.
	uses := make([]use, 0, len(d.Columns))
	nodes := map[bi.Table]*Node{} // a dashboard's columns come from a few tables
	for _, c := range d.Columns {
		n, seen := nodes[c.Table]
		if !seen {
			db, schema, name := TableParts(c.Table.Database, c.Table.Schema, c.Table.Name, c.Table.FullName)
			n = ix.Lookup(db, schema, name)
			nodes[c.Table] = n
		}
		if n != nil { // a table that is no dbt node is reported as an unmatched table
			uses = append(uses, use{n, lower(c.Name)})
		}
	}
	slices.SortFunc(uses, func(a, b use) int {
		if c := strings.Compare(a.node.UniqueID, b.node.UniqueID); c != 0 {
			return c
		}
		return strings.Compare(a.col, b.col)
	})
	out := map[string][]string{}
	var missing []UnmatchedColumn
	for i, u := range uses {
		if i > 0 && uses[i-1] == u {
			continue
		}
		out[u.node.UniqueID] = append(out[u.node.UniqueID], u.col)
		if known := ix.columnsOf(u.node); known != nil && !known[u.col] {
			missing = append(missing, UnmatchedColumn{Tool: d.Tool, DashboardID: d.ID, Node: u.node.UniqueID, Column: u.col})
		}
	}
	return out, missing
}

// exposureOf is the exposure of a dashboard that reads dbt nodes.
func exposureOf(d bi.Dashboard, name string, deps, ids []string, opt Options) Exposure {
	e := Exposure{
		Name: name, Label: d.Name, Type: "dashboard", URL: d.URL, Maturity: opt.Maturity,
		OwnerName: d.OwnerName, OwnerEmail: d.OwnerEmail, Description: d.Description,
		DependsOn: deps, DependsOnIDs: ids, Tool: d.Tool, DashboardID: d.ID, Folder: d.Folder,
		Tags: d.Tags, Targets: d.Targets, Meta: d.Meta,
	}
	if e.OwnerName == "" && e.OwnerEmail == "" {
		e.OwnerName, e.OwnerEmail = opt.DefaultOwnerName, opt.DefaultOwnerEmail
	}
	if e.OwnerName == "" && e.OwnerEmail == "" {
		e.OwnerName = d.Tool.Label // dbt requires an owner name or email
	}
	return e
}

// matchAllColumns is matchColumns of each dashboard, in a few parts at once:
// 10,000 dashboards using 30 columns each take a noticeable share of a plan.
func matchAllColumns(ds []bi.Dashboard, ix *Index) ([]map[string][]string, [][]UnmatchedColumn) {
	columns := make([]map[string][]string, len(ds))
	missing := make([][]UnmatchedColumn, len(ds))
	parts := min(runtime.GOMAXPROCS(0), 4, max(1, len(ds)/500))
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lower := lowerCache() // each part its own: the cache is not shared
			for i := p; i < len(ds); i += parts {
				columns[i], missing[i] = matchColumns(ds[i], ix, lower)
			}
		}()
	}
	wg.Wait()
	return columns, missing
}

// lowerCache lower-cases column names, each once: thousands of dashboards
// use the same few names.
func lowerCache() func(string) string {
	seen := map[string]string{}
	return func(s string) string {
		l, ok := seen[s]
		if !ok {
			l = strings.ToLower(s)
			seen[s] = l
		}
		return l
	}
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
