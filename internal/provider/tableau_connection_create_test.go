package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// lossyProxy forwards everything to the server, but loses the server's answer
// to the first create: the integration is made, the client gets a 502. With
// failLists, listing the integrations fails too.
func lossyProxy(t *testing.T, srv *servertest.Server, failLists ...bool) (hostURL string, creates *atomic.Int32) {
	t.Helper()
	target, _ := url.Parse(srv.URL)
	creates = &atomic.Int32{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		lineage := strings.HasSuffix(r.URL.Path, "/integrations/lineage/")
		if r.Method == http.MethodPost && lineage && creates.Add(1) == 1 {
			return errors.New("the proxy lost the answer")
		}
		if r.Method == http.MethodGet && lineage && len(failLists) > 0 && failLists[0] {
			return errors.New("the proxy cannot reach dbt Cloud")
		}
		return nil
	}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)
	return ps.URL + "/api", creates
}

func integrationsOf(t *testing.T, srv *servertest.Server) []dbtcloud.LineageIntegration {
	t.Helper()
	list, err := srv.Client(t).ListLineageIntegrations(context.Background(), srv.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// The answer to the create is lost after dbt Cloud made the integration: the
// create is not sent again, the integration is found and adopted, the apply
// succeeds in one run, and the next plan is empty.
func TestAccTableauConnection_lostCreateResponseIsAdopted(t *testing.T) {
	srv := servertest.New(t)
	hostURL, creates := lossyProxy(t, srv)
	cfg := providerBlock(hostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
resource "dbtexposures_tableau_connection" "test" {
  project_id = %d
  host       = "10az.online.tableau.com"
  site_id    = "acme"
  token_name = "dbt-lineage"
  token      = "the-pat-secret"
}
`, srv.ProjectID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				func(s *terraform.State) error {
					list := integrationsOf(t, srv)
					if len(list) != 1 {
						return fmt.Errorf("the server holds %d integrations, want exactly 1", len(list))
					}
					if got := creates.Load(); got != 1 {
						return fmt.Errorf("the create was sent %d times, want once", got)
					}
					if id := s.RootModule().Resources[connAddr].Primary.ID; id != fmt.Sprintf("%d:%d", srv.ProjectID, list[0].ID) {
						return fmt.Errorf("state has %s, the server integration %d", id, list[0].ID)
					}
					if tok := storedToken(t, srv, s); tok != "the-pat-secret" {
						return fmt.Errorf("the adopted integration holds token %q", tok)
					}
					return nil
				},
			),
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// A Tableau integration made outside Terraform is never taken over silently:
// the apply fails and gives the exact import command.
func TestAccTableauConnection_existingIntegrationNamesImportCommand(t *testing.T) {
	srv := servertest.New(t)
	host, site, name, tok := "other.online.tableau.com", "ui-made", "ui-token", "ui-secret"
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("terraform import dbtexposures_tableau_connection.<name> %d:%d", srv.ProjectID, in.ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      connConfigToken(srv, "acme", "the-pat-secret"),
			ExpectError: regexp.MustCompile(`(?s)already has a Tableau connection.*` + regexp.QuoteMeta(cmd)),
		}},
	})
	if n := len(integrationsOf(t, srv)); n != 1 {
		t.Fatalf("the failed apply left %d integrations, want the one made outside Terraform", n)
	}
}

// When the check after a lost create fails too, the error says that it is not
// known whether the integration was made, and how to find out.
func TestAccTableauConnection_lostCreateAndFailedCheck(t *testing.T) {
	srv := servertest.New(t)
	hostURL, _ := lossyProxy(t, srv, true)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providerBlock(hostURL, srv.AccountID, srv.Token) + fmt.Sprintf(`
resource "dbtexposures_tableau_connection" "test" {
  project_id = %d
  host       = "10az.online.tableau.com"
  site_id    = "acme"
  token_name = "dbt-lineage"
  token      = "the-pat-secret"
}
`, srv.ProjectID),
			ExpectError: regexp.MustCompile(`(?s)Could not check what the failed create left behind.*` + words("not known whether the create took effect") +
				".*" + words(fmt.Sprintf("terraform import dbtexposures_tableau_connection.<name> %d:<integration_id>", srv.ProjectID))),
		}},
	})
}

// words matches a phrase however Terraform wraps it: its words, in order,
// separated by any white space.
func words(phrase string) string {
	ws := strings.Fields(phrase)
	for i, w := range ws {
		ws[i] = regexp.QuoteMeta(w)
	}
	return strings.Join(ws, `\s+`)
}
