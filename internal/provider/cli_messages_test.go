package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// The warnings a user reads in `terraform plan` while dbt Cloud cannot read
// Tableau: given once, in Terraform's terms, with the fix; and a changed
// selection's names known after apply.
func TestAccAutoExposureSelection_unreadableTableauWarnings(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t, server.WithTableauTTL(1))
	secret := f.PersonalAccessToken.Secret // the emulator's fixture changes when the token is rotated
	config := func(workbooks string) string {
		return requiredProviders + providerBlock(srv.HostURL, srv.AccountID, srv.Token) + connectionHCL(srv.ProjectID, tab.URL, f, secret) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  workbook_ids  = [%s]
}
`, srv.ProjectID, workbooks)
	}
	const customer360, supplyChain = `"00000004-0000-4000-8000-000000000003"`, `"00000004-0000-4000-8000-000000000004"`
	w := newCLIWorkspace(t, config(customer360))
	w.mustRun("apply", "-auto-approve", "-input=false", "-no-color")

	emu.RotatePAT("revoked-in-tableau")
	out := w.mustRun("plan", "-input=false", "-no-color")
	for _, want := range []string{
		"Warning: dbt Cloud cannot read the connection's Tableau site",
		"keeps its last known state",
		"bump token_wo_version",
		"token_name and token_wo (or token)", // the server's message, in the resource's arguments
		"No changes.",
	} {
		if !regexp.MustCompile(words(want)).MatchString(out) { // Terraform wraps long lines
			t.Errorf("the plan while Tableau refuses the token lacks %q", want)
		}
	}
	if strings.Contains(out, "config.token") {
		t.Error("the plan speaks of the API's config.token instead of the resource's arguments")
	}
	if n := strings.Count(out, "Warning: dbt Cloud cannot read"); n != 1 {
		t.Errorf("the warning is given %d times; once is enough", n)
	}

	w.write("main.tf", config(customer360+", "+supplyChain))
	out, _ = w.run("plan", "-input=false", "-no-color")
	for _, want := range []string{"Warning: Selection names known after apply", "] -> (known after apply)", "Plan: 0 to add, 1 to change"} {
		if !strings.Contains(out, want) {
			t.Errorf("a changed selection while Tableau refuses the token: the plan lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("terraform plan:\n%s", out)
	}
}

// A create whose answer is lost, and whose check cannot list the project's
// integrations either, says so and how to find out before applying again; one
// whose check finds the integration says it took it over.
func TestAccTableauConnection_lostCreateMessages(t *testing.T) {
	srv := servertest.New(t)
	hostURL, _ := lossyProxy(t, srv)
	config := requiredProviders + fmt.Sprintf(`%s
resource "dbtexposures_tableau_connection" "c" {
  project_id = %d
  host       = "10az.online.tableau.com"
  site_id    = "acme"
  token_name = "dbt-lineage"
  token      = "the-pat-secret"
}
`, providerBlock(hostURL, srv.AccountID, srv.Token), srv.ProjectID)
	w := newCLIWorkspace(t, config)
	out := w.mustRun("apply", "-auto-approve", "-input=false", "-no-color")
	for _, want := range []string{"Warning: Took over the Tableau connection a failed create made", "integration 1 of project 1", "Apply complete! Resources: 1 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply after a lost create lacks %q:\n%s", want, out)
		}
	}
}

// A wrong tableau.site_id read by two discovery data sources is one Error:
// per data source, and whichever Terraform prints first says what to fix.
func TestAccWrongTableauSiteIsOneErrorPerDataSource(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3, TablesPerWorkbook: 1})
	_, tab := tableautest.NewServer(t, f)
	w := newCLIWorkspace(t, requiredProviders+fmt.Sprintf(`
provider "dbtexposures" {
  tableau = {
    host       = %q
    site_id    = "not-the-site"
    token_name = %q
    token      = %q
  }
}

data "dbtexposures_tableau_projects" "all" {}

data "dbtexposures_tableau_workbooks" "all" {}
`, tab.URL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret))
	out, code := w.run("plan", "-input=false", "-no-color")
	if code == 0 {
		t.Fatalf("the plan succeeded with a wrong site:\n%s", out)
	}
	checkErrors(t, out, 2, "tableau.site_id (TABLEAU_SITE_ID)")
	if strings.Contains(out, "Check the personal access token (tableau.token_name") {
		t.Error("the generic checklist was added to an error with a specific hint")
	}
}

// A wrong powerbi.client_secret read by two Power BI data sources is one
// Error: per data source, naming the argument and its environment variable.
func TestAccWrongPowerBISecretIsOneErrorPerDataSource(t *testing.T) {
	pf, pbi := demoPowerBITenant(t)
	w := newCLIWorkspace(t, requiredProviders+fmt.Sprintf(`
provider "dbtexposures" {
  powerbi = {
    tenant_id     = %q
    client_id     = %q
    client_secret = "not-the-secret"
    api_url       = %q
    login_url     = %q
  }
}

data "dbtexposures_powerbi_workspaces" "all" {}

data "dbtexposures_powerbi_reports" "all" {}
`, pf.TenantID, pf.ClientID, pbi.URL, pbi.URL))
	out, code := w.run("plan", "-input=false", "-no-color")
	if code == 0 {
		t.Fatalf("the plan succeeded with a wrong client secret:\n%s", out)
	}
	checkErrors(t, out, 2, "powerbi.client_secret (or POWERBI_CLIENT_SECRET)")
	if strings.Contains(out, "Nothing else in the plan depends") || strings.Contains(out, "Check client_secret") {
		t.Error("the error claims what it cannot know, or names client_secret as the API does")
	}
}

// checkErrors: exactly n Error: headings, the first of which says fix.
func checkErrors(t *testing.T, out string, n int, fix string) {
	t.Helper()
	if got := strings.Count(out, "Error:"); got != n {
		t.Errorf("%d Error: headings, want %d (one per data source)", got, n)
	}
	if i := strings.Index(out, "Error:"); i < 0 || !regexp.MustCompile(words(fix)).MatchString(out[i:min(len(out), i+1500)]) {
		t.Errorf("the first error printed does not say %q", fix)
	}
	if t.Failed() {
		t.Logf("terraform plan:\n%s", out)
	}
}

// One mistake, one error: a refused dbt Cloud token is found once, when the
// provider is configured, before any resource; the plan shows that error
// alone, naming the argument to fix, and no raw HTTP status line after it.
func TestAccWrongDBTCloudTokenIsOneError(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 4, TablesPerWorkbook: 1})
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	config := func(token string) string {
		return requiredProviders + providerBlock(srv.HostURL, srv.AccountID, token) + connectionHCL(srv.ProjectID, tab.URL, f, f.PersonalAccessToken.Secret) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %[1]d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%[2]q]
}

resource "dbtexposures_active_exposures" "prod" {
  project_id     = %[1]d
  environment_id = 1
}
`, srv.ProjectID, f.Projects[0].ID)
	}
	w := newCLIWorkspace(t, config(srv.Token))
	w.mustRun("apply", "-auto-approve", "-input=false", "-no-color")
	w.write("main.tf", config("dbtx_not-the-token"))
	out, code := w.run("plan", "-input=false", "-no-color")
	if code == 0 {
		t.Fatalf("the plan succeeded with a wrong token:\n%s", out)
	}
	if n := strings.Count(out, "Error:"); n != 1 {
		t.Errorf("%d Error: headings; a wrong token is one mistake", n)
	}
	first := out[strings.Index(out, "Error:"):]
	for _, want := range []string{"dbt Cloud refused the API token", "provider's token (or DBT_CLOUD_TOKEN)"} {
		if !strings.Contains(first, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	if strings.Contains(out, "HTTP 401") {
		t.Error("a raw HTTP 401 line follows the explained error")
	}
	if t.Failed() {
		t.Logf("terraform plan:\n%s", out)
	}
}
