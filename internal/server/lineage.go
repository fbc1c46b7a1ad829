package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// integrationJSON is dbt Cloud's LineageIntegration plus the config, which is
// returned without its token.
type integrationJSON struct {
	ID        int64             `json:"id"`
	AccountID int64             `json:"account_id"`
	ProjectID int64             `json:"project_id"`
	Name      string            `json:"name"`
	Config    tableauConfigJSON `json:"config"`
	CreatedAt string            `json:"created_at"`
	UpdatedAt string            `json:"updated_at"`
}

type tableauConfigJSON struct {
	Host      string `json:"host"`
	SiteID    string `json:"site_id"`
	TokenName string `json:"token_name"`
}

func toJSON(i *store.Integration) integrationJSON {
	return integrationJSON{
		ID: i.ID, AccountID: i.AccountID, ProjectID: i.ProjectID, Name: i.Name,
		Config:    tableauConfigJSON{Host: i.Host, SiteID: i.SiteID, TokenName: i.TokenName},
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	limit, offset, msg := pageParams(r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	pid, _ := pathID(w, r, "project_id")
	list, total, err := s.store.ListIntegrations(r.Context(), tokenAccount(r), pid, limit, offset)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]integrationJSON, 0, len(list))
	for i := range list {
		out = append(out, toJSON(&list[i]))
	}
	writeList(w, out, len(out), total)
}

// integrationFields are the spec's request fields plus "id", which clients that
// send back the object they read (dbt Labs' own provider does) include on PATCH.
var integrationFields = []string{"name", "account_id", "project_id", "config", "id"}

var configFields = []string{"host", "site_id", "token_name", "token"}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) {
	acct := tokenAccount(r)
	pid, _ := pathID(w, r, "project_id")
	in, err := s.decodeIntegration(r, acct, pid, true)
	if s.answerBad(w, r, err) {
		return
	}
	created, err := s.store.CreateIntegration(r.Context(), in.Integration)
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid field \"name\": project %d already has a %q lineage integration; update or delete it instead.", pid, in.Name))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, toJSON(created))
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) {
	i, ok := s.loadIntegration(w, r)
	if ok {
		writeData(w, toJSON(i))
	}
}

func (s *Server) patchIntegration(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.loadIntegration(w, r)
	if !ok {
		return
	}
	in, err := s.decodeIntegration(r, cur.AccountID, cur.ProjectID, false)
	if s.answerBad(w, r, err) {
		return
	}
	if in.ID != 0 && in.ID != cur.ID {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid field \"id\": it is %d but the URL is for integration %d.", in.ID, cur.ID))
		return
	}
	if in.Name != "" && in.Name != cur.Name {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid field \"name\": an integration cannot change its tool (it is %q); create a new one instead.", cur.Name))
		return
	}
	patch := store.IntegrationPatch{}
	if in.Host != "" {
		patch.Host = &in.Host
	}
	if in.siteIDSet {
		patch.SiteID = &in.SiteID
	}
	if in.TokenName != "" {
		patch.TokenName = &in.TokenName
	}
	if in.TableauToken != "" {
		patch.TableauToken = &in.TableauToken
	}
	updated, err := s.store.UpdateIntegration(r.Context(), cur.AccountID, cur.ProjectID, cur.ID, patch)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, toJSON(updated))
}

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.loadIntegration(w, r)
	if !ok {
		return
	}
	s.tableau.forget(cur.ID)
	if err := s.store.DeleteIntegration(r.Context(), cur.AccountID, cur.ProjectID, cur.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Lineage integration %d was not found in project %d.", cur.ID, cur.ProjectID))
			return
		}
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// loadIntegration reads the integration named by the path, or answers 404.
func (s *Server) loadIntegration(w http.ResponseWriter, r *http.Request) (*store.Integration, bool) {
	pid, _ := pathID(w, r, "project_id")
	id, ok := pathID(w, r, "id")
	if !ok {
		return nil, false
	}
	i, err := s.store.GetIntegration(r.Context(), tokenAccount(r), pid, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Lineage integration %d was not found in project %d.", id, pid))
		return nil, false
	}
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	return i, true
}

// answerBad answers a decoding error: 400 for the caller's mistakes, 500 otherwise.
func (s *Server) answerBad(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.msg)
		return true
	}
	s.internal(w, r, err)
	return true
}

// decodedIntegration is a create or patch body after validation.
type decodedIntegration struct {
	store.Integration
	siteIDSet bool
}

// decodeIntegration validates a create (full) or patch (partial) body.
func (s *Server) decodeIntegration(r *http.Request, acct, pid int64, create bool) (*decodedIntegration, error) {
	m, err := readObject(r, "", integrationFields...)
	if err != nil {
		return nil, err
	}
	out := &decodedIntegration{Integration: store.Integration{AccountID: acct, ProjectID: pid}}
	name, hasName, err := stringField(m, "name", "name")
	if err != nil {
		return nil, err
	}
	if create && !hasName {
		return nil, badField("name", "is required; use \"tableau\"")
	}
	if hasName && name != "tableau" {
		if name == "powerbi" {
			return nil, badField("name", "\"powerbi\" is not supported by this server; only \"tableau\" is")
		}
		return nil, badField("name", "must be \"tableau\", got %q", name)
	}
	out.Name = name
	a, hasAcct, err := intField(m, "account_id", "account_id")
	if err != nil {
		return nil, err
	}
	if create && !hasAcct {
		return nil, badField("account_id", "is required and must be %d, the account in the URL", acct)
	}
	if hasAcct && a != acct {
		return nil, badField("account_id", "is %d but the URL is for account %d", a, acct)
	}
	if id, hasID, err := intField(m, "id", "id"); err != nil {
		return nil, err
	} else if hasID && create {
		return nil, badField("id", "is assigned by the server; leave it out when creating")
	} else {
		out.ID = id
	}
	if p, hasProj, err := intField(m, "project_id", "project_id"); err != nil {
		return nil, err
	} else if hasProj && p != pid {
		return nil, badField("project_id", "is %d but the URL is for project %d", p, pid)
	}
	rawCfg, hasCfg := m["config"]
	if !hasCfg {
		if create {
			return nil, badField("config", "is required: {\"host\", \"site_id\", \"token_name\", \"token\"}")
		}
		return out, nil
	}
	cfg, err := objectFields(rawCfg, "config.", configFields...)
	if err != nil {
		return nil, err
	}
	get := func(name string, required bool, check func(string) error) (string, bool, error) {
		v, present, err := stringField(cfg, "config."+name, name)
		if err != nil {
			return "", false, err
		}
		if (create && required && !present) || (present && required && strings.TrimSpace(v) == "") {
			return "", false, badField("config."+name, "is required and must not be empty")
		}
		if present && v != "" {
			if err := check(v); err != nil {
				return "", false, badField("config."+name, "%s", err)
			}
		}
		return v, present, nil
	}
	text := func(max int) func(string) error { return func(v string) error { return checkText(v, max) } }
	if out.Host, _, err = get("host", true, checkHost); err != nil {
		return nil, err
	}
	// site_id may be "" (the default site of Tableau Server); clients that drop
	// empty strings from JSON leave it out, which means the same.
	if out.SiteID, out.siteIDSet, err = get("site_id", false, text(maxTextLen)); err != nil {
		return nil, err
	}
	if out.TokenName, _, err = get("token_name", true, text(maxTextLen)); err != nil {
		return nil, err
	}
	if out.TableauToken, _, err = get("token", true, text(maxTokenLen)); err != nil {
		return nil, err
	}
	return out, nil
}
