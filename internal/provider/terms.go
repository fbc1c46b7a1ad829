package provider

import "strings"

// connectionTerms renames the fields of dbt Cloud's lineage integration config,
// as dbt Cloud and dbtexposures-server name them in errors, to the arguments of
// dbtexposures_tableau_connection that set them. Longer names come first.
var connectionTerms = strings.NewReplacer(
	"config.token_name", "token_name",
	"config.token", "token_wo (or token)",
	"config.site_id", "site_id",
	"config.host", "host",
)

// termsError is an error from dbt Cloud about a connection, worded with the
// Terraform arguments; errors.As still finds the original.
type termsError struct{ err error }

func (e termsError) Error() string { return connectionTerms.Replace(e.err.Error()) }
func (e termsError) Unwrap() error { return e.err }

// inConnectionTerms words err with the connection's Terraform arguments.
func inConnectionTerms(err error) error {
	if err == nil {
		return nil
	}
	return termsError{err}
}
