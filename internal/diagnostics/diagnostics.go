// Package diagnostics turns client errors into Terraform diagnostics that say
// what failed, on which object, what to do next, and the original error.
package diagnostics

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// DBTCloud builds an error diagnostic for a failed dbt Cloud call.
// action is like "create Tableau connection", identifier like "project 12, integration 34".
func DBTCloud(action, identifier string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(
		fmt.Sprintf("Could not %s", action),
		fmt.Sprintf("dbt Cloud did not %s (%s).\n\n%s\n\nError: %s", action, identifier, nextStep(err), err),
	)
}

func nextStep(err error) string {
	var apiErr *dbtcloud.APIError
	if !errors.As(err, &apiErr) {
		return "Check that host_url (DBT_CLOUD_HOST_URL) points at dbt Cloud's API, including /api, and that it is reachable from here."
	}
	switch code := apiErr.StatusCode; {
	case code == http.StatusUnauthorized:
		return "The API token was refused: check the provider's token (DBT_CLOUD_TOKEN) and that it has not expired."
	case code == http.StatusForbidden:
		return "The token may not access this object: check account_id (DBT_CLOUD_ACCOUNT_ID) and the token's permissions."
	case code == http.StatusNotFound:
		return "The object was not found: check account_id and project_id, and that it was not deleted outside Terraform."
	case code == http.StatusBadRequest:
		return "dbt Cloud rejected the request: fix the argument named in the message below."
	case code == http.StatusTooManyRequests:
		return "dbt Cloud rate-limited the requests and retries ran out: wait a few minutes, then run again."
	case code >= 500:
		return "dbt Cloud answered with a server error (after retries, where retrying is safe): run again later."
	default:
		return "See the message below."
	}
}

// Tableau builds an error diagnostic for a failed Tableau read: it names the
// host and says what to check.
func Tableau(action, host string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(
		fmt.Sprintf("Could not %s", action),
		fmt.Sprintf("Reading from Tableau at %s failed. Check the personal access token name and secret "+
			"(tableau.token_name and tableau.token, or TABLEAU_TOKEN_NAME and TABLEAU_TOKEN), the site ID "+
			"(tableau.site_id or TABLEAU_SITE_ID: the site's content URL), that the host is reachable, and that "+
			"the Metadata API is enabled on that Tableau.\n\nError: %s", host, err),
	)
}
