package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// Environments are listed and filtered by name and type, and an active
// exposures resource takes its environment_id from them: no guessed ID.
func TestAccEnvironmentsDataSource(t *testing.T) {
	srv := servertest.New(t)
	staging, err := srv.Store.CreateEnvironment(t.Context(), srv.ProjectID, "Staging", "staging")
	if err != nil {
		t.Fatal(err)
	}
	cfg := providerBlock(srv.HostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
data "dbtexposures_environments" "all" {
  project_id = %[1]d
}

data "dbtexposures_environments" "production" {
  project_id      = %[1]d
  deployment_type = "production"
}

data "dbtexposures_environments" "by_name" {
  project_id = %[1]d
  name       = "Staging"
}

data "dbtexposures_environments" "none" {
  project_id = %[1]d
  type       = "development"
}

resource "dbtexposures_active_exposures" "production" {
  project_id     = %[1]d
  environment_id = one(data.dbtexposures_environments.production.environments).id
}
`, srv.ProjectID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.dbtexposures_environments.all", "environments.#", "2"),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.all", "environments.0.name", "Production"),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.production", "environments.#", "1"),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.production", "environments.0.deployment_type", "production"),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.by_name", "environments.#", "1"),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.by_name", "environments.0.id", fmt.Sprint(staging.ID)),
				resource.TestCheckResourceAttr("data.dbtexposures_environments.none", "environments.#", "0"),
				resource.TestCheckResourceAttr("dbtexposures_active_exposures.production", "environment_name", "Production"),
			),
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}
