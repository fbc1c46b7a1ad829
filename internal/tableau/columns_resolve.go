package tableau

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// columnSet gathers a workbook's columns, each once: used as it is anywhere
// wins over used only through calculations.
type columnSet struct {
	cols       map[string]*UsedColumn
	unresolved map[string]UnresolvedColumn
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
		s.cols = map[string]*UsedColumn{}
	}
	for _, u := range e.used {
		u.Derived = u.Derived || derived
		k := keyOf(u.Table, u.Name)
		if have, ok := s.cols[k]; ok {
			have.Derived = have.Derived && u.Derived
			continue
		}
		s.cols[k] = &u
	}
}

func (s *columnSet) result() *WorkbookColumns {
	out := &WorkbookColumns{Columns: make([]UsedColumn, 0, len(s.cols)), Unresolved: make([]UnresolvedColumn, 0, len(s.unresolved))}
	for _, c := range s.cols {
		out.Columns = append(out.Columns, *c)
	}
	sortColumns(out.Columns)
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
// SQL's; or why they are not clear.
func warehouseColumns(col *gqlColumn) ([]UsedColumn, string) {
	t := col.Table
	switch {
	case t == nil:
		return nil, "Tableau does not say which table this column belongs to (the token's user may not see it)"
	case t.Typename == "CustomSQLTable":
		db := ""
		if t.Database != nil {
			db = t.Database.Name
		}
		return customSQLColumns(col.Name, t.Query, db, t.ConnectionType)
	case t.Typename != "" && t.Typename != "DatabaseTable":
		return nil, fmt.Sprintf("columns of a %s are not followed to the warehouse", t.Typename)
	case t.Name == "" || col.Name == "":
		return nil, "Tableau does not name this column's table (the token's user may not see it)"
	}
	tb := Table{Schema: intern(t.Schema), Name: intern(t.Name), FullName: intern(t.FullName), ConnectionType: intern(t.ConnectionType)}
	if t.Database != nil {
		tb.Database = intern(t.Database.Name)
		if tb.ConnectionType == "" {
			tb.ConnectionType = intern(t.Database.ConnectionType)
		}
	}
	return []UsedColumn{{Table: tb, Name: col.Name}}, ""
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
			out = append(out, UsedColumn{Table: t, Name: src.Name, Derived: o.Derived})
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
			return []UsedColumn{{Table: t, Name: name}}, ""
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
