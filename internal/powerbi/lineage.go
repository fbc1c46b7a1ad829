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
