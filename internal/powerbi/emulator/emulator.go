// Package emulator serves a Power BI tenant on the wire as Power BI and Entra
// ID do: the client-credentials token endpoint, the admin Scanner API
// (modified, getInfo, scanStatus, scanResult) and dataset refreshes. It is a
// product feature (`dbtexposures-server powerbi-emulator`) for demos and CI.
package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// Fixture is a tenant: its app registration and what a scan returns.
type Fixture struct {
	TenantID     string `json:"tenant_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// EnhancedMetadata off leaves datasets without tables and expressions, as
	// the tenant settings "Enhance admin APIs responses…" being off does.
	EnhancedMetadata *bool `json:"enhanced_metadata,omitempty"`
	// ScanResult is scanResult's answer for every workspace, as Power BI shapes it.
	ScanResult json.RawMessage `json:"scan_result"`
}

// LoadFixture reads a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	var f Fixture
	if err := bi.ReadJSONFile(path, &f); err != nil {
		return nil, err
	}
	return &f, f.check()
}

func (f *Fixture) check() error {
	if f.TenantID == "" || f.ClientID == "" || f.ClientSecret == "" {
		return errors.New("the fixture needs tenant_id, client_id and client_secret")
	}
	var probe struct {
		Workspaces []map[string]json.RawMessage `json:"workspaces"`
	}
	if err := json.Unmarshal(f.ScanResult, &probe); err != nil {
		return fmt.Errorf("scan_result is not a scanResult answer: %w", err)
	}
	return nil
}

// Emulator is a running tenant.
type Emulator struct {
	mu        sync.Mutex
	fixture   *Fixture
	workspace []map[string]json.RawMessage // scan_result's workspaces
	tokens    map[string]bool
	scans     map[string]*scan
	refreshes []Refresh
	throttle  map[string]int // path fragment -> 429s still to answer
	// failRefresh holds datasets whose refreshes fail, with Power BI's error code.
	failRefresh map[string]string
	// ScanPolls is how many scanStatus polls a scan takes (default 2).
	ScanPolls int
	signing   *signingKey
}

type scan struct {
	workspaces []string
	polls      int
}

// Refresh is a dataset refresh the emulator was asked for.
type Refresh struct {
	GroupID, DatasetID, RequestID string
}

// New serves the fixture.
func New(f *Fixture) (*Emulator, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	var sr struct {
		Workspaces []map[string]json.RawMessage `json:"workspaces"`
	}
	_ = json.Unmarshal(f.ScanResult, &sr)
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &Emulator{fixture: f, workspace: sr.Workspaces, tokens: map[string]bool{}, scans: map[string]*scan{},
		throttle: map[string]int{}, failRefresh: map[string]string{}, ScanPolls: 2, signing: key}, nil
}

// Throttle makes the next n requests whose path contains fragment answer 429.
func (e *Emulator) Throttle(fragment string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.throttle[fragment] += n
}

// FailRefreshes makes the refreshes of a dataset end Failed, with errorCode
// in serviceExceptionJson as Power BI reports it.
func (e *Emulator) FailRefreshes(datasetID, errorCode string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failRefresh[strings.ToLower(datasetID)] = errorCode
}

// Refreshes lists the refreshes requested so far.
func (e *Emulator) Refreshes() []Refresh {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Refresh(nil), e.refreshes...)
}

// ScansStarted is how many scans (getInfo calls) the emulator was asked for.
func (e *Emulator) ScansStarted() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.scans)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	for frag, n := range e.throttle {
		if n > 0 && strings.Contains(r.URL.Path, frag) {
			e.throttle[frag] = n - 1
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 1 seconds."}`)
			return
		}
	}
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		e.token(w, r)
		return
	}
	if e.discovery(w, r) { // Entra ID's discovery document and keys (and a readiness probe)
		return
	}
	if !e.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"PowerBINotAuthorizedException","pbi.error":{"code":"PowerBINotAuthorizedException","parameters":{},"details":[],"exceptionCulprit":1}}}`)
		return
	}
	e.api(w, r, strings.TrimPrefix(r.URL.Path, "/v1.0/myorg/"))
}

// token answers the client-credentials grant as Entra ID does.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tenant := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	switch {
	case tenant != e.fixture.TenantID:
		entraError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
	case r.PostForm.Get("grant_type") != "client_credentials":
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case r.PostForm.Get("client_id") != e.fixture.ClientID:
		entraError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", r.PostForm.Get("client_id")))
	case r.PostForm.Get("client_secret") != e.fixture.ClientSecret:
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	case !powerBIScope(r.PostForm.Get("scope")):
		entraError(w, http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", r.PostForm.Get("scope")))
	default:
		tok, err := e.accessToken(r, time.Hour)
		if err != nil {
			entraError(w, http.StatusInternalServerError, "temporarily_unavailable", 50000, err.Error())
			return
		}
		e.tokens[tok] = true
		_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func entraError(w http.ResponseWriter, status int, code string, n int, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s", n, msg, newID()),
		"error_codes": []int{n}, "trace_id": newID(), "correlation_id": newID()})
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (e *Emulator) api(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "admin/workspaces/modified":
		e.modified(w, r)
	case r.Method == http.MethodGet && path == "admin/groups":
		e.groups(w, r)
	case r.Method == http.MethodPost && path == "admin/workspaces/getInfo":
		e.getInfo(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[2] == "scanStatus":
		e.scanStatus(w, parts[3])
	case r.Method == http.MethodGet && len(parts) == 4 && parts[2] == "scanResult":
		e.scanResult(w, parts[3])
	case len(parts) == 5 && parts[0] == "groups" && parts[2] == "datasets" && parts[4] == "refreshes":
		e.refresh(w, r, parts[1], parts[3])
	default:
		apiError(w, http.StatusNotFound, "EntityNotFound", fmt.Sprintf("No %s %s in this emulator.", r.Method, r.URL.Path))
	}
}

// modified lists workspace IDs, leaving out personal and inactive ones when
// asked to, as the Scanner API does.
func (e *Emulator) modified(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids := []map[string]string{}
	for _, ws := range e.workspace {
		personal := strings.HasPrefix(field(ws, "type"), "Personal")
		inactive := field(ws, "state") != "" && field(ws, "state") != "Active"
		if (personal && q.Get("excludePersonalWorkspaces") == "true") || (inactive && q.Get("excludeInActiveWorkspaces") == "true") {
			continue
		}
		ids = append(ids, map[string]string{"id": field(ws, "id")})
	}
	_ = json.NewEncoder(w).Encode(ids)
}

// groups is admin/groups (GetGroupsAsAdmin): a page of workspaces without
// their content. Power BI requires $top, from 1 to 5000.
func (e *Emulator) groups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	top, err := strconv.Atoi(q.Get("$top"))
	if err != nil || top < 1 || top > 5000 {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "$top is required, from 1 to 5000.")
		return
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	page := []map[string]string{}
	for i := max(skip, 0); i < len(e.workspace) && len(page) < top; i++ {
		ws := e.workspace[i]
		page = append(page, map[string]string{"id": field(ws, "id"), "name": field(ws, "name"), "type": field(ws, "type"), "state": field(ws, "state")})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"@odata.context": "https://" + r.Host + "/v1.0/myorg/$metadata#groups", "value": page})
}

// field reads a string field of a raw object, ignoring the key's case.
func field(obj map[string]json.RawMessage, name string) string {
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			var s string
			_ = json.Unmarshal(v, &s)
			return s
		}
	}
	return ""
}

// getInfo accepts the workspaces as JSON or form-encoded, as clients send both.
func (e *Emulator) getInfo(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		_ = r.ParseForm()
		ids = r.PostForm["workspaces"]
	} else {
		var body struct {
			Workspaces []string `json:"workspaces"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apiError(w, http.StatusBadRequest, "InvalidRequest", "The request body must be {\"workspaces\": [ids]}.")
			return
		}
		ids = body.Workspaces
	}
	if len(ids) == 0 || len(ids) > 100 {
		apiError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("getInfo takes 1 to 100 workspaces, got %d.", len(ids)))
		return
	}
	id := newID()
	e.scans[id] = &scan{workspaces: ids}
	w.Header().Set("Location", fmt.Sprintf("https://%s/v1.0/myorg/admin/workspaces/scanStatus/%s", r.Host, id))
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "createdDateTime": "2026-01-01T00:00:00.0000000Z", "status": "NotStarted"})
}

func (e *Emulator) scanStatus(w http.ResponseWriter, id string) {
	s := e.scans[id]
	if s == nil {
		apiError(w, http.StatusNotFound, "EntityNotFound", "Scan "+id+" was not found.")
		return
	}
	s.polls++
	status := "Running"
	if s.polls >= e.ScanPolls {
		status = "Succeeded"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "createdDateTime": "2026-01-01T00:00:00.0000000Z", "status": status})
}

func (e *Emulator) scanResult(w http.ResponseWriter, id string) {
	s := e.scans[id]
	if s == nil || s.polls < e.ScanPolls {
		apiError(w, http.StatusNotFound, "EntityNotFound", "Scan "+id+" has no result yet.")
		return
	}
	want := map[string]bool{}
	for _, ws := range s.workspaces {
		want[strings.ToLower(ws)] = true
	}
	out := []map[string]json.RawMessage{}
	for _, ws := range e.workspace {
		if want[strings.ToLower(field(ws, "id"))] {
			out = append(out, e.withoutEnhancedMetadata(ws))
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"workspaces": out, "datasourceInstances": []any{}, "misconfiguredDatasourceInstances": []any{}})
}

// withoutEnhancedMetadata drops datasets' tables and expressions when the
// tenant setting is off.
func (e *Emulator) withoutEnhancedMetadata(ws map[string]json.RawMessage) map[string]json.RawMessage {
	if e.fixture.EnhancedMetadata == nil || *e.fixture.EnhancedMetadata {
		return ws
	}
	out := map[string]json.RawMessage{}
	for k, v := range ws {
		out[k] = v
		if !strings.EqualFold(k, "datasets") {
			continue
		}
		var ds []map[string]json.RawMessage
		_ = json.Unmarshal(v, &ds)
		for _, d := range ds {
			for dk := range d {
				if strings.EqualFold(dk, "tables") || strings.EqualFold(dk, "expressions") {
					delete(d, dk)
				}
			}
		}
		out[k], _ = json.Marshal(ds)
	}
	return out
}

// refresh answers POST (202, no body) and GET ?$top of a dataset's refreshes.
func (e *Emulator) refresh(w http.ResponseWriter, r *http.Request, group, dataset string) {
	if r.Method == http.MethodPost {
		e.refreshes = append(e.refreshes, Refresh{GroupID: group, DatasetID: dataset, RequestID: newID()})
		w.Header().Set("RequestId", e.refreshes[len(e.refreshes)-1].RequestID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var list []map[string]string
	for i := len(e.refreshes) - 1; i >= 0; i-- {
		if rf := e.refreshes[i]; rf.GroupID == group && rf.DatasetID == dataset {
			entry := map[string]string{"requestId": rf.RequestID, "refreshType": "ViaApi", "status": "Completed"}
			if code, failing := e.failRefresh[strings.ToLower(dataset)]; failing {
				exc, _ := json.Marshal(map[string]string{"errorCode": code})
				entry["status"], entry["serviceExceptionJson"] = "Failed", string(exc)
			}
			list = append(list, entry)
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"value": list})
}
