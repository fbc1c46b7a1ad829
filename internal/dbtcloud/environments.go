package dbtcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// The environment variables that turn on dbt Cloud's active exposures, and
// dbt Cloud's default interval between two refreshes of one extract.
const (
	EnvActiveExposures           = "DBT_ACTIVE_EXPOSURES"
	EnvActiveExposuresBuildAfter = "DBT_ACTIVE_EXPOSURES_BUILD_AFTER"
	DefaultBuildAfterMinutes     = 1440
)

// Environment is the part of dbt Cloud's EnvironmentV3Response this client reads.
type Environment struct {
	ID             int64   `json:"id"`
	AccountID      int64   `json:"account_id"`
	ProjectID      int64   `json:"project_id"`
	Name           string  `json:"name"`
	Type           string  `json:"type"`
	DeploymentType *string `json:"deployment_type"`
}

// GetEnvironment reads one environment of a project.
func (c *Client) GetEnvironment(ctx context.Context, projectID, id int64) (*Environment, error) {
	var out Environment
	path := fmt.Sprintf("/v3/accounts/%d/projects/%d/environments/%d/", c.accountID, projectID, id)
	if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EnvironmentFilter narrows ListEnvironments with the spec's query
// parameters; empty fields filter nothing.
type EnvironmentFilter struct {
	Name           string // name, exactly
	Type           string // deployment or development
	DeploymentType string // production or staging
}

// Matches reports whether e passes the filter. A server that ignores a query
// parameter would answer more; callers check each environment again.
func (f EnvironmentFilter) Matches(e *Environment) bool {
	deployment := ""
	if e.DeploymentType != nil {
		deployment = *e.DeploymentType
	}
	return (f.Name == "" || e.Name == f.Name) && (f.Type == "" || e.Type == f.Type) &&
		(f.DeploymentType == "" || deployment == f.DeploymentType)
}

// ListEnvironments lists a project's environments that match f, in ID order.
func (c *Client) ListEnvironments(ctx context.Context, projectID int64, f EnvironmentFilter) ([]Environment, error) {
	q := url.Values{}
	for k, v := range map[string]string{"name": f.Name, "type": f.Type, "deployment_type": f.DeploymentType} {
		if v != "" {
			q.Set(k, v)
		}
	}
	all, err := listAll[Environment](ctx, c, fmt.Sprintf("/v3/accounts/%d/projects/%d/environments/", c.accountID, projectID), q)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for i := range all {
		if f.Matches(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// EnvVarValue is one value of an environment variable, in one scope.
type EnvVarValue struct {
	ID    int64  `json:"id"`
	Value string `json:"value"`
}

// EnvVars is EnvVarEnvironmentData: the scopes ("project", then environment
// names) and each variable's values by scope.
type EnvVars struct {
	Environments []string                          `json:"environments"`
	Variables    map[string]map[string]EnvVarValue `json:"variables"`
}

// ProjectScope names a variable's project-wide default.
const ProjectScope = "project"

func (c *Client) envVarsPath(projectID int64, rest string) string {
	return fmt.Sprintf("/v3/accounts/%d/projects/%d/environment-variables/%s", c.accountID, projectID, rest)
}

// ListEnvVars reads every environment variable of a project, by environment.
func (c *Client) ListEnvVars(ctx context.Context, projectID int64) (*EnvVars, error) {
	var out EnvVars
	if _, err := c.do(ctx, http.MethodGet, c.envVarsPath(projectID, "environment/"), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateEnvVar creates a variable with values by scope, as the spec's
// CustomEnvironmentVariableBulkRequestRequest: {"env_var": [{"new_name", scope:
// value}]}. Like every create it is not resent blindly: after an ambiguous
// failure, list the variables to find out.
func (c *Client) CreateEnvVar(ctx context.Context, projectID int64, name string, values map[string]string) error {
	item := map[string]string{"new_name": name}
	for scope, v := range values {
		item[scope] = v
	}
	body := map[string]any{"env_var": []map[string]string{item}}
	_, err := c.do(transport.NotIdempotent(ctx), http.MethodPost, c.envVarsPath(projectID, "bulk/"), nil, body, nil)
	return err
}

// SetEnvVar sets a variable's values by scope; a nil value removes that
// scope's value. Sending it twice changes nothing more, so it is retried.
func (c *Client) SetEnvVar(ctx context.Context, projectID int64, name string, values map[string]*string) error {
	body := map[string]any{"name": name}
	for scope, v := range values {
		if v == nil {
			body[scope] = nil
		} else {
			body[scope] = *v
		}
	}
	_, err := c.do(ctx, http.MethodPut, c.envVarsPath(projectID, "bulk/"), nil, map[string]any{"env_vars": body}, nil)
	return err
}
