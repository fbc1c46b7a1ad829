package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// specEnvVars is a dbt Cloud that answers only the calls the active exposures
// resource makes, in the spec's shapes: environments are read by ID, variables
// by environment, created with POST bulk and set with PUT bulk. Values are kept
// by environment ID, so renaming an environment keeps them, as dbt Cloud does.
type specEnvVars struct {
	mu     sync.Mutex
	envs   map[int64]string            // ID -> name
	values map[string]map[int64]string // variable -> environment ID (0: project) -> value
	nextID int64
}

func (f *specEnvVars) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		const base = "/api/v3/accounts/9/projects/5/"
		rest := strings.TrimPrefix(r.URL.Path, base)
		answer := func(code int, data any) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "status": map[string]any{"code": code, "is_success": code < 300}})
		}
		switch {
		case r.Header.Get("Authorization") != "Token spec-token" || rest == r.URL.Path:
			answer(http.StatusNotFound, nil)
		case r.Method == http.MethodGet && strings.HasPrefix(rest, "environments/"):
			var id int64
			fmt.Sscanf(rest, "environments/%d/", &id)
			if name, ok := f.envs[id]; ok {
				answer(http.StatusOK, map[string]any{"id": id, "account_id": 9, "project_id": 5, "name": name, "type": "deployment"})
			} else {
				answer(http.StatusNotFound, nil)
			}
		case r.Method == http.MethodGet && rest == "environment-variables/environment/":
			answer(http.StatusOK, f.byEnvironment())
		case rest == "environment-variables/bulk/" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
			answer(f.write(r))
		default:
			answer(http.StatusMethodNotAllowed, nil)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (f *specEnvVars) scope(id int64) string {
	if id == 0 {
		return "project"
	}
	return f.envs[id]
}

func (f *specEnvVars) byEnvironment() map[string]any {
	scopes := []string{"project"}
	for id := range f.envs {
		scopes = append(scopes, f.envs[id])
	}
	vars := map[string]map[string]any{}
	for name, vals := range f.values {
		vars[name] = map[string]any{}
		for id, v := range vals {
			f.nextID++
			vars[name][f.scope(id)] = map[string]any{"id": f.nextID, "value": v}
		}
	}
	return map[string]any{"environments": scopes, "variables": vars}
}

// write applies POST {"env_var": [{"new_name", scope: value}]} or PUT
// {"env_vars": {"name", scope: value}}, the spec's shapes.
func (f *specEnvVars) write(r *http.Request) (int, any) {
	var body struct {
		EnvVar  []map[string]*string `json:"env_var"`
		EnvVars map[string]*string   `json:"env_vars"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return http.StatusBadRequest, err.Error()
	}
	obj, key := body.EnvVars, "name"
	if r.Method == http.MethodPost {
		if len(body.EnvVar) != 1 {
			return http.StatusBadRequest, "env_var must be a list"
		}
		obj, key = body.EnvVar[0], "new_name"
	}
	if obj == nil || obj[key] == nil {
		return http.StatusBadRequest, "no " + key
	}
	name := *obj[key]
	if (r.Method == http.MethodPost) == (f.values[name] != nil) {
		return http.StatusBadRequest, "POST creates, PUT updates"
	}
	if f.values[name] == nil {
		f.values[name] = map[int64]string{}
	}
	for scope, v := range obj {
		if scope == key {
			continue
		}
		id := int64(-1)
		for eid, n := range f.envs {
			if n == scope {
				id = eid
			}
		}
		if scope == "project" {
			id = 0
		}
		if id < 0 {
			return http.StatusBadRequest, "unknown environment " + scope
		}
		if v == nil || *v == "" {
			delete(f.values[name], id)
		} else {
			f.values[name][id] = *v
		}
	}
	return http.StatusOK, map[string]any{}
}

// The resource against a server that answers only its calls, as the spec
// describes them; renaming the environment there does not disturb it.
func TestAccActiveExposures_specOnlyServer(t *testing.T) {
	fake := &specEnvVars{envs: map[int64]string{7: "Prod", 8: "Dev"}, values: map[string]map[int64]string{envActive: {8: "1"}}}
	srv := fake.start(t)
	cfg := providerBlock(srv.URL+"/api", 9, "spec-token") + `
resource "dbtexposures_active_exposures" "prod" {
  project_id     = 5
  environment_id = 7
  enabled        = false
}`
	held := func(want map[string]map[int64]string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if fmt.Sprint(fake.values) != fmt.Sprint(want) {
				return fmt.Errorf("the server holds %v, want %v", fake.values, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             held(map[string]map[int64]string{envActive: {8: "1"}, envBuildAfter: {0: "1440"}}),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(activeAddr, "environment_name", "Prod"),
					held(map[string]map[int64]string{envActive: {7: "0", 8: "1"}, envBuildAfter: {0: "1440", 7: "1440"}}),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{ // renamed in the UI: nothing to change, the new name is read
				PreConfig: func() { fake.mu.Lock(); fake.envs[7] = "Production"; fake.mu.Unlock() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(activeAddr, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.TestCheckResourceAttr(activeAddr, "environment_name", "Production"),
			},
			{ // drift: turned on in the UI, turned off again
				PreConfig: func() { fake.mu.Lock(); fake.values[envActive][7] = "1"; fake.mu.Unlock() },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(activeAddr, plancheck.ResourceActionUpdate)},
				},
				Check: held(map[string]map[int64]string{envActive: {7: "0", 8: "1"}, envBuildAfter: {0: "1440", 7: "1440"}}),
			},
			{ResourceName: activeAddr, ImportState: true, ImportStateId: "5:7", ImportStateVerify: true},
		},
	})
}
