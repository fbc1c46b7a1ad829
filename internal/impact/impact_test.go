package impact

import (
	"slices"
	"strings"
	"testing"
)

// Each kind of change, against the rule of DBT-STATE-MODIFIED.md that makes it.
func TestEachKindOfChange(t *testing.T) {
	cases := []struct {
		name   string
		change func(p *project)
		want   map[string]string
	}{
		{"new node: no base counterpart", func(p *project) {
			p.model("margin", "select 1", []string{"model.p.orders"}, nil)
		}, map[string]string{"model.p.margin": "new"}},
		{"deleted node: in the base only", func(p *project) {
			delete(p.nodes, "model.p.revenue")
		}, map[string]string{"model.p.revenue": "deleted"}},
		{"body: raw_code differs", func(p *project) {
			p.set("model.p.revenue", "raw_code", "select sum(amount) * 1.0 as revenue from {{ ref('orders') }}")
		}, map[string]string{"model.p.revenue": "body"}},
		{"configs: the unrendered config differs", func(p *project) {
			p.set("model.p.orders", "unrendered_config.materialized", "incremental")
		}, map[string]string{"model.p.orders": "configs"}},
		{"configs leave out tags and group", func(p *project) {
			p.set("model.p.orders", "unrendered_config.tags", []any{"finance"}).set("model.p.orders", "unrendered_config.group", "finance")
		}, map[string]string{}},
		{"relation: the unrendered alias differs (a renamed relation)", func(p *project) {
			p.set("model.p.orders", "unrendered_config.alias", "fct_orders").set("model.p.orders", "alias", "fct_orders")
		}, map[string]string{"model.p.orders": "relation"}},
		{"contract: enforcing one", func(p *project) {
			p.set("model.p.orders", "contract", map[string]any{"enforced": true, "checksum": "c1"})
		}, map[string]string{"model.p.orders": "contract"}},
		{"persisted descriptions: with persist_docs.relation", func(p *project) {
			p.set("model.p.orders", "config.persist_docs", map[string]any{"relation": true}).set("model.p.orders", "description", "All orders")
		}, map[string]string{"model.p.orders": "persisted_descriptions"}},
		{"descriptions not persisted are no change", func(p *project) {
			p.set("model.p.orders", "description", "All orders")
		}, map[string]string{}},
		{"macros: an unchanged model whose macro's macro changed", func(p *project) {
			p.macros["macro.p.round_to"]["macro_sql"] = "{% macro round_to(x) %}round({{ x }}, 4){% endmacro %}"
		}, map[string]string{"model.p.stg_orders": "macros"}},
		{"source: a changed identifier is a relation change", func(p *project) {
			p.set("source.p.raw.orders", "identifier", "orders_v2")
		}, map[string]string{"source.p.raw.orders": "relation"}},
		{"seed: its file's checksum is its body", func(p *project) {
			p.set("seed.p.countries", "checksum", map[string]any{"name": "sha256", "checksum": "def"})
		}, map[string]string{"seed.p.countries": "body"}},
		{"ref: a model's access", func(p *project) {
			p.set("model.p.orders", "access", "public")
		}, map[string]string{"model.p.orders": "access"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := jaffle()
			head := base.clone()
			tc.change(head)
			only(t, analyze(t, base, head), tc.want)
		})
	}
}

// A CI build renders models into its own schema: the rendered schema,
// database and relation_name differ, the unrendered config does not.
func TestCIRenderedIntoAnotherSchemaChangesNothing(t *testing.T) {
	base := jaffle()
	head := base.clone()
	for id, n := range head.nodes {
		if n["resource_type"] == "model" {
			name := n["name"].(string)
			head.set(id, "schema", "dbt_cloud_pr_123").set(id, "database", "ci").set(id, "relation_name", `"ci"."dbt_cloud_pr_123"."`+name+`"`)
		}
	}
	res := analyze(t, base, head, board("Revenue", []string{"model.p.revenue"}, nil))
	if len(res.Changed) != 0 || len(res.Impacts) != 0 {
		t.Fatalf("a CI schema marked changes: %v, impacts %v", kinds(res), res.Impacts)
	}
}

func TestColumnRemovedAndRetyped(t *testing.T) {
	base := jaffle()
	head := base.clone()
	cols := head.nodes["model.p.orders"]["columns"].(map[string]any)
	delete(cols, "discount")
	cols["amount"] = map[string]any{"name": "amount", "data_type": "numeric"}
	base.nodes["model.p.orders"]["columns"].(map[string]any)["amount"] = map[string]any{"name": "amount", "data_type": "integer"}
	uses := board("Discounts", []string{"model.p.orders"}, map[string][]string{"model.p.orders": {"amount", "discount", "id"}})
	usesNone := board("Customers", []string{"model.p.orders"}, map[string][]string{"model.p.orders": {"customer_id", "id"}})
	res := analyze(t, base, head, uses, usesNone)
	only(t, res, map[string]string{"model.p.orders": "columns"})
	if got := res.Changed[0].Columns; len(got) != 2 || got[0] != (ColumnChange{Column: "amount", Change: "retyped", From: "integer", To: "numeric"}) ||
		got[1] != (ColumnChange{Column: "discount", Change: "removed"}) {
		t.Fatalf("column changes: %+v", got)
	}
	if len(res.Impacts) != 2 || res.Impacts[0].Name != "Discounts" || res.Impacts[0].Severity != Breaking {
		t.Fatalf("impacts: %+v", res.Impacts)
	}
	want := []string{"model.p.orders.amount: retyped from integer to numeric", "model.p.orders.discount: removed"}
	if !slices.Equal(res.Impacts[0].Columns, want) {
		t.Fatalf("used columns that changed: %v", res.Impacts[0].Columns)
	}
	// A dashboard that uses none of the changed columns is affected, not breaking.
	if res.Impacts[1].Name != "Customers" || res.Impacts[1].Severity != Affected || len(res.Impacts[1].Reasons) != 0 {
		t.Fatalf("the dashboard using none of the changed columns: %+v", res.Impacts[1])
	}
}

// The catalogs' types win over the documented ones.
func TestColumnTypesFromTheCatalogs(t *testing.T) {
	base := jaffle()
	head := base.clone()
	b, _ := base.load(t)
	h, _ := head.load(t)
	bc := catalog(map[string][][2]string{"model.p.orders": {{"ID", "INTEGER"}, {"AMOUNT", "INTEGER"}}})
	hc := catalog(map[string][][2]string{"model.p.orders": {{"ID", "INTEGER"}, {"AMOUNT", "FLOAT"}}})
	res, err := Analyze(Input{Base: b, Head: h, BaseCatalog: bc, HeadCatalog: hc,
		Dashboards: []Dashboard{board("Revenue", []string{"model.p.orders"}, map[string][]string{"model.p.orders": {"amount"}})}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Impacts) != 1 || res.Impacts[0].Severity != Breaking || res.Impacts[0].Columns[0] != "model.p.orders.amount: retyped from INTEGER to FLOAT" {
		t.Fatalf("impacts: %+v", res.Impacts)
	}
}

func TestAChangeTwoModelsUpstreamReachesTheDashboardWithItsPath(t *testing.T) {
	base := jaffle()
	head := base.clone()
	head.set("model.p.stg_orders", "raw_code", "select id, amount * 100 as amount from {{ source('raw', 'orders') }}")
	res := analyze(t, base, head, board("Revenue", []string{"model.p.revenue"}, nil), board("Countries", []string{"seed.p.countries"}, nil))
	if len(res.Impacts) != 1 {
		t.Fatalf("impacts: %+v", res.Impacts)
	}
	im := res.Impacts[0]
	if im.Name != "Revenue" || im.Severity != Affected || len(im.Paths) != 1 ||
		!slices.Equal(im.Paths[0], []string{"model.p.stg_orders", "model.p.orders", "model.p.revenue"}) {
		t.Fatalf("impact: %+v", im)
	}
}

func TestDeletedAndRenamedRelationsBreakWhatReadsThem(t *testing.T) {
	base := jaffle()
	head := base.clone()
	delete(head.nodes, "model.p.revenue")
	head.set("model.p.orders", "unrendered_config.alias", "fct_orders")
	res := analyze(t, base, head, board("Revenue", []string{"model.p.revenue"}, nil), board("Orders", []string{"model.p.orders"}, nil))
	if len(res.Impacts) != 2 || res.Summary.Breaking != 2 {
		t.Fatalf("impacts: %+v", res.Impacts)
	}
	orders, revenue := res.Impacts[0], res.Impacts[1]
	if !strings.Contains(orders.Reasons[0], "model.p.orders, whose relation") || !strings.Contains(revenue.Reasons[0], "model.p.revenue, which the pull request deletes") {
		t.Fatalf("reasons: %v / %v", orders.Reasons, revenue.Reasons)
	}
	// The deleted node is followed through the base graph: the renamed
	// orders upstream of it reaches Revenue too.
	if len(revenue.Paths) != 2 || revenue.Upstream != 2 || !slices.Equal(revenue.Paths[1], []string{"model.p.orders", "model.p.revenue"}) {
		t.Fatalf("paths to the deleted node: %v", revenue.Paths)
	}
}

func TestPowerBISaysDatasetUses(t *testing.T) {
	base := jaffle()
	head := base.clone()
	delete(head.nodes["model.p.orders"]["columns"].(map[string]any), "discount")
	d := board("Finance", []string{"model.p.orders"}, map[string][]string{"model.p.orders": {"discount"}})
	d.Tool, d.ToolLabel, d.DatasetColumns = "powerbi", "Power BI", true
	res := analyze(t, base, head, d)
	if len(res.Impacts) != 1 || res.Impacts[0].Reasons[0] != "dataset uses model.p.orders.discount, removed" {
		t.Fatalf("impacts: %+v", res.Impacts)
	}
}

func TestNothingChanged(t *testing.T) {
	base := jaffle()
	res := analyze(t, base, base.clone(), board("Revenue", []string{"model.p.revenue"}, nil))
	if len(res.Changed) != 0 || len(res.Impacts) != 0 || res.Summary.Breaking+res.Summary.Affected != 0 || res.Summary.ByTool != nil {
		t.Fatalf("result: %+v", res)
	}
	md := Markdown(res, MarkdownOptions{})
	if !strings.Contains(md, "no dbt node changed") || !strings.HasPrefix(md, CommentMarker) {
		t.Fatalf("comment: %s", md)
	}
}

func TestListedChangesWithoutABase(t *testing.T) {
	h, _ := jaffle().load(t)
	res, err := Analyze(Input{Head: h, Changed: []string{"model.p.stg_orders"},
		Dashboards: []Dashboard{board("Revenue", []string{"model.p.revenue"}, map[string][]string{"model.p.revenue": {"revenue"}})}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Impacts) != 1 || res.Impacts[0].Severity != Affected || len(res.Notes) != 1 || res.Notes[0] != NoBaseNote {
		t.Fatalf("result: %+v", res)
	}
	if _, err := Analyze(Input{Head: h, Changed: []string{"model.p.nope"}}); err == nil || !strings.Contains(err.Error(), "model.p.nope") {
		t.Fatalf("an unknown listed node: %v", err)
	}
}

// The same input, in any order, gives byte-identical output.
func TestDeterministic(t *testing.T) {
	base := jaffle()
	head := base.clone()
	head.set("model.p.stg_orders", "raw_code", "select 2")
	delete(head.nodes, "seed.p.countries")
	boards := []Dashboard{board("B", []string{"model.p.revenue", "model.p.orders"}, nil), board("A", []string{"seed.p.countries"}, nil),
		board("C", []string{"model.p.orders"}, nil)}
	first := Markdown(analyze(t, base, head, boards...), MarkdownOptions{})
	slices.Reverse(boards)
	for range 5 {
		if again := Markdown(analyze(t, base, head, boards...), MarkdownOptions{}); again != first {
			t.Fatalf("output differs:\n%s\n---\n%s", first, again)
		}
	}
}
