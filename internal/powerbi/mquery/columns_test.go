package mquery

import (
	"strings"
	"testing"
)

// columnOf is a ColumnSource in one line: "db.schema.table.column, …"
// (with " derived"), or "unresolved: reason".
func columnOf(res Result, name string) string {
	src := res.Columns.Of(name)
	if src.Reason != "" && len(src.Columns) == 0 && !src.Derived {
		return "unresolved: " + src.Reason
	}
	var parts []string
	for _, c := range src.Columns {
		parts = append(parts, strings.ToLower(c.Table.FullName()+"."+c.Name))
	}
	out := strings.Join(parts, ", ")
	if src.Derived {
		out += " derived"
	}
	return out
}

func TestColumnsThroughRenameSelectAndRemove(t *testing.T) {
	res := Analyze(`let
    Source = Snowflake.Databases("acme.snowflakecomputing.com", "WH"),
    DB = Source{[Name="ANALYTICS",Kind="Database"]}[Data],
    Schema = DB{[Name="MARTS",Kind="Schema"]}[Data],
    Orders = Schema{[Name="ORDERS",Kind="Table"]}[Data],
    #"Changed Type" = Table.TransformColumnTypes(Orders, {{"AMOUNT", type number}}),
    #"Renamed Columns" = Table.RenameColumns(#"Changed Type", {{"AMOUNT", "Order Amount"}, {"STATUS", "Status"}}),
    #"Removed Columns" = Table.RemoveColumns(#"Renamed Columns", {"DISCOUNT"}),
    #"Selected" = Table.SelectColumns(#"Removed Columns", {"ORDER_ID", "Order Amount", "Status", "DISCOUNT", "CUSTOMER_ID"}),
    #"Dropped" = Table.RemoveColumns(Selected, "CUSTOMER_ID"),
    #"Added" = Table.AddColumn(Dropped, "Net", each [Order Amount] * 0.9),
    #"Copied" = Table.DuplicateColumn(Added, "Status", "Status Copy")
in
    Copied`, Env{})
	cases := map[string]string{
		"ORDER_ID":     "analytics.marts.orders.order_id",
		"Order Amount": "analytics.marts.orders.amount",
		"status":       "analytics.marts.orders.status",
		"Status Copy":  "analytics.marts.orders.status",
		"AMOUNT":       `unresolved: "AMOUNT" is not among the columns that Table.SelectColumns keeps`,
		"DISCOUNT":     `unresolved: "DISCOUNT" is removed by Table.RemoveColumns`,
		"CUSTOMER_ID":  `unresolved: "CUSTOMER_ID" is removed by Table.RemoveColumns`,
		"PLACED_AT":    `unresolved: "PLACED_AT" is not among the columns that Table.SelectColumns keeps`,
		"Net":          " derived",
	}
	for name, want := range cases {
		if got := columnOf(res, name); got != want {
			t.Errorf("column %q: got %q, want %q", name, got, want)
		}
	}
	renamed := Analyze(`let S = Sql.Database("sql", "DB"), T = S{[Schema="dbo",Item="Orders"]}[Data],
    R = Table.RenameColumns(T, {"AMOUNT", "Amount EUR"}) in R`, Env{})
	if got, want := columnOf(renamed, "AMOUNT"), `unresolved: "AMOUNT" is removed by Table.RenameColumns (renamed to "Amount EUR")`; got != want {
		t.Errorf("a renamed column: got %q, want %q", got, want)
	}
	if got := columnOf(renamed, "amount eur"); got != "db.dbo.orders.amount" {
		t.Errorf("a single {old, new} rename: got %q", got)
	}
	if src := res.Columns.Of("Net"); !strings.Contains(src.Reason, "Table.AddColumn") {
		t.Errorf("Net's reason %q does not say it is computed in Power Query", src.Reason)
	}
}

func TestColumnsOfNativeSQL(t *testing.T) {
	env := Env{}
	res := Analyze(`let
    Source = Sql.Database("sql.contoso.com", "Sales"),
    Q = Value.NativeQuery(Source, "select o.id as order_id, o.amount * 2 as doubled, c.name, region from dbo.orders o join crm.customers c on c.id = o.customer_id", null, [EnableFolding=true])
in
    Q`, env)
	cases := map[string]string{
		"order_id": "sales.dbo.orders.id",
		"doubled":  "sales.dbo.orders.amount derived",
		"name":     "sales.crm.customers.name",
		"region":   "unresolved: the native query's \"region\": `region` is not qualified and the query reads several relations (`o`, `c`); qualify it with its table to resolve it",
	}
	for name, want := range cases {
		if got := columnOf(res, name); got != want {
			t.Errorf("column %q: got %q, want %q", name, got, want)
		}
	}
	star := Analyze(`let Source = PostgreSQL.Database("pg", "shop"), Q = Value.NativeQuery(Source, "SELECT * FROM public.orders") in Q`, env)
	if got := columnOf(star, "total"); got != "shop.public.orders.total" {
		t.Errorf("SELECT * over one table: column total is %q, want the table's own column", got)
	}
}

func TestColumnsStopAtStepsNotFollowed(t *testing.T) {
	res := Analyze(`let
    Source = Sql.Database("sql", "DB"),
    T = Source{[Schema="dbo",Item="Orders"]}[Data],
    P = Table.Pivot(T, {"a", "b"}, "k", "v")
in
    P`, Env{})
	if got := columnOf(res, "a"); got != "unresolved: Table.Pivot reshapes the columns in a way that is not followed" {
		t.Errorf("after Table.Pivot: %q", got)
	}
	if got := columnOf(Analyze(`Table.FromRows({{1}})`, Env{}), "x"); !strings.HasPrefix(got, "unresolved: the query's result is not a table") {
		t.Errorf("no warehouse table: %q", got)
	}
}
