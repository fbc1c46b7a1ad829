package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// integrationJSON is dbt Cloud's LineageIntegration plus the config, which is
// returned without its secret (Tableau's token, Power BI's client secret).
type integrationJSON struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	ProjectID int64  `json:"project_id"`
	Name      string `json:"name"`
	Config    any    `json:"config"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type tableauConfigJSON struct {
	Host      string `json:"host"`
	SiteID    string `json:"site_id"`
	TokenName string `json:"token_name"`
}

// powerbiConfigJSON is a Power BI integration's config. dbt Cloud has not
// published it; this is the server's contract until it does.
type powerbiConfigJSON struct {
	TenantID string `json:"tenant_id"`
	ClientID string `json:"client_id"`
}

// The integration tools this server knows.
const (
	toolTableau = "tableau"
	toolPowerBI = "powerbi"
)

func toJSON(i *store.Integration) integrationJSON {
	var cfg any = tableauConfigJSON{Host: i.Host, SiteID: i.SiteID, TokenName: i.TokenName}
	if i.Name == toolPowerBI {
		cfg = powerbiConfigJSON{TenantID: i.TenantID, ClientID: i.ClientID}
	}
	return integrationJSON{
		ID: i.ID, AccountID: i.AccountID, ProjectID: i.ProjectID, Name: i.Name,
		Config: cfg, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
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

var (
	tableauFields = []string{"host", "site_id", "token_name", "token"}
	powerbiFields = []string{"tenant_id", "client_id", "client_secret"}
)

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) {
	acct := tokenAccount(r)
	pid, _ := pathID(w, r, "project_id")
	in, err := s.decodeIntegration(r, acct, pid, "")
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
	in, err := s.decodeIntegration(r, cur.AccountID, cur.ProjectID, cur.Name)
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
	if in.TenantID != "" {
		patch.TenantID = &in.TenantID
	}
	if in.ClientID != "" {
		patch.ClientID = &in.ClientID
	}
	if in.ClientSecret != "" {
		patch.ClientSecret = &in.ClientSecret
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
	s.powerbi.forget(cur.ID)
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

// decodeIntegration validates a create body (tool "") or a patch of an
// integration of tool (partial).
func (s *Server) decodeIntegration(r *http.Request, acct, pid int64, tool string) (*decodedIntegration, error) {
	create := tool == ""
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
		return nil, badField("name", "is required: \"tableau\" or \"powerbi\"")
	}
	if hasName && name != toolTableau && name != toolPowerBI {
		return nil, badField("name", "must be \"tableau\" or \"powerbi\", got %q", name)
	}
	out.Name = name
	if create {
		tool = name
	}
	if err := checkIntegrationIDs(m, out, acct, pid, create); err != nil {
		return nil, err
	}
	rawCfg, hasCfg := m["config"]
	if !hasCfg {
		if create {
			if tool == toolPowerBI {
				return nil, badField("config", "is required: {\"tenant_id\", \"client_id\", \"client_secret\"}")
			}
			return nil, badField("config", "is required: {\"host\", \"site_id\", \"token_name\", \"token\"}")
		}
		return out, nil
	}
	fields := tableauFields
	if tool == toolPowerBI {
		fields = powerbiFields
	}
	cfg, err := objectFields(rawCfg, "config.", fields...)
	if err != nil {
		return nil, err
	}
	get := configGetter(cfg, create)
	if tool == toolPowerBI {
		return out, decodePowerBIConfig(get, out)
	}
	return out, decodeTableauConfig(get, out)
}

// checkIntegrationIDs checks the body's account_id, id and project_id against the URL.
func checkIntegrationIDs(m map[string]json.RawMessage, out *decodedIntegration, acct, pid int64, create bool) error {
	a, hasAcct, err := intField(m, "account_id", "account_id")
	if err != nil {
		return err
	}
	if create && !hasAcct {
		return badField("account_id", "is required and must be %d, the account in the URL", acct)
	}
	if hasAcct && a != acct {
		return badField("account_id", "is %d but the URL is for account %d", a, acct)
	}
	if id, hasID, err := intField(m, "id", "id"); err != nil {
		return err
	} else if hasID && create {
		return badField("id", "is assigned by the server; leave it out when creating")
	} else {
		out.ID = id
	}
	if p, hasProj, err := intField(m, "project_id", "project_id"); err != nil {
		return err
	} else if hasProj && p != pid {
		return badField("project_id", "is %d but the URL is for project %d", p, pid)
	}
	return nil
}

// configField reads config.<name>: required fields must be present on create
// and never empty; check vets a non-empty value.
type configField func(name string, required bool, check func(string) error) (string, bool, error)

func configGetter(cfg map[string]json.RawMessage, create bool) configField {
	return func(name string, required bool, check func(string) error) (string, bool, error) {
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
}

func text(max int) func(string) error { return func(v string) error { return checkText(v, max) } }

func decodeTableauConfig(get configField, out *decodedIntegration) error {
	var err error
	if out.Host, _, err = get("host", true, checkHost); err != nil {
		return err
	}
	// site_id may be "" (the default site of Tableau Server); clients that drop
	// empty strings from JSON leave it out, which means the same.
	if out.SiteID, out.siteIDSet, err = get("site_id", false, text(maxTextLen)); err != nil {
		return err
	}
	if out.TokenName, _, err = get("token_name", true, text(maxTextLen)); err != nil {
		return err
	}
	out.TableauToken, _, err = get("token", true, text(maxTokenLen))
	return err
}

func decodePowerBIConfig(get configField, out *decodedIntegration) error {
	var err error
	if out.TenantID, _, err = get("tenant_id", true, checkTenant); err != nil {
		return err
	}
	if out.ClientID, _, err = get("client_id", true, text(maxTextLen)); err != nil {
		return err
	}
	out.ClientSecret, _, err = get("client_secret", true, text(maxTokenLen))
	return err
}
