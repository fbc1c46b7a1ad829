package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testAccProtoV6ProviderFactories runs the provider in-process for acceptance tests.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"dbtexposures": NewProtocol6("test"),
}

// TestMain points terraform-plugin-testing at the terraform on PATH, so that
// acceptance tests never download a Terraform binary.
func TestMain(m *testing.M) {
	if tableautest.ServeChild() { // a benchmark's Tableau site, in a process of its own
		return
	}
	if os.Getenv("TF_ACC") != "" && os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		path, err := exec.LookPath("terraform")
		if err != nil {
			fmt.Fprintln(os.Stderr, "TF_ACC is set but no terraform is on PATH; install Terraform 1.11 or later")
			os.Exit(1)
		}
		os.Setenv("TF_ACC_TERRAFORM_PATH", path)
	}
	// Acceptance tests must not pick up a developer's real dbt Cloud settings.
	for _, v := range []string{EnvHostURL, EnvAccountID, EnvToken} {
		os.Unsetenv(v)
	}
	os.Exit(m.Run())
}

// providerBlock configures the provider for a servertest server. An empty
// token leaves it to DBT_CLOUD_TOKEN.
func providerBlock(hostURL string, accountID int64, token string) string {
	tokenLine := ""
	if token != "" {
		tokenLine = fmt.Sprintf("token       = %q", token)
	}
	return fmt.Sprintf(`
provider "dbtexposures" {
  host_url    = %q
  account_id  = %d
  %s
  max_retries = 1
}
`, hostURL, accountID, tokenLine)
}

// TestEveryDataSourceIsConfigured holds every data source to Configure, once
// for all of them: without it, a data source would read with no settings.
func TestEveryDataSourceIsConfigured(t *testing.T) {
	p := New("test")()
	for _, newDataSource := range p.DataSources(context.Background()) {
		ds := newDataSource()
		if _, ok := ds.(datasource.DataSourceWithConfigure); !ok {
			t.Errorf("%T has no Configure", ds)
		}
	}
}
