package provider

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

func TestAccExposuresDataSource(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, srv := tableautest.NewServer(t, f)
	manifest, _ := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	addr := "data.dbtexposures_exposures.all"
	config := tableauProvider(srv, f) + fmt.Sprintf(`
data "dbtexposures_exposures" "all" {
  manifest_path = %q
  maturity      = "high"
}

data "dbtexposures_exposures" "finance" {
  manifest_path       = %q
  project_names       = ["Jaffle Shop/Finance"]
  include_subprojects = true
}
`, manifest, manifest)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Invalid configurations first: the harness destroys with the last step's configuration.
			{
				Config:      tableauProvider(srv, f) + `data "dbtexposures_exposures" "x" { manifest_path = "/nonexistent/manifest.json" }`,
				ExpectError: regexp.MustCompile(`(?s)Cannot read the dbt manifest.*dbt\s+parse`),
			},
			{
				Config: tableauProvider(srv, f) + fmt.Sprintf(`
data "dbtexposures_exposures" "x" {
  manifest_path = %q
  maturity      = "extreme"
}`, manifest),
				ExpectError: regexp.MustCompile(`(?s)maturity.*low.*medium.*high`),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "exposures.#", "5"),
					resource.TestCheckResourceAttr(addr, "exposures.0.name", "customer_360"),
					resource.TestCheckResourceAttr(addr, "exposures.0.maturity", "high"),
					resource.TestCheckResourceAttr(addr, "exposures.0.depends_on.#", "2"),
					resource.TestCheckResourceAttr(addr, "exposures.0.depends_on.0", "ref('customers')"),
					resource.TestCheckResourceAttr(addr, "exposures.0.depends_on.1", "ref('orders')"),
					resource.TestCheckTypeSetElemNestedAttrs(addr, "exposures.*", map[string]string{
						"name": "raw_orders_audit", "depends_on.0": "source('ecom', 'raw_orders')"}),
					resource.TestCheckTypeSetElemNestedAttrs(addr, "unmatched_tables.*", map[string]string{"table": "jaffle_shop.main.orders_v2"}),
					resource.TestCheckTypeSetElemNestedAttrs(addr, "unmatched_tables.*", map[string]string{"table": "ADS.PUBLIC.SPEND"}),
					resource.TestCheckResourceAttr(addr, "unmatched_tables.#", "2"),
					resource.TestCheckResourceAttr("data.dbtexposures_exposures.finance", "exposures.#", "3"),
					func(s *terraform.State) error {
						y := s.RootModule().Resources[addr].Primary.Attributes["yaml"]
						for _, want := range []string{"version: 2", "exposures:", "- name: quarterly_board_pack", "maturity: high", "tableau_project_path: Jaffle Shop/Finance/Quarterly"} {
							if !strings.Contains(y, want) {
								return fmt.Errorf("yaml lacks %q:\n%s", want, y)
							}
						}
						return nil
					},
				),
			},
		},
	})
}

// demoPowerBITenant serves the demo's Power BI tenant, with rename applied to
// its scan result (old, new pairs).
func demoPowerBITenant(t *testing.T, rename ...string) (*pbiemulator.Fixture, *httptest.Server) {
	t.Helper()
	f, err := pbiemulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "powerbi-tenant.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.ScanResult = []byte(strings.NewReplacer(rename...).Replace(string(f.ScanResult)))
	e, err := pbiemulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	e.ScanPolls = 1
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return f, srv
}

// With Tableau and Power BI both configured, the exposures of both come
// together: Power BI reports by their datasets' M (one dataset in another
// workspace), a report named like a Tableau workbook gets a unique name, and
// the Power BI filters narrow only Power BI.
func TestAccExposuresDataSourcePowerBI(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tsrv := tableautest.NewServer(t, f)
	pf, psrv := demoPowerBITenant(t, "Customer Cohorts", "Customer 360")
	manifest, _ := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	provider := bothTools(tsrv, f, psrv, pf)
	all, finance := "data.dbtexposures_exposures.all", "data.dbtexposures_exposures.finance"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: provider + fmt.Sprintf(`
data "dbtexposures_exposures" "x" {
  manifest_path      = %q
  powerbi_name_regex = "("
}`, manifest),
				ExpectError: regexp.MustCompile(`(?s)Invalid powerbi_name_regex.*RE2`),
			},
			{
				Config: provider + fmt.Sprintf(`
data "dbtexposures_exposures" "all" {
  manifest_path = %q
}

data "dbtexposures_exposures" "finance" {
  manifest_path           = %q
  name_regex              = "^$" # no Tableau workbook
  powerbi_workspace_names = ["Jaffle Finance"]
  powerbi_name_regex      = "^Revenue"
}
`, manifest, manifest),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(all, "exposures.#", "7"),
					resource.TestCheckTypeSetElemNestedAttrs(all, "exposures.*", map[string]string{
						"name": "revenue_by_store", "tool": "powerbi", "powerbi_workspace": "Jaffle Finance",
						"powerbi_report_id": "0000000b-0000-4000-8000-000000000001", "type": "dashboard",
						"url":          "https://app.powerbi.com/groups/0000000a-0000-4000-8000-000000000001/reports/0000000b-0000-4000-8000-000000000001",
						"depends_on.#": "2", "depends_on.0": "ref('locations')", "depends_on.1": "ref('orders')"}),
					// The report's dataset lives in the other workspace; the name is unique across tools.
					resource.TestCheckTypeSetElemNestedAttrs(all, "exposures.*", map[string]string{
						"name": "customer_360_00000002", "tool": "powerbi", "label": "Customer 360",
						"depends_on.#": "1", "depends_on.0": "ref('customers')"}),
					resource.TestCheckTypeSetElemNestedAttrs(all, "exposures.*", map[string]string{"tool": "tableau", "label": "Customer 360"}),
					resource.TestCheckNoResourceAttr(all, "exposures.0.workbook_id"),
					resource.TestCheckResourceAttr(finance, "exposures.#", "1"),
					resource.TestCheckResourceAttr(finance, "exposures.0.name", "revenue_by_store"),
					func(s *terraform.State) error {
						y := s.RootModule().Resources[all].Primary.Attributes["yaml"]
						for _, want := range []string{"powerbi_report_id: 0000000b-0000-4000-8000-000000000001", "powerbi_workspace: Jaffle Finance",
							"Tableau at ", " and Power BI tenant " + pf.TenantID, "tableau_workbook_id: "} {
							if !strings.Contains(y, want) {
								return fmt.Errorf("yaml lacks %q:\n%s", want, y)
							}
						}
						return nil
					},
				),
			},
		},
	})
}
