package sqlextract

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func col(table, name string) Column { return Column{Table: table, Name: name} }

func TestExtractColumnsResolves(t *testing.T) {
	cases := []struct {
		name, sql string
		want      []Output
	}{
		{"qualified by alias", "select o.id, o.amount as total from analytics.orders o",
			[]Output{{Name: "id", Sources: []Column{col("analytics.orders", "id")}}, {Name: "total", Sources: []Column{col("analytics.orders", "amount")}}}},
		{"one table: bare names are its columns", `SELECT "Customer_ID", status state FROM "MAIN"."Customers"`,
			[]Output{{Name: "Customer_ID", Sources: []Column{col("main.customers", "customer_id")}}, {Name: "state", Sources: []Column{col("main.customers", "status")}}}},
		{"expressions are derived from every column they read", "select sum(o.amount * (1 - o.discount)) as net, count(*) as n, 'x' as label from main.orders as o",
			[]Output{{Name: "net", Sources: []Column{col("main.orders", "amount"), col("main.orders", "discount")}, Derived: true}, {Name: "n", Derived: true}, {Name: "label", Derived: true}}},
		{"aliases followed back through a subquery and a CTE", `with c as (select id as customer_key, first_name from main.customers)
			select s.total, c.first_name as name from (select o.customer_id, o.amount as total from main.orders o) s join c on c.customer_key = s.customer_id`,
			[]Output{{Name: "total", Sources: []Column{col("main.orders", "amount")}}, {Name: "name", Sources: []Column{col("main.customers", "first_name")}}}},
		{"a star over a subquery lists its columns", "select * from (select o.id, o.amount from main.orders o) x",
			[]Output{{Name: "id", Sources: []Column{col("main.orders", "id")}}, {Name: "amount", Sources: []Column{col("main.orders", "amount")}}}},
		{"keywords, functions, types and date parts are not columns", "select cast(o.placed_at as date) as day, extract(year from o.placed_at) y, case when o.status is null then 'none' else o.status end as status, o.amount::numeric(10,2) amt from main.orders o",
			[]Output{{Name: "day", Sources: []Column{col("main.orders", "placed_at")}, Derived: true}, {Name: "y", Sources: []Column{col("main.orders", "placed_at")}, Derived: true},
				{Name: "status", Sources: []Column{col("main.orders", "status")}, Derived: true}, {Name: "amt", Sources: []Column{col("main.orders", "amount")}, Derived: true}}},
		{"union branches add their sources by position", "select id from main.orders union all select customer_id from main.payments",
			[]Output{{Name: "id", Sources: []Column{col("main.orders", "id"), col("main.payments", "customer_id")}}}},
		{"a table name qualifies like an alias", "select orders.id from main.orders join main.payments p on p.order_id = orders.id",
			[]Output{{Name: "id", Sources: []Column{col("main.orders", "id")}}}},
		{"CTE column list renames", "with t (a, b) as (select id, amount from main.orders) select b from t",
			[]Output{{Name: "b", Sources: []Column{col("main.orders", "amount")}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExtractColumns(c.sql)
			if len(got.Unresolved) != 0 || !reflect.DeepEqual(got.Outputs, c.want) {
				t.Fatalf("ExtractColumns(%q)\n got %+v\nwant %+v", c.sql, got, c.want)
			}
		})
	}
}

func TestExtractColumnsReportsWhatItCannotResolve(t *testing.T) {
	cases := []struct {
		name, sql string
		resolved  int
		item      string
		reason    string // a phrase of the reason
		table     string
	}{
		{"ambiguous bare name over two tables", "select o.id, amount from main.orders o join main.payments p on p.order_id = o.id", 1, "amount", "not qualified and the query reads several relations (`o`, `p`)", ""},
		{"star over a table", "select * from main.orders", 0, "*", "selects every column of `main.orders`", "main.orders"},
		{"qualified star over a table", "select o.*, p.amount from main.orders o join main.payments p on true", 1, "o.*", "every column of `main.orders`", "main.orders"},
		{"unknown qualifier", "select x.id from main.orders o", 0, "x.id", "no relation or alias `x`", ""},
		{"scalar subquery", "select (select max(id) from main.orders) as top_id from main.customers", 0, "(select max(id) from main.orders) as top_id", "subquery in the select list", ""},
		{"table function", "select f.value from table(flatten(input => x)) f", 0, "f.value", "table function", ""},
		{"recursive CTE", "with recursive r as (select id from main.nodes union all select id from r) select id from r", 0, "id", "", ""},
		{"through a subquery's star", "select s.amount from (select * from main.orders) s", 0, "s.amount", "every column of `main.orders`", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExtractColumns(c.sql)
			if len(got.Outputs) != c.resolved || len(got.Unresolved) != 1 {
				t.Fatalf("ExtractColumns(%q) = %+v, want %d resolved and one unresolved", c.sql, got, c.resolved)
			}
			u := got.Unresolved[0]
			if u.Item != c.item || !strings.Contains(u.Reason, c.reason) || u.Reason == "" || u.Table != c.table {
				t.Fatalf("unresolved = %+v, want item %q, a reason with %q, table %q", u, c.item, c.reason, c.table)
			}
		})
	}
}

// FuzzExtractColumns holds the column reader to its promises on any input:
// it never panics; without `*`, every select-list item is one column or one
// unresolved item; every unresolved item quotes the SQL and says why; and a
// resolved column reads only tables the query reads.
func FuzzExtractColumns(f *testing.F) {
	for _, seed := range []string{
		"select o.id, amount as a from main.orders o join main.payments p on p.id = o.id",
		"with c (k) as (select id from t) select * from (select k from c) s union select 1",
		"select cast(x as int), extract(day from y) d, (select 1) from t where z",
		"select * from table(f(1)) x, lateral (select a.b) c",
		"with recursive r as (select * from r) select r.x from r",
		"select ,,) from (((",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		got := ExtractColumns(sql)
		tables := map[string]bool{}
		for _, tb := range ExtractTables(sql) {
			tables[tb] = true
		}
		for _, o := range got.Outputs {
			for _, c := range o.Sources {
				if !tables[c.Table] {
					t.Fatalf("column %v of %q is of a table the query does not read (%v)", c, o.Name, tables)
				}
			}
		}
		for _, u := range got.Unresolved {
			// Items are quoted back as runes: invalid UTF-8 comes back mended.
			if u.Reason == "" || utf8.ValidString(sql) && !strings.Contains(sql, u.Item) {
				t.Fatalf("unresolved %+v: no reason, or an item not in the SQL", u)
			}
		}
		if n, ok := outerItems(sql); ok && len(got.Outputs)+len(got.Unresolved) != n {
			t.Fatalf("%d select-list items, but %d columns and %d unresolved: %+v", n, len(got.Outputs), len(got.Unresolved), got)
		}
	})
}

// outerItems counts the outermost select list's items of a plain SELECT
// without `*` or set operators; ok is false for anything else.
func outerItems(sql string) (int, bool) {
	toks := lexSQL(sql)
	if len(toks) == 0 || !is(toks[0], "select") || len(splitSetOps(toks)) != 1 {
		return 0, false
	}
	for _, tk := range toks {
		if tk.kind == tokOther && tk.text == "*" || is(tk, "top") || is(tk, "distinct") || is(tk, "all") {
			return 0, false
		}
	}
	list, _ := selectList(toks[1:])
	return len(splitTop(list, ",")), true
}
