package powerbi

import (
	"encoding/json"
	"strings"
	"testing"
)

// A dataset table's columns map through its M to warehouse columns; a
// calculated column and a measure are derived, not traced; the report
// becomes a dashboard that uses its dataset's columns.
func TestDatasetColumnsThroughM(t *testing.T) {
	var res ScanResult
	err := json.Unmarshal([]byte(`{"workspaces": [{"id": "w1", "name": "Finance", "type": "Workspace", "state": "Active",
	  "reports": [{"id": "r1", "name": "Margins", "datasetId": "d1"}],
	  "datasets": [{"id": "d1", "name": "Sales", "tables": [{"name": "Orders",
	    "columns": [{"name": "Order ID", "dataType": "Int64", "columnType": "Data"}, {"name": "Amount", "dataType": "Double", "columnType": "Data"},
	      {"name": "Margin", "dataType": "Double", "columnType": "Calculated", "expression": "[Amount] * 0.3"},
	      {"name": "Legacy Code", "dataType": "String", "columnType": "Data"}],
	    "measures": [{"name": "Total", "expression": "SUM(Orders[Amount])"}],
	    "source": [{"expression": "let S = Sql.Database(\"sql\", \"DW\"), T = S{[Schema=\"marts\",Item=\"orders\"]}[Data], R = Table.RenameColumns(T, {{\"order_id\", \"Order ID\"}, {\"amount\", \"Amount\"}}), X = Table.RemoveColumns(R, {\"legacy code\"}) in X"}]}]}]}]}`), &res)
	if err != nil {
		t.Fatal(err)
	}
	l := res.ReportLineage(res.Datasets(), res.Workspaces[0].Reports[0])
	var got []string
	for _, c := range l.Columns {
		line := c.Column + ":"
		for _, s := range c.Sources {
			line += " " + strings.ToLower(s.Table.FullName()+"."+s.Name)
		}
		if c.Derived {
			line += " derived"
		}
		if c.Reason != "" {
			line += " (" + c.Reason + ")"
		}
		got = append(got, line)
	}
	want := []string{
		"Order ID: dw.marts.orders.order_id",
		"Amount: dw.marts.orders.amount",
		"Margin: derived (a calculated column (DAX): not traced)",
		`Legacy Code: ("Legacy Code" is removed by Table.RemoveColumns)`,
		"Total: derived (a measure (DAX): not traced)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("column lineage:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	d := res.Reports(nil)[0].Dashboard()
	if len(d.Columns) != 2 || d.Columns[0].Name != "order_id" || len(d.UnresolvedColumns) != 1 || d.UnresolvedColumns[0].Column != "Orders[Legacy Code]" {
		t.Fatalf("dashboard columns %+v, unresolved %+v", d.Columns, d.UnresolvedColumns)
	}
}
