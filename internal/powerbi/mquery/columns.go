package mquery

import (
	"fmt"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// Column is a warehouse column: its table and its name as the expression
// (or its native SQL) writes it.
type Column struct {
	Table Table
	Name  string
}

// ColumnSource is where one dataset column comes from.
type ColumnSource struct {
	Columns []Column // the warehouse columns it reads
	Derived bool     // computed from Columns (or in Power Query), not one of them as it is
	Reason  string   // why it could not be followed; "" when it was
}

// ColumnLineage maps a dataset table's columns to warehouse columns through
// the steps of its M expression.
type ColumnLineage struct {
	cols *columns
}

// Of says where the dataset column name comes from. Navigation keeps the
// source's names; Table.RenameColumns, Table.SelectColumns,
// Table.RemoveColumns, Table.DuplicateColumn and native SQL select lists are
// followed; a step that reshapes columns otherwise stops the lineage, with
// its reason.
func (l ColumnLineage) Of(name string) ColumnSource {
	if l.cols == nil {
		return ColumnSource{Reason: "the query's result is not a table whose columns could be followed"}
	}
	return l.cols.lookup(name)
}

// columns says which warehouse columns a table value's columns are. It is
// never changed once made: steps share it.
type columns struct {
	table   *Table                  // each column not named below is this table's column of the same name
	named   map[string]ColumnSource // by lower-cased name: renamed, selected, added or from native SQL
	gone    map[string]string       // lower-cased names removed, with the step that removed them
	only    string                  // when only named columns exist: the step that chose them
	unknown string                  // why the columns cannot be followed at all
}

func (c *columns) lookup(name string) ColumnSource {
	key := strings.ToLower(name)
	switch {
	case c.unknown != "":
		return ColumnSource{Reason: c.unknown}
	case c.gone[key] != "":
		return ColumnSource{Reason: fmt.Sprintf("%q is removed by %s", name, c.gone[key])}
	}
	if s, ok := c.named[key]; ok {
		return s
	}
	if c.only != "" {
		return ColumnSource{Reason: fmt.Sprintf("%q is not among the columns that %s keeps", name, c.only)}
	}
	if c.table == nil {
		return ColumnSource{Reason: fmt.Sprintf("the query returns no column %q that it names", name)}
	}
	return ColumnSource{Columns: []Column{{Table: *c.table, Name: name}}}
}

// clone copies c for a step to change.
func (c *columns) clone() *columns {
	out := &columns{table: c.table, named: map[string]ColumnSource{}, gone: map[string]string{}, only: c.only, unknown: c.unknown}
	for k, v := range c.named {
		out.named[k] = v
	}
	for k, v := range c.gone {
		out.gone[k] = v
	}
	return out
}

func unknownColumns(reason string) *columns { return &columns{unknown: reason} }

// tableColumns are the navigation's table's own columns.
func tableColumns(t Table) *columns { return &columns{table: &t} }

// keepColumns are the Table.* functions that keep every column as it is.
var keepColumns = wordList(`Table.SelectRows Table.TransformColumnTypes Table.TransformColumns Table.Sort
	Table.Distinct Table.FirstN Table.LastN Table.Skip Table.RemoveRows Table.ReplaceValue Table.ReorderColumns
	Table.Buffer Table.RemoveRowsWithErrors Table.ReplaceErrorValues Table.FillDown Table.FillUp
	Table.RemoveFirstN Table.RemoveLastN Table.Range Table.AlternateRows Table.StopFolding Table.Repeat`)

func wordList(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(s) {
		out[w] = true
	}
	return out
}

// columnsOfCall is what a call does to its table argument's columns; nil
// when no argument is a table with columns.
func columnsOfCall(fn string, args []*value) *columns {
	if len(args) == 0 || args[0].cols == nil {
		return nil
	}
	in := args[0].cols
	if in.unknown != "" || keepColumns[fn] {
		return in
	}
	switch fn {
	case "Table.RenameColumns":
		return renameColumns(in, args)
	case "Table.SelectColumns", "Table.RemoveColumns":
		names, ok := textList(args, 1)
		if !ok {
			return unknownColumns(fn + " names its columns by a value the expression does not state")
		}
		if fn == "Table.SelectColumns" {
			return selectColumns(in, names)
		}
		return removeColumns(in, names, fn)
	case "Table.AddColumn", "Table.DuplicateColumn":
		return addColumn(fn, in, args)
	}
	return unknownColumns(fn + " reshapes the columns in a way that is not followed")
}

// renameColumns follows Table.RenameColumns(t, {{"old", "new"}, …}).
func renameColumns(in *columns, args []*value) *columns {
	if len(args) < 2 {
		return unknownColumns("Table.RenameColumns is called without its renames")
	}
	pairs := args[1].list
	if len(pairs) == 2 && pairs[0].text != nil && pairs[1].text != nil {
		pairs = []*value{args[1]} // a single {"old", "new"}
	}
	out := in.clone()
	for _, p := range pairs {
		if len(p.list) != 2 || p.list[0].text == nil || p.list[1].text == nil {
			return unknownColumns("Table.RenameColumns renames by a list the expression does not state")
		}
		from, to := *p.list[0].text, *p.list[1].text
		src := in.lookup(from)
		out.gone[strings.ToLower(from)] = "Table.RenameColumns (renamed to " + fmt.Sprintf("%q", to) + ")"
		delete(out.gone, strings.ToLower(to))
		out.named[strings.ToLower(to)] = src
	}
	return out
}

// selectColumns follows Table.SelectColumns: only the named columns remain.
func selectColumns(in *columns, names []string) *columns {
	out := &columns{named: map[string]ColumnSource{}, gone: map[string]string{}, only: "Table.SelectColumns"}
	for _, n := range names {
		out.named[strings.ToLower(n)] = in.lookup(n)
	}
	return out
}

// removeColumns follows Table.RemoveColumns.
func removeColumns(in *columns, names []string, fn string) *columns {
	out := in.clone()
	for _, n := range names {
		out.gone[strings.ToLower(n)] = fn
		delete(out.named, strings.ToLower(n))
	}
	return out
}

// addColumn follows Table.AddColumn(t, "new", each …), a column computed in
// Power Query, and Table.DuplicateColumn(t, "a", "copy").
func addColumn(fn string, in *columns, args []*value) *columns {
	nameArg := 1
	if fn == "Table.DuplicateColumn" {
		nameArg = 2
	}
	if len(args) <= nameArg || args[nameArg].text == nil {
		return unknownColumns(fn + " names its column by a value the expression does not state")
	}
	out := in.clone()
	name := *args[nameArg].text
	delete(out.gone, strings.ToLower(name))
	if fn == "Table.DuplicateColumn" && args[1].text != nil {
		out.named[strings.ToLower(name)] = in.lookup(*args[1].text)
		return out
	}
	out.named[strings.ToLower(name)] = ColumnSource{Derived: true, Reason: fmt.Sprintf("%q is computed in Power Query by %s, which is not traced", name, fn)}
	return out
}

// textList reads args[i] as "name" or {"a", "b"}.
func textList(args []*value, i int) ([]string, bool) {
	if i >= len(args) {
		return nil, false
	}
	if args[i].text != nil {
		return []string{*args[i].text}, true
	}
	if args[i].list == nil {
		return nil, false
	}
	out := make([]string, 0, len(args[i].list))
	for _, v := range args[i].list {
		if v.text == nil {
			return nil, false
		}
		out = append(out, *v.text)
	}
	return out, true
}

// nativeColumns are the columns of native SQL's select list; `*` over one
// table keeps that table's names.
func nativeColumns(cols sqlextract.Columns, qualify func(string) (Table, bool)) *columns {
	out := &columns{named: map[string]ColumnSource{}, gone: map[string]string{}, only: "the native query"}
	for _, o := range cols.Outputs {
		src := ColumnSource{Derived: o.Derived}
		for _, c := range o.Sources {
			t, ok := qualify(c.Table)
			if !ok {
				src = ColumnSource{Reason: fmt.Sprintf("the native query reads %s, whose database or schema the expression does not state", c.Table)}
				break
			}
			src.Columns = append(src.Columns, Column{Table: t, Name: c.Name})
		}
		out.named[strings.ToLower(o.Name)] = src
	}
	for _, u := range cols.Unresolved {
		if t, ok := qualify(u.Table); ok && u.Table != "" && len(cols.Unresolved) == 1 {
			out.table, out.only = &t, "" // SELECT * FROM one table: its own names
			continue
		}
		if u.Name != "" {
			out.named[strings.ToLower(u.Name)] = ColumnSource{Reason: fmt.Sprintf("the native query's %q: %s", u.Item, u.Reason)}
		}
	}
	return out
}
