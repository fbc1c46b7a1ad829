package mquery

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// connector describes a data-access function: which argument names the
// database, and the schema SQL Server assumes for an unqualified table.
type connector struct {
	databaseArg   int // -1: the database comes from navigation
	defaultSchema string
	oracle        bool   // the database is the service name in "host:port/service.domain"
	platform      string // the warehouse, as connection types name it
}

// Platform names the warehouse a connector function reaches ("snowflake",
// "sqlserver", …), or "" for a function that is not a connector.
func Platform(connector string) string { return connectors[connector].platform }

// connectors are the warehouse functions lineage follows (POWERBI-WIRE.md).
var connectors = map[string]connector{
	"Snowflake.Databases":           {databaseArg: -1, platform: "snowflake"},
	"Sql.Database":                  {databaseArg: 1, defaultSchema: "dbo", platform: "sqlserver"},
	"Sql.Databases":                 {databaseArg: -1, defaultSchema: "dbo", platform: "sqlserver"},
	"PostgreSQL.Database":           {databaseArg: 1, platform: "postgres"},
	"AmazonRedshift.Database":       {databaseArg: 1, platform: "redshift"},
	"Oracle.Database":               {databaseArg: 0, oracle: true, platform: "oracle"},
	"GoogleBigQuery.Database":       {databaseArg: -1, platform: "bigquery"},
	"Databricks.Catalogs":           {databaseArg: -1, platform: "databricks"},
	"DatabricksMultiCloud.Catalogs": {databaseArg: -1, platform: "databricks"},
}

// names that are values of M's standard library, not steps or parameters.
var builtins = map[string]bool{"null": true, "true": true, "false": true, "_": true}

func isLibraryName(name string) bool {
	return builtins[name] || strings.Contains(name, ".") || strings.HasPrefix(name, "#")
}

func (ev *evaluator) call(n callNode, sc *scope) *value {
	args := make([]*value, len(n.args))
	for i, a := range n.args {
		args[i] = ev.eval(a, sc)
	}
	if c, ok := connectors[n.fn]; ok {
		return ev.connect(n.fn, c, args)
	}
	if n.fn == "Value.NativeQuery" && len(args) >= 2 {
		v := &value{}
		v.problem(args[0].problems...)
		if args[1].text == nil {
			v.problem(args[1].problems...)
			v.problem("Value.NativeQuery's query is not text the expression states")
			return v
		}
		if args[0].cur == nil {
			v.problem("Value.NativeQuery runs on something other than a warehouse connector")
			return v
		}
		nv := ev.native(args[0].cur, *args[1].text)
		v.merge(nv)
		v.cols = nv.cols
		return v
	}
	v := &value{cols: columnsOfCall(n.fn, args)}
	for _, a := range args {
		v.merge(a)
	}
	if len(args) == 1 && args[0].cur != nil {
		v.cur = args[0].cur
	}
	return v
}

// connect starts navigation at a connector; a [Query=…] option is native SQL.
func (ev *evaluator) connect(fn string, c connector, args []*value) *value {
	ev.connected = true
	v := &value{cur: &cursor{connector: fn}}
	for _, a := range args {
		v.problem(a.problems...)
	}
	if c.databaseArg >= 0 {
		db := ""
		if c.databaseArg < len(args) && args[c.databaseArg].text != nil {
			db = *args[c.databaseArg].text
		}
		if c.oracle {
			db = oracleService(db)
		}
		if db == "" {
			v.cur.bad = true
			v.problems = append(v.problems, fmt.Sprintf("%s's database is not text the expression states", fn))
		}
		v.cur.levels = []string{db}
	}
	if len(args) > 0 {
		if q := args[len(args)-1].record["Query"]; q != nil && q.text != nil && !v.cur.bad {
			nv := ev.native(v.cur, *q.text)
			v.merge(nv)
			v.cur, v.cols = nil, nv.cols
		}
	}
	return v
}

// oracleService is the service name of "host:port/service.domain".
func oracleService(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	return s
}

// native reads the tables of SQL sent through the cursor's connection; a name
// with fewer parts takes the database (and schema) the navigation reached.
func (ev *evaluator) native(cur *cursor, sql string) *value {
	if q := (NativeQuery{Query: sql, Connector: cur.connector}); !slices.Contains(ev.queries, q) {
		ev.queries = append(ev.queries, q)
	}
	v := &value{}
	qualify := func(name string) (Table, bool) { return qualifyNative(cur, name) }
	for _, name := range sqlextract.ExtractTables(sql) {
		t, ok := qualify(name)
		if !ok {
			v.problems = append(v.problems, fmt.Sprintf("the native query reads %s, whose database or schema the expression does not state", name))
			continue
		}
		v.tables = append(v.tables, t)
	}
	v.cols = nativeColumns(sqlextract.ExtractColumns(sql), qualify)
	return v
}

// qualifyNative completes a table name of native SQL: a name with fewer
// parts takes the database (and schema) the navigation reached.
func qualifyNative(cur *cursor, name string) (Table, bool) {
	parts := sqlextract.SplitName(name)
	if len(parts) > 3 {
		parts = parts[len(parts)-3:]
	}
	full := append(append([]string(nil), cur.levels...), make([]string, 3)...)[:3]
	switch len(parts) {
	case 3:
		copy(full, parts)
	case 2:
		full[1], full[2] = parts[0], parts[1]
	case 1:
		full[2] = parts[0]
		if full[1] == "" {
			full[1] = connectors[cur.connector].defaultSchema
		}
	}
	if full[0] == "" || full[1] == "" || full[2] == "" {
		return Table{}, false
	}
	return Table{Database: full[0], Schema: full[1], Name: full[2], Connector: cur.connector}, true
}

// navigate applies a step such as {[Name="X",Kind="Schema"]} or
// {[Schema="dbo",Item="T"]} to a connector's cursor.
func (ev *evaluator) navigate(target *value, sel node, sc *scope) *value {
	s := ev.eval(sel, sc)
	if target.cur == nil {
		out := &value{}
		out.merge(target)
		return out
	}
	cur := &cursor{connector: target.cur.connector, levels: append([]string(nil), target.cur.levels...), bad: target.cur.bad}
	out := &value{cur: cur, problems: append([]string(nil), target.problems...)}
	text := func(field string) (string, bool) {
		f := s.record[field]
		if f == nil {
			return "", false
		}
		if f.text == nil || *f.text == "" {
			cur.bad = true
			out.problem(f.problems...)
			out.problem(fmt.Sprintf("a navigation step's %s is not text the expression states", field))
			return "", false
		}
		return *f.text, true
	}
	catalog, hasCatalog := text("Catalog")
	schema, hasSchema := text("Schema")
	item, hasItem := text("Item")
	name, hasName := text("Name")
	switch {
	case hasItem && !hasSchema:
		cur.bad = true
		out.problems = append(out.problems, fmt.Sprintf("a navigation step selects %q without its schema", item))
	case hasItem && hasCatalog:
		cur.levels = []string{catalog, schema, item}
	case hasItem:
		cur.levels = append(cur.levels, schema, item)
	case hasSchema:
		cur.levels = append(cur.levels, schema)
	case hasName:
		cur.levels = append(cur.levels, name)
	default:
		return out // a row or column selection: the same position
	}
	if len(cur.levels) >= 3 && !cur.bad {
		l := cur.levels
		t := Table{Database: l[len(l)-3], Schema: l[len(l)-2], Name: l[len(l)-1], Connector: cur.connector}
		out.tables = append(out.tables, t)
		out.cur, out.cols = nil, tableColumns(t)
	}
	if cur.bad {
		out.cur = nil
	}
	return out
}

// field is x[Name]: a record's field, or the same value ([Data] after navigation).
func (ev *evaluator) field(v *value, name string) *value {
	if f, ok := v.record[name]; ok {
		return f
	}
	return v
}
