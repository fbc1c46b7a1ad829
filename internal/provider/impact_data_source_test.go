package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
)

// prManifest is the demo project's manifest as a pull request changes it:
// orders no longer has order_total, stg_customers is rewritten, and, as
// in CI, every model is built into a schema of its own.
func prManifest(t *testing.T) (base, pr string) {
	t.Helper()
	base, _ = filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	raw, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	nodes := m["nodes"].(map[string]any)
	for _, n := range nodes {
		if node := n.(map[string]any); node["resource_type"] == "model" {
			node["schema"] = "dbt_cloud_pr_42"
			node["relation_name"] = strings.Replace(fmt.Sprint(node["relation_name"]), `"jaffle_shop"`, `"dbt_cloud_pr_42"`, 1)
		}
	}
	delete(nodes["model.jaffle_shop.orders"].(map[string]any)["columns"].(map[string]any), "order_total")
	stg := nodes["model.jaffle_shop.stg_customers"].(map[string]any)
	stg["raw_code"] = fmt.Sprint(stg["raw_code"]) + "\n-- trimmed names"
	b, _ := json.Marshal(m)
	pr = filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(pr, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return base, pr
}

// dbtexposures_impact against the emulators: the pull request breaks the
// dashboard that uses orders.order_total, affects those downstream of
// stg_customers, and a CI schema changes nothing; a postcondition fails the
// plan on it; listed changes are affected at most; and the arguments say
// what is missing.
func TestAccImpact(t *testing.T) {
	base, pr := prManifest(t)
	providers := demoTools(t)
	addr := "data.dbtexposures_impact.pr"
	config := func(body string) string {
		return providers + fmt.Sprintf(`data "dbtexposures_impact" "pr" {
  manifest_path = %q
%s
}`, pr, body)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config(""),
			ExpectError: regexp.MustCompile(`(?s)Nothing to compare with.*base_manifest_path.*changed_nodes`),
		}, {
			Config:           config(fmt.Sprintf("  base_manifest_path = %q", base)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "changed_nodes.#", "2"),
				resource.TestCheckResourceAttr(addr, "changed_nodes.0", "model.jaffle_shop.orders"),
				resource.TestCheckResourceAttr(addr, "changed_nodes.1", "model.jaffle_shop.stg_customers"),
				resource.TestCheckResourceAttr(addr, "changes.0.columns.0", "order_total: removed"),
				// Three dashboards use orders.order_total; Power BI's through its dataset.
				resource.TestCheckResourceAttr(addr, "summary.breaking", "3"),
				resource.TestCheckResourceAttr(addr, "summary.affected", "2"),
				resource.TestCheckResourceAttr(addr, "impacts.0.dashboard", "Revenue by Store"),
				resource.TestCheckResourceAttr(addr, "impacts.0.reasons.0", "dataset uses model.jaffle_shop.orders.order_total, removed"),
				resource.TestCheckTypeSetElemNestedAttrs(addr, "impacts.*", map[string]string{"dashboard": "Revenue Overview", "severity": "breaking",
					"columns.0": "model.jaffle_shop.orders.order_total: removed"}),
				// Customer Cohorts reads customers, downstream of the rewritten stg_customers.
				resource.TestCheckTypeSetElemNestedAttrs(addr, "impacts.*", map[string]string{"dashboard": "Customer Cohorts", "severity": "affected",
					"paths.1": "model.jaffle_shop.stg_customers → model.jaffle_shop.customers"}),
				resource.TestCheckResourceAttr(addr, "summary.by_tool.0.tool", "powerbi"),
				resource.TestCheckResourceAttr(addr, "summary.by_tool.1.breaking", "2"),
				checkImpactMarkdown(addr),
			),
		}, {
			// The README's postcondition, on these manifests.
			Config: providers + strings.NewReplacer(`"target/manifest.json"`, fmt.Sprintf("%q", pr),
				`"prod-artifacts/manifest.json"`, fmt.Sprintf("%q", base)).Replace(readmeHCL(t, "**Fail the plan**")),
			ExpectError: regexp.MustCompile(`This change breaks 3 dashboard\(s\)\.`),
		}, {
			Config: config(`  changed_nodes = ["model.jaffle_shop.stg_orders"]`),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "summary.breaking", "0"),
				resource.TestCheckResourceAttr(addr, "changes.0.kinds.0", "listed"),
				resource.TestCheckResourceAttrWith(addr, "markdown", func(md string) error {
					if !strings.Contains(md, "not compared with a base manifest") {
						return fmt.Errorf("the comment does not say the changes were listed:\n%s", md)
					}
					return nil
				}),
			),
		}, {
			Config:      config(`  changed_nodes = ["model.jaffle_shop.nope"]`),
			ExpectError: regexp.MustCompile(`(?s)changed_nodes.*model.jaffle_shop.nope is not a model`),
		}},
	})
}

// checkImpactMarkdown: the comment links the breaking dashboard under its
// heading, says why, and keeps owners' e-mail addresses out.
func checkImpactMarkdown(addr string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		md := s.RootModule().Resources[addr].Primary.Attributes["markdown"]
		breaking := md[strings.Index(md, "#### Breaking"):]
		if !strings.HasPrefix(md, impact.CommentMarker) || !strings.Contains(breaking, "[Revenue Overview](") ||
			!strings.Contains(breaking, "order\\_total, removed") || strings.Contains(md, "@") {
			return fmt.Errorf("markdown:\n%s", md)
		}
		return nil
	}
}

// readmeHCL is the README's first hcl block after the text that starts with
// after: its recipes are what the tests run.
func readmeHCL(t *testing.T, after string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n"+after)
	_, block, ok2 := strings.Cut(rest, "```hcl\n")
	block, _, ok3 := strings.Cut(block, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("README.md has no hcl block after %q", after)
	}
	return block
}

// The README's check block warns in a real terraform plan when a change
// breaks a dashboard, and the plan still succeeds.
func TestAccImpactCheckBlockWarns(t *testing.T) {
	base, pr := prManifest(t)
	w := newCLIWorkspace(t, requiredProviders+demoTools(t)+fmt.Sprintf(`
data "dbtexposures_impact" "pr" {
  manifest_path      = %q
  base_manifest_path = %q
}
`, pr, base)+readmeHCL(t, "**Warn in `terraform plan`**"))
	out := w.mustRun("plan", "-input=false", "-no-color")
	if !regexp.MustCompile(`(?s)Warning: Check block assertion failed.*Breaks: Revenue by Store, Customer 360, Revenue Overview`).MatchString(out) {
		t.Fatalf("the check block did not warn:\n%s", out)
	}
}
