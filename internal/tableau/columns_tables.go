package tableau

import (
	"context"
	"sort"
)

// columnTable holds the distinct Metadata API columns the sheets use, each
// a table (by type and ID) and a name, resolved to warehouse columns once
// their tables are read.
type columnTable struct {
	index   map[string]int32
	entries []columnEntry
}

// columnEntry is a Metadata API column, resolved to warehouse columns or
// to the reason it cannot be.
type columnEntry struct {
	tableType, tableID, name string
	used                     []UsedColumn
	keys                     []string // each used column's sort key
	problem                  string
}

// tableInfo is a table as TablesQuery or CustomSQLByIDQuery gives it.
type tableInfo struct {
	Typename       string
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
	table *Table // as its columns share it, once made
}

func newColumnTable() *columnTable { return &columnTable{index: map[string]int32{}} }

// add numbers a Metadata API column, once.
func (t *columnTable) add(col *gqlColumn) int32 {
	e := columnEntry{name: intern(col.Name)}
	if col.Table != nil {
		e.tableType, e.tableID = intern(col.Table.Typename), col.Table.ID
	}
	key := e.tableType + "\x00" + e.tableID + "\x00" + e.name
	if i, ok := t.index[key]; ok {
		return i
	}
	i := int32(len(t.entries))
	t.entries = append(t.entries, e)
	t.index[key] = i
	return i
}

// tableIDs are the IDs of the tables of one type that columns belong to, sorted.
func (t *columnTable) tableIDs(typename string) []string {
	seen := map[string]bool{}
	var ids []string
	for _, e := range t.entries {
		if e.tableType == typename && e.tableID != "" && !seen[e.tableID] {
			seen[e.tableID] = true
			ids = append(ids, e.tableID)
		}
	}
	sort.Strings(ids)
	return ids
}

// resolve reads the columns' tables, database and custom SQL ones, in
// batches of 1,000 IDs, and resolves every column.
func (c *Client) resolve(ctx context.Context, t *columnTable) error {
	tables := map[string]*tableInfo{}
	for _, kind := range []struct{ typename, query, field string }{
		{"DatabaseTable", TablesQuery, "databaseTablesConnection"},
		{"CustomSQLTable", CustomSQLByIDQuery, "customSQLTablesConnection"},
	} {
		err := pageByIDs(ctx, c, kind.query, kind.field, t.tableIDs(kind.typename), 1, func(page []tableInfo) error {
			for i := range page {
				page[i].Typename = kind.typename
				tables[kind.typename+"\x00"+page[i].ID] = &page[i]
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range t.entries {
		e := &t.entries[i]
		e.used, e.problem = warehouseColumns(e, tables[e.tableType+"\x00"+e.tableID])
		for _, u := range e.used {
			e.keys = append(e.keys, keyOf(*u.Table, u.Name))
		}
	}
	t.index = nil // resolved: the entries are all that is read from here on
	return nil
}
