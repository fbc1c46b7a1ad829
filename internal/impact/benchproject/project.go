// Package benchproject generates the dbt projects that impact benchmarks
// compare: a base and a pull request of the same large project.
package benchproject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Project is a generated dbt project of Models models, each reading four
// models further down the list (about 4 × Models edges). Its first 100
// models are the tables the generated Tableau site reads
// (WAREHOUSE.ANALYTICS.FCT_ORDERS_0…49 and DIM_CUSTOMERS_0…49, with
// columns ID and COL_00…COL_39); the others are padded with SQL to make the
// manifest about Bytes long.
type Project struct {
	Models int
	Bytes  int
}

// Marts is how many models the generated site's dashboards read.
const Marts = 100

// Mart is the unique ID of model i < Marts, which dashboards read.
func Mart(i int) string { return fmt.Sprintf("model.shop.m%d", i) }

// MartColumns are the columns of every mart, lower-cased.
func MartColumns() []string {
	cols := []string{"id"}
	for c := 0; c < 40; c++ {
		cols = append(cols, fmt.Sprintf("col_%02d", c))
	}
	return cols
}

// The pull request's changes: ChangedBodies models rewritten (every
// 200th from 200), RemovedColumn removed from mart 3, RetypedColumn retyped
// in mart 60 (in the catalog), DeletedModel deleted, the alias of mart 10
// renamed, and a macro that every 50th model calls rewritten. Its models
// are built into a CI schema, which changes nothing.
const (
	RemovedColumn = "col_05"
	RetypedColumn = "col_07"
)

// DeletedModel is the model the pull request deletes: the last one, which
// nothing reads.
func (p Project) DeletedModel() string { return fmt.Sprintf("model.shop.m%d", p.Models-1) }

// Manifest is the base's manifest.json, or the pull request's.
func (p Project) Manifest(pr bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {`)
	pad := max(0, p.Bytes/max(1, p.Models)-1500) / 2
	filler := strings.Repeat("select a, b, c from somewhere where x = 1\n", max(1, pad/42))
	last := p.Models
	if pr {
		last-- // deleted
	}
	for i := 0; i < last; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		p.writeModel(&b, i, pr, filler)
	}
	macroSQL := "{% macro cents(x) %}round({{ x }} / 100, 2){% endmacro %}"
	if pr {
		macroSQL = "{% macro cents(x) %}round({{ x }} / 100.0, 2){% endmacro %}"
	}
	fmt.Fprintf(&b, `}, "sources": {}, "macros": {"macro.shop.cents": {"macro_sql": %q, "depends_on": {"macros": []}}}}`, macroSQL)
	return b.Bytes()
}

func (p Project) writeModel(b *bytes.Buffer, i int, pr bool, filler string) {
	alias, schema := fmt.Sprintf("M%d", i), "ANALYTICS"
	switch {
	case i < Marts/2:
		alias = fmt.Sprintf("FCT_ORDERS_%d", i)
	case i < Marts:
		alias = fmt.Sprintf("DIM_CUSTOMERS_%d", i-Marts/2)
	}
	unrendered := map[string]any{"materialized": "table"}
	if pr {
		schema = "DBT_CLOUD_PR_42"
		if i == 10 {
			alias = "FCT_ORDERS_10_V2"
			unrendered["alias"] = alias
		}
	}
	var parents []string
	for k := 1; k <= 4 && i+k*7 < p.Models; k++ {
		parents = append(parents, fmt.Sprintf("model.shop.m%d", i+k*7))
	}
	var macros []string
	if i%50 == 0 {
		macros = []string{"macro.shop.cents"}
	}
	code := fmt.Sprintf("-- model %d\n%s", i, filler)
	if pr && i > 0 && i%200 == 0 {
		code += "-- rewritten\n"
	}
	node := map[string]any{"resource_type": "model", "package_name": "shop", "name": fmt.Sprintf("m%d", i), "database": "WAREHOUSE",
		"schema": schema, "alias": alias, "relation_name": fmt.Sprintf("WAREHOUSE.%s.%s", schema, alias), "fqn": []string{"shop", fmt.Sprintf("m%d", i)},
		"unrendered_config": unrendered, "config": map[string]any{"enabled": true, "materialized": "table"},
		"raw_code": code, "compiled_code": code, "description": "A generated model.",
		"depends_on": map[string]any{"nodes": parents, "macros": macros}, "columns": p.documented(i, pr),
		"contract": map[string]any{"enforced": false, "checksum": nil}}
	raw, _ := json.Marshal(node)
	fmt.Fprintf(b, "%q: %s", fmt.Sprintf("model.shop.m%d", i), raw)
}

// documented are model i's documented columns, with their data types.
func (p Project) documented(i int, pr bool) map[string]any {
	out := map[string]any{}
	for _, c := range p.columns(i, pr) {
		out[c[0]] = map[string]any{"name": c[0], "description": "a column", "data_type": c[1]}
	}
	return out
}

// columns are model i's columns and types: a mart's are the site's.
func (p Project) columns(i int, pr bool) [][2]string {
	names := []string{"id", "a", "b", "c", "d", "e", "f", "g", "h", "k"}
	if i < Marts {
		names = MartColumns()
	}
	var out [][2]string
	for _, n := range names {
		typ := "NUMBER"
		if pr && i == 60 && n == RetypedColumn {
			typ = "TEXT"
		}
		if pr && i == 3 && n == RemovedColumn {
			continue
		}
		out = append(out, [2]string{n, typ})
	}
	return out
}

// Catalog is the base's catalog.json, or the pull request's.
func (p Project) Catalog(pr bool) []byte {
	nodes := map[string]any{}
	last := p.Models
	if pr {
		last--
	}
	for i := 0; i < last; i++ {
		cols := map[string]any{}
		for k, c := range p.columns(i, pr) {
			up := strings.ToUpper(c[0])
			cols[up] = map[string]any{"type": c[1], "index": k + 1, "name": up, "comment": nil}
		}
		id := fmt.Sprintf("model.shop.m%d", i)
		nodes[id] = map[string]any{"unique_id": id, "columns": cols, "stats": map[string]any{}}
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
		"nodes": nodes, "sources": map[string]any{}})
	return b
}
