package provider

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures/exposurestest"
	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// demoTools serves the demo's Tableau site and Power BI tenant, and
// configures the provider for both.
func demoTools(t *testing.T) string {
	t.Helper()
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	pf, pbi := demoPowerBITenant(t)
	return bothTools(tab, f, pbi, pf)
}

func bothTools(tab *httptest.Server, f *emulator.Fixture, pbi *httptest.Server, pf *pbiemulator.Fixture) string {
	return "\nprovider \"dbtexposures\" {\n  max_retries = 1" + tableauHCL(tab, f) + powerbiHCL(pf.TenantID, pf.ClientID, pf.ClientSecret, pbi.URL) + "\n}\n"
}

// tableauHCL is the provider's tableau block for an emulated site.
func tableauHCL(srv *httptest.Server, f *emulator.Fixture) string {
	return fmt.Sprintf(`
  tableau = {
    host       = %q
    site_id    = %q
    token_name = %q
    token      = %q
  }`, srv.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret)
}

// powerbiHCL is the provider's powerbi block for an emulated tenant.
func powerbiHCL(tenantID, clientID, secret, url string) string {
	return fmt.Sprintf(`
  powerbi = {
    tenant_id     = %q
    client_id     = %q
    client_secret = %q
    api_url       = %q
    login_url     = %q
  }`, tenantID, clientID, secret, url, url)
}

// element finds the element of a list attribute whose key has the value,
// and returns its attributes without the element's prefix.
func element(s *terraform.State, addr, list, key, value string) (map[string]string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return nil, fmt.Errorf("%s is not in the state", addr)
	}
	attrs := rs.Primary.Attributes
	for i := 0; attrs[fmt.Sprintf("%s.%d.%s", list, i, key)] != ""; i++ {
		if attrs[fmt.Sprintf("%s.%d.%s", list, i, key)] != value {
			continue
		}
		out := map[string]string{}
		prefix := fmt.Sprintf("%s.%d.", list, i)
		for k, v := range attrs {
			if strings.HasPrefix(k, prefix) {
				out[strings.TrimPrefix(k, prefix)] = v
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s has no %s with %s = %q", addr, list, key, value)
}

// strList reads a list of strings out of flattened attributes.
func strList(attrs map[string]string, name string) []string {
	var out []string
	for i := 0; ; i++ {
		v, ok := attrs[fmt.Sprintf("%s.%d", name, i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// hasList checks that a dashboard's list attribute is exactly want.
func hasList(addr, list, key, value, attr string, want ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		el, err := element(s, addr, list, key, value)
		if err != nil {
			return err
		}
		if got := strList(el, attr); strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("%s %s %q: %s = %q, want %q", addr, list, value, attr, got, want)
		}
		return nil
	}
}

// noColumns checks that a dashboard's column attributes are null.
func noColumns(addr, list, key, value string, attrs ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		el, err := element(s, addr, list, key, value)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if _, ok := el[a+".#"]; ok {
				return fmt.Errorf("%s %s %q: %s is set without include_columns", addr, list, value, a)
			}
		}
		return nil
	}
}

// Tableau's workbooks and Power BI's reports list the warehouse columns they
// use with include_columns, and nothing more without it.
func TestAccColumnsOfWorkbooksAndReports(t *testing.T) {
	wb, rep := "data.dbtexposures_tableau_workbooks.cols", "data.dbtexposures_powerbi_reports.cols"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: demoTools(t) + `
data "dbtexposures_tableau_workbooks" "cols" {
  include_columns = true
}
data "dbtexposures_tableau_workbooks" "plain" {}
data "dbtexposures_powerbi_reports" "cols" {
  include_columns = true
}
data "dbtexposures_powerbi_reports" "plain" {}
`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: resource.ComposeAggregateTestCheckFunc(
				// As they are, through the calculated Margin, through the published
				// data source's Customer ID, and discount_amount, which orders lacks.
				hasList(wb, "workbooks", "name", "Revenue Overview", "upstream_columns", "jaffle_shop.main.orders.customer_id",
					"jaffle_shop.main.orders.discount_amount", "jaffle_shop.main.orders.order_cost", "jaffle_shop.main.orders.order_total",
					"jaffle_shop.main.orders.ordered_at"),
				// Custom SQL: c.* over customers keeps its names; ltv is sum(order_total) in a CTE.
				hasList(wb, "workbooks", "name", "Customer 360", "upstream_columns", "jaffle_shop.main.customers.customer_name",
					"jaffle_shop.main.orders.order_total"),
				hasList(wb, "workbooks", "name", "Customer 360", "unresolved_columns"),
				noColumns("data.dbtexposures_tableau_workbooks.plain", "workbooks", "name", "Revenue Overview", "upstream_columns", "unresolved_columns"),
				// Renamed and removed through the M; Profit and Total Revenue are DAX.
				hasList(rep, "reports", "name", "Revenue by Store", "upstream_columns", "jaffle_shop.main.locations.location_id",
					"jaffle_shop.main.locations.location_name", "jaffle_shop.main.orders.order_cost", "jaffle_shop.main.orders.order_id",
					"jaffle_shop.main.orders.order_total", "jaffle_shop.main.orders.ordered_at"),
				hasList(rep, "reports", "name", "Revenue by Store", "derived_columns", "orders[Profit]", "orders[Total Revenue]", "stores[orders]"),
				noColumns("data.dbtexposures_powerbi_reports.plain", "reports", "name", "Revenue by Store", "upstream_columns", "derived_columns", "unresolved_columns"),
			),
		}},
	})
}

// catalogFile writes a catalog.json in dbt's shape whose orders model has
// discount_amount, which the manifest does not document.
func catalogFile(t *testing.T) string {
	t.Helper()
	cols := map[string]any{}
	for i, name := range []string{"ORDER_ID", "CUSTOMER_ID", "ORDER_TOTAL", "ORDERED_AT", "ORDER_COST", "DISCOUNT_AMOUNT"} {
		cols[name] = map[string]any{"type": "VARCHAR", "index": i + 1, "name": name, "comment": nil}
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"dbt_version": "1.10.0"}, "sources": map[string]any{},
		"nodes": map[string]any{"model.jaffle_shop.orders": map[string]any{"unique_id": "model.jaffle_shop.orders", "columns": cols, "stats": map[string]any{}}}})
	path := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dbtexposures_exposures lists each exposure's columns by dbt node and the
// columns a node lacks, from the documented columns and, with catalog_path,
// from the warehouse's; the YAML carries them and stays valid under both of
// dbt's schemas. Without include_columns nothing of it appears.
func TestAccExposuresColumns(t *testing.T) {
	manifest, _ := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	catalog := catalogFile(t)
	providers := demoTools(t)
	docs, cat, plain := "data.dbtexposures_exposures.documented", "data.dbtexposures_exposures.catalog", "data.dbtexposures_exposures.plain"
	validYAML := func(addr, want string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			y := s.RootModule().Resources[addr].Primary.Attributes["yaml"]
			if (want != "") != strings.Contains(y, "referenced_columns:") || !strings.Contains(y, want) {
				return fmt.Errorf("%s yaml (want %q):\n%s", addr, want, y)
			}
			exposurestest.Validate(t, []byte(y))
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providers + fmt.Sprintf(`data "dbtexposures_exposures" "x" {
  manifest_path = %q
  catalog_path  = %q
}`, manifest, catalog),
			ExpectError: regexp.MustCompile(`(?s)catalog_path without include_columns.*Set\s+include_columns\s+=\s+true`),
		}, {
			Config: providers + fmt.Sprintf(`data "dbtexposures_exposures" "x" {
  manifest_path   = %q
  catalog_path    = %q
  include_columns = true
}`, manifest, manifest),
			ExpectError: regexp.MustCompile(`(?s)Cannot read the dbt catalog.*manifest/v12.json,\s+not\s+dbt\s+docs\s+generate's\s+catalog.json.*dbt\s+docs\s+generate`),
		}, {
			Config: providers + fmt.Sprintf(`
data "dbtexposures_exposures" "documented" {
  manifest_path   = %q
  include_columns = true
}
data "dbtexposures_exposures" "catalog" {
  manifest_path   = %q
  catalog_path    = %q
  include_columns = true
}
data "dbtexposures_exposures" "plain" {
  manifest_path = %q
}
`, manifest, manifest, catalog, manifest),
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(docs, "unmatched_columns.#", "2"),
				resource.TestCheckTypeSetElemNestedAttrs(docs, "unmatched_columns.*", map[string]string{
					"node": "model.jaffle_shop.orders", "column": "discount_amount", "workbook_id": "00000004-0000-4000-8000-000000000001"}),
				resource.TestCheckTypeSetElemNestedAttrs(docs, "unmatched_columns.*", map[string]string{
					"node": "model.jaffle_shop.customers", "column": "loyalty_tier"}),
				// The warehouse has discount_amount: the catalog wins.
				resource.TestCheckResourceAttr(cat, "unmatched_columns.#", "1"),
				resource.TestCheckResourceAttr(cat, "unmatched_columns.0.column", "loyalty_tier"),
				func(s *terraform.State) error {
					ex, err := element(s, docs, "exposures", "name", "revenue_overview")
					if err != nil {
						return err
					}
					if ex["columns.0.node"] != "model.jaffle_shop.orders" || strings.Join(strList(ex, "columns.0.columns"), ",") !=
						"customer_id,discount_amount,order_cost,order_total,ordered_at" {
						return fmt.Errorf("revenue_overview's columns: %v", ex)
					}
					return nil
				},
				validYAML(docs, "        referenced_columns:\n          model.jaffle_shop.orders:\n            - customer_id\n"),
				validYAML(plain, ""),
				resource.TestCheckNoResourceAttr(plain, "unmatched_columns.#"),
				noColumns(plain, "exposures", "name", "revenue_overview", "columns"),
			),
		}},
	})
}
