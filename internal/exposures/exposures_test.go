package exposures

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures/exposurestest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

var update = flag.Bool("update", false, "rewrite golden files")

// reference holds third-party files the tests check against (see its NOTICE.md).
var reference = filepath.Join("testdata", "reference")

// fixtureWorkbooks turns an emulator fixture into what discovery returns.
func fixtureWorkbooks(t testing.TB, f *emulator.Fixture) []tableau.Workbook {
	t.Helper()
	projects := map[string]emulator.FixtureProject{}
	for _, p := range f.Projects {
		projects[p.ID] = p
	}
	path := func(id string) string {
		var parts []string
		for p, ok := projects[id]; ok; p, ok = projects[p.ParentID] {
			parts = append([]string{p.Name}, parts...)
		}
		return strings.Join(parts, "/")
	}
	users := map[string]emulator.User{}
	for _, u := range f.Users {
		users[u.ID] = u
	}
	var out []tableau.Workbook
	for _, w := range f.Workbooks {
		wb := tableau.Workbook{ID: w.ID, Name: w.Name, Description: w.Description, ProjectID: w.ProjectID,
			ProjectName: projects[w.ProjectID].Name, ProjectPath: path(w.ProjectID), OwnerName: users[w.OwnerID].Name,
			OwnerEmail: users[w.OwnerID].Email, URL: "https://tableau.example/#/site/" + f.Site.ContentURL + "/workbooks/" + w.ID[len(w.ID)-4:],
			UpdatedAt: w.UpdatedAt, Tags: w.Tags}
		for _, tb := range w.UpstreamTables {
			if !tb.Hidden {
				wb.UpstreamTables = append(wb.UpstreamTables, tableau.Table{Database: tb.Database, Schema: tb.Schema, Name: tb.Name, ConnectionType: tb.ConnectionType})
			}
		}
		for _, q := range w.CustomSQL {
			wb.CustomSQL = append(wb.CustomSQL, tableau.CustomSQL{Query: q.Query, Database: q.Database, ConnectionType: q.ConnectionType})
		}
		out = append(out, wb)
	}
	return out
}

func jaffle(t testing.TB) (*Index, []tableau.Workbook) {
	t.Helper()
	m, err := LoadManifestFile(filepath.Join(reference, "jaffle_shop-v12.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 12 || len(m.Nodes) != 13+6 {
		t.Fatalf("manifest: v%d with %d nodes", m.SchemaVersion, len(m.Nodes))
	}
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	return NewIndex(m), fixtureWorkbooks(t, f)
}

func TestGoldenJaffleShop(t *testing.T) {
	ix, wbs := jaffle(t)
	res := BuildDashboards(tableau.Dashboards(wbs), ix, Options{Maturity: "medium"})
	out, err := Render(res.Exposures, "Tableau site jaffle")
	if err != nil {
		t.Fatal(err)
	}
	var unmatched bytes.Buffer
	for _, u := range res.Unmatched {
		unmatched.WriteString(u.DashboardID + " " + u.Table + "\n")
	}
	golden(t, "jaffle_exposures.yml", out)
	golden(t, "jaffle_unmatched.txt", unmatched.Bytes())
	validate(t, out)

	byName := map[string]Exposure{}
	for _, e := range res.Exposures {
		byName[e.Name] = e
	}
	want := map[string][]string{
		"revenue_overview":     {"ref('order_items')", "ref('orders')"},
		"quarterly_board_pack": {"ref('locations')", "ref('orders')"}, // upper-case Tableau names
		"customer_360":         {"ref('customers')", "ref('orders')"}, // custom SQL with a CTE, comments, quotes
		"supply_chain":         {"ref('products')", "ref('supplies')"},
		"raw_orders_audit":     {"source('ecom', 'raw_orders')"},
	}
	for name, deps := range want {
		if got := byName[name].DependsOn; !reflect.DeepEqual(got, deps) {
			t.Errorf("%s depends_on %q, want %q", name, got, deps)
		}
	}
	if len(res.Exposures) != len(want) {
		t.Errorf("%d exposures, want %d: a workbook that matches nothing gets none", len(res.Exposures), len(want))
	}
}

// The common crawler's substring matching ties orders_v2 to orders; we must not.
func TestOrdersV2IsNotOrders(t *testing.T) {
	ix, _ := jaffle(t)
	wb := tableau.Workbook{ID: "w", Name: "Prototype", UpstreamTables: []tableau.Table{{Database: "jaffle_shop", Schema: "main", Name: "orders_v2"}}}
	res := BuildDashboards(tableau.Dashboards([]tableau.Workbook{wb}), ix, Options{})
	if len(res.Exposures) != 0 {
		t.Fatalf("orders_v2 matched %v", res.Exposures[0].DependsOn)
	}
	if len(res.Unmatched) != 1 || res.Unmatched[0].Table != "jaffle_shop.main.orders_v2" {
		t.Fatalf("unmatched: %+v", res.Unmatched)
	}
	for _, name := range []string{"ORDERS", "Orders"} {
		wb.UpstreamTables[0].Name = name
		if res := BuildDashboards(tableau.Dashboards([]tableau.Workbook{wb}), ix, Options{}); len(res.Exposures) != 1 || res.Exposures[0].DependsOn[0] != "ref('orders')" {
			t.Fatalf("%s did not match orders case-insensitively", name)
		}
	}
}

// A site and a manifest this project has never seen: Snowflake-style upper
// case relations, other database names, sources, two packages with one model
// name, bracketed Tableau names and two-part names.
func TestUnseenSnowflakeProject(t *testing.T) {
	manifest := `{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json"},
  "nodes": {
    "model.acme.fct_revenue": {"resource_type": "model", "package_name": "acme", "name": "fct_revenue", "database": "PROD_DW", "schema": "MARTS", "alias": "FCT_REVENUE", "relation_name": "PROD_DW.MARTS.FCT_REVENUE"},
    "model.acme.dim_customer": {"resource_type": "model", "package_name": "acme", "name": "dim_customer", "database": "PROD_DW", "schema": "MARTS", "alias": "DIM_CUSTOMER_V3", "relation_name": "PROD_DW.MARTS.DIM_CUSTOMER_V3"},
    "model.acme.stg_events": {"resource_type": "model", "package_name": "acme", "name": "stg_events", "database": "PROD_DW", "schema": "STAGING", "alias": "stg_events", "config": {"materialized": "ephemeral"}, "relation_name": null},
    "model.acme.calendar": {"resource_type": "model", "package_name": "acme", "name": "calendar", "database": "PROD_DW", "schema": "UTIL", "alias": "CALENDAR", "relation_name": "PROD_DW.UTIL.CALENDAR"},
    "model.util_pkg.calendar": {"resource_type": "model", "package_name": "util_pkg", "name": "calendar", "database": "PROD_DW", "schema": "UTIL_PKG", "alias": "CALENDAR", "relation_name": "PROD_DW.UTIL_PKG.CALENDAR"},
    "seed.acme.country_codes": {"resource_type": "seed", "package_name": "acme", "name": "country_codes", "database": "PROD_DW", "schema": "SEEDS", "alias": "country_codes", "relation_name": "PROD_DW.SEEDS.country_codes"},
    "test.acme.not_null": {"resource_type": "test", "package_name": "acme", "name": "not_null", "database": "PROD_DW", "schema": "MARTS", "alias": "FCT_REVENUE"}
  },
  "sources": {
    "source.acme.salesforce.opportunity": {"resource_type": "source", "package_name": "acme", "source_name": "salesforce", "name": "opportunity", "database": "RAW", "schema": "SALESFORCE", "identifier": "OPPORTUNITY__C", "relation_name": "RAW.SALESFORCE.OPPORTUNITY__C"}
  }
}`
	m, err := LoadManifest(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(m)
	wbs := []tableau.Workbook{
		{ID: "aaaaaaaa-0000-0000-0000-000000000001", Name: "Executive Revenue", UpstreamTables: []tableau.Table{
			{Database: "prod_dw", Schema: "marts", Name: "fct_revenue"},
			{Database: "PROD_DW", Name: "DIM_CUSTOMER_V3", FullName: "[MARTS].[DIM_CUSTOMER_V3]"}, // schema only in fullName
			{Database: "PROD_DW", Schema: "MARTS", Name: "DIM_CUSTOMER"},                          // the model name, not its alias: no match
			{Database: "RAW", Schema: "SALESFORCE", Name: "Opportunity__c"},
		}},
		{ID: "bbbbbbbb-0000-0000-0000-000000000002", Name: "Geo Mix", UpstreamTables: []tableau.Table{
			{Schema: "SEEDS", Name: "COUNTRY_CODES"}, // no database: unambiguous two-part match
			{Database: "PROD_DW", Schema: "UTIL_PKG", Name: "CALENDAR"},
			{Database: "OTHER_DB", Schema: "MARTS", Name: "FCT_REVENUE"}, // another database: no match
		}},
		{ID: "cccccccc-0000-0000-0000-000000000003", Name: "Ad Hoc", CustomSQL: []tableau.CustomSQL{{Database: "PROD_DW", Query: `
			/* ad hoc */ with rev as (select * from MARTS.FCT_REVENUE) -- two-part, database from the connection
			select * from rev join "PROD_DW"."STAGING"."stg_events" e on true join PROD_DW.UTIL.CALENDAR c on true`}}},
		{ID: "dddddddd-0000-0000-0000-000000000004", Name: "Not dbt", UpstreamTables: []tableau.Table{{Database: "X", Schema: "Y", Name: "Z"}}},
	}
	res := BuildDashboards(tableau.Dashboards(wbs), ix, Options{DefaultOwnerEmail: "data@acme.example"})
	got := map[string][]string{}
	for _, e := range res.Exposures {
		got[e.Name] = e.DependsOn
		if e.OwnerEmail != "data@acme.example" {
			t.Errorf("%s: default owner not applied", e.Name)
		}
	}
	want := map[string][]string{
		"executive_revenue": {"ref('dim_customer')", "ref('fct_revenue')", "source('salesforce', 'opportunity')"},
		"geo_mix":           {"ref('country_codes')", "ref('util_pkg', 'calendar')"},
		"ad_hoc":            {"ref('acme', 'calendar')", "ref('fct_revenue')"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("depends_on\n got %v\nwant %v", got, want)
	}
	var unmatched []string
	for _, u := range res.Unmatched {
		unmatched = append(unmatched, u.DashboardID[:8]+" "+u.Table)
	}
	wantUnmatched := []string{
		"aaaaaaaa PROD_DW.MARTS.DIM_CUSTOMER",
		"bbbbbbbb OTHER_DB.MARTS.FCT_REVENUE",
		"cccccccc prod_dw.staging.stg_events",
		"dddddddd X.Y.Z",
	}
	if !reflect.DeepEqual(unmatched, wantUnmatched) {
		t.Fatalf("unmatched\n got %q\nwant %q", unmatched, wantUnmatched)
	}
	out, err := Render(res.Exposures, "test")
	if err != nil {
		t.Fatal(err)
	}
	validate(t, out)
}

func TestNamesAreUniqueAndStable(t *testing.T) {
	ids := []string{"11111111-aaaa", "22222222-bbbb", "33333333-cccc", "44444444-dddd", "55555555-eeee"}
	labels := []string{"Sales KPIs", "sales  kpis!", "田中", "2024 Plan", "Umsatz Übersicht"}
	fb := []string{"workbook_", "report_", "workbook_", "workbook_", "report_"}
	got := uniqueNames(ids, labels, fb)
	want := []string{"sales_kpis_1111aaaa", "sales_kpis_2222bbbb", "workbook_3333cccc", "workbook_2024_plan", "umsatz_ubersicht"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	// Order does not change names.
	rev := uniqueNames([]string{ids[1], ids[0]}, []string{labels[1], labels[0]}, []string{fb[1], fb[0]})
	if rev[0] != got[1] || rev[1] != got[0] {
		t.Fatalf("names depend on order: %q", rev)
	}
}

func TestOldManifestIsRefused(t *testing.T) {
	_, err := LoadManifest(strings.NewReader(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json"}, "nodes": {}}`))
	if err == nil || !strings.Contains(err.Error(), "v7") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LoadManifest(strings.NewReader(`{"foo": 1}`)); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Fatalf("not a manifest: %v", err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n%s", name, got)
	}
}

// validate checks YAML against dbt's current schema and its newer engine's.
func validate(t *testing.T, doc []byte) { exposurestest.Validate(t, doc) }

// The validation can fail: top-level meta on an exposure is refused by dbt's newer engine.
func TestSchemaValidationCatchesMistakes(t *testing.T) {
	bad := []byte("version: 2\nexposures:\n  - name: x\n    type: dashboard\n    owner: {name: a}\n    depends_on: []\n    meta: {a: 1}\n")
	if errs := schemaErrors(t, bad); len(errs) != 1 || !strings.Contains(errs[0].Error(), "fusion") {
		t.Fatalf("want exactly the fusion schema to refuse top-level meta, got %v", errs)
	}
	worse := []byte("version: 2\nexposures:\n  - name: x\n    type: website\n")
	if errs := schemaErrors(t, worse); len(errs) != 2 {
		t.Fatalf("want both schemas to refuse, got %v", errs)
	}
}

func schemaErrors(t *testing.T, doc []byte) []error { return exposurestest.SchemaErrors(t, doc) }

// Rendering exposure by exposure gives the text the YAML encoder gives for the
// whole file at once, block scalars and quoting included.
func TestRenderMatchesWholeFileEncoding(t *testing.T) {
	list := []Exposure{
		{Name: "a", Label: "Ünïcode: \"quoted\" # not a comment", Type: "dashboard", URL: "https://x/#/site/s/workbooks/1",
			Description: "first line\n\nthird line after an empty one\n  indented\n", DependsOn: []string{"ref('orders')"},
			OwnerName: "Zoë", Tags: []string{"kpi"}, Meta: metaOf(tableau.Workbook{ID: "w1", ProjectPath: "Finance/Quarterly"})},
		{Name: "b", Type: "dashboard", Description: "- looks like a list\n", DependsOn: []string{"source('s', 't')", "ref('x')"}, Meta: metaOf(tableau.Workbook{ID: "w2"})},
		{Name: "c", Type: "dashboard", Maturity: "high", Description: "trailing spaces   \nend", DependsOn: []string{}, Meta: metaOf(tableau.Workbook{ID: "w3"})},
	}
	got, err := Render(list, "test")
	if err != nil {
		t.Fatal(err)
	}
	f := yamlFile{Version: 2}
	for _, e := range list {
		f.Exposures = append(f.Exposures, toYAML(e))
	}
	var want bytes.Buffer
	want.WriteString("# Generated by dbtexposures from test. Do not edit by hand: regenerate it.\n")
	enc := yaml.NewEncoder(&want)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	enc.Close()
	if string(got) != want.String() {
		t.Fatalf("rendering differs from the whole-file encoding:\n--- got\n%s\n--- want\n%s", got, want.String())
	}
	empty, _ := Render(nil, "test")
	if !strings.HasSuffix(string(empty), "version: 2\nexposures: []\n") {
		t.Fatalf("no exposures: %s", empty)
	}
}

// An exposure carries what refreshing its dashboard takes in its meta, and the
// file still validates against both of dbt's schemas.
func TestExtractsInExposureMeta(t *testing.T) {
	list := []Exposure{{Name: "revenue", Label: "Revenue", Type: "dashboard", DependsOn: []string{"ref('orders')"}, OwnerName: "Ada",
		Meta: metaOf(tableau.Workbook{ID: "w1", Extracts: []tableau.Extract{{Type: tableau.ExtractDatasource, ID: "ds-1", Name: "Orders"},
			{Type: tableau.ExtractWorkbook, ID: "w1", Name: "Revenue"}}})}}
	doc, err := Render(list, "test")
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Exposures []struct {
			Config struct {
				Meta struct {
					Extracts []map[string]string `yaml:"tableau_extracts"`
				} `yaml:"meta"`
			} `yaml:"config"`
		} `yaml:"exposures"`
	}
	if err := yaml.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(parsed.Exposures[0].Config.Meta.Extracts)
	if want := "[map[id:ds-1 name:Orders type:datasource] map[id:w1 name:Revenue type:workbook]]"; got != want {
		t.Fatalf("meta.tableau_extracts = %s, want %s\n%s", got, want, doc)
	}
	validate(t, doc)
}

// Power BI reports and Tableau workbooks come together: names unique across
// tools, each with its own meta, an owner even when Power BI names none, and
// YAML that both dbt schemas accept.
func TestPowerBIAndTableauTogether(t *testing.T) {
	ix, wbs := jaffle(t)
	ws := &powerbi.Workspace{ID: "g", Name: "Jaffle Finance"}
	reports := []bi.Dashboard{
		powerbi.Found{Workspace: ws, Report: powerbi.Report{ID: "0000000b-0000-4000-8000-0000000000aa", Name: "Customer 360", WebURL: "https://app.powerbi.com/groups/g/reports/r1"},
			Lineage: powerbi.Lineage{Tables: []mquery.Table{{Database: "jaffle_shop", Schema: "main", Name: "customers"}}}}.Dashboard(),
		powerbi.Found{Workspace: ws, Report: powerbi.Report{ID: "0000000b-0000-4000-8000-0000000000bb", Name: "2026 Plan", ModifiedBy: "ana@jaffle.example"},
			Lineage: powerbi.Lineage{Tables: []mquery.Table{{Database: "JAFFLE_SHOP", Schema: "MAIN", Name: "ORDERS"}, {Database: "jaffle_shop", Schema: "main", Name: "budget"}}}}.Dashboard(),
	}
	res := BuildDashboards(append(tableau.Dashboards(wbs), reports...), ix, Options{})
	byLabel := map[string][]Exposure{}
	for _, e := range res.Exposures {
		byLabel[e.Label] = append(byLabel[e.Label], e)
	}
	if got := byLabel["Customer 360"]; len(got) != 2 || got[0].Name == got[1].Name || got[0].Name == "customer_360" || got[1].Name == "customer_360" {
		t.Fatalf("Customer 360 in both tools: %+v", got)
	}
	plan := byLabel["2026 Plan"]
	if len(plan) != 1 || plan[0].Name != "report_2026_plan" || plan[0].DashboardID != reports[1].ID || plan[0].Folder != "Jaffle Finance" ||
		plan[0].Tool != powerbi.Tool || !reflect.DeepEqual(plan[0].DependsOn, []string{"ref('orders')"}) {
		t.Fatalf("2026 Plan: %+v", plan)
	}
	if e := byLabel["Customer 360"]; e[0].OwnerName+e[1].OwnerName == "" {
		t.Fatalf("no owner: %+v", e)
	}
	var reportMiss []Unmatched
	for _, u := range res.Unmatched {
		if u.Tool == powerbi.Tool {
			reportMiss = append(reportMiss, u)
		}
	}
	if len(reportMiss) != 1 || reportMiss[0] != (Unmatched{Tool: powerbi.Tool, DashboardID: reports[1].ID, Table: "jaffle_shop.main.budget"}) {
		t.Fatalf("unmatched Power BI tables: %+v", reportMiss)
	}
	out, err := Render(res.Exposures, "Tableau and Power BI")
	if err != nil {
		t.Fatal(err)
	}
	validate(t, out)
	for _, want := range []string{"powerbi_report_id: 0000000b-0000-4000-8000-0000000000bb", "powerbi_workspace: Jaffle Finance", "name: Power BI"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
}

// metaOf is the meta Tableau records for a workbook.
func metaOf(w tableau.Workbook) []bi.Field { return w.Dashboard().Meta }
