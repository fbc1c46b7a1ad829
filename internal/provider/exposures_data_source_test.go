package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

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
