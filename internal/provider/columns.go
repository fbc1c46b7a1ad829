package provider

import (
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// Column lineage in the data sources: columns are read and shown only with
// include_columns = true; otherwise the column attributes are null, so plans
// that do not need them keep their size.

// includeColumnsAttribute is the switch every data source with columns has.
func includeColumnsAttribute(what string) schema.Attribute {
	return schema.BoolAttribute{Optional: true, MarkdownDescription: "Read the warehouse columns " + what +
		" uses (`upstream_columns`, `unresolved_columns`). Default `false`: the column attributes are null and no column " +
		"lineage is read."}
}

// columnAttributes are a dashboard's column attributes.
func columnAttributes(uses string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"upstream_columns": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Warehouse " +
			"columns " + uses + ", as `database.schema.table.column`, lower-cased and sorted; null without `include_columns`."},
		"unresolved_columns": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Columns it uses whose warehouse " +
			"column is not clear, with the reason (never guessed); null without `include_columns`.",
			NestedObject: schema.NestedAttributeObject{Attributes: computedStrings(map[string]string{
				"column": "The column as the BI tool names it.", "reason": "Why it was not followed to the warehouse.",
			})}},
	}
}

// columnName is a column as database.schema.table.column, lower-cased.
func columnName(database, schema, table, column string) string {
	return strings.ToLower(strings.Join([]string{database, schema, table, column}, "."))
}

// columnNames are columns named by columnName, each once, sorted; parts
// gives a column's database, schema, table and name, whichever tool's it is.
func columnNames[C any](cols []C, parts func(*C) (string, string, string, string)) []string {
	names := make([]string, len(cols))
	for i := range cols {
		names[i] = columnName(parts(&cols[i]))
	}
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}

// biColumn is a dashboard column's parts, for columnNames.
func biColumn(c *bi.Column) (string, string, string, string) {
	return c.Table.Database, c.Table.Schema, c.Table.Name, c.Name
}

// columnCell is upstream_columns or unresolved_columns; null when the
// columns were not read. ok is false for any other attribute.
func columnCell(attr string, read bool, names func() []string, unresolved []bi.UnresolvedColumn) (c cell, ok bool) {
	switch {
	case attr != "upstream_columns" && attr != "unresolved_columns":
		return cell{}, false
	case !read:
		return null(), true
	case attr == "upstream_columns":
		return strs(names()), true
	}
	return nested(rows{len(unresolved), func(i int, a string) cell {
		return pick(a, "column", unresolved[i].Column, "reason", unresolved[i].Reason)
	}}), true
}

// withoutColumns drops columns a tool read unasked, so that results and YAML
// stay as they were without include_columns.
func withoutColumns(ds []bi.Dashboard) []bi.Dashboard {
	for i := range ds {
		ds[i].Columns, ds[i].UnresolvedColumns = nil, nil
	}
	return ds
}
