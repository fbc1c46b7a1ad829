package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

const connAddr = "dbtexposures_tableau_connection.test"

// connConfigWO takes the secret from a sensitive variable, as users should, so
// that the configuration text (which the test harness logs) does not hold it.
func connConfigWO(srv *servertest.Server, site string, version int) string {
	return providerBlock(srv.HostURL, srv.AccountID, "") + fmt.Sprintf(`
variable "tableau_pat" {
  type      = string
  sensitive = true
}

resource "dbtexposures_tableau_connection" "test" {
  project_id       = %d
  host             = "10az.online.tableau.com"
  site_id          = %q
  token_name       = "dbt-lineage"
  token_wo         = var.tableau_pat
  token_wo_version = %d
}
`, srv.ProjectID, site, version)
}

func patVar(secret string) config.Variables {
	return config.Variables{"tableau_pat": config.StringVariable(secret)}
}

func connConfigToken(srv *servertest.Server, site, secret string) string {
	return providerBlock(srv.HostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
resource "dbtexposures_tableau_connection" "test" {
  project_id = %d
  host       = "10az.online.tableau.com"
  site_id    = %q
  token_name = "dbt-lineage"
  token      = %q
}
`, srv.ProjectID, site, secret)
}

// storedToken is the Tableau token the server holds for the resource in state.
func storedToken(t *testing.T, srv *servertest.Server, s *terraform.State) string {
	t.Helper()
	rs := s.RootModule().Resources[connAddr]
	var pid, iid int64
	fmt.Sscanf(rs.Primary.ID, "%d:%d", &pid, &iid)
	in, err := srv.Store.GetIntegration(context.Background(), srv.AccountID, pid, iid)
	if err != nil {
		t.Fatalf("server has no integration %s: %v", rs.Primary.ID, err)
	}
	return in.Config["token"]
}

// traceLogged sends the test's Terraform runs to a TF_LOG=trace file and
// returns its path, for tests that look for secrets in it.
func traceLogged(t *testing.T) string {
	logPath := filepath.Join(t.TempDir(), "terraform-trace.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	return logPath
}

// noIntegrationsLeft is a CheckDestroy: the server holds no integration.
func noIntegrationsLeft(t *testing.T, srv *servertest.Server) func(*terraform.State) error {
	return func(*terraform.State) error {
		if n := len(integrationsOf(t, srv)); n != 0 {
			return fmt.Errorf("%d integrations left after destroy", n)
		}
		return nil
	}
}

// noSecretInState fails if secret appears anywhere in the state.
func noSecretInState(secret string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for addr, rs := range s.RootModule().Resources {
			for k, v := range rs.Primary.Attributes {
				if strings.Contains(v, secret) {
					return fmt.Errorf("secret found in state at %s.%s", addr, k)
				}
			}
		}
		return nil
	}
}

func TestAccTableauConnection_writeOnlyLifecycle(t *testing.T) {
	srv := servertest.New(t)
	const secret1, secret2 = "pat-secret-ONE-4f1c", "pat-secret-TWO-9e2a"
	logPath := traceLogged(t)
	t.Setenv(EnvToken, srv.Token) // from the environment, as in CI, not in the logged configuration

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             noIntegrationsLeft(t, srv),
		Steps: []resource.TestStep{
			{ // create
				Config:          connConfigWO(srv, "acme", 1),
				ConfigVariables: patVar(secret1),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(connAddr, "site_id", "acme"),
					resource.TestCheckResourceAttr(connAddr, "project_id", "1"),
					resource.TestCheckResourceAttrSet(connAddr, "integration_id"),
					resource.TestMatchResourceAttr(connAddr, "id", regexp.MustCompile(`^1:\d+$`)),
					resource.TestCheckResourceAttrSet(connAddr, "created_at"),
					resource.TestCheckNoResourceAttr(connAddr, "token_wo"),
					resource.TestCheckNoResourceAttr(connAddr, "token"),
					noSecretInState(secret1),
					func(s *terraform.State) error {
						if got := storedToken(t, srv, s); got != secret1 {
							return fmt.Errorf("server holds token %q, want the configured one", got)
						}
						return nil
					},
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{ // import: everything but the token and its version round-trips
				ResourceName:            connAddr,
				ConfigVariables:         patVar(secret1),
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token_wo_version"},
			},
			{ // update in place
				Config:          connConfigWO(srv, "acme-analytics", 1),
				ConfigVariables: patVar(secret1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.TestCheckResourceAttr(connAddr, "site_id", "acme-analytics"),
			},
			{ // a new write-only value without a new version is not seen (that is what the version is for)
				Config:             connConfigWO(srv, "acme-analytics", 1),
				ConfigVariables:    patVar(secret2),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
			{ // rotation: bump the version
				Config:          connConfigWO(srv, "acme-analytics", 2),
				ConfigVariables: patVar(secret2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(connAddr, "token_wo_version", "2"),
					noSecretInState(secret2),
					func(s *terraform.State) error {
						if got := storedToken(t, srv, s); got != secret2 {
							return fmt.Errorf("rotation did not reach the server: it holds %q", got)
						}
						return nil
					},
				),
			},
		},
	})

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("reading the TF_LOG=trace output: %v", err)
	}
	// Prove the log really holds the provider's HTTP traces before trusting its silence.
	if !strings.Contains(string(logs), "dbt Cloud API request") {
		t.Fatalf("trace log at %s has no provider HTTP traces; the secret check below would be vacuous", logPath)
	}
	for _, s := range []string{secret1, secret2, srv.Token} {
		if strings.Contains(string(logs), s) {
			t.Fatalf("secret %q appears in TF_LOG=trace output", s)
		}
	}
}

func TestAccTableauConnection_driftAndRecreate(t *testing.T) {
	srv := servertest.New(t)
	t.Setenv(EnvToken, srv.Token) // used by the token_wo steps, whose provider block has none
	var integrationID int64
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: connConfigToken(srv, "acme", "plain-secret"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(connAddr, "token", "plain-secret"),
					func(s *terraform.State) error {
						fmt.Sscanf(s.RootModule().Resources[connAddr].Primary.Attributes["integration_id"], "%d", &integrationID)
						return nil
					},
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{ // someone changes site_id in the UI: the plan must show it
				PreConfig: func() {
					site := "changed-in-ui"
					if _, err := srv.Client(t).UpdateLineageIntegration(context.Background(), srv.ProjectID, integrationID,
						dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{SiteID: &site}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: connConfigToken(srv, "acme", "plain-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *terraform.State) error {
					got, err := srv.Client(t).GetLineageIntegration(context.Background(), srv.ProjectID, integrationID)
					if err != nil {
						return err
					}
					if *got.Config.SiteID != "acme" {
						return fmt.Errorf("apply did not restore site_id: %q", *got.Config.SiteID)
					}
					return nil
				},
			},
			{ // someone deletes it: the plan must create it again
				PreConfig: func() {
					if err := srv.Client(t).DeleteLineageIntegration(context.Background(), srv.ProjectID, integrationID); err != nil {
						t.Fatal(err)
					}
				},
				Config: connConfigToken(srv, "acme", "plain-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{ // move from token to token_wo (the provider's token now comes from the environment)
				// the token leaves state, the server gets the new one
				Config:          connConfigWO(srv, "acme", 1),
				ConfigVariables: patVar("wo-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(connAddr, "token"),
					noSecretInState("plain-secret"),
					func(s *terraform.State) error {
						if got := storedToken(t, srv, s); got != "wo-secret" {
							return fmt.Errorf("server holds %q after the move to token_wo", got)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccTableauConnection_badInput(t *testing.T) {
	srv := servertest.New(t)
	base := providerBlock(srv.HostURL, srv.AccountID, srv.Token)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base + `
resource "dbtexposures_tableau_connection" "test" {
  project_id = 1
  host       = "h"
  site_id    = "s"
  token_name = "n"
}`,
				ExpectError: regexp.MustCompile(`(?s)token.*token_wo|token_wo.*token`),
			},
			{
				Config: base + `
resource "dbtexposures_tableau_connection" "test" {
  project_id = 1
  host       = "h"
  site_id    = "s"
  token_name = "n"
  token_wo   = "x"
}`,
				ExpectError: regexp.MustCompile(`token_wo_version`),
			},
			{
				Config: base + `
resource "dbtexposures_tableau_connection" "test" {
  project_id = 999
  host       = "h"
  site_id    = "s"
  token_name = "n"
  token      = "x"
}`,
				ExpectError: regexp.MustCompile(`(?s)Could not create the Tableau connection.*project 999.*not found`),
			},
			{
				Config: base + `
resource "dbtexposures_tableau_connection" "test" {
  project_id = 1
  host       = "h"
  site_id    = "s"
  token_name = "n"
  token      = "x"
}`,
				ResourceName:  connAddr,
				ImportState:   true,
				ImportStateId: "not-an-id",
				ExpectError:   regexp.MustCompile(`<project_id>:<integration_id>`),
			},
		},
	})
}

func TestAccProvider_missingSettingsNameEnvVars(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
provider "dbtexposures" {
  account_id = 1
}
resource "dbtexposures_tableau_connection" "test" {
  project_id = 1
  host       = "h"
  site_id    = "s"
  token_name = "n"
  token      = "x"
}`,
				ExpectError: regexp.MustCompile(`DBT_CLOUD_TOKEN`),
			},
			{
				Config: `
provider "dbtexposures" {
  token = "abc"
  account_id = 1
  host_url = "cloud.getdbt.com"
}
resource "dbtexposures_tableau_connection" "test" {
  project_id = 1
  host       = "h"
  site_id    = "s"
  token_name = "n"
  token      = "x"
}`,
				ExpectError: regexp.MustCompile(`(?s)host_url.*/api`),
			},
		},
	})
}
