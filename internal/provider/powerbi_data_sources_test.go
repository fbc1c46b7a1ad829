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

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
)

// powerbiTenant serves the two recorded scan results as one tenant: datahub's
// multi-platform workspace and Microsoft's "V2 shared" with a certified report.
func powerbiTenant(t *testing.T) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	var workspaces []json.RawMessage
	for _, name := range []string{"datahub-scanresult-multi-platform.json", "mslearn-scanresult-200.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "powerbi", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var sr struct{ Workspaces []json.RawMessage }
		if err := json.Unmarshal(raw, &sr); err != nil {
			t.Fatal(err)
		}
		workspaces = append(workspaces, sr.Workspaces...)
	}
	scan, _ := json.Marshal(map[string]any{"workspaces": workspaces})
	e, err := emulator.New(&emulator.Fixture{TenantID: "contoso", ClientID: "dbt-app", ClientSecret: "pbi-secret-value", ScanResult: scan})
	if err != nil {
		t.Fatal(err)
	}
	e.ScanPolls = 1 // each Terraform command scans once; keep the suite quick
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func powerbiProvider(srv *httptest.Server, secret string) string {
	return fmt.Sprintf(`
provider "dbtexposures" {
  powerbi = {
    tenant_id     = "contoso"
    client_id     = "dbt-app"
    client_secret = %q
    api_url       = %q
    login_url     = %q
  }
}
`, secret, srv.URL, srv.URL)
}

// Both data sources read the emulated tenant through real Terraform: the
// workspaces sorted by name, reports with their lineage, and the filters.
func TestAccPowerBIDataSources(t *testing.T) {
	_, srv := powerbiTenant(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: powerbiProvider(srv, "pbi-secret-value") + `
data "dbtexposures_powerbi_workspaces" "all" {}
data "dbtexposures_powerbi_reports" "all" {}
data "dbtexposures_powerbi_reports" "certified" {
  endorsement = "Certified"
}
data "dbtexposures_powerbi_reports" "sales" {
  workspace_names = ["demo-workspace"]
  name_regex      = "^Sales"
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_workspaces.all", "workspaces.#", "2"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_workspaces.all", "workspaces.0.name", "V2 shared"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_workspaces.all", "workspaces.1.name", "demo-workspace"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.all", "reports.#", "2"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.certified", "reports.#", "1"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.certified", "reports.0.name", "CompositeModelParams-RLS"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.certified", "reports.0.url",
					"https://app.powerbi.com/groups/d507422c-8d6d-4361-ac7a-30074a8cd0a1/reports/c6d072d1-ed20-4b60-8329-16c4b934203b"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.sales", "reports.#", "1"),
				resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.sales", "reports.0.name", "SalesMarketing"),
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_powerbi_reports.sales", "reports.0.upstream_tables.*",
					map[string]string{"full_name": "PBI_TEST.TEST.TESTTABLE", "connection_type": "snowflake"}),
				resource.TestCheckTypeSetElemNestedAttrs("data.dbtexposures_powerbi_reports.sales", "reports.0.native_queries.*",
					map[string]string{"connection_type": "snowflake"}),
			),
		}},
	})
}

// A wrong secret fails the read with Entra ID's reason and the setting to fix,
// as the provider's argument and its environment variable, without the secret.
func TestAccPowerBIWrongSecret(t *testing.T) {
	_, srv := powerbiTenant(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      powerbiProvider(srv, "not-the-secret") + `data "dbtexposures_powerbi_workspaces" "all" {}`,
			ExpectError: regexp.MustCompile(`(?s)powerbi\.client_secret\s+\(or\s+POWERBI_CLIENT_SECRET\).*invalid_client`),
		}},
	})
}

// Neither the client secret nor the access token Entra ID issues appears in
// TF_LOG=trace output, which does hold the Power BI requests.
func TestAccPowerBISecretsNotInTraceLogs(t *testing.T) {
	_, srv := powerbiTenant(t)
	logPath := traceLogged(t)
	t.Setenv(EnvPowerBIClientSecret, "pbi-secret-value") // from the environment, as in CI
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "dbtexposures" {
  powerbi = {
    tenant_id = "contoso"
    client_id = "dbt-app"
    api_url   = %q
    login_url = %q
  }
}
data "dbtexposures_powerbi_reports" "all" {}
`, srv.URL, srv.URL),
			Check: resource.TestCheckResourceAttr("data.dbtexposures_powerbi_reports.all", "reports.#", "2"),
		}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "Power BI API request") || !strings.Contains(string(logs), "oauth2/v2.0/token") {
		t.Fatalf("the trace log holds no Power BI requests; the checks below would be vacuous")
	}
	if strings.Contains(string(logs), "pbi-secret-value") {
		t.Fatal("the client secret appears in TF_LOG=trace output")
	}
	if tok := regexp.MustCompile(`emulator-[0-9a-f]{8}-`).FindString(string(logs)); tok != "" {
		t.Fatalf("an access token appears in TF_LOG=trace output: %s…", tok)
	}
}
