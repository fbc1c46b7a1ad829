package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

type envVarsAnswer struct {
	Data struct {
		Environments []string                                     `json:"environments"`
		Variables    map[string]map[string]struct{ Value string } `json:"variables"`
	} `json:"data"`
}

func envVars(t *testing.T, srv *servertest.Server, path string) envVarsAnswer {
	t.Helper()
	code, b := rawCall(t, "GET", srv.HostURL+"/v3/accounts/1/projects/1/"+path, srv.Token, nil)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	var a envVarsAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// The bootstrap makes environment 1, "Production", which the API lists and reads.
func TestEnvironments(t *testing.T) {
	srv := servertest.New(t)
	base := srv.HostURL + "/v3/accounts/1/projects/1/environments/"
	code, b := rawCall(t, "GET", base, srv.Token, nil)
	if code != 200 || !strings.Contains(string(b), `"name":"Production"`) || !strings.Contains(string(b), `"deployment_type":"production"`) || !strings.Contains(string(b), `"total_count":1`) {
		t.Fatalf("list: %d %s", code, b)
	}
	if code, b := rawCall(t, "GET", base+"1/", srv.Token, nil); code != 200 || !strings.Contains(string(b), `"id":1`) {
		t.Fatalf("get: %d %s", code, b)
	}
	if code, b := rawCall(t, "GET", base+"99/", srv.Token, nil); code != 404 || !strings.Contains(string(b), "Environment 99 was not found in project 1") {
		t.Fatalf("missing: %d %s", code, b)
	}
}

// The calls of dbt Labs' provider's environment variable resource, in its wire
// shapes (GET without a trailing slash, the create as one object, the delete
// with a body), are answered as dbt Cloud answers them.
func TestEnvironmentVariablesAsDbtLabsProviderSendsThem(t *testing.T) {
	srv := servertest.New(t)
	bulk := srv.HostURL + "/v3/accounts/1/projects/1/environment-variables/bulk/"
	if got := envVars(t, srv, "environment-variables/environment"); strings.Join(got.Data.Environments, ",") != "project,Production" || len(got.Data.Variables) != 0 {
		t.Fatalf("empty: %+v", got)
	}
	code, b := rawCall(t, "POST", bulk, srv.Token, []byte(`{"env_var": {"new_name": "DBT_ACTIVE_EXPOSURES", "project": "0", "Production": "1"}}`))
	if code != 200 || !strings.Contains(string(b), `"new_var_ids":[`) {
		t.Fatalf("create: %d %s", code, b)
	}
	got := envVars(t, srv, "environment-variables/environment/").Data.Variables["DBT_ACTIVE_EXPOSURES"]
	if got["project"].Value != "0" || got["Production"].Value != "1" {
		t.Fatalf("after create: %+v", got)
	}
	if code, b := rawCall(t, "PUT", bulk, srv.Token, []byte(`{"env_vars": {"name": "DBT_ACTIVE_EXPOSURES", "Production": "0"}}`)); code != 200 {
		t.Fatalf("update: %d %s", code, b)
	}
	if v := envVars(t, srv, "environment-variables/environment").Data.Variables["DBT_ACTIVE_EXPOSURES"]["Production"].Value; v != "0" {
		t.Fatalf("after update: %q", v)
	}
	if code, b := rawCall(t, "PUT", bulk, srv.Token, []byte(`{"env_vars": {"name": "DBT_ACTIVE_EXPOSURES", "Production": ""}}`)); code != 200 {
		t.Fatalf("remove override: %d %s", code, b)
	}
	got = envVars(t, srv, "environment-variables/environment").Data.Variables["DBT_ACTIVE_EXPOSURES"]
	if _, ok := got["Production"]; ok || got["project"].Value != "0" {
		t.Fatalf("an empty value must remove the environment's value and keep the default: %+v", got)
	}
	if code, b := rawCall(t, "DELETE", bulk, srv.Token, []byte(`{"name": "DBT_ACTIVE_EXPOSURES"}`)); code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	if n := len(envVars(t, srv, "environment-variables/environment").Data.Variables); n != 0 {
		t.Fatalf("after delete: %d variables", n)
	}
}

// Bad input is a 400 naming the field, and stores nothing.
func TestEnvironmentVariablesRefuseBadInput(t *testing.T) {
	srv := servertest.New(t)
	bulk := srv.HostURL + "/v3/accounts/1/projects/1/environment-variables/bulk/"
	cases := []struct{ method, body, want string }{
		{"POST", `{"env_var": {"new_name": "ACTIVE", "project": "1"}}`, `Invalid field \"env_var[0].new_name\": must start with DBT_`},
		{"POST", `{"env_var": {"new_name": "DBT_X", "Staging": "1"}}`, `Invalid field \"env_var[0].Staging\": is neither \"project\" nor an environment of this project`},
		{"POST", `{"env_var": {"new_name": "DBT_X", "project": 1}}`, `Invalid field \"env_var[0].project\": must be a string or null`},
		{"POST", `{"env_var": {"new_name": "DBT_X", "project": "a\u0000b"}}`, `Invalid field \"env_var[0].project\": must not contain control characters`},
		{"POST", `{}`, `Invalid field \"env_var\": is required`},
		{"PUT", `{"env_vars": {"name": "DBT_NOPE", "Production": "1"}}`, `Project 1 has no environment variable DBT_NOPE`},
		{"PUT", `{"env_vars": {"name": "DBT_X", "new_name": "DBT_Y"}}`, `renaming is not supported`},
		{"DELETE", `{}`, `Invalid field \"name\": is required`},
	}
	for _, c := range cases {
		code, b := rawCall(t, c.method, bulk, srv.Token, []byte(c.body))
		if code/100 != 4 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s: %d %s; want %q", c.method, c.body, code, b, c.want)
		}
	}
	if n := len(envVars(t, srv, "environment-variables/environment").Data.Variables); n != 0 {
		t.Fatalf("refused requests stored %d variables", n)
	}
	rawCall(t, "POST", bulk, srv.Token, []byte(`{"env_var": {"new_name": "DBT_X", "project": "1"}}`))
	if code, b := rawCall(t, "POST", bulk, srv.Token, []byte(`{"env_var": {"new_name": "DBT_X", "project": "2"}}`)); code != 400 || !strings.Contains(string(b), "DBT_X already exists in this project; change it with PUT") {
		t.Fatalf("duplicate create: %d %s", code, b)
	}
	if v := envVars(t, srv, "environment-variables/environment").Data.Variables["DBT_X"]["project"].Value; v != "1" {
		t.Fatalf("a refused create changed the value to %q", v)
	}
}

// A project lists its environments, as the spec's ProjectResponse does: the
// bootstrap's Production, and one made by admin create-environment.
func TestProjectsListTheirEnvironments(t *testing.T) {
	srv := servertest.New(t)
	if _, err := srv.Store.CreateEnvironment(t.Context(), 1, "Staging", "staging"); err != nil {
		t.Fatal(err)
	}
	code, b := rawCall(t, "GET", srv.HostURL+"/v3/accounts/1/projects/", srv.Token, nil)
	var ans struct {
		Data []struct {
			ID           int64 `json:"id"`
			Environments []struct {
				ID             int64   `json:"id"`
				ProjectID      int64   `json:"project_id"`
				Name           string  `json:"name"`
				DeploymentType *string `json:"deployment_type"`
			} `json:"environments"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &ans); err != nil || code != 200 || len(ans.Data) != 1 {
		t.Fatalf("projects: %d %s", code, b)
	}
	var got []string
	for _, e := range ans.Data[0].Environments {
		if e.ProjectID != 1 || e.DeploymentType == nil {
			t.Fatalf("environment %+v", e)
		}
		got = append(got, e.Name+"/"+*e.DeploymentType)
	}
	if strings.Join(got, ",") != "Production/production,Staging/staging" {
		t.Fatalf("environments %v", got)
	}
}

// The environments list takes the spec's name, type and deployment_type
// filters; a deployment_type outside the spec's enum is a 400 naming it.
func TestEnvironmentsListFilters(t *testing.T) {
	srv := servertest.New(t)
	if _, err := srv.Store.CreateEnvironment(t.Context(), 1, "Staging", "staging"); err != nil {
		t.Fatal(err)
	}
	base := srv.HostURL + "/v3/accounts/1/projects/1/environments/"
	for query, want := range map[string]string{"": "Production,Staging", "?deployment_type=staging": "Staging",
		"?name=Production": "Production", "?type=development": "", "?type=deployment&deployment_type=production": "Production"} {
		code, b := rawCall(t, "GET", base+query, srv.Token, nil)
		var ans struct{ Data []struct{ Name string } }
		_ = json.Unmarshal(b, &ans)
		var names []string
		for _, e := range ans.Data {
			names = append(names, e.Name)
		}
		if code != 200 || strings.Join(names, ",") != want {
			t.Errorf("%q: %d %v, want %q", query, code, names, want)
		}
	}
	if code, b := rawCall(t, "GET", base+"?deployment_type=prod", srv.Token, nil); code != 400 || !strings.Contains(string(b), `\"deployment_type\"`) {
		t.Errorf("bad deployment_type: %d %s", code, b)
	}
}
