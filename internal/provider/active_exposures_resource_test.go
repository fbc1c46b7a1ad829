package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

const activeAddr = "dbtexposures_active_exposures.prod"

// envValue is a variable's value in a scope as the server holds it ("" and
// false when absent).
func envValue(t *testing.T, srv *servertest.Server, name, scope string) (string, bool) {
	t.Helper()
	vars, err := srv.Client(t).ListEnvVars(context.Background(), srv.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := vars.Variables[name][scope]
	return v.Value, ok
}

func expectEnv(t *testing.T, srv *servertest.Server, want map[[2]string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for k, w := range want {
			got, ok := envValue(t, srv, k[0], k[1])
			if w == "" && ok {
				return fmt.Errorf("%s still has a %s value %q", k[0], k[1], got)
			}
			if w != "" && got != w {
				return fmt.Errorf("%s in %s is %q, want %q", k[0], k[1], got, w)
			}
		}
		return nil
	}
}

func setEnv(t *testing.T, srv *servertest.Server, name, scope string, value *string) func() {
	return func() {
		if err := srv.Client(t).SetEnvVar(context.Background(), srv.ProjectID, name, map[string]*string{scope: value}); err != nil {
			t.Fatal(err)
		}
	}
}

// Active exposures for Production: created with neutral project defaults,
// drift from dbt Cloud (a changed, a deleted and a non-numeric value) planned
// and set back, import, and a destroy that leaves Staging's own value alone.
func TestAccActiveExposures(t *testing.T) {
	srv := servertest.New(t)
	ctx := context.Background()
	if _, err := srv.Store.CreateEnvironment(ctx, srv.ProjectID, "Staging", "staging"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Client(t).CreateEnvVar(ctx, srv.ProjectID, envActive, map[string]string{dbtcloud.ProjectScope: "0", "Staging": "1"}); err != nil {
		t.Fatal(err)
	}
	cfg := providerBlock(srv.HostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
resource "dbtexposures_active_exposures" "prod" {
  project_id          = %d
  environment_id      = 1
  build_after_minutes = 60
}
`, srv.ProjectID)
	update := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(activeAddr, plancheck.ResourceActionUpdate)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
	applied := map[[2]string]string{{envActive, "Production"}: "1", {envBuildAfter, "Production"}: "60",
		{envActive, "Staging"}: "1", {envActive, "project"}: "0", {envBuildAfter, "project"}: "1440"}
	off, soon := "0", "soon"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: expectEnv(t, srv, map[[2]string]string{{envActive, "Production"}: "", {envBuildAfter, "Production"}: "",
			{envActive, "Staging"}: "1", {envActive, "project"}: "0", {envBuildAfter, "project"}: "1440"}),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(activeAddr, "id", "1:1"),
					resource.TestCheckResourceAttr(activeAddr, "environment_name", "Production"),
					resource.TestCheckResourceAttr(activeAddr, "enabled", "true"),
					expectEnv(t, srv, applied),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{PreConfig: setEnv(t, srv, envActive, "Production", &off), Config: cfg, ConfigPlanChecks: update, Check: expectEnv(t, srv, applied)},
			{PreConfig: setEnv(t, srv, envBuildAfter, "Production", nil), Config: cfg, ConfigPlanChecks: update, Check: expectEnv(t, srv, applied)},
			{PreConfig: setEnv(t, srv, envBuildAfter, "Production", &soon), Config: cfg, ConfigPlanChecks: update, Check: expectEnv(t, srv, applied)},
			{ResourceName: activeAddr, ImportState: true, ImportStateId: "1:1", ImportStateVerify: true},
		},
	})
}
