package sqlextract

import (
	"reflect"
	"testing"
)

func TestExtractTables(t *testing.T) {
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"simple", "select * from orders", []string{"orders"}},
		{"qualified and joins", "SELECT o.id FROM analytics.main.orders o LEFT JOIN analytics.main.customers AS c ON c.id = o.customer_id", []string{"analytics.main.orders", "analytics.main.customers"}},
		{"quoted identifiers", `select * from "JAFFLE_SHOP"."MAIN"."Orders" join [dbo].[Order Items] oi on 1=1 join ` + "`proj`.`ds`.`t`", []string{"jaffle_shop.main.orders", "dbo.order items", "proj.ds.t"}},
		{"CTEs are not tables", `with recent as (select * from main.orders where x > 1),
			big (id) as (select id from recent join main.customers c using (id))
			select * from recent join big using (id)`, []string{"main.orders", "main.customers"}},
		{"recursive CTE", "with recursive tree as (select * from main.nodes union all select * from tree) select * from tree", []string{"main.nodes"}},
		{"comments and strings hide words", `-- from fake_one
			/* join fake_two */ select 'from fake_three' as s, $$ from fake_four $$ from real_table`, []string{"real_table"}},
		{"comma list", "select * from a.t1 x, a.t2 as y, a.t3 where 1=1", []string{"a.t1", "a.t2", "a.t3"}},
		{"subquery", "select * from (select * from inner_t) s join outer_t on true", []string{"inner_t", "outer_t"}},
		{"table function is skipped", "select * from table(flatten(input => x)) f join real_t on true", []string{"real_t"}},
		{"lateral", "select * from a.t1, lateral flatten(t1.col)", []string{"a.t1"}},
		{"duplicates once", "select * from t union all select * from T", []string{"t"}},
		{"escaped quote in identifier", `select * from "we""ird".t`, []string{`we"ird.t`}},
		{"parenthesized join", "select * from (main.orders o join (main.customers c join main.payments p on true) on true)", []string{"main.orders", "main.customers", "main.payments"}},
		{"comma list after a subquery", "select * from (select * from a.t1) x, a.t2 y", []string{"a.t1", "a.t2"}},
		{"FROM inside EXTRACT is no clause", "select extract(year from placed_at) from main.orders", []string{"main.orders"}},
		{"no from", "select 1", nil},
		{"unterminated", "select * from \"open", []string{"open"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExtractTables(c.sql)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ExtractTables(%q)\n got %q\nwant %q", c.sql, got, c.want)
			}
		})
	}
}

func TestSplitName(t *testing.T) {
	cases := map[string][]string{
		`"jaffle_shop"."main"."orders"`: {"jaffle_shop", "main", "orders"},
		`[ANALYTICS].[Fct_Orders]`:      {"analytics", "fct_orders"},
		"`p`.`d.s`.`t`":                 {"p", "d.s", "t"},
		`DB.SCHEMA.T`:                   {"db", "schema", "t"},
		`orders`:                        {"orders"},
		`"a""b".c`:                      {`a"b`, "c"},
	}
	for in, want := range cases {
		if got := SplitName(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzExtractTables(f *testing.F) {
	for _, s := range []string{"select * from a.b c join d on true", "with x as (select 1) select * from x", `"`, "[", "$$", "$a$ x", "/*", "--", "from (", "from a,", "'", "with r (a) as ("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		for _, name := range ExtractTables(sql) {
			if name == "" {
				t.Fatalf("empty table name from %q", sql)
			}
		}
	})
}

func FuzzSplitName(f *testing.F) {
	for _, s := range []string{`"a"."b"`, "[x].[y]", "`a`", "a..b", `"`, "[", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(SplitName(s)) == 0 {
			t.Fatalf("no parts for %q", s)
		}
	})
}
