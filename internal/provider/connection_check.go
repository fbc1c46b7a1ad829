package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// A connection's status: whether dbt Cloud can read the BI tool through it.
const (
	statusOK          = "ok"
	statusRefused     = "refused"     // the tool refused the connection's settings
	statusUnreachable = "unreachable" // the tool, or dbt Cloud's read of it, failed
	statusUnknown     = "unknown"     // dbt Cloud did not let the provider ask
)

// biCheck is the outcome of asking dbt Cloud to read the BI tool through a
// connection, with why it could not ("" when it could).
type biCheck struct {
	status, message string
}

// check asks dbt Cloud for the top of the connection's collections, which
// makes it read the BI tool with the connection's settings, once.
func (c *connection) check(ctx context.Context, projectID, integrationID int64) biCheck {
	_, err := c.client.ListCollections(ctx, projectID, integrationID, "")
	var e *dbtcloud.APIError
	switch {
	case err == nil:
		return biCheck{statusOK, ""}
	case !errors.As(err, &e):
		return biCheck{statusUnreachable, err.Error()}
	}
	msg := e.UserMessage
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	switch {
	case !biUnreadable(err): // dbt Cloud refused our token, or does not know the connection
		return biCheck{statusUnknown, "dbt Cloud did not let the provider list the connection's collections: " + msg}
	case e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity:
		return biCheck{statusRefused, msg}
	}
	return biCheck{statusUnreachable, msg}
}

// argumentList is names written as the user writes them: "`a`, `b` and `c`".
func argumentList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}

// otherArguments are the tool's arguments but the secret.
func (k *connectionKind) otherArguments() []string {
	names := make([]string, len(k.args))
	for i, a := range k.args {
		names[i] = a.name
	}
	return names
}

// refusedCreate deletes the connection a create made when the tool refused
// its settings, so that nothing is left behind. Should the delete fail, the
// connection stays in state, and Terraform replaces it on the next apply.
func (r *connectionResource) refusedCreate(ctx context.Context, v *connectionValues, state *tfsdk.State, diags *diag.Diagnostics) {
	k := &r.kind
	arg := k.secretArgument(v)
	left := "It was deleted, so nothing is left behind."
	if err := r.remove(ctx, v.projectID, v.integrationID); err != nil {
		left = fmt.Sprintf("Deleting it failed (%s), so it is kept in state, and the next apply replaces it.", err)
		k.save(ctx, v, state, diags)
	}
	diags.AddAttributeError(path.Root(arg), k.tool.Label+" refused the new connection's settings",
		fmt.Sprintf("dbt Cloud could not read %s through the connection this apply created (%s): %s\n\n%s "+
			"Check `%s` (%s), then %s, and apply again.",
			k.tool.Label, subject(v.projectID, v.integrationID), v.check.message, left, arg, k.secretDoc, argumentList(k.otherArguments())))
}

// refusedUpdate explains an update whose settings the tool refused; the
// state keeps the previous secret, so the next apply sends the secret again.
func (r *connectionResource) refusedUpdate(v *connectionValues, sent []string, diags *diag.Diagnostics) {
	k := &r.kind
	if len(sent) == 0 {
		sent = []string{k.secretArgument(v)}
	}
	diags.AddAttributeError(path.Root(sent[0]), k.tool.Label+" refused the connection's new settings",
		fmt.Sprintf("dbt Cloud could not read %s through the connection (%s) after this update sent %s: %s\n\n"+
			"Fix %s and apply again. The refused secret is not recorded as applied: the next apply sends `%s` again, "+
			"with no need to change `%s_wo_version`.",
			k.tool.Label, subject(v.projectID, v.integrationID), argumentList(sent), v.check.message,
			argumentList(sent), k.secretArgument(v), k.secret))
}

// warnUnchecked warns when dbt Cloud could not say whether the tool accepts
// the connection's settings: a BI tool that is down never blocks an apply.
func (r *connectionResource) warnUnchecked(v *connectionValues, diags *diag.Diagnostics) {
	if v.check.status == statusOK {
		return
	}
	label := r.kind.tool.Label
	diags.AddWarning(label+" connection saved but not checked",
		fmt.Sprintf("dbt Cloud could not read %s through the connection (%s) now: %s\n\n"+
			"The connection was saved, and its `status` is %q. Every refresh checks it again.",
			label, subject(v.projectID, v.integrationID), v.check.message, v.check.status))
}

// statusDoc documents a connection's status attributes.
func statusDoc(label string) (status, message string) {
	return "Whether dbt Cloud can read " + label + " through this connection, as the last refresh or apply found: `ok`; " +
			"`refused` when " + label + " refused the connection's settings; `unreachable` when " + label + ", or dbt Cloud's " +
			"read of it, failed; `unknown` when dbt Cloud would not let the provider ask. The provider asks by listing the " +
			"connection's collections (one read of " + label + "). It is unknown in a plan that changes the connection. " +
			"A failing drift check needs a `postcondition` on it (see the example).",
		"Why dbt Cloud cannot read " + label + " through this connection, as it said; empty when `status` is `ok`."
}

// checkedDoc is the part of a connection's description about its check.
func checkedDoc(label, secret string) string {
	return "Creating or updating the connection makes dbt Cloud read " + label + " through it, once. If " + label +
		" refuses the settings, the apply fails and names the argument to fix: a refused create deletes what it made, and a " +
		"refused update keeps the previous `" + secret + "_wo_version` in state, so the corrected secret goes out on the next " +
		"apply. An unreachable " + label + " only warns. `status` says whether dbt Cloud can read " + label + " now; with " +
		"a `postcondition` on it (see the example), a drift check fails while a plan that carries the fix does not."
}
