package provider

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// tableauProvider configures only Tableau: discovery must not need dbt Cloud.
func tableauProvider(srv *httptest.Server, f *emulator.Fixture) string {
	return "\nprovider \"dbtexposures\" {\n  max_retries = 1" + tableauHCL(srv, f) + "\n}\n"
}

// countWhere counts the fixture's workbooks whose project satisfies keep.
func countWhere(f *emulator.Fixture, keep func(w emulator.FixtureWorkbook, projectName string) bool) int {
	names := map[string]string{}
	for _, p := range f.Projects {
		names[p.ID] = p.Name
	}
	n := 0
	for _, w := range f.Workbooks {
		if keep(w, names[w.ProjectID]) {
			n++
		}
	}
	return n
}

func TestAccTableauDataSources(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 260, TablesPerWorkbook: 3})
	_, srv := tableautest.NewServer(t, f)
	finance := map[string]bool{"Finance": true, "Quarterly": true, "Board Packs": true}
	wantFinanceTree := countWhere(f, func(_ emulator.FixtureWorkbook, p string) bool { return finance[p] })
	wantFinanceOnly := countWhere(f, func(_ emulator.FixtureWorkbook, p string) bool { return p == "Finance" })
	wantKPI := countWhere(f, func(w emulator.FixtureWorkbook, _ string) bool {
		return strings.Contains(strings.Join(w.Tags, ","), "kpi")
	})
	wantUmsatz := countWhere(f, func(w emulator.FixtureWorkbook, _ string) bool { return strings.HasPrefix(w.Name, "Umsatz") })

	config := tableauProvider(srv, f) + `
data "dbtexposures_tableau_projects" "all" {}

data "dbtexposures_tableau_workbooks" "all" {}

data "dbtexposures_tableau_workbooks" "finance_tree" {
  project_names       = ["Finance"]
  include_subprojects = true
}

data "dbtexposures_tableau_workbooks" "finance_only" {
  project_names = ["Finance"]
}

data "dbtexposures_tableau_workbooks" "by_path" {
  project_names = ["Finance/Quarterly/Board Packs"]
}

data "dbtexposures_tableau_workbooks" "kpi" {
  tags = ["kpi"]
}

data "dbtexposures_tableau_workbooks" "umsatz" {
  name_regex = "^Umsatz Übersicht"
}

data "dbtexposures_tableau_workbooks" "empty" {
  project_names = ["Empty Project"]
}

output "finance_ids" {
  value = [for w in data.dbtexposures_tableau_workbooks.finance_tree.workbooks : w.id]
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_projects.all", "projects.#", "7"),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_projects.all", "projects.0.path", "Empty Project"),
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_tableau_projects.all", "projects.*", map[string]string{
					"name": "Board Packs", "path": "Finance/Quarterly/Board Packs"}),
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_tableau_projects.all", "projects.*", map[string]string{
					"name": "Ventes Été", "path": "Ventes Été"}),
				resource.TestCheckNoResourceAttr("data.dbtexposures_tableau_projects.all", "projects.0.parent_id"),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.all", "workbooks.#", "260"),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.finance_tree", "workbooks.#", strconv.Itoa(wantFinanceTree)),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.finance_only", "workbooks.#", strconv.Itoa(wantFinanceOnly)),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.kpi", "workbooks.#", strconv.Itoa(wantKPI)),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.umsatz", "workbooks.#", strconv.Itoa(wantUmsatz)),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.empty", "workbooks.#", "0"),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.by_path", "workbooks.0.project_path", "Finance/Quarterly/Board Packs"),
				// Mixed-case tables, custom SQL, a workbook without tables, unicode owners.
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_tableau_workbooks.all", "workbooks.*", map[string]string{
					"id": f.Workbooks[0].ID, "upstream_tables.#": "0", "custom_sql.#": "0"}),
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_tableau_workbooks.all", "workbooks.*", map[string]string{
					"id": f.Workbooks[1].ID, "custom_sql.#": "1", "custom_sql.0.database": "WAREHOUSE",
					"owner_name": "Zoë Ångström", "upstream_tables.0.schema": "Analytics", "upstream_tables.0.database": "WAREHOUSE"}),
				checkSorted("data.dbtexposures_tableau_workbooks.all", 260),
				func(s *terraform.State) error {
					ids := s.RootModule().Outputs["finance_ids"]
					if ids == nil || len(ids.Value.([]any)) != wantFinanceTree {
						return fmt.Errorf("for expression over workbooks: %v", ids)
					}
					return nil
				},
			),
		}},
	})
}

// checkSorted verifies the list is sorted by project path, then name.
func checkSorted(addr string, n int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[addr].Primary.Attributes
		prev := ""
		for i := 0; i < n; i++ {
			key := attrs[fmt.Sprintf("workbooks.%d.project_path", i)] + "\x00" + attrs[fmt.Sprintf("workbooks.%d.name", i)]
			if key < prev {
				return fmt.Errorf("workbooks.%d is out of order", i)
			}
			prev = key
		}
		return nil
	}
}

func TestAccTableauDataSources_errors(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3})
	_, srv := tableautest.NewServer(t, f)
	bad := *f
	bad.PersonalAccessToken.Secret = "not-the-secret"
	host := strings.TrimPrefix(srv.URL, "http://")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      tableauProvider(srv, &bad) + `data "dbtexposures_tableau_projects" "p" {}`,
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(host) + `.*token`),
			},
			{
				Config:      `data "dbtexposures_tableau_projects" "p" {}`,
				ExpectError: regexp.MustCompile(`TABLEAU_HOST`),
			},
			{
				Config:      tableauProvider(srv, f) + `data "dbtexposures_tableau_workbooks" "w" { project_names = ["Finanse"] }`,
				ExpectError: regexp.MustCompile(`(?s)No project named "Finanse".*"Finance"`),
			},
			{
				Config:      tableauProvider(srv, f) + `data "dbtexposures_tableau_workbooks" "w" { name_regex = "(" }`,
				ExpectError: regexp.MustCompile(`Invalid name_regex`),
			},
		},
	})
}

// Each workbook lists what refreshing its data takes: its published data
// sources with extracts (not the live ones), then its embedded extracts.
func TestAccTableauWorkbooks_extracts(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 4, TablesPerWorkbook: 1})
	f.Datasources = []emulator.FixtureDatasource{
		{ID: "ds-orders", Name: "Orders (extract)", ProjectID: f.Projects[0].ID, HasExtracts: true},
		{ID: "ds-live", Name: "Customers (live)", ProjectID: f.Projects[0].ID},
	}
	f.Workbooks[1].UpstreamDatasources = []string{"ds-orders", "ds-live"}
	f.Workbooks[1].EmbeddedExtracts = true
	_, tab := tableautest.NewServer(t, f)
	const addr = "data.dbtexposures_tableau_workbooks.w"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: tableauProvider(tab, f) + fmt.Sprintf(`
data "dbtexposures_tableau_workbooks" "w" {
  name_regex = "^%s$"
}
data "dbtexposures_tableau_workbooks" "none" {
  name_regex = "^%s$"
}`, f.Workbooks[1].Name, f.Workbooks[2].Name),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "workbooks.#", "1"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.#", "2"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.0.type", "datasource"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.0.id", "ds-orders"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.0.name", "Orders (extract)"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.1.type", "workbook"),
				resource.TestCheckResourceAttr(addr, "workbooks.0.extracts.1.id", f.Workbooks[1].ID),
				resource.TestCheckResourceAttr("data.dbtexposures_tableau_workbooks.none", "workbooks.0.extracts.#", "0"),
			),
		}},
	})
}
