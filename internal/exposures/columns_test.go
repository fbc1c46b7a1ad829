package exposures

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// dashboardUsing is a Tableau dashboard that reads jaffle-shop columns.
func dashboardUsing(cols ...string) bi.Dashboard {
	d := bi.Dashboard{Tool: tableau.Tool, ID: "wb-cols", Name: "Order Economics", Columns: []bi.Column{}}
	for _, c := range cols {
		table, name, _ := strings.Cut(c, ".")
		t := bi.Table{Database: "JAFFLE_SHOP", Schema: "MAIN", Name: strings.ToUpper(table)}
		d.Tables = append(d.Tables, t)
		d.Columns = append(d.Columns, bi.Column{Table: t, Name: strings.ToUpper(name)})
	}
	return d
}

func TestColumnsMatchDocumentedColumnsAndCatalog(t *testing.T) {
	ix, _ := jaffle(t)
	d := dashboardUsing("orders.order_total", "orders.discount", "orders.subtotal", "customers.customer_name", "products.price")
	res := BuildDashboards([]bi.Dashboard{d}, ix, Options{})
	if len(res.Exposures) != 1 {
		t.Fatalf("exposures: %+v", res.Exposures)
	}
	want := map[string][]string{
		"model.jaffle_shop.customers": {"customer_name"},
		"model.jaffle_shop.orders":    {"discount", "order_total", "subtotal"},
		"model.jaffle_shop.products":  {"price"},
	}
	if got := res.Exposures[0].Columns; !reflect.DeepEqual(got, want) {
		t.Fatalf("columns by node:\n got %v\nwant %v", got, want)
	}
	// orders documents neither discount nor subtotal; products documents no
	// columns, so nothing is claimed about price.
	if got := unmatchedColumns(res); got != "model.jaffle_shop.orders.discount model.jaffle_shop.orders.subtotal" {
		t.Fatalf("unmatched columns from the documented ones: %s", got)
	}
	catalog, err := LoadCatalogFile(filepath.Join("testdata", "jaffle_catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	res = BuildDashboards([]bi.Dashboard{d}, ix.WithCatalog(catalog), Options{})
	// The warehouse has subtotal (undocumented): the catalog wins.
	if got := unmatchedColumns(res); got != "model.jaffle_shop.orders.discount" {
		t.Fatalf("unmatched columns with the catalog: %s", got)
	}
	out, err := Render(res.Exposures, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "      meta:\n        referenced_columns:\n          model.jaffle_shop.customers:\n            - customer_name\n") {
		t.Fatalf("the YAML has no referenced_columns under config.meta:\n%s", out)
	}
	validate(t, out)
}

func unmatchedColumns(res Result) string {
	var out []string
	for _, u := range res.UnmatchedColumns {
		out = append(out, u.Node+"."+u.Column)
	}
	return strings.Join(out, " ")
}

// Dashboards whose columns were not read render as before: no
// referenced_columns, no column checks.
func TestNoColumnsNoChange(t *testing.T) {
	ix, wbs := jaffle(t)
	res := BuildDashboards(tableau.Dashboards(wbs), ix, Options{Maturity: "medium"})
	out, err := Render(res.Exposures, "Tableau site jaffle")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "referenced_columns") || res.UnmatchedColumns != nil {
		t.Fatal("columns appeared though none were read")
	}
}

func TestLoadCatalogRefusesWhatIsNoCatalog(t *testing.T) {
	cases := map[string]string{
		"not JSON":     "catalog is not valid JSON",
		`{"a": [1, 2`:  "catalog is not valid JSON",
		`{"nodes": 3}`: "catalog nodes",
		`{"meta": {}}`: "is it dbt docs generate's catalog.json",
		`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {}}`: "manifest/v12.json, not dbt docs generate's catalog.json",
	}
	for in, want := range cases {
		if _, err := LoadCatalog(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadCatalog(%q) = %v, want an error with %q", in, err, want)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "jaffle_catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(strings.NewReader(string(b)))
	if err != nil || len(c.Columns["model.jaffle_shop.orders"]) != 10 || c.Columns["model.jaffle_shop.orders"][0].Name != "ORDER_ID" {
		t.Fatalf("catalog: %v, %+v", err, c)
	}
}

// Many dashboards' columns are matched in parts at once; each exposure gets
// its own dashboard's columns, and the unmatched ones stay in order.
func TestManyDashboardsColumnsMatchedInParts(t *testing.T) {
	ix, _ := jaffle(t)
	var ds []bi.Dashboard
	for i := range 1500 {
		d := dashboardUsing("orders.order_total", "customers.customer_name")
		if i%3 == 0 {
			d = dashboardUsing("orders.discount", "products.price")
		}
		d.ID, d.Name = fmt.Sprintf("wb-%04d", i), fmt.Sprintf("Dashboard %04d", i)
		ds = append(ds, d)
	}
	res := BuildDashboards(ds, ix, Options{})
	if len(res.Exposures) != 1500 {
		t.Fatalf("%d exposures", len(res.Exposures))
	}
	for _, e := range res.Exposures {
		var i int
		fmt.Sscanf(e.DashboardID, "wb-%d", &i)
		want := "order_total"
		if i%3 == 0 {
			want = "discount"
		}
		if got := e.Columns["model.jaffle_shop.orders"]; len(got) != 1 || got[0] != want {
			t.Fatalf("%s: orders columns %v, want [%s]", e.DashboardID, got, want)
		}
	}
	for i := 1; i < len(res.UnmatchedColumns); i++ {
		if res.UnmatchedColumns[i-1].DashboardID > res.UnmatchedColumns[i].DashboardID {
			t.Fatalf("unmatched columns out of order at %d", i)
		}
	}
}
