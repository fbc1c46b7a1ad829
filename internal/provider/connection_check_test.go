package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// checkedConnection is a connection whose secret comes from variables, with
// the postcondition the docs give for drift checks.
func checkedConnection(srv *servertest.Server, tool, label, args string) string {
	return providerBlock(srv.HostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
variable "secret" {
  type      = string
  sensitive = true
}

variable "secret_version" {
  type = number
}

resource "dbtexposures_%s_connection" "c" {
  project_id = %d
%s
  lifecycle {
    postcondition {
      condition     = self.status == "ok"
      error_message = "dbt Cloud cannot read %s through this connection (${self.status}): ${self.status_message}"
    }
  }
}
`, tool, srv.ProjectID, args, label)
}

func secretVars(secret string, version int) config.Variables {
	return config.Variables{"secret": config.StringVariable(secret), "secret_version": config.IntegerVariable(version)}
}

// brokenConnectionSteps are the broken-connection rules, for either tool:
// a refused create fails naming the argument and leaves nothing; the fix
// applies; a credential broken outside Terraform fails the plan through the
// postcondition, while the plan that carries the fix passes; a refused
// update fails naming the argument and keeps the previous version, so the
// corrected secret goes out without another bump.
// breakIt breaks the stored credential; fixed is the secret that works after.
func brokenConnectionSteps(t *testing.T, srv *servertest.Server, cfg, label, secretArg, good, fixed string, breakIt func()) []resource.TestStep {
	addr := "dbtexposures_" + map[string]string{"Tableau": "tableau", "Power BI": "powerbi"}[label] + "_connection.c"
	empty := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	refused := func(what string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)` + label + ` refused the ` + what + `.*` + secretArg)
	}
	return []resource.TestStep{
		{Config: cfg, ConfigVariables: secretVars("wrong-secret", 1), ExpectError: refused("new connection's settings")},
		{
			PreConfig: func() {
				if left := integrationsOf(t, srv); len(left) != 0 {
					t.Fatalf("a refused create left %+v behind", left)
				}
			},
			Config: cfg, ConfigVariables: secretVars(good, 1), ConfigPlanChecks: empty,
			Check: resource.TestCheckResourceAttr(addr, "status", "ok"),
		},
		{ // the credential stops working outside Terraform: the drift check fails
			PreConfig: breakIt,
			Config:    cfg, ConfigVariables: secretVars(good, 1), PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)Resource postcondition failed.*dbt Cloud cannot read ` + label + `.*refused`),
		},
		{ // the fix is planned (its status unknown) and applied in one run
			Config: cfg, ConfigVariables: secretVars(fixed, 2), ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectUnknownValue(addr, tfjsonpath.New("status"))},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: resource.TestCheckResourceAttr(addr, "status", "ok"),
		},
		{Config: cfg, ConfigVariables: secretVars("wrong-again", 3), ExpectError: refused("connection's new settings")},
		{ // the corrected secret, same version: state kept version 2, so it is sent
			Config: cfg, ConfigVariables: secretVars(fixed, 3), ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "status", "ok"),
				resource.TestCheckResourceAttr(addr, secretArg+"_version", "3"),
			),
		},
	}
}

func TestAccTableauConnection_brokenCredential(t *testing.T) {
	e := newSelectionEnv(t)
	cfg := checkedConnection(e.srv, "tableau", "Tableau", fmt.Sprintf(`  host             = %q
  site_id          = %q
  token_name       = %q
  token_wo         = var.secret
  token_wo_version = var.secret_version`, e.tab.URL, e.f.Site.ContentURL, e.f.PersonalAccessToken.Name))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: brokenConnectionSteps(t, e.srv, cfg, "Tableau", "token_wo", e.f.PersonalAccessToken.Secret, "rotated-outside",
			func() { e.emu.RotatePAT("rotated-outside") }),
	})
}

func TestAccPowerBIConnection_brokenCredential(t *testing.T) {
	f, pbi := demoPowerBITenant(t)
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL}))
	cfg := checkedConnection(srv, "powerbi", "Power BI", fmt.Sprintf(`  tenant_id                = %q
  client_id                = %q
  client_secret_wo         = var.secret
  client_secret_wo_version = var.secret_version`, f.TenantID, f.ClientID))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: brokenConnectionSteps(t, srv, cfg, "Power BI", "client_secret_wo", f.ClientSecret, f.ClientSecret, func() {
			// Someone stores another secret in dbt Cloud: Power BI refuses it.
			stale, in := "stale-secret", integrationsOf(t, srv)[0]
			if _, err := srv.Client(t).UpdateLineageIntegration(context.Background(), srv.ProjectID, in.ID,
				dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{ClientSecret: &stale}}); err != nil {
				t.Fatal(err)
			}
		}),
	})
}
