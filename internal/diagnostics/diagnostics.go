// Package diagnostics turns client errors into Terraform diagnostics that say
// what failed, on which object, what to do next, and the original error.
package diagnostics

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// DBTCloud builds an error diagnostic for a failed dbt Cloud call.
// action is like "create Tableau connection", identifier like "project 12, integration 34".
func DBTCloud(action, identifier string, err error) diag.Diagnostic {
	return diag.NewErrorDiagnostic(
		fmt.Sprintf("Could not %s", action),
		fmt.Sprintf("dbt Cloud did not %s (%s).\n\n%s\n\ndbt Cloud's answer: %s", action, identifier, nextStep(err), err),
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
		return "dbt Cloud rate-limited the requests and retries ran out: wait a few minutes, then run again. If other tools share the account, lower the provider's max_requests_per_minute (DBT_CLOUD_MAX_REQUESTS_PER_MINUTE)."
	case code >= 500:
		return "dbt Cloud answered with a server error (after retries, where retrying is safe): run again later."
	default:
		return "See the message below."
	}
}

// Tableau builds an error diagnostic for a failed Tableau read of the
// provider's tableau settings: it names the host, says what to check in the
// provider's arguments (one specific hint when Tableau's answer allows, the
// checklist otherwise) and gives Tableau's answer.
func Tableau(action, host string, err error) diag.Diagnostic {
	hint, reason := tableauHint(err)
	return diag.NewErrorDiagnostic(
		fmt.Sprintf("Could not %s", action),
		fmt.Sprintf("Reading from Tableau at %s failed. %s\n\nTableau's answer: %s", host, hint, reason),
	)
}

// PowerBI is the diagnostic of a failed read of Power BI with the provider's
// powerbi settings: what to change, in the provider's arguments, then what
// Power BI or Entra ID answered.
func PowerBI(action, tenant string, err error) diag.Diagnostic {
	hint, reason := powerbiHint(err)
	return diag.NewErrorDiagnostic(
		fmt.Sprintf("Could not %s", action),
		fmt.Sprintf("Reading Power BI tenant %q failed. %s\n\nPower BI's answer: %s", tenant, hint, reason),
	)
}

// powerbiHint says which provider argument to change for each refusal.
func powerbiHint(err error) (hint, reason string) {
	var pe *powerbi.Error
	if !errors.As(err, &pe) {
		return "Check powerbi.api_url and powerbi.login_url (the defaults are Power BI's public cloud) and that they are reachable from here.", err.Error()
	}
	reason = pe.Reason()
	switch {
	case pe.Code == "invalid_client":
		return "Entra ID refused the app's credentials: check powerbi.client_secret (or POWERBI_CLIENT_SECRET). It must be the " +
			"secret's value, not its ID, and not expired.", reason
	case pe.Code == "unauthorized_client":
		return "Entra ID does not know the app in this tenant: check powerbi.client_id (or POWERBI_CLIENT_ID) and powerbi.tenant_id " +
			"(or POWERBI_TENANT_ID).", reason
	case pe.Code == "invalid_request":
		return "Check powerbi.tenant_id (or POWERBI_TENANT_ID): the directory (tenant) ID or domain of the app registration.", reason
	case pe.Code == "invalid_scope":
		return "powerbi.login_url and powerbi.api_url must belong to the same cloud.", reason
	case pe.Hint != "":
		return pe.Hint + ".", reason // a tenant setting or a limit of Power BI's, not an argument
	}
	return "Check the provider's powerbi settings (or the POWERBI_* environment variables).", reason
}

func tableauHint(err error) (hint, reason string) {
	var se *tableau.SessionEndedError
	if errors.As(err, &se) {
		return "The usual cause is another process signing in with the same personal access token: give the provider's " +
			"discovery (tableau.token_name and tableau.token, or TABLEAU_TOKEN_NAME and TABLEAU_TOKEN) a token of its own, " +
			"not the one the dbt Cloud connection uses.", se.Reason()
	}
	var te *tableau.Error
	if !errors.As(err, &te) {
		return "Check tableau.host (TABLEAU_HOST) and that it is reachable from here.", err.Error()
	}
	reason = te.Reason()
	switch {
	case te.Code == "401001":
		return "Tableau refused the personal access token: check tableau.token_name and tableau.token (TABLEAU_TOKEN_NAME, TABLEAU_TOKEN), " +
			"that the token has not expired or been revoked, and tableau.site_id (TABLEAU_SITE_ID), the site's content URL.", reason
	case strings.HasPrefix(te.Code, "403"):
		return "The token's user may not read this content: check its site role and project permissions in Tableau.", reason
	case te.Code == "404003" || te.Code == "404001":
		return "This Tableau does not know the REST API version asked for; check tableau.host.", reason
	case te.Code == "FEATURE_DISABLED":
		return "The Metadata API is disabled on this Tableau: enable it (Tableau Server: tsm maintenance metadata-services enable).", reason
	case te.Status == http.StatusTooManyRequests || te.Status >= 500 || te.Code == "RATE_EXCEEDED":
		return "Tableau was busy or failing and retries ran out: run again later.", reason
	}
	return "Check the personal access token (tableau.token_name and tableau.token, or TABLEAU_TOKEN_NAME and TABLEAU_TOKEN), the site " +
		"(tableau.site_id or TABLEAU_SITE_ID: the site's content URL), that tableau.host is reachable, and that the Metadata API is " +
		"enabled on that Tableau.", reason
}
