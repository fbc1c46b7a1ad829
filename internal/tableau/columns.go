package tableau

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// maxFieldsPage is the most fieldsConnection returns in one page: Tableau
// caps it at 1,000 and says so only through pageInfo.
const maxFieldsPage = 1000

// maxFieldRounds bounds how many steps of field lineage are followed up
// (calculated field to field to published data source field …).
const maxFieldRounds = 20

// UsedColumn is a warehouse column a workbook's sheets use.
type UsedColumn struct {
	Table   Table
	Name    string
	Derived bool // used only through calculated fields, never as it is
}

// UnresolvedColumn is a column a sheet uses whose warehouse column is not
// clear, with the reason: it is never guessed.
type UnresolvedColumn = bi.UnresolvedColumn

// WorkbookColumns are the warehouse columns one workbook's sheets use.
type WorkbookColumns struct {
	Columns    []UsedColumn // sorted by table, then name
	Unresolved []UnresolvedColumn
}

type gqlFieldRef struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Datasource *struct {
		ID string `json:"id"`
	} `json:"datasource"`
}

// key names a field by data source and name: upstreamFields may hold no id.
func (r *gqlFieldRef) key() string {
	ds := ""
	if r.Datasource != nil {
		ds = r.Datasource.ID
	}
	return ds + "\x00" + r.Name
}

type gqlSheet struct {
	ID       string `json:"id"`
	Workbook *struct {
		LUID string `json:"luid"`
	} `json:"workbook"`
	DatasourceFields []*gqlFieldRef `json:"datasourceFields"`
}

type gqlField struct {
	Typename string `json:"__typename"`
	gqlFieldRef
	UpstreamColumns []*gqlColumn   `json:"upstreamColumns"`
	UpstreamFields  []*gqlFieldRef `json:"upstreamFields"`
	RemoteField     *gqlFieldRef   `json:"remoteField"`
}

// calculated says the field is computed from others, so what it reads is
// derived, not shown as it is.
func (f *gqlField) calculated() bool {
	return f.Typename == "CalculatedField" || (f.Typename == "" && len(f.UpstreamFields) > 0 && f.RemoteField == nil)
}

type gqlColumn struct {
	Name  string `json:"name"`
	Table *struct {
		Typename       string `json:"__typename"`
		ID             string `json:"id"`
		Name           string `json:"name"`
		Schema         string `json:"schema"`
		FullName       string `json:"fullName"`
		ConnectionType string `json:"connectionType"`
		Query          string `json:"query"`
		Database       *struct {
			Name           string `json:"name"`
			ConnectionType string `json:"connectionType"`
		} `json:"database"`
	} `json:"table"`
}

// ListColumns reads the warehouse columns each workbook's sheets use, by
// workbook LUID: the site's sheets, page by page, then the fields they use
// and the fields those are computed from, a round per step of lineage, in
// pages of up to 1,000 IDs. No request is made per workbook.
func (c *Client) ListColumns(ctx context.Context) (map[string]*WorkbookColumns, error) {
	uses := map[string][]*gqlFieldRef{} // by workbook
	err := pageAll(ctx, c, SheetsQuery, "sheetsConnection", func(page []gqlSheet) error {
		for _, s := range page {
			if s.Workbook != nil {
				uses[s.Workbook.LUID] = append(uses[s.Workbook.LUID], s.DatasourceFields...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g := newFieldGraph()
	var start []*gqlFieldRef
	for _, refs := range uses {
		start = append(start, refs...)
		g.know(refs)
	}
	if err := c.readFields(ctx, g, start); err != nil {
		return nil, err
	}
	out := make(map[string]*WorkbookColumns, len(uses))
	for wb, refs := range uses {
		out[wb] = g.workbookColumns(refs)
	}
	return out, nil
}

// readFields fetches the fields refs name and, round by round, the fields
// those read, until nothing new is named.
func (c *Client) readFields(ctx context.Context, g *fieldGraph, refs []*gqlFieldRef) error {
	for round := 0; len(refs) > 0; round++ {
		if round == maxFieldRounds {
			return fmt.Errorf("Tableau: field lineage goes more than %d steps up; stopping rather than looping", maxFieldRounds)
		}
		ids := g.unread(refs)
		refs = nil
		for start := 0; start < len(ids); start += maxFieldsPage {
			batch := ids[start:min(len(ids), start+maxFieldsPage)]
			err := pageAllWith(ctx, c, FieldsQuery, "fieldsConnection", map[string]any{"ids": batch}, func(page []gqlField) error {
				for i := range page {
					refs = append(refs, g.add(&page[i])...)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldGraph holds the fields read so far, by ID and by data source and name.
type fieldGraph struct {
	fields    map[string]*gqlField
	byKey     map[string]string
	requested map[string]bool
}

func newFieldGraph() *fieldGraph {
	return &fieldGraph{fields: map[string]*gqlField{}, byKey: map[string]string{}, requested: map[string]bool{}}
}

// know notes the IDs of refs by data source and name, so that a field named
// only that way upstream is found.
func (g *fieldGraph) know(refs []*gqlFieldRef) {
	for _, r := range refs {
		if r != nil && r.ID != "" && r.Name != "" {
			g.byKey[r.key()] = r.ID
		}
	}
}

// unread are the IDs of refs not read or asked for yet, sorted.
func (g *fieldGraph) unread(refs []*gqlFieldRef) []string {
	var ids []string
	for _, r := range refs {
		if r != nil && r.ID != "" && !g.requested[r.ID] && g.fields[r.ID] == nil {
			g.requested[r.ID] = true
			ids = append(ids, r.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// add keeps a field and returns the fields it reads.
func (g *fieldGraph) add(f *gqlField) []*gqlFieldRef {
	g.fields[f.ID] = f
	if f.Name != "" {
		g.byKey[f.key()] = f.ID
	}
	refs := append([]*gqlFieldRef(nil), f.UpstreamFields...)
	if f.RemoteField != nil {
		refs = append(refs, f.RemoteField)
	}
	g.know(refs)
	return refs
}

// lookup finds a referenced field: by ID, else by data source and name.
func (g *fieldGraph) lookup(r *gqlFieldRef) *gqlField {
	if r == nil {
		return nil
	}
	if f := g.fields[r.ID]; f != nil {
		return f
	}
	return g.fields[g.byKey[r.key()]]
}

// reach is what a field reads: columns, and whether only through calculations.
type reach struct {
	column  *gqlColumn
	derived bool
}

// reaches walks a field's lineage up to its columns: its own, its upstream
// fields' (derived when it is calculated) and its published field's.
func (g *fieldGraph) reaches(f *gqlField, derived bool, seen map[string]bool, out *[]reach) {
	if f == nil || seen[f.ID+fmt.Sprint(derived)] {
		return
	}
	seen[f.ID+fmt.Sprint(derived)] = true
	derived = derived || f.calculated()
	for _, col := range f.UpstreamColumns {
		if col != nil {
			*out = append(*out, reach{column: col, derived: derived})
		}
	}
	for _, up := range f.UpstreamFields {
		g.reaches(g.lookup(up), derived, seen, out)
	}
	g.reaches(g.lookup(f.RemoteField), derived, seen, out)
}

// workbookColumns gathers the columns that a workbook's sheet fields reach.
func (g *fieldGraph) workbookColumns(refs []*gqlFieldRef) *WorkbookColumns {
	var reached []reach
	seen := map[string]bool{}
	for _, r := range refs {
		g.reaches(g.lookup(r), false, seen, &reached)
	}
	acc := columnSet{}
	for _, r := range reached {
		acc.add(r)
	}
	return acc.result()
}

// keyOf names a warehouse column for deduplication.
func keyOf(t Table, name string) string {
	return strings.ToLower(strings.Join([]string{t.Database, t.Schema, t.Name, name}, "\x00"))
}

// sortColumns orders columns by table, then name.
func sortColumns(cols []UsedColumn) {
	sort.Slice(cols, func(i, j int) bool {
		return keyOf(cols[i].Table, cols[i].Name) < keyOf(cols[j].Table, cols[j].Name)
	})
}

// AttachColumns gives each workbook the columns its sheets use. A workbook
// whose upstreamTables Tableau left empty, while its columns name tables,
// gets those tables.
func AttachColumns(workbooks []Workbook, cols map[string]*WorkbookColumns) {
	for i := range workbooks {
		w := &workbooks[i]
		wc := cols[w.ID]
		if wc == nil {
			wc = &WorkbookColumns{Columns: []UsedColumn{}, Unresolved: []UnresolvedColumn{}}
		}
		w.Columns, w.UnresolvedColumns = wc.Columns, wc.Unresolved
		if len(w.UpstreamTables) == 0 {
			w.UpstreamTables = tablesOf(wc.Columns)
		}
	}
}

// tablesOf lists the distinct tables of columns, in the columns' order
// (by table), for a workbook whose upstreamTables Tableau left empty.
func tablesOf(cols []UsedColumn) []Table {
	seen := map[string]bool{}
	out := []Table{}
	for _, c := range cols {
		if k := keyOf(c.Table, ""); !seen[k] {
			seen[k] = true
			out = append(out, c.Table)
		}
	}
	return out
}
