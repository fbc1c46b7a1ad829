package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// environmentJSON is EnvironmentV3Response, with the related objects this
// server does not model answered as dbt Cloud answers them when absent.
type environmentJSON struct {
	ID              int64   `json:"id"`
	AccountID       int64   `json:"account_id"`
	ProjectID       int64   `json:"project_id"`
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	DeploymentType  *string `json:"deployment_type"`
	DbtVersion      string  `json:"dbt_version"`
	RawDbtVersion   string  `json:"raw_dbt_version"`
	State           int     `json:"state"`
	SupportsDocs    bool    `json:"supports_docs"`
	UseCustomBranch bool    `json:"use_custom_branch"`
	CustomBranch    *string `json:"custom_branch"`
	IsDeferrable    bool    `json:"is_deferrable"`
	CredentialsID   *int64  `json:"credentials_id"`
	Credentials     any     `json:"credentials"`
	Project         any     `json:"project"`
	FusionReadiness any     `json:"fusion_readiness"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
}

func toEnvironmentJSON(e *store.Environment) environmentJSON {
	out := environmentJSON{ID: e.ID, AccountID: e.AccountID, ProjectID: e.ProjectID, Name: e.Name, Type: e.Type,
		DbtVersion: "latest", RawDbtVersion: "latest", State: 1, IsDeferrable: true, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if e.DeploymentType != "" {
		out.DeploymentType = &e.DeploymentType
	}
	return out
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) {
	limit, offset, msg := pageParams(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	pid, _ := pathID(w, r, "project_id")
	q := r.URL.Query()
	f := store.EnvironmentFilter{Name: q.Get("name"), Type: q.Get("type"), DeploymentType: q.Get("deployment_type")}
	if d := f.DeploymentType; d != "" && d != "production" && d != "staging" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid query parameter \"deployment_type\": must be \"production\" or \"staging\", got %q.", d))
		return
	}
	envs, total, err := s.store.ListEnvironments(r.Context(), tokenAccount(r), pid, f, limit, offset)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]environmentJSON, 0, len(envs))
	for i := range envs {
		out = append(out, toEnvironmentJSON(&envs[i]))
	}
	writeList(w, out, len(out), total)
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	e, err := s.store.GetEnvironment(r.Context(), tokenAccount(r), pid, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Environment %d was not found in project %d.", id, pid))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, toEnvironmentJSON(e))
}

// projectScope is the name environment-variable answers give project defaults.
const projectScope = "project"

// envScopes maps the project's environment names (and "project") to IDs (0).
func (s *Server) envScopes(r *http.Request, pid int64) (map[string]int64, []store.Environment, error) {
	envs, _, err := s.store.ListEnvironments(r.Context(), tokenAccount(r), pid, store.EnvironmentFilter{}, 1000, 0)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string]int64{projectScope: 0}
	for _, e := range envs {
		byName[e.Name] = e.ID
	}
	return byName, envs, nil
}

type envVarValueJSON struct {
	ID    int64  `json:"id"`
	Value string `json:"value"`
}

// listEnvVarsByEnvironment answers EnvVarEnvironmentResponse: the scopes, and
// each variable's values keyed by scope name.
func (s *Server) listEnvVarsByEnvironment(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	_, envs, err := s.envScopes(r, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	names := map[int64]string{0: projectScope}
	scopes := []string{projectScope}
	for _, e := range envs {
		names[e.ID] = e.Name
		scopes = append(scopes, e.Name)
	}
	values, err := s.store.EnvVars(r.Context(), pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	vars := map[string]map[string]envVarValueJSON{}
	for _, v := range values {
		if vars[v.Name] == nil {
			vars[v.Name] = map[string]envVarValueJSON{}
		}
		vars[v.Name][names[v.EnvironmentID]] = envVarValueJSON{ID: v.ID, Value: v.Value}
	}
	writeData(w, map[string]any{"environments": scopes, "variables": vars})
}

// envVarName checks a variable name as dbt Cloud does: DBT_ and then capitals,
// digits and underscores.
func envVarName(field, name string) error {
	if !strings.HasPrefix(name, "DBT_") || len(name) <= len("DBT_") || len(name) > 255 ||
		strings.IndexFunc(name, func(c rune) bool { return !(c == '_' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') }) >= 0 {
		return badField(field, "must start with DBT_ and hold only capital letters, digits and underscores, got %q", name)
	}
	return nil
}

// scopedValues reads "<scope>": value pairs (scope an environment name or
// "project"); keep names the other keys allowed.
func scopedValues(prefix string, m map[string]json.RawMessage, scopes map[string]int64, keep ...string) (map[int64]*string, error) {
	out := map[int64]*string{}
	for key, raw := range m {
		if contains(keep, key) {
			continue
		}
		id, ok := scopes[key]
		if !ok {
			return nil, badField(prefix+key, "is neither \"project\" nor an environment of this project")
		}
		if string(raw) == "null" {
			out[id] = nil
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, badField(prefix+key, "must be a string or null")
		}
		if err := bi.CheckText(v, bi.MaxTokenLen); err != nil {
			return nil, badField(prefix+key, "%s", err)
		}
		if v == "" {
			out[id] = nil // an empty value removes the override, as in dbt Cloud
			continue
		}
		out[id] = &v
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// createEnvVars is POST .../environment-variables/bulk/. It takes the shape
// dbt Labs' provider sends, {"env_var": {"new_name": N, "<scope>": value}},
// and the spec's, {"env_var": [those objects]}.
func (s *Server) createEnvVars(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	m, err := readObject(r, "", "env_var")
	if s.answerBad(w, r, err) {
		return
	}
	scopes, _, err := s.envScopes(r, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	raw, ok := m["env_var"]
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid field \"env_var\": is required: {\"new_name\": ..., \"<environment>\": value}")
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		items = []json.RawMessage{raw}
	}
	var created []int64
	for i, item := range items {
		ids, err := s.createEnvVar(r, pid, fmt.Sprintf("env_var[%d].", i), item, scopes)
		if s.answerBad(w, r, err) {
			return
		}
		created = append(created, ids...)
	}
	sort.Slice(created, func(a, b int) bool { return created[a] < created[b] })
	writeData(w, map[string]any{"message": fmt.Sprintf("%d values created", len(created)), "new_var_ids": created})
}

func (s *Server) createEnvVar(r *http.Request, pid int64, prefix string, item json.RawMessage, scopes map[string]int64) ([]int64, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, badField(strings.TrimSuffix(prefix, "."), "must be an object {\"new_name\": ..., \"<environment>\": value}")
	}
	name, _, err := stringField(obj, prefix+"new_name", "new_name")
	if err != nil {
		return nil, err
	}
	if err := envVarName(prefix+"new_name", name); err != nil {
		return nil, err
	}
	values, err := scopedValues(prefix, obj, scopes, "new_name", "name")
	if err != nil {
		return nil, err
	}
	set := map[int64]string{}
	for id, v := range values {
		if v != nil {
			set[id] = *v
		}
	}
	ids, err := s.store.CreateEnvVar(r.Context(), pid, name, set)
	if errors.Is(err, store.ErrConflict) {
		return nil, badField(prefix+"new_name", "%s already exists in this project; change it with PUT", name)
	}
	return ids, err
}

// updateEnvVar is PUT .../environment-variables/bulk/ with {"env_vars": {"name":
// N, "<scope>": value}}: values set, "" or null removes a scope's value.
func (s *Server) updateEnvVar(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	m, err := readObject(r, "", "env_vars")
	if s.answerBad(w, r, err) {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m["env_vars"], &obj); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid field \"env_vars\": must be an object {\"name\": ..., \"<environment>\": value}")
		return
	}
	name, _, err := stringField(obj, "env_vars.name", "name")
	if err == nil {
		err = envVarName("env_vars.name", name)
	}
	if s.answerBad(w, r, err) {
		return
	}
	if _, renamed := obj["new_name"]; renamed {
		writeError(w, http.StatusBadRequest, "Invalid field \"env_vars.new_name\": renaming is not supported by this server")
		return
	}
	scopes, _, err := s.envScopes(r, pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	values, err := scopedValues("env_vars.", obj, scopes, "name")
	if s.answerBad(w, r, err) {
		return
	}
	err = s.store.SetEnvVar(r.Context(), pid, name, values)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Project %d has no environment variable %s: create it with POST .../environment-variables/bulk/.", pid, name))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, map[string]any{"message": fmt.Sprintf("updated %d values of %s", len(values), name)})
}

// deleteEnvVar is DELETE .../environment-variables/bulk/ with {"name": N} (as
// dbt Labs' provider sends it): the variable goes with all its values.
func (s *Server) deleteEnvVar(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	m, err := readObject(r, "", "name")
	if s.answerBad(w, r, err) {
		return
	}
	name, present, err := stringField(m, "name", "name")
	if err == nil && !present {
		err = badField("name", "is required: the variable to delete")
	}
	if s.answerBad(w, r, err) {
		return
	}
	if _, err := s.store.DeleteEnvVar(r.Context(), pid, name); err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
