package impact

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

// project is a small dbt project as manifest.json would write it:
// raw.orders (source) → stg_orders → orders → revenue, and a countries seed;
// stg_orders calls the cents macro, which calls round_to.
type project struct {
	nodes  map[string]map[string]any
	macros map[string]map[string]any
}

func jaffle() *project {
	p := &project{nodes: map[string]map[string]any{}, macros: map[string]map[string]any{
		"macro.p.cents":    {"macro_sql": "{% macro cents(c) %}{{ round_to(c / 100) }}{% endmacro %}", "depends_on": map[string]any{"macros": []any{"macro.p.round_to"}}},
		"macro.p.round_to": {"macro_sql": "{% macro round_to(x) %}round({{ x }}, 2){% endmacro %}", "depends_on": map[string]any{"macros": []any{}}},
	}}
	p.nodes["source.p.raw.orders"] = map[string]any{"resource_type": "source", "package_name": "p", "name": "orders", "source_name": "raw",
		"database": "db", "schema": "raw", "identifier": "orders", "relation_name": `"db"."raw"."orders"`, "fqn": []any{"p", "raw", "orders"},
		"unrendered_config": map[string]any{}, "config": map[string]any{"enabled": true}, "columns": map[string]any{}}
	p.model("stg_orders", "select id, amount from {{ source('raw', 'orders') }}", []string{"source.p.raw.orders"}, []string{"macro.p.cents"}, "id", "amount")
	p.model("orders", "select id, customer_id, amount, discount from {{ ref('stg_orders') }}", []string{"model.p.stg_orders"}, nil,
		"id", "customer_id", "amount", "discount")
	p.model("revenue", "select sum(amount) as revenue from {{ ref('orders') }}", []string{"model.p.orders"}, nil, "revenue")
	p.nodes["seed.p.countries"] = map[string]any{"resource_type": "seed", "package_name": "p", "name": "countries", "database": "db",
		"schema": "analytics", "alias": "countries", "relation_name": `"db"."analytics"."countries"`, "fqn": []any{"p", "countries"},
		"checksum": map[string]any{"name": "sha256", "checksum": "abc"}, "unrendered_config": map[string]any{}, "config": map[string]any{"enabled": true},
		"columns": map[string]any{}}
	return p
}

func (p *project) model(name, sql string, parents, macros []string, columns ...string) {
	cols := map[string]any{}
	for _, c := range columns {
		cols[c] = map[string]any{"name": c, "description": "", "data_type": nil}
	}
	p.nodes["model.p."+name] = map[string]any{"resource_type": "model", "package_name": "p", "name": name, "database": "db",
		"schema": "analytics", "alias": name, "relation_name": `"db"."analytics"."` + name + `"`, "raw_code": sql,
		"fqn": []any{"p", name}, "unrendered_config": map[string]any{"materialized": "table"},
		"config":     map[string]any{"enabled": true, "materialized": "table", "persist_docs": map[string]any{}},
		"depends_on": map[string]any{"nodes": parents, "macros": macros}, "columns": cols,
		"contract": map[string]any{"enforced": false, "checksum": nil}, "access": "protected", "latest_version": nil, "deprecation_date": nil}
}

// clone is a deep copy, to change as a pull request would.
func (p *project) clone() *project {
	var c project
	b, _ := json.Marshal(map[string]any{"nodes": p.nodes, "macros": p.macros})
	var raw struct {
		Nodes  map[string]map[string]any `json:"nodes"`
		Macros map[string]map[string]any `json:"macros"`
	}
	_ = json.Unmarshal(b, &raw)
	c.nodes, c.macros = raw.Nodes, raw.Macros
	return &c
}

// set changes one field of a node, or of a map inside it ("config.materialized").
func (p *project) set(id, field string, v any) *project {
	obj := p.nodes[id]
	parts := strings.Split(field, ".")
	for _, k := range parts[:len(parts)-1] {
		obj = obj[k].(map[string]any)
	}
	obj[parts[len(parts)-1]] = v
	return p
}

// manifest is the project as manifest.json, with its sources apart.
func (p *project) manifest() []byte {
	nodes, sources := map[string]any{}, map[string]any{}
	for id, n := range p.nodes {
		if n["resource_type"] == "source" {
			sources[id] = n
		} else {
			nodes[id] = n
		}
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
		"nodes": nodes, "sources": sources, "macros": p.macros, "exposures": map[string]any{}})
	return b
}

func (p *project) load(t *testing.T) (*State, *exposures.Manifest) {
	t.Helper()
	m, err := Load(bytes.NewReader(p.manifest()))
	if err != nil {
		t.Fatal(err)
	}
	return m.State, m.Matching
}

// board is a dashboard reading nodes, using columns of them when given.
func board(name string, nodes []string, columns map[string][]string) Dashboard {
	return Dashboard{Tool: "tableau", ToolLabel: "Tableau", ID: "id-" + name, Name: name, URL: "https://bi.example.com/" + name,
		OwnerName: "Ada", OwnerEmail: "ada@example.com", Nodes: nodes, Columns: columns}
}

// analyze compares base with head for the dashboards.
func analyze(t *testing.T, base, head *project, dashboards ...Dashboard) *Result {
	t.Helper()
	b, _ := base.load(t)
	h, _ := head.load(t)
	res, err := Analyze(Input{Base: b, Head: h, Dashboards: dashboards})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// kinds is each changed node's kinds, joined.
func kinds(res *Result) map[string]string {
	out := map[string]string{}
	for _, c := range res.Changed {
		out[c.UniqueID] = strings.Join(c.Kinds, ",")
	}
	return out
}

func only(t *testing.T, res *Result, want map[string]string) {
	t.Helper()
	if got := kinds(res); !maps.Equal(got, want) {
		t.Fatalf("changed nodes: got %v, want %v", got, want)
	}
}

// catalog is a catalog.json's columns: name and type pairs by node.
func catalog(nodes map[string][][2]string) *exposures.Catalog {
	c := &exposures.Catalog{Columns: map[string][]exposures.CatalogColumn{}}
	for id, cols := range nodes {
		for _, nt := range cols {
			c.Columns[id] = append(c.Columns[id], exposures.CatalogColumn{Name: nt[0], Type: nt[1]})
		}
	}
	return c
}
