package provider

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// call sends a request to the server's API and returns its answer, which must be a success.
func call(t *testing.T, srv *servertest.Server, method, path string, body io.Reader) []byte {
	t.Helper()
	code, b := rawCall(t, srv, method, path, body)
	if code >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	return b
}

// The exposures of a connection's selection, rendered by the data source, are
// the ones the server's sync makes from the same selection and manifest.
func TestAccExposuresFromTheSelectionEqualTheSync(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	manifestPath, _ := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	manifest, err := os.Open(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	defer manifest.Close()
	call(t, srv, "PUT", fmt.Sprintf("/v3/accounts/1/projects/%d/manifest/", srv.ProjectID), manifest)
	const finance, customer360 = "00000003-0000-4000-8000-000000000002", "00000004-0000-4000-8000-000000000003"
	config := fmt.Sprintf(`
provider "dbtexposures" {
  host_url   = %q
  account_id = %d
  token      = %q%s
}
`, srv.HostURL, srv.AccountID, srv.Token, tableauHCL(tab, f)) +
		connectionHCL(srv.ProjectID, tab.URL, f, f.PersonalAccessToken.Secret) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%q]
  workbook_ids  = [%q]
}

data "dbtexposures_exposures" "selected" {
  manifest_path = %q
  project_id    = dbtexposures_auto_exposure_selection.s.project_id
  connection_id = dbtexposures_auto_exposure_selection.s.connection_id
}
`, srv.ProjectID, finance, customer360, manifestPath)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           config,
			Check:            func(s *terraform.State) error { return sameAsSync(t, srv, s) },
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// sameAsSync compares the data source's exposures with the server's sync,
// name by name and dependency by dependency.
func sameAsSync(t *testing.T, srv *servertest.Server, s *terraform.State) error {
	b := call(t, srv, "POST", fmt.Sprintf("/v3/accounts/1/projects/%d/exposures/sync/", srv.ProjectID), nil)
	var ans struct {
		Data struct {
			Exposures []struct {
				Name      string   `json:"name"`
				DependsOn []string `json:"depends_on"`
			} `json:"exposures"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return err
	}
	var synced []string
	for _, e := range ans.Data.Exposures {
		synced = append(synced, e.Name+" <- "+strings.Join(e.DependsOn, ","))
	}
	attrs := s.RootModule().Resources["data.dbtexposures_exposures.selected"].Primary.Attributes
	var rendered []string
	for i := 0; attrs[fmt.Sprintf("exposures.%d.name", i)] != ""; i++ {
		var deps []string
		for j := 0; attrs[fmt.Sprintf("exposures.%d.depends_on.%d", i, j)] != ""; j++ {
			deps = append(deps, attrs[fmt.Sprintf("exposures.%d.depends_on.%d", i, j)])
		}
		rendered = append(rendered, attrs[fmt.Sprintf("exposures.%d.name", i)]+" <- "+strings.Join(deps, ","))
	}
	sort.Strings(synced)
	sort.Strings(rendered)
	if len(synced) == 0 || strings.Join(synced, "\n") != strings.Join(rendered, "\n") {
		return fmt.Errorf("the data source renders\n%s\nthe sync made\n%s", strings.Join(rendered, "\n"), strings.Join(synced, "\n"))
	}
	return nil
}
