package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// A fourth BI tool, written here in full as a new tool's package would be:
// its identity, config, client and emulator. Registering it is one line, and
// the server serves it with no change: integrations, collections, selections,
// syncs (through the exposures core) and active exposure runs. Its name is not
// in the spec's enum of integration types: such a tool is a server extension.

var metabase = bi.NewTool(bi.ToolInfo{Name: "metabase", Label: "Metabase", Dashboard: "dashboard", DashboardKey: "metabase_dashboard_id", JobKey: "metabase_job_id"})

type metabaseConnector struct{}

func (metabaseConnector) Tool() bi.Tool { return metabase }

func (metabaseConnector) Config() []bi.ConfigField {
	return []bi.ConfigField{
		{Name: "url", Required: true, Check: func(v string) error {
			if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				return errors.New("must be an http(s) URL")
			}
			return nil
		}},
		{Name: "api_key", Secret: true, Required: true, Check: bi.Text(bi.MaxTokenLen)},
	}
}

func (metabaseConnector) Describe(c bi.Config) string { return "Metabase at " + c["url"] }

func (metabaseConnector) Open(c bi.Config, env bi.Env) (bi.Client, error) {
	return &metabaseClient{base: c["url"], key: c["api_key"], http: &http.Client{Transport: env.Transport}}, nil
}

type metabaseClient struct {
	base, key string
	http      *http.Client
}

var errKeyRefused = errors.New("Metabase refused the API key")

func (m *metabaseClient) get(ctx context.Context, method, path string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, method, m.base+path, nil)
	req.Header.Set("X-API-Key", m.key)
	resp, err := m.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return errKeyRefused
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

type mbCollection struct{ ID, Name, Parent string }

type mbDashboard struct {
	ID, Name, Collection string
	Tables               []string // database.schema.table
}

func (m *metabaseClient) Tree(ctx context.Context) (*bi.Tree, error) {
	var cs []mbCollection
	var ds []mbDashboard
	if err := m.get(ctx, "GET", "/api/collection", &cs); err != nil {
		return nil, err
	}
	if err := m.get(ctx, "GET", "/api/dashboard", &ds); err != nil {
		return nil, err
	}
	t := bi.NewTree()
	for _, c := range cs {
		t.Folders[c.ID] = c.Name
		t.Children[c.Parent] = append(t.Children[c.Parent], c.ID)
	}
	for _, d := range ds {
		t.Dashboards[d.ID] = d.Name
		t.Contents[d.Collection] = append(t.Contents[d.Collection], d.ID)
	}
	t.SortByName()
	return t, nil
}

func (m *metabaseClient) Dashboards(ctx context.Context, sel bi.Selection) ([]bi.Dashboard, error) {
	var ds []mbDashboard
	if err := m.get(ctx, "GET", "/api/dashboard", &ds); err != nil {
		return nil, err
	}
	var out []bi.Dashboard
	for _, d := range ds {
		if !sel.Dashboards[d.ID] && !sel.Folders[d.Collection] {
			continue
		}
		b := bi.Dashboard{Tool: metabase, ID: d.ID, Name: d.Name, URL: m.base + "/dashboard/" + d.ID, Folder: d.Collection,
			Targets: []bi.Target{{Type: "metabase_cache", ID: d.ID, Name: d.Name}},
			Meta:    []bi.Field{{Key: "metabase_dashboard_id", Value: d.ID}}}
		for _, tb := range d.Tables {
			p := strings.Split(tb, ".")
			b.Tables = append(b.Tables, bi.Table{Database: p[0], Schema: p[1], Name: p[2]})
		}
		out = append(out, b)
	}
	return out, nil
}

func (m *metabaseClient) StartRefresh(ctx context.Context, t bi.Target) (string, error) {
	var job struct{ Job string }
	err := m.get(ctx, "POST", "/api/dashboard/"+t.ID+"/refresh", &job)
	return job.Job, err
}

func (m *metabaseClient) RefreshStatus(ctx context.Context, _ bi.Target, job string) (bool, string, error) {
	var st struct{ Done bool }
	err := m.get(ctx, "GET", "/api/job/"+job, &st)
	return st.Done, "", err
}

func (m *metabaseClient) Explain(err error) bi.Failure {
	return bi.Failure{Refused: errors.Is(err, errKeyRefused), Message: "Metabase: " + err.Error() + " (check config.api_key)"}
}

func (m *metabaseClient) Close(context.Context) error { return nil }

// metabaseEmulator serves two collections and three dashboards.
type metabaseEmulator struct {
	mu        sync.Mutex
	refreshed []string
}

func (e *metabaseEmulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") != "mb-key" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == "/api/collection":
		_ = json.NewEncoder(w).Encode([]mbCollection{{"c1", "Sales", ""}, {"c2", "Ops", ""}})
	case r.URL.Path == "/api/dashboard":
		_ = json.NewEncoder(w).Encode([]mbDashboard{{"d1", "Orders Daily", "c1", []string{"jaffle_shop.main.orders"}},
			{"d2", "Customers", "c1", []string{"jaffle_shop.main.customers", "jaffle_shop.main.other"}},
			{"d3", "Ops Board", "c2", []string{"jaffle_shop.main.supplies"}}})
	case strings.HasSuffix(r.URL.Path, "/refresh"):
		e.mu.Lock()
		e.refreshed = append(e.refreshed, strings.Split(r.URL.Path, "/")[3])
		e.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"job": "job-" + strings.Split(r.URL.Path, "/")[3]})
	case strings.HasPrefix(r.URL.Path, "/api/job/"):
		_ = json.NewEncoder(w).Encode(map[string]bool{"done": true})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestAFourthToolIsServedThroughItsConnector(t *testing.T) {
	bi.Register(metabaseConnector{}) // the one registration line
	t.Cleanup(func() { bi.Unregister(metabase.Name) })
	emu := &metabaseEmulator{}
	mb := httptest.NewServer(emu)
	t.Cleanup(mb.Close)
	srv := servertest.New(t)
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		code, b := rawCall(t, method, base+path, srv.Token, []byte(body))
		if code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
		return b
	}
	call("POST", "integrations/lineage/", `{"name": "metabase", "account_id": 1, "project_id": 1, "config": {"url": "ftp://x", "api_key": "k"}}`, 400)
	b := call("POST", "integrations/lineage/", fmt.Sprintf(`{"name": "metabase", "account_id": 1, "project_id": 1, "config": {"url": %q, "api_key": "mb-key"}}`, mb.URL), 200)
	if strings.Contains(string(b), "mb-key") || !strings.Contains(string(b), `"config":{"url":"`+mb.URL+`"}`) {
		t.Fatalf("the integration's answer: %s", b)
	}
	var created struct{ Data struct{ ID int64 } }
	_ = json.Unmarshal(b, &created)
	lineage := fmt.Sprintf("integrations/lineage/%d/", created.Data.ID)
	if b = call("GET", lineage+"collections/c1/", "", 200); !strings.Contains(string(b), `"name":"Orders Daily"`) {
		t.Fatalf("collections: %s", b)
	}
	call("POST", fmt.Sprintf("integrations/lineage/%d/selections", created.Data.ID), `{"to_add": [{"identifier": "c1", "name": "Sales", "type": "folder"}]}`, 200)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	call("PUT", "manifest/", string(manifest), 200)
	synced := string(call("POST", "exposures/sync/", "", 200))
	for _, want := range []string{`"name":"orders_daily"`, `"tool":"metabase"`, `"metabase_dashboard_id":"d1"`, `"depends_on":["ref('customers')"]`,
		`"metabase_dashboard_id":"d2","table":"jaffle_shop.main.other"`} {
		if !strings.Contains(synced, want) {
			t.Errorf("the sync lacks %s:\n%s", want, synced)
		}
	}
	if strings.Contains(synced, "ops_board") {
		t.Errorf("an unwatched dashboard was synced:\n%s", synced)
	}
	if yml := string(call("GET", "exposures/?format=yaml", "", 200)); !strings.Contains(yml, "metabase_dashboard_id: d1") || !strings.Contains(yml, "Metabase at "+mb.URL) {
		t.Errorf("the YAML:\n%s", yml)
	}
	call("POST", "environment-variables/bulk/", `{"env_var": {"new_name": "DBT_ACTIVE_EXPOSURES", "project": "0", "Production": "1"}}`, 200)
	run := string(call("POST", "active-exposures/runs/", `{"environment_id": 1, "run_results": `+results("model.jaffle_shop.orders=success")+`}`, 201))
	if !strings.Contains(run, `"action":"refreshed"`) || !strings.Contains(run, `"metabase_job_id":"job-d1"`) || strings.Contains(run, "d2") {
		t.Fatalf("the run: %s", run)
	}
	if len(emu.refreshed) != 1 || emu.refreshed[0] != "d1" {
		t.Fatalf("Metabase refreshed %v", emu.refreshed)
	}
}
