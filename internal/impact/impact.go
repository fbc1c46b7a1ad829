package impact

import (
	"fmt"
	"slices"
	"sort"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

// Input is what an analysis compares.
type Input struct {
	// Base is production's state; nil when Changed lists the changes.
	Base *State
	// Head is the pull request's state.
	Head *State
	// BaseCatalog and HeadCatalog give the columns' data types; optional.
	BaseCatalog, HeadCatalog *exposures.Catalog
	// Changed lists changed nodes by unique ID, instead of a Base.
	Changed []string
	// Dashboards are matched to nodes through the base manifest's relations
	// (the pull request's, without a base).
	Dashboards []Dashboard
}

// Dashboard is a dashboard and the dbt nodes it reads.
type Dashboard struct {
	Tool       string              `json:"tool"`       // the tool's name, e.g. "tableau"
	ToolLabel  string              `json:"tool_label"` // for people, e.g. "Tableau"
	ID         string              `json:"dashboard_id"`
	Name       string              `json:"dashboard"`
	URL        string              `json:"url"`
	OwnerName  string              `json:"owner_name"`
	OwnerEmail string              `json:"owner_email"`
	Nodes      []string            `json:"nodes"` // unique IDs, sorted
	Columns    map[string][]string `json:"-"`     // by node, lower-cased; nil when not read
	// DatasetColumns says its columns are those of its dataset, not those
	// its visuals show (Power BI): it "dataset uses" them.
	DatasetColumns bool `json:"dataset_columns,omitempty"`
}

// Severities, most serious first.
const (
	Breaking = "breaking"
	Affected = "affected"
)

// Impact is a dashboard a change reaches.
type Impact struct {
	Dashboard
	Severity string `json:"severity"`
	// Reasons say what makes it breaking, one line each; none for affected.
	Reasons []string `json:"reasons"`
	// Paths run from the changes nearest it to a node it reads: at most
	// five, shortest first.
	Paths [][]string `json:"paths"`
	// Upstream counts the changed nodes at or above the nodes it reads.
	Upstream int `json:"changes_upstream"`
	// Columns are the used columns that changed: "node.column: removed".
	Columns []string `json:"columns"`
}

// Result is an analysis: what changed, what it reaches, and counts.
type Result struct {
	Changed []ChangedNode `json:"changed_nodes"` // by unique ID
	Impacts []Impact      `json:"impacts"`       // breaking first, then by tool, name and ID
	Summary Summary       `json:"summary"`
	// Notes say what the analysis could not know, e.g. without a base.
	Notes []string `json:"notes"`
}

// Summary counts the impacts by severity, and by tool.
type Summary struct {
	Breaking int         `json:"breaking"`
	Affected int         `json:"affected"`
	ByTool   []ToolCount `json:"by_tool"` // by tool name
}

// ToolCount is one tool's impacts by severity.
type ToolCount struct {
	Tool      string `json:"tool"`
	ToolLabel string `json:"tool_label"`
	Breaking  int    `json:"breaking"`
	Affected  int    `json:"affected"`
}

// NoBaseNote is the note of an analysis of listed changes.
const NoBaseNote = "Changes were listed, not compared with a base manifest: column and relation changes are unknown, so no dashboard is marked breaking."

// Analyze compares, follows the changes to the dashboards, and sorts the
// result: the same input gives the same result.
func Analyze(in Input) (*Result, error) {
	c, err := Compare(in)
	if err != nil {
		return nil, err
	}
	return c.Reach(in.Dashboards), nil
}

// Comparison is what changed between the manifests, and the graph the
// changes are followed down. It needs no dashboards, so it can be made
// while they are read.
type Comparison struct {
	changed []ChangedNode
	byID    map[string]*ChangedNode
	graph   *graph
	notes   []string
}

// Compare finds the changed nodes (in.Dashboards is not read).
func Compare(in Input) (*Comparison, error) {
	if in.Head == nil {
		return nil, fmt.Errorf("no pull request manifest to analyze")
	}
	changed, err := changes(in)
	if err != nil {
		return nil, err
	}
	c := &Comparison{changed: changed, byID: map[string]*ChangedNode{}}
	if in.Base == nil {
		c.notes = append(c.notes, NoBaseNote)
	}
	ids := make([]string, len(changed))
	deleted := map[string]bool{}
	for i := range changed {
		n := &changed[i]
		c.byID[n.UniqueID], ids[i] = n, n.UniqueID
		if n.Kinds[0] == KindDeleted {
			deleted[n.UniqueID] = true
		}
	}
	c.graph = newGraph(in.Base, in.Head, deleted, ids)
	return c, nil
}

// Reach follows the changes to the dashboards. A Comparison serves one
// Reach at a time: it keeps what it found of the graph for the next.
func (c *Comparison) Reach(dashboards []Dashboard) *Result {
	res := &Result{Changed: c.changed, Notes: c.notes}
	for _, d := range dashboards {
		if im, ok := reach(c.graph, c.byID, d); ok {
			res.Impacts = append(res.Impacts, im)
		}
	}
	sortImpacts(res.Impacts)
	res.Summary = summarize(res.Impacts)
	return res
}

// changes lists the changed nodes: compared with the base, or as listed.
func changes(in Input) ([]ChangedNode, error) {
	if in.Base == nil {
		var out []ChangedNode
		for _, id := range sortedUnique(in.Changed) {
			if in.Head.Nodes[id] == nil {
				return nil, fmt.Errorf("%s is not a model, seed, snapshot or source of the manifest; use unique IDs as the manifest writes them, e.g. model.my_project.orders", id)
			}
			out = append(out, ChangedNode{UniqueID: id, Kinds: []string{KindListed}})
		}
		return out, nil
	}
	reach := &macroReach{changed: changedMacros(in.Base.Macros, in.Head.Macros), macros: in.Head.Macros, memo: map[string]bool{}}
	var out []ChangedNode
	for _, id := range sortedKeys(in.Head.Nodes) {
		cur, old := in.Head.Nodes[id], in.Base.Nodes[id]
		kinds := compare(old, cur, old != nil && reach.any(cur.Macros))
		var cols []ColumnChange
		if old != nil {
			cols = columnChanges(id, old, cur, in.BaseCatalog, in.HeadCatalog)
		}
		if len(cols) > 0 {
			kinds = append(kinds, KindColumns)
		}
		if len(kinds) > 0 {
			out = append(out, ChangedNode{UniqueID: id, Kinds: kinds, Columns: cols})
		}
	}
	for _, id := range sortedKeys(in.Base.Nodes) {
		if in.Head.Nodes[id] == nil {
			out = append(out, ChangedNode{UniqueID: id, Kinds: []string{KindDeleted}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UniqueID < out[j].UniqueID })
	return out, nil
}

// reach is what the changes do to one dashboard, if they reach it.
func reach(g *graph, byID map[string]*ChangedNode, d Dashboard) (Impact, bool) {
	im := Impact{Dashboard: d, Severity: Affected}
	union := make(bitset, (len(g.changed)+63)/64)
	var paths [][]string
	for _, node := range d.Nodes {
		if _, known := g.parents[node]; !known {
			continue
		}
		for w, word := range g.upstream(node) {
			union[w] |= word
		}
		paths = append(paths, g.nearest(node)...)
		if c := byID[node]; c != nil {
			im.breaks(c, d.Columns[node])
		}
	}
	if im.Upstream = union.count(); im.Upstream == 0 {
		return Impact{}, false
	}
	im.Paths = nearestPaths(paths)
	if len(im.Reasons) > 0 {
		im.Severity = Breaking
	}
	return im, true
}

// nearestPaths keeps one path from each change, the shortest, and of those
// the maxPaths shortest, ties by their text.
func nearestPaths(paths [][]string) [][]string {
	sort.SliceStable(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) < len(paths[j])
		}
		return slices.Compare(paths[i], paths[j]) < 0
	})
	seen := map[string]bool{}
	var out [][]string
	for _, p := range paths {
		if !seen[p[0]] && len(out) < maxPaths {
			seen[p[0]] = true
			out = append(out, p)
		}
	}
	return out
}

// breaks records what about a node the dashboard reads breaks it: the node
// deleted, its relation changed, or a column it uses removed or retyped.
func (im *Impact) breaks(c *ChangedNode, used []string) {
	uses := "uses"
	if im.DatasetColumns {
		uses = "dataset uses"
	}
	for _, k := range c.Kinds {
		switch k {
		case KindDeleted:
			im.Reasons = append(im.Reasons, "reads "+c.UniqueID+", which the pull request deletes")
		case KindRelation:
			im.Reasons = append(im.Reasons, "reads "+c.UniqueID+", whose relation (database, schema or alias) changes")
		}
	}
	for _, cc := range c.Columns {
		if !contains(used, cc.Column) {
			continue
		}
		what := "removed"
		if cc.Change == "retyped" {
			what = fmt.Sprintf("retyped from %s to %s", cc.From, cc.To)
		}
		im.Columns = append(im.Columns, c.UniqueID+"."+cc.Column+": "+what)
		im.Reasons = append(im.Reasons, fmt.Sprintf("%s %s.%s, %s", uses, c.UniqueID, cc.Column, what))
	}
}

func contains(sorted []string, s string) bool {
	i := sort.SearchStrings(sorted, s)
	return i < len(sorted) && sorted[i] == s
}

func sortImpacts(list []Impact) {
	sort.Slice(list, func(i, j int) bool {
		a, b := &list[i], &list[j]
		if a.Severity != b.Severity {
			return a.Severity == Breaking
		}
		if a.Tool != b.Tool {
			return a.Tool < b.Tool
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}

func summarize(list []Impact) Summary {
	var s Summary
	tools := map[string]*ToolCount{}
	for _, im := range list {
		t := tools[im.Tool]
		if t == nil {
			t = &ToolCount{Tool: im.Tool, ToolLabel: im.ToolLabel}
			tools[im.Tool] = t
		}
		if im.Severity == Breaking {
			s.Breaking++
			t.Breaking++
		} else {
			s.Affected++
			t.Affected++
		}
	}
	for _, k := range sortedKeys(tools) {
		s.ByTool = append(s.ByTool, *tools[k])
	}
	return s
}

// FromExposures are the dashboards of exposures, with the nodes and columns
// they were matched to.
func FromExposures(list []exposures.Exposure) []Dashboard {
	out := make([]Dashboard, len(list))
	for i, e := range list {
		out[i] = Dashboard{Tool: e.Tool.Name, ToolLabel: e.Tool.Label, ID: e.DashboardID, Name: e.Label, URL: e.URL,
			OwnerName: e.OwnerName, OwnerEmail: e.OwnerEmail, Nodes: e.DependsOnIDs, Columns: e.Columns,
			DatasetColumns: e.Tool.DatasetColumns}
	}
	return out
}
