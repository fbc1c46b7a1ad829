package powerbi

import (
	"fmt"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
)

// Lineage is what a report's dataset reads from warehouses.
type Lineage struct {
	Tables        []mquery.Table
	NativeQueries []mquery.NativeQuery
	Problems      []string // why some tables may be missing
	// Columns are where each dataset column comes from. The Scanner API does
	// not say which visual shows which field, so a report uses its dataset's
	// columns, all of them.
	Columns []ColumnLineage
}

// ColumnLineage is where one dataset column (or measure) comes from.
type ColumnLineage struct {
	Table, Column string          // as the dataset names them
	Sources       []mquery.Column // the warehouse columns it reads
	Derived       bool            // a calculated column or measure, or computed in Power Query
	Reason        string          // why it was not followed to the warehouse; "" when it was
}

// ReportLineage follows the report's dataset (in whichever scanned workspace
// it lives) through each table's Power Query M.
func (r *ScanResult) ReportLineage(datasets map[string]*Dataset, rep Report) Lineage {
	var l Lineage
	d := datasets[strings.ToLower(rep.DatasetID)]
	if d == nil {
		if rep.DatasetID != "" {
			l.Problems = append(l.Problems, fmt.Sprintf("dataset %s was not in the scan: scan its workspace too", rep.DatasetID))
		}
		return l
	}
	if d.SchemaRetrievalError != "" {
		l.Problems = append(l.Problems, fmt.Sprintf("dataset %s: Power BI could not read its schema: %s", d.Name, d.SchemaRetrievalError))
	}
	if len(d.Tables) == 0 {
		l.Problems = append(l.Problems, fmt.Sprintf("dataset %s came without tables: turn on the tenant settings \"Enhance admin APIs responses with detailed metadata\" and \"…with DAX and mashup expressions\" (or the dataset was never refreshed)", d.Name))
	}
	env := mquery.Env{Expressions: map[string]string{}}
	for _, e := range d.Expressions {
		env.Expressions[e.Name] = e.Expression
	}
	seen := map[string]bool{}
	for _, t := range d.Tables {
		if len(t.Source) == 0 || t.Source[0].Expression == "" {
			continue // a calculated table reads nothing from a warehouse
		}
		res := mquery.Analyze(t.Source[0].Expression, env)
		l.Columns = append(l.Columns, columnLineage(t, res.Columns)...)
		for _, tb := range res.Tables {
			if k := strings.ToLower(tb.FullName()); !seen[k] {
				seen[k] = true
				l.Tables = append(l.Tables, tb)
			}
		}
		l.NativeQueries = append(l.NativeQueries, res.NativeQueries...)
		for _, p := range res.Problems {
			l.Problems = append(l.Problems, fmt.Sprintf("dataset %s, table %s: %s", d.Name, t.Name, p))
		}
	}
	return l
}

// columnLineage maps a dataset table's columns through its M; calculated
// columns and measures are listed as derived, not traced.
func columnLineage(t Table, lin mquery.ColumnLineage) []ColumnLineage {
	out := make([]ColumnLineage, 0, len(t.Columns)+len(t.Measures))
	for _, c := range t.Columns {
		if strings.HasPrefix(c.ColumnType, "Calculated") {
			out = append(out, ColumnLineage{Table: t.Name, Column: c.Name, Derived: true, Reason: "a calculated column (DAX): not traced"})
			continue
		}
		src := lin.Of(c.Name)
		out = append(out, ColumnLineage{Table: t.Name, Column: c.Name, Sources: src.Columns, Derived: src.Derived, Reason: src.Reason})
	}
	for _, m := range t.Measures {
		out = append(out, ColumnLineage{Table: t.Name, Column: m.Name, Derived: true, Reason: "a measure (DAX): not traced"})
	}
	return out
}
