package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/demo"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// IDs of the demo's Tableau site and Power BI tenant.
const (
	demoFinanceProject = "00000003-0000-4000-8000-000000000002"
	demoCustomer360    = "00000004-0000-4000-8000-000000000003"
	demoJaffleFinance  = "0000000a-0000-4000-8000-000000000001"
	demoCustomerCohort = "0000000b-0000-4000-8000-000000000002"
)

// savedPlanSelections plans into a file and reads the selections' planned
// `selected` from `terraform show -json`, as a reviewer's tooling would.
func savedPlanSelections(t *testing.T, w *cliWorkspace) (map[string][]string, string) {
	t.Helper()
	out := w.mustRun("plan", "-input=false", "-no-color", "-out=first.tfplan")
	js, code := w.run("show", "-json", "first.tfplan")
	if code != 0 {
		t.Fatalf("terraform show -json exited %d:\n%s", code, js)
	}
	sels, err := demo.PlannedSelections([]byte(js[strings.Index(js, "{"):]))
	if err != nil {
		t.Fatalf("%v\nthe plan:\n%s", err, out)
	}
	return sels, out
}

// applyThenEmpty applies the saved plan (the apply checks the names against
// the connection) and plans again: the second plan must be empty.
func applyThenEmpty(t *testing.T, w *cliWorkspace) {
	t.Helper()
	w.mustRun("apply", "-input=false", "-no-color", "first.tfplan")
	if out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the plan after apply is not empty (exit %d):\n%s", code, out)
	}
}

// The connection and the selection are created in one plan. The connection
// does not exist yet, so dbt Cloud cannot name the selected items; the
// provider's own Tableau settings do, with paths, and the apply agrees.
func TestAccSelectionNamedOnFirstPlan_tableau(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	w := newCLIWorkspace(t, requiredProviders+fmt.Sprintf(`
provider "dbtexposures" {
  host_url   = %q
  account_id = %d
  token      = %q%s
}

data "dbtexposures_tableau_projects" "all" {}
`, srv.HostURL, srv.AccountID, srv.Token, tableauHCL(tab, f))+
		connectionHCL(srv.ProjectID, tab.URL, f, f.PersonalAccessToken.Secret)+fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [for p in data.dbtexposures_tableau_projects.all.projects : p.id if p.path == "Jaffle Shop/Finance"]
  workbook_ids  = [%q]
}
`, srv.ProjectID, demoCustomer360))
	sels, _ := savedPlanSelections(t, w)
	want := []string{"dashboard: Jaffle Shop/Marketing/Customer 360", "folder: Jaffle Shop/Finance"}
	if got := sels["dbtexposures_auto_exposure_selection.s"]; !slices.Equal(got, want) {
		t.Fatalf("the first plan selects %q, want %q", got, want)
	}
	applyThenEmpty(t, w)
}

// powerbiFirstPlan is a Power BI connection and its selection in one
// configuration; discovery adds the provider's powerbi settings for tenant.
func powerbiFirstPlan(srv *servertest.Server, tenantID, clientID, secret, discoveryURL string) string {
	discovery := ""
	if discoveryURL != "" {
		discovery = powerbiHCL(tenantID, clientID, secret, discoveryURL)
	}
	return requiredProviders + fmt.Sprintf(`
provider "dbtexposures" {
  host_url   = %q
  account_id = %d
  token      = %q%s
}

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
  report_ids    = [%q]
}
`, srv.HostURL, srv.AccountID, srv.Token, discovery, srv.ProjectID, tenantID, clientID, secret, srv.ProjectID, demoJaffleFinance, demoCustomerCohort)
}

// Likewise for Power BI, named through the provider's powerbi settings.
func TestAccSelectionNamedOnFirstPlan_powerbi(t *testing.T) {
	pf, pbi := demoPowerBITenant(t)
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL}))
	w := newCLIWorkspace(t, powerbiFirstPlan(srv, pf.TenantID, pf.ClientID, pf.ClientSecret, pbi.URL))
	sels, _ := savedPlanSelections(t, w)
	want := []string{"dashboard: Jaffle Finance/Customer Cohorts", "folder: Jaffle Finance"}
	if got := sels["dbtexposures_auto_exposure_selection.s"]; !slices.Equal(got, want) {
		t.Fatalf("the first plan selects %q, want %q", got, want)
	}
	applyThenEmpty(t, w)
}

// Without discovery settings the plan cannot name the items: `selected` is
// known after apply, and one warning says why and what to set.
func TestAccSelectionFirstPlanWithoutDiscoverySaysWhyOnce(t *testing.T) {
	pf, pbi := demoPowerBITenant(t)
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL}))
	w := newCLIWorkspace(t, powerbiFirstPlan(srv, pf.TenantID, pf.ClientID, pf.ClientSecret, ""))
	out := w.mustRun("plan", "-input=false", "-no-color", "-out=first.tfplan")
	if n := strings.Count(out, "Warning: Selection names known after apply"); n != 1 {
		t.Fatalf("%d warnings about unnamed items, want one:\n%s", n, out)
	}
	if !regexp.MustCompile(words("`tableau`: Tableau is not configured; `powerbi`: Power BI is not configured") + `(?s).*` +
		words("set the provider's `tableau` or `powerbi` settings")).MatchString(out) {
		t.Fatalf("the warning does not say what to set:\n%s", out)
	}
	js, _ := w.run("show", "-json", "first.tfplan")
	if _, err := demo.PlannedSelections([]byte(js[strings.Index(js, "{"):])); err == nil || !strings.Contains(err.Error(), "known after apply") {
		t.Fatalf("the plan names items it cannot know: %v", err)
	}
	applyThenEmpty(t, w)
}

// Discovery that reads another tenant than the connection names the items
// otherwise: the apply fails clearly and changes nothing.
func TestAccSelectionFirstPlanDifferentTenantFailsApply(t *testing.T) {
	pf, pbi := demoPowerBITenant(t)
	_, other := demoPowerBITenant(t, "Jaffle Finance", "Finance (renamed)")
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: other.URL, LoginURL: other.URL}))
	w := newCLIWorkspace(t, powerbiFirstPlan(srv, pf.TenantID, pf.ClientID, pf.ClientSecret, pbi.URL))
	savedPlanSelections(t, w)
	out, code := w.run("apply", "-input=false", "-no-color", "first.tfplan")
	if code == 0 || !regexp.MustCompile(`(?s)lists the selection otherwise than the plan.*folder Jaffle Finance.*folder Finance \(renamed\)`).MatchString(out) {
		t.Fatalf("apply with another tenant's names: exit %d\n%s", code, out)
	}
	if ws, err := srv.Store.Watches(context.Background(), 1); err != nil || len(ws) != 0 {
		t.Fatalf("the failed apply watches %v (%v)", ws, err)
	}
}
