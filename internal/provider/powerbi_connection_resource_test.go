package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

const pbiConnAddr = "dbtexposures_powerbi_connection.test"

// pbiConnConfigWO takes the client secret from a sensitive variable.
func pbiConnConfigWO(hostURL string, srv *servertest.Server, clientID string, version int) string {
	return providerBlock(hostURL, srv.AccountID, "") + fmt.Sprintf(`
variable "pbi_secret" {
  type      = string
  sensitive = true
}

resource "dbtexposures_powerbi_connection" "test" {
  project_id               = %d
  tenant_id                = "contoso.onmicrosoft.com"
  client_id                = %q
  client_secret_wo         = var.pbi_secret
  client_secret_wo_version = %d
}
`, srv.ProjectID, clientID, version)
}

func pbiSecretVar(secret string) config.Variables {
	return config.Variables{"pbi_secret": config.StringVariable(secret)}
}

// storedClientSecret is the client secret the server holds for the resource in state.
func storedClientSecret(t *testing.T, srv *servertest.Server, s *terraform.State) string {
	t.Helper()
	var pid, iid int64
	fmt.Sscanf(s.RootModule().Resources[pbiConnAddr].Primary.ID, "%d:%d", &pid, &iid)
	in, err := srv.Store.GetIntegration(context.Background(), srv.AccountID, pid, iid)
	if err != nil {
		t.Fatalf("server has no integration %d: %v", iid, err)
	}
	return in.Config["client_secret"]
}

func holdsSecret(t *testing.T, srv *servertest.Server, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if got := storedClientSecret(t, srv, s); got != want {
			return fmt.Errorf("server holds client secret %q, want %q", got, want)
		}
		return nil
	}
}

// The write-only secret reaches the server and never state or TF_LOG=trace;
// import round-trips; a change and a rotation are updates with empty plans
// after; drift made outside Terraform shows; a deleted connection is re-created.
func TestAccPowerBIConnection_lifecycle(t *testing.T) {
	srv := servertest.New(t)
	const secret1, secret2 = "pbi-secret-ONE-7d3e", "pbi-secret-TWO-1b8c"
	logPath := traceLogged(t)
	t.Setenv(EnvToken, srv.Token)
	var integrationID int64
	empty := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	update := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(pbiConnAddr, plancheck.ResourceActionUpdate)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             noIntegrationsLeft(t, srv),
		Steps: []resource.TestStep{
			{
				Config: pbiConnConfigWO(srv.HostURL, srv, "app-1", 1), ConfigVariables: pbiSecretVar(secret1), ConfigPlanChecks: empty,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(pbiConnAddr, "tenant_id", "contoso.onmicrosoft.com"),
					resource.TestMatchResourceAttr(pbiConnAddr, "id", regexp.MustCompile(`^1:\d+$`)),
					resource.TestCheckNoResourceAttr(pbiConnAddr, "client_secret_wo"),
					resource.TestCheckNoResourceAttr(pbiConnAddr, "client_secret"),
					noSecretInState(secret1), holdsSecret(t, srv, secret1),
					func(s *terraform.State) error {
						fmt.Sscanf(s.RootModule().Resources[pbiConnAddr].Primary.Attributes["integration_id"], "%d", &integrationID)
						return nil
					},
				),
			},
			{
				ResourceName: pbiConnAddr, ConfigVariables: pbiSecretVar(secret1),
				ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"client_secret_wo_version"},
			},
			{
				Config: pbiConnConfigWO(srv.HostURL, srv, "app-2", 1), ConfigVariables: pbiSecretVar(secret1), ConfigPlanChecks: update,
				Check: resource.ComposeAggregateTestCheckFunc(resource.TestCheckResourceAttr(pbiConnAddr, "client_id", "app-2"), holdsSecret(t, srv, secret1)),
			},
			{
				Config: pbiConnConfigWO(srv.HostURL, srv, "app-2", 2), ConfigVariables: pbiSecretVar(secret2), ConfigPlanChecks: update,
				Check: resource.ComposeAggregateTestCheckFunc(noSecretInState(secret2), holdsSecret(t, srv, secret2)),
			},
			{ // someone changes the tenant outside Terraform: the plan shows it and the apply restores it
				PreConfig: func() {
					tenant := "fabrikam.onmicrosoft.com"
					if _, err := srv.Client(t).UpdateLineageIntegration(context.Background(), srv.ProjectID, integrationID,
						dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{TenantID: &tenant}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: pbiConnConfigWO(srv.HostURL, srv, "app-2", 2), ConfigVariables: pbiSecretVar(secret2), ConfigPlanChecks: update,
				Check: resource.TestCheckResourceAttr(pbiConnAddr, "tenant_id", "contoso.onmicrosoft.com"),
			},
			{ // someone deletes it: the plan creates it again
				PreConfig: func() {
					if err := srv.Client(t).DeleteLineageIntegration(context.Background(), srv.ProjectID, integrationID); err != nil {
						t.Fatal(err)
					}
				},
				Config: pbiConnConfigWO(srv.HostURL, srv, "app-2", 2), ConfigVariables: pbiSecretVar(secret2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(pbiConnAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: holdsSecret(t, srv, secret2),
			},
		},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "dbt Cloud API request") {
		t.Fatalf("trace log has no provider HTTP traces; the secret check would be vacuous")
	}
	for _, s := range []string{secret1, secret2, srv.Token} {
		if strings.Contains(string(logs), s) {
			t.Fatalf("secret %q appears in TF_LOG=trace output", s)
		}
	}
}

// A lost create answer is not resent: the integration it made is adopted.
// One made elsewhere fails with the import command.
func TestAccPowerBIConnection_lostCreateAndExisting(t *testing.T) {
	srv := servertest.New(t)
	t.Setenv(EnvToken, srv.Token)
	hostURL, creates := lossyProxy(t, srv)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: pbiConnConfigWO(hostURL, srv, "app-1", 1), ConfigVariables: pbiSecretVar("lost-secret"),
			Check: resource.ComposeAggregateTestCheckFunc(holdsSecret(t, srv, "lost-secret"), func(*terraform.State) error {
				if n, c := len(integrationsOf(t, srv)), creates.Load(); n != 1 || c != 1 {
					return fmt.Errorf("%d integrations after %d creates, want 1 after 1", n, c)
				}
				return nil
			}),
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})

	other := servertest.New(t)
	tenant, client, secret := "other.onmicrosoft.com", "ui-app", "ui-secret"
	in, err := other.Client(t).CreateLineageIntegration(context.Background(), other.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "powerbi", Config: dbtcloud.IntegrationConfig{TenantID: &tenant, ClientID: &client, ClientSecret: &secret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvToken, other.Token)
	cmd := fmt.Sprintf("terraform import dbtexposures_powerbi_connection.<name> %d:%d", other.ProjectID, in.ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: pbiConnConfigWO(other.HostURL, other, "app-1", 1), ConfigVariables: pbiSecretVar("s"),
			ExpectError: regexp.MustCompile(`(?s)already has a Power BI connection.*` + regexp.QuoteMeta(cmd)),
		}},
	})
}

func TestAccPowerBIConnection_badInput(t *testing.T) {
	srv := servertest.New(t)
	base := providerBlock(srv.HostURL, srv.AccountID, srv.Token)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      base + `resource "dbtexposures_powerbi_connection" "test" {` + "\n project_id = 1\n tenant_id = \"t\"\n client_id = \"c\"\n}",
				ExpectError: regexp.MustCompile(`(?s)client_secret.*client_secret_wo|client_secret_wo.*client_secret`),
			},
			{
				Config:      base + `resource "dbtexposures_powerbi_connection" "test" {` + "\n project_id = 1\n tenant_id = \"not a tenant\"\n client_id = \"c\"\n client_secret = \"s\"\n}",
				ExpectError: regexp.MustCompile(`(?s)tenant_id.*Entra ID tenant`),
			},
		},
	})
}

// A selection on a Power BI connection: workspaces are folders and reports
// dashboards (report_ids), named in the plan; it imports; drift made outside
// Terraform shows; Tableau's workbook_ids are refused with the right argument.
func TestAccAutoExposureSelection_powerbi(t *testing.T) {
	f, pbi := demoPowerBITenant(t)
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL, PollInterval: 5 * time.Millisecond}))
	t.Setenv(EnvToken, srv.Token)
	const models, revenue, cohorts = "0000000a-0000-4000-8000-000000000002", "0000000b-0000-4000-8000-000000000001", "0000000b-0000-4000-8000-000000000002"
	cfg := func(dashboards string) string {
		return providerBlock(srv.HostURL, srv.AccountID, "") + fmt.Sprintf(`
resource "dbtexposures_powerbi_connection" "c" {
  project_id    = %d
  tenant_id     = %q
  client_id     = %q
  client_secret = %q
}

resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_powerbi_connection.c.integration_id
  folder_ids    = [%q]
  %s
}
`, srv.ProjectID, f.TenantID, f.ClientID, f.ClientSecret, srv.ProjectID, models, dashboards)
	}
	watching := func(id string) bool {
		w, err := srv.Store.Watches(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := w[id]
		return ok
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           cfg(fmt.Sprintf("report_ids = [%q]", revenue)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": "Jaffle Models", "type": "folder"}),
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": "Revenue by Store", "type": "dashboard"}),
					resource.TestCheckResourceAttr(selAddr, "workbook_ids.#", "0"),
					func(*terraform.State) error {
						if !watching(revenue) || !watching(models) {
							return fmt.Errorf("the server does not watch the selection")
						}
						return nil
					},
				),
			},
			{ResourceName: selAddr, ImportState: true, ImportStateVerify: true},
			{ // the plan names what changes, by report name
				Config: cfg(fmt.Sprintf("report_ids = [%q]", cohorts)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plannedSelectedNames{names: []string{"Customer Cohorts", "Jaffle Models"}},
						plannedSelectedNames{names: []string{"Revenue by Store"}, absent: true}},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if !watching(cohorts) || watching(revenue) {
						return fmt.Errorf("the server does not watch the new selection")
					}
					return nil
				},
			},
			{
				Config:      cfg(fmt.Sprintf("workbook_ids = [%q]", revenue)),
				ExpectError: regexp.MustCompile(`(?s)workbook_ids does not fit this connection.*Power BI.*report_ids`),
			},
			{
				Config:      cfg(`report_ids = ["no-such-report"]`),
				ExpectError: regexp.MustCompile(`(?s)Unknown Power BI identifiers.*no-such-report.*dbtexposures_powerbi_reports`),
			},
			{ // someone watches another report in dbt Cloud: the plan shows it leaving, the apply unwatches it
				PreConfig: func() {
					if _, err := srv.Client(t).UpdateSelections(context.Background(), srv.ProjectID, 1, dbtcloud.SelectionChange{
						ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: revenue, Type: dbtcloud.ItemDashboard}}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(fmt.Sprintf("report_ids = [%q]", cohorts)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(selAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if watching(revenue) {
						return fmt.Errorf("the apply left Revenue by Store watched")
					}
					return nil
				},
			},
			{ // Power BI refuses the stored secret: the plan still works on the last known selection
				PreConfig: func() {
					bad := "revoked-secret"
					if _, err := srv.Client(t).UpdateLineageIntegration(context.Background(), srv.ProjectID, 1,
						dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{ClientSecret: &bad}}); err != nil {
						t.Fatal(err)
					}
					if code, b := rawGet(t, srv, "/v3/accounts/1/projects/1/integrations/lineage/1/collections/"); code != 400 ||
						!strings.Contains(string(b), "Power BI refused") {
						t.Fatalf("collections with a revoked secret: %d %s", code, b)
					}
				},
				Config:   cfg(fmt.Sprintf("report_ids = [%q]", cohorts)),
				PlanOnly: true,
			},
		},
	})
}

func rawGet(t *testing.T, srv *servertest.Server, path string) (int, []byte) {
	t.Helper()
	return rawCall(t, srv, http.MethodGet, path, nil)
}

// rawCall sends a request to the server's API with its token.
func rawCall(t *testing.T, srv *servertest.Server, method, path string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.HostURL+path, body)
	req.Header.Set("Authorization", "Token "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
