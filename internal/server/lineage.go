package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// integrationJSON is dbt Cloud's LineageIntegration plus the config, which is
// answered without its secret fields (Tableau's token, Power BI's client secret).
type integrationJSON struct {
	ID        int64           `json:"id"`
	AccountID int64           `json:"account_id"`
	ProjectID int64           `json:"project_id"`
	Name      string          `json:"name"`
	Config    json.RawMessage `json:"config"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

func toJSON(i *store.Integration) integrationJSON {
	return integrationJSON{
		ID: i.ID, AccountID: i.AccountID, ProjectID: i.ProjectID, Name: i.Name,
		Config: publicConfig(i), CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
}

// publicConfig is the config's fields that are not secret, in the tool's order.
func publicConfig(i *store.Integration) json.RawMessage {
	conn, ok := bi.Lookup(i.Name)
	if !ok {
		return json.RawMessage("{}")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, f := range conn.Config() {
		if f.Secret {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Name)
		v, _ := json.Marshal(i.Config[f.Name])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
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
	updated, err := s.store.UpdateIntegration(r.Context(), cur.AccountID, cur.ProjectID, cur.ID, in.Config)
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
	s.bi.forget(cur.ID)
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

// decodedIntegration is a create or patch body after validation; on a patch,
// Config holds only the fields sent.
type decodedIntegration struct {
	store.Integration
}

// decodeIntegration validates a create body (tool "") or a patch of an
// integration of tool (partial).
func (s *Server) decodeIntegration(r *http.Request, acct, pid int64, tool string) (*decodedIntegration, error) {
	create := tool == ""
	m, err := readObject(r, "", integrationFields...)
	if err != nil {
		return nil, err
	}
	out := &decodedIntegration{Integration: store.Integration{AccountID: acct, ProjectID: pid, Config: map[string]string{}}}
	name, hasName, err := stringField(m, "name", "name")
	if err != nil {
		return nil, err
	}
	if create && !hasName {
		return nil, badField("name", "is required: %s", toolChoice())
	}
	if _, known := bi.Lookup(name); hasName && !known {
		return nil, badField("name", "must be %s, got %q", toolChoice(), name)
	}
	out.Name = name
	if create {
		tool = name
	}
	if err := checkIntegrationIDs(m, out, acct, pid, create); err != nil {
		return nil, err
	}
	conn, _ := bi.Lookup(tool)
	rawCfg, hasCfg := m["config"]
	if !hasCfg {
		if create {
			return nil, badField("config", "is required: {%s}", fieldList(conn.Config()))
		}
		return out, nil
	}
	return out, decodeConfig(rawCfg, conn.Config(), create, out.Config)
}

// toolChoice lists the tools the server serves: "tableau" or "powerbi".
func toolChoice() string {
	names := bi.Names()
	for i := range names {
		names[i] = strconv.Quote(names[i])
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func fieldList(fields []bi.ConfigField) string {
	var names []string
	for _, f := range fields {
		names = append(names, strconv.Quote(f.Name))
	}
	return strings.Join(names, ", ")
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

// decodeConfig reads config.<field> for the tool's fields into out: required
// fields must be present on create and never empty; Check vets a non-empty
// value. A patch keeps what it leaves out, and a secret sent empty is kept too.
func decodeConfig(raw json.RawMessage, fields []bi.ConfigField, create bool, out map[string]string) error {
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	cfg, err := objectFields(raw, "config.", names...)
	if err != nil {
		return err
	}
	for _, f := range fields {
		v, present, err := stringField(cfg, "config."+f.Name, f.Name)
		if err != nil {
			return err
		}
		if (create && f.Required && !present) || (present && f.Required && strings.TrimSpace(v) == "") {
			return badField("config."+f.Name, "is required and must not be empty")
		}
		if present && v != "" && f.Check != nil {
			if err := f.Check(v); err != nil {
				return badField("config."+f.Name, "%s", err)
			}
		}
		if present || create {
			out[f.Name] = v
		}
	}
	return nil
}
