package tableau

import (
	"context"
	"fmt"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// maxIDsPage is how many IDs a batch holds, read as one page: Tableau caps
// fieldsConnection at 1,000 a page and says so only through pageInfo.
const maxIDsPage = 1000

// maxFieldRounds bounds how many steps of field lineage are followed up
// (calculated field to field to published data source field …).
const maxFieldRounds = 20

// UsedColumn is a warehouse column a workbook's sheets use.
type UsedColumn struct {
	Table   *Table // shared by the columns of one table
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
	UpstreamColumns  []*gqlColumn   `json:"upstreamColumns"`
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

// gqlColumn is a column as the Metadata API names it: its table by type and ID.
type gqlColumn struct {
	Name  string `json:"name"`
	Table *struct {
		Typename string `json:"__typename"`
		ID       string `json:"id"`
	} `json:"table"`
}

// ListColumns reads the warehouse columns each workbook's sheets use, by
// workbook LUID: the site's sheets with the columns Tableau's lineage gives
// them, page by page; for a sheet whose columns Tableau left empty, its
// fields and, a round per step of lineage, the fields those are computed
// from or stand for, in batches of 1,000 IDs; then each table once. No
// request is made per workbook.
func (c *Client) ListColumns(ctx context.Context) (map[string]*WorkbookColumns, error) {
	cols := newColumnTable()
	uses := map[string][]reach{} // by workbook
	var empty []string           // sheets without upstreamColumns
	err := pageByOffset(ctx, c, SheetsQuery, "sheetsConnection", sheetNodes, func(page []gqlSheet) error {
		for _, s := range page {
			switch {
			case s.Workbook == nil:
			case len(s.UpstreamColumns) == 0:
				empty = append(empty, s.ID)
			default:
				for _, col := range s.UpstreamColumns {
					if col != nil {
						uses[s.Workbook.LUID] = append(uses[s.Workbook.LUID], reach{column: cols.add(col)})
					}
				}
			}
		}
		return nil
	})
	if err == nil {
		err = c.walkFields(ctx, cols, empty, uses)
	}
	if err == nil {
		err = c.resolve(ctx, cols)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]*WorkbookColumns, len(uses))
	for wb, reached := range uses {
		acc := columnSet{}
		for _, r := range reached {
			acc.add(&cols.entries[r.column], r.derived)
		}
		out[wb] = acc.result()
	}
	return out, nil
}

// sheetNodes is what a sheet costs of Tableau's node limit: itself, its
// workbook, and each column with its table.
func sheetNodes(s gqlSheet) int { return 2 + 2*len(s.UpstreamColumns) }

// walkFields follows the fields of sheets whose upstreamColumns Tableau left
// empty, field by field, to the columns they reach.
func (c *Client) walkFields(ctx context.Context, cols *columnTable, sheets []string, uses map[string][]reach) error {
	if len(sheets) == 0 {
		return nil
	}
	g := newFieldGraph(cols)
	refs := map[string][]fieldRef{} // by workbook
	err := pageByIDs(ctx, c, SheetFieldsQuery, "sheetsConnection", sheets, 1, func(page []gqlSheet) error {
		for _, s := range page {
			if s.Workbook != nil {
				refs[s.Workbook.LUID] = append(refs[s.Workbook.LUID], g.refs(s.DatasourceFields)...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.readFields(ctx, g, g.unread()); err != nil {
		return err
	}
	for wb, r := range refs {
		uses[wb] = append(uses[wb], g.reachAll(r)...)
	}
	return nil
}

// fieldBatchesInFlight bounds how many batches of one step are read at once:
// a large site's hundreds of batches are latency-bound, and Tableau throttles
// a client that asks too much at once (RATE_EXCEEDED is waited out).
const fieldBatchesInFlight = 8

// readFields fetches the fields with these IDs and, round by round, the
// fields those read, until nothing new is named. A round's batches of up to
// 1,000 IDs are read a few at a time.
func (c *Client) readFields(ctx context.Context, g *fieldGraph, ids []string) error {
	for round := 0; len(ids) > 0; round++ {
		if round == maxFieldRounds {
			return fmt.Errorf("Tableau: field lineage goes more than %d steps up; stopping rather than looping", maxFieldRounds)
		}
		err := pageByIDs(ctx, c, FieldsQuery, "fieldsConnection", ids, fieldBatchesInFlight, func(page []gqlField) error {
			for i := range page {
				g.add(&page[i])
			}
			return nil
		})
		if err != nil {
			return err
		}
		ids = g.unread()
	}
	return nil
}

// keyOf names a warehouse column for deduplication.
func keyOf(t Table, name string) string {
	return strings.ToLower(strings.Join([]string{t.Database, t.Schema, t.Name, name}, "\x00"))
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
		if k := keyOf(*c.Table, ""); !seen[k] {
			seen[k] = true
			out = append(out, *c.Table)
		}
	}
	return out
}
