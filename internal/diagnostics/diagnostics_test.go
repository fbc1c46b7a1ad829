package diagnostics

import (
	"errors"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// Each Tableau failure gets one hint in the provider's arguments; only an
// answer with no specific hint gets the checklist.
func TestTableauHintsNameTheProviderArguments(t *testing.T) {
	cases := []struct {
		err       error
		want, not string
	}{
		{&tableau.Error{Status: 401, Code: "401001", Hint: "client words"}, "Tableau refused the personal access token: check tableau.token_name and tableau.token", "client words"},
		{&tableau.Error{Status: 403, Code: "403004"}, "may not read this content: check its site role", "Check the personal access token ("},
		{&tableau.Error{Status: 404, Code: "404003"}, "does not know the REST API version asked for; check tableau.host", "Check the personal access token ("},
		{&tableau.Error{Status: 200, Code: "FEATURE_DISABLED"}, "The Metadata API is disabled on this Tableau: enable it", "Check the personal access token ("},
		{&tableau.Error{Status: 503}, "Tableau was busy or failing and retries ran out: run again later.", "Check the personal access token ("},
		{&tableau.Error{Status: 200, Code: "RATE_EXCEEDED"}, "Tableau was busy or failing", "Check the personal access token ("},
		{errors.New("dial tcp: connection refused"), "Check tableau.host (TABLEAU_HOST) and that it is reachable from here.", "token_name"},
		{&tableau.SessionEndedError{Host: "tableau.example.com", Times: 7}, "another process signing in with the same personal access token: give the provider's discovery (tableau.token_name", "reachable"},
		{&tableau.Error{Status: 400, Code: "400000"}, "Check the personal access token (tableau.token_name and tableau.token, or TABLEAU_TOKEN_NAME and TABLEAU_TOKEN)", ""},
	}
	for _, c := range cases {
		d := Tableau("read Tableau projects", "tableau.example.com", c.err).Detail()
		if !strings.Contains(d, c.want) || (c.not != "" && strings.Contains(d, c.not)) {
			t.Errorf("%v:\n%s\nwant %q, not %q", c.err, d, c.want, c.not)
		}
		if !strings.Contains(d, "Reading from Tableau at tableau.example.com failed.") {
			t.Errorf("%v: the host is not named:\n%s", c.err, d)
		}
	}
}

// Each Power BI refusal names the provider argument (and its environment
// variable) to fix; no detail carries an "Error:" line of its own.
func TestPowerBIHintsNameTheProviderArguments(t *testing.T) {
	cases := []struct {
		err       error
		want, not string
	}{
		{&powerbi.Error{Status: 401, Code: "invalid_client", Hint: "Check client_secret"}, "check powerbi.client_secret (or POWERBI_CLIENT_SECRET)", "Check client_secret"},
		{&powerbi.Error{Status: 400, Code: "unauthorized_client"}, "check powerbi.client_id (or POWERBI_CLIENT_ID)", ""},
		{&powerbi.Error{Status: 400, Code: "invalid_request"}, "Check powerbi.tenant_id (or POWERBI_TENANT_ID)", ""},
		{&powerbi.Error{Status: 401, Code: "PowerBINotAuthorizedException", Hint: "Put the app's service principal in a security group"}, "Put the app's service principal", "powerbi.client_secret"},
		{errors.New("dial tcp: connection refused"), "Check powerbi.api_url and powerbi.login_url", "client_secret"},
	}
	for _, c := range cases {
		d := PowerBI("scan Power BI", "contoso", c.err)
		if !strings.Contains(d.Detail(), c.want) || (c.not != "" && strings.Contains(d.Detail(), c.not)) || strings.Contains(d.Detail(), "Error:") {
			t.Errorf("%v:\n%s\nwant %q, not %q", c.err, d.Detail(), c.want, c.not)
		}
		if !strings.Contains(d.Detail(), `Reading Power BI tenant "contoso" failed.`) || d.Summary() != "Could not scan Power BI" {
			t.Errorf("%v: %s / %s", c.err, d.Summary(), d.Detail())
		}
	}
}

// A server error does not claim that nothing changed: after a 5xx that is not known.
func TestServerErrorsClaimNothingTheyCannotKnow(t *testing.T) {
	d := DBTCloud("update the Tableau connection", "project 1, connection 2", &dbtcloud.APIError{Method: "PATCH", Path: "/x", StatusCode: 502}).Detail()
	if !strings.Contains(d, "dbt Cloud answered with a server error (after retries, where retrying is safe): run again later.") || strings.Contains(d, "nothing was changed") {
		t.Fatalf("5xx diagnostic: %s", d)
	}
}

// A diagnostic's detail never carries an "Error:" line of its own: Terraform
// prints one heading per diagnostic, and a second would read as a second error.
func TestDetailsCarryNoErrorHeading(t *testing.T) {
	for _, d := range []interface{ Detail() string }{
		DBTCloud("create Tableau connection", "project 1", &dbtcloud.APIError{Method: "POST", Path: "/x", StatusCode: 500}),
		Tableau("read Tableau projects", "h", &tableau.Error{Status: 401, Code: "401001"}),
		PowerBI("scan Power BI", "t", &powerbi.Error{Status: 401, Code: "invalid_client"}),
	} {
		if strings.Contains(d.Detail(), "Error:") {
			t.Errorf("detail carries an Error: line:\n%s", d.Detail())
		}
	}
}
