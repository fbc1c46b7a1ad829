package tableau

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// columnSet gathers a workbook's columns, each once: used as it is anywhere
// wins over used only through calculations. Columns are keyed by their
// entry's sort keys, made once per distinct column, not per workbook.
type columnSet struct {
	cols       map[string]*keyedColumn
	unresolved map[string]UnresolvedColumn
}

type keyedColumn struct {
	key string
	UsedColumn
}

func (s *columnSet) add(e *columnEntry, derived bool) {
	if e.problem != "" {
		if s.unresolved == nil {
			s.unresolved = map[string]UnresolvedColumn{}
		}
		s.unresolved[e.name+"\x00"+e.problem] = UnresolvedColumn{Column: e.name, Reason: e.problem}
		return
	}
	if s.cols == nil {
		s.cols = map[string]*keyedColumn{}
	}
	for i, u := range e.used {
		u.Derived = u.Derived || derived
		k := e.keys[i]
		if have, ok := s.cols[k]; ok {
			have.Derived = have.Derived && u.Derived
			continue
		}
		s.cols[k] = &keyedColumn{k, u}
	}
}

func (s *columnSet) result() *WorkbookColumns {
	keyed := make([]*keyedColumn, 0, len(s.cols))
	for _, c := range s.cols {
		keyed = append(keyed, c)
	}
	sort.Slice(keyed, func(i, j int) bool { return keyed[i].key < keyed[j].key })
	out := &WorkbookColumns{Columns: make([]UsedColumn, len(keyed)), Unresolved: make([]UnresolvedColumn, 0, len(s.unresolved))}
	for i, c := range keyed {
		out.Columns[i] = c.UsedColumn
	}
	for _, u := range s.unresolved {
		out.Unresolved = append(out.Unresolved, u)
	}
	sortUnresolved(out.Unresolved)
	return out
}

func sortUnresolved(us []UnresolvedColumn) {
	sort.Slice(us, func(i, j int) bool {
		if us[i].Column != us[j].Column {
			return us[i].Column < us[j].Column
		}
		return us[i].Reason < us[j].Reason
	})
}

// warehouseColumns are the warehouse columns a Metadata API column stands
// for: itself for a database table's, the select list's sources for custom
// SQL's; or why they are not clear. t is its table, nil when Tableau did not
// give it.
func warehouseColumns(e *columnEntry, t *tableInfo) ([]UsedColumn, string) {
	switch {
	case e.tableType != "" && e.tableType != "DatabaseTable" && e.tableType != "CustomSQLTable":
		return nil, fmt.Sprintf("columns of a %s are not followed to the warehouse", e.tableType)
	case t == nil || e.name == "":
		return nil, "Tableau does not name this column's table (the token's user may not see it)"
	}
	db, dbType := "", ""
	if t.Database != nil {
		db, dbType = t.Database.Name, t.Database.ConnectionType
	}
	connType := t.ConnectionType
	if connType == "" {
		connType = dbType
	}
	if t.Typename == "CustomSQLTable" {
		return customSQLColumns(e.name, t.Query, db, connType)
	}
	if t.Name == "" {
		return nil, "Tableau does not name this column's table (the token's user may not see it)"
	}
	if t.table == nil {
		t.table = &Table{Database: intern(db), Schema: intern(t.Schema), Name: intern(t.Name), FullName: intern(t.FullName), ConnectionType: intern(connType)}
	}
	return []UsedColumn{{Table: t.table, Name: e.name}}, ""
}

// customSQLColumns follows a custom SQL column back through the query's
// select list; `SELECT *` over one table keeps that table's names.
func customSQLColumns(name, query, database, connType string) ([]UsedColumn, string) {
	cols := sqlextract.ExtractColumns(query)
	for _, o := range cols.Outputs {
		if !strings.EqualFold(o.Name, name) {
			continue
		}
		var out []UsedColumn
		for _, src := range o.Sources {
			t, problem := sqlTable(src.Table, database, connType)
			if problem != "" {
				return nil, problem
			}
			out = append(out, UsedColumn{Table: &t, Name: src.Name, Derived: o.Derived})
		}
		return out, ""
	}
	for _, u := range cols.Unresolved {
		if strings.EqualFold(u.Name, name) {
			return nil, "custom SQL " + fmt.Sprintf("%q", u.Item) + ": " + u.Reason
		}
		if u.Table != "" && len(cols.Unresolved) == 1 {
			t, problem := sqlTable(u.Table, database, connType)
			if problem != "" {
				return nil, problem
			}
			return []UsedColumn{{Table: &t, Name: name}}, ""
		}
	}
	return nil, fmt.Sprintf("the custom SQL returns no column %q that its select list names", name)
}

// sqlTable completes a table name of custom SQL with the connection's
// database; a name without its schema is not guessed.
func sqlTable(dotted, database, connType string) (Table, string) {
	parts := sqlextract.SplitName(dotted)
	switch {
	case len(parts) >= 3:
		parts = parts[len(parts)-3:]
	case len(parts) == 2 && database != "":
		parts = append([]string{strings.ToLower(database)}, parts...)
	default:
		return Table{}, fmt.Sprintf("the custom SQL reads %s, whose database or schema it does not state", dotted)
	}
	return Table{Database: intern(parts[0]), Schema: intern(parts[1]), Name: intern(parts[2]), ConnectionType: intern(connType)}, ""
}
