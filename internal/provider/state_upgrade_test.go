package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// requiredProviders starts the configuration of a CLI workspace.
const requiredProviders = `
terraform {
  required_providers {
    dbtexposures = { source = "dbtexposures/dbtexposures" }
  }
}
`

// connectionHCL is connection "c" of the project to an emulated Tableau site,
// with the token in the configuration.
func connectionHCL(projectID int64, host string, f *emulator.Fixture, secret string) string {
	return fmt.Sprintf(`
resource "dbtexposures_tableau_connection" "c" {
  project_id = %d
  host       = %q
  site_id    = %q
  token_name = %q
  token      = %q
}
`, projectID, host, f.Site.ContentURL, f.PersonalAccessToken.Name, secret)
}

// cliWorkspace runs the real terraform CLI against this provider, built as a
// binary and installed from a local mirror, in a folder of its own. It is for
// what terraform-plugin-testing cannot do: start from a state written by an
// earlier release, and read the plan as a reviewer sees it.
type cliWorkspace struct {
	t   *testing.T
	dir string
	env []string
}

func newCLIWorkspace(t *testing.T, config string) *cliWorkspace {
	t.Helper()
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set: run with make test (TF_ACC=1 and terraform on PATH)")
	}
	root := t.TempDir()
	const version = "0.0.1"
	platform := runtime.GOOS + "_" + runtime.GOARCH
	bin := filepath.Join(root, "mirror", "registry.terraform.io", "dbtexposures", "dbtexposures", version, platform, "terraform-provider-dbtexposures_v"+version)
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(root, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w := &cliWorkspace{t: t, dir: filepath.Join(root, "work"),
		env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=")}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w.write("main.tf", config)
	w.mustRun("init", "-input=false", "-no-color", "-plugin-dir="+filepath.Join(root, "mirror"))
	return w
}

func (w *cliWorkspace) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// run runs terraform and returns its output and exit code.
func (w *cliWorkspace) run(args ...string) (string, int) {
	w.t.Helper()
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode()
	}
	if err != nil {
		w.t.Fatalf("terraform %s: %v", args[0], err)
	}
	return out.String(), 0
}

func (w *cliWorkspace) mustRun(args ...string) string {
	w.t.Helper()
	out, code := w.run(args...)
	if code != 0 {
		w.t.Fatalf("terraform %s exited %d:\n%s", args[0], code, out)
	}
	return out
}

// A state written by release 0.1.0 (schema version 0, `selected` a list) is
// upgraded with an empty plan; after it, adding the folder "Archive", which
// sorts first, reads in the plan as one added item and no renamed ones.
func TestAccAutoExposureSelection_upgradesReleaseZeroOneState(t *testing.T) {
	testSelectionUpgrade(t, "selection-v0.tfstate")
}

// A version 1 state (before report_ids) plans empty too, with and without refresh.
func TestAccAutoExposureSelection_upgradesVersionOneState(t *testing.T) {
	testSelectionUpgrade(t, "selection-v1.tfstate")
}

// A version 2 state (before paths) plans empty too; the refresh adds the paths.
func TestAccAutoExposureSelection_upgradesVersionTwoState(t *testing.T) {
	testSelectionUpgrade(t, "selection-v2.tfstate")
}

func testSelectionUpgrade(t *testing.T, stateFile string) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	host, site, name, tok := tab.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret
	ctx := context.Background()
	in, err := srv.Client(t).CreateLineageIntegration(ctx, srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	const finance, customer360, supplyChain, archive = "00000003-0000-4000-8000-000000000002", "00000004-0000-4000-8000-000000000003", "00000004-0000-4000-8000-000000000004", "00000003-0000-4000-8000-000000000006"
	if _, err := srv.Client(t).UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{
		{Identifier: finance, Name: "Finance", Type: dbtcloud.ItemFolder},
		{Identifier: customer360, Name: "Customer 360", Type: dbtcloud.ItemDashboard},
		{Identifier: supplyChain, Name: "Supply Chain", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join("testdata", stateFile))
	if err != nil {
		t.Fatal(err)
	}
	config := func(folders ...string) string {
		return requiredProviders + fmt.Sprintf(`%s
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = %d
  folder_ids    = [%s]
  workbook_ids  = [%q, %q]
}
`, providerBlock(srv.HostURL, srv.AccountID, srv.Token), srv.ProjectID, in.ID, quoted(folders), customer360, supplyChain)
	}

	w := newCLIWorkspace(t, config(finance))
	w.write("terraform.tfstate", string(state))
	if out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color", "-refresh=false"); code != 0 {
		t.Fatalf("the plan -refresh=false over %s is not empty (exit %d):\n%s", stateFile, code, out)
	}
	if out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the plan over %s is not empty (exit %d):\n%s", stateFile, code, out)
	}
	w.mustRun("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	var upgraded struct {
		Resources []struct {
			Instances []struct {
				SchemaVersion int `json:"schema_version"`
			} `json:"instances"`
		} `json:"resources"`
	}
	b, _ := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err := json.Unmarshal(b, &upgraded); err != nil || upgraded.Resources[0].Instances[0].SchemaVersion != selectionSchemaVersion {
		t.Fatalf("the state was not upgraded to schema version %d: %v\n%s", selectionSchemaVersion, err, b)
	}
	if !regexp.MustCompile(`"path":\s*"Jaffle Shop/Finance"`).Match(b) {
		t.Fatalf("the refresh after the upgrade did not record the items' paths:\n%s", b)
	}

	w.write("main.tf", config(archive, finance))
	out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code != 2 {
		t.Fatalf("adding Archive: plan exit %d, want 2 (changes):\n%s", code, out)
	}
	if !regexp.MustCompile(`\+ \{\s+\+ identifier = "` + archive + `"\s+\+ name\s+= "Archive"`).MatchString(out) {
		t.Fatalf("the plan does not show Archive added as one item:\n%s", out)
	}
	if strings.Contains(out, "~ name") || strings.Contains(out, "- {") {
		t.Fatalf("the plan shows renamed or removed items where one was added:\n%s", out)
	}
}
