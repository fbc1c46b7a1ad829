package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// tofuConfig is a tofu user's configuration: the connection's token is
// write-only, from an ephemeral variable; the provider's settings come from
// the environment.
const tofuConfig = `terraform {
  required_providers {
    dbtexposures = {
      source  = "dbtexposures/dbtexposures"
      version = "= %[1]s"
    }
  }
}

variable "lineage_pat_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "dbtexposures_tableau_connection" "analytics" {
  project_id       = %[2]d
  host             = %[3]q
  site_id          = %[4]q
  token_name       = %[5]q
  token_wo         = var.lineage_pat_secret
  token_wo_version = 1
}

data "dbtexposures_tableau_projects" "all" {}

resource "dbtexposures_auto_exposure_selection" "analytics" {
  project_id    = dbtexposures_tableau_connection.analytics.project_id
  connection_id = dbtexposures_tableau_connection.analytics.integration_id
  folder_ids    = [for p in data.dbtexposures_tableau_projects.all.projects : p.id if p.path == "Jaffle Shop/Finance"]
}

data "dbtexposures_exposures" "selected" {
  manifest_path = %[6]q
  project_id    = dbtexposures_auto_exposure_selection.analytics.project_id
  connection_id = dbtexposures_auto_exposure_selection.analytics.connection_id
}

output "exposures" {
  value = [for e in data.dbtexposures_exposures.selected.exposures : e.name]
}
`

// OpenTofu end to end: make install into a temporary HOME, then the real
// tofu against the real server and the Tableau emulator applies a connection
// whose token comes from an ephemeral variable, a selection and the
// exposures; the second plan is empty, no secret is in the state, and
// destroy removes the connection from the server.
func TestOpenTofuEndToEnd(t *testing.T) {
	tofu := tofuBin(t)
	f, err := emulator.LoadFixture(filepath.Join("examples", "demo", "tableau-site.json"))
	check(t, err)
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	home := t.TempDir()
	run(t, ".", nil, "make", "-s", "install", "PLUGIN_DIR="+filepath.Join(home, ".terraform.d", "plugins"))
	manifest, err := filepath.Abs(filepath.Join("examples", "demo", "manifest.json"))
	check(t, err)
	version := strings.TrimSpace(string(readFile(t, "VERSION")))
	work := t.TempDir()
	check(t, os.WriteFile(filepath.Join(work, "main.tf"), fmt.Appendf(nil, tofuConfig, version, srv.ProjectID,
		tab.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, manifest), 0o644))
	cli := filepath.Join(home, "tofurc")
	check(t, os.WriteFile(cli, nil, 0o644))
	secrets := []string{f.PersonalAccessToken.Secret, srv.Token}
	env := []string{"HOME=" + home, "TF_CLI_CONFIG_FILE=" + cli, "TF_IN_AUTOMATION=1", "TF_PLUGIN_CACHE_DIR=", "TF_LOG=",
		"DBT_CLOUD_HOST_URL=" + srv.HostURL, fmt.Sprint("DBT_CLOUD_ACCOUNT_ID=", srv.AccountID), "DBT_CLOUD_TOKEN=" + srv.Token,
		"TABLEAU_HOST=" + tab.URL, "TABLEAU_SITE_ID=" + f.Site.ContentURL, "TABLEAU_TOKEN_NAME=" + f.PersonalAccessToken.Name,
		"TABLEAU_TOKEN=" + f.PersonalAccessToken.Secret, "TF_VAR_lineage_pat_secret=" + f.PersonalAccessToken.Secret}

	if out := run(t, work, env, tofu, "init", "-input=false", "-no-color"); !strings.Contains(out, "Installed dbtexposures/dbtexposures v"+version) {
		t.Fatalf("tofu init did not install the provider from the implied mirror:\n%s", out)
	}
	run(t, work, env, tofu, "apply", "-auto-approve", "-input=false", "-no-color")
	tofuPlanIsEmpty(t, tofu, work, env)
	state := string(readFile(t, filepath.Join(work, "terraform.tfstate")))
	for _, s := range secrets {
		if strings.Contains(state, s) {
			t.Fatal("a secret is in the state")
		}
	}
	var outputs map[string]struct{ Value []string }
	check(t, json.Unmarshal([]byte(run(t, work, env, tofu, "output", "-json")), &outputs))
	// The Finance folder holds three workbooks, one of them two levels down.
	if got := strings.Join(outputs["exposures"].Value, ","); got != "quarterly_board_pack,raw_orders_audit,revenue_overview" {
		t.Fatalf("the selection's exposures are %q", got)
	}
	if n := connections(t, srv); n != 1 {
		t.Fatalf("the server has %d connections after apply; want 1", n)
	}
	run(t, work, env, tofu, "destroy", "-auto-approve", "-input=false", "-no-color")
	if n := connections(t, srv); n != 0 {
		t.Fatalf("destroy left %d connections on the server", n)
	}
}

func connections(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	list, err := srv.Client(t).ListLineageIntegrations(context.Background(), srv.ProjectID)
	check(t, err)
	return len(list)
}

// tofuPlanIsEmpty fails unless `tofu plan -detailed-exitcode` finds nothing to do.
func tofuPlanIsEmpty(t *testing.T, tofu, dir string, env []string) {
	t.Helper()
	cmd := exec.Command(tofu, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the second plan is not empty (%v):\n%s", err, out)
	}
}
