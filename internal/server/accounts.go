package server

import (
	"net/http"
	"strconv"
)

type accountJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	State      int    `json:"state"`
	Plan       string `json:"plan"`
	Identifier string `json:"identifier"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

type projectJSON struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
	State     int    `json:"state"`
	Type      int    `json:"type"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	// Related objects this server does not model; dbt Cloud answers null or [] when a project has none.
	Connection       any               `json:"connection"`
	Repository       any               `json:"repository"`
	DocsJob          any               `json:"docs_job"`
	FreshnessJob     any               `json:"freshness_job"`
	FusionReadiness  any               `json:"fusion_readiness"`
	DefaultVersion   any               `json:"default_version"`
	Environments     []environmentJSON `json:"environments"`
	GroupPermissions []any             `json:"group_permissions"`
}

// listAccounts answers the accounts this token can reach: its own.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.GetAccount(r.Context(), tokenAccount(r))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeList(w, []accountJSON{{ID: a.ID, Name: a.Name, State: 1, Plan: "enterprise", Identifier: "act" + strconv.FormatInt(a.ID, 10), CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}}, 1, 1)
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	limit, offset, msg := pageParams(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	ps, total, err := s.store.ListProjects(r.Context(), tokenAccount(r), limit, offset)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	envs, err := s.store.ProjectsEnvironments(r.Context(), tokenAccount(r), ids)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]projectJSON, 0, len(ps))
	for _, p := range ps {
		listed := make([]environmentJSON, 0, len(envs[p.ID]))
		for i := range envs[p.ID] {
			listed = append(listed, toEnvironmentJSON(&envs[p.ID][i]))
		}
		out = append(out, projectJSON{ID: p.ID, AccountID: p.AccountID, Name: p.Name, State: 1, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
			Environments: listed, GroupPermissions: []any{}})
	}
	writeList(w, out, len(out), total)
}
