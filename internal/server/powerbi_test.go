package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/logtest"
	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// The demo tenant: "Jaffle Finance" has Revenue by Store (its dataset there)
// and Customer Cohorts, whose dataset lives in "Jaffle Models".
const (
	wsFinance        = "0000000a-0000-4000-8000-000000000001"
	wsModels         = "0000000a-0000-4000-8000-000000000002"
	reportRevenue    = "0000000b-0000-4000-8000-000000000001"
	reportCohorts    = "0000000b-0000-4000-8000-000000000002"
	datasetRevenue   = "0000000c-0000-4000-8000-000000000001"
	datasetCustomers = "0000000c-0000-4000-8000-000000000002"
)

type powerbiRig struct {
	srv *servertest.Server
	emu *pbiemulator.Emulator
	f   *pbiemulator.Fixture
	in  *dbtcloud.LineageIntegration
}

func (g *powerbiRig) base() string { return fmt.Sprintf("%s/v3/accounts/1/projects/1/", g.srv.HostURL) }

// newPowerBIRig is a server pointed at the emulated demo tenant, with a Power
// BI integration and the demo manifest.
func newPowerBIRig(t *testing.T) *powerbiRig { return newLoggedPowerBIRig(t, nil) }

// newLoggedPowerBIRig is newPowerBIRig with the server logging to log.
func newLoggedPowerBIRig(t *testing.T, log *slog.Logger) *powerbiRig {
	t.Helper()
	f, err := pbiemulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "powerbi-tenant.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := pbiemulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	emu.ScanPolls = 2 // the server polls scanStatus until the scan ends
	pbi := httptest.NewServer(emu)
	t.Cleanup(pbi.Close)
	srv := servertest.NewLogged(t, log, server.WithRefreshPoll(5*time.Millisecond),
		server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL, PollInterval: 5 * time.Millisecond}))
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "powerbi", Config: dbtcloud.IntegrationConfig{TenantID: &f.TenantID, ClientID: &f.ClientID, ClientSecret: &f.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	g := &powerbiRig{srv: srv, emu: emu, f: f, in: in}
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "PUT", g.base()+"manifest/", srv.Token, manifest); code != 200 {
		t.Fatalf("manifest: %d %s", code, b)
	}
	return g
}

// A Power BI integration keeps its secret: no answer returns it, a patch
// without it keeps it, and its config is validated field by field.
func TestPowerBIIntegrationAPI(t *testing.T) {
	g := newPowerBIRig(t)
	url := fmt.Sprintf("%sintegrations/lineage/%d/", g.base(), g.in.ID)
	for _, u := range []string{url, g.base() + "integrations/lineage/"} {
		code, b := rawCall(t, "GET", u, g.srv.Token, nil)
		if code != 200 || strings.Contains(string(b), g.f.ClientSecret) || !strings.Contains(string(b), `"tenant_id":"`+g.f.TenantID+`"`) {
			t.Fatalf("GET %s: %d %s", u, code, b)
		}
	}
	if g.in.Config == nil || g.in.Config.TenantID == nil || *g.in.Config.TenantID != g.f.TenantID || g.in.Config.ClientSecret != nil {
		t.Fatalf("create answered config %+v", g.in.Config)
	}
	code, b := rawCall(t, "PATCH", url, g.srv.Token, []byte(`{"config": {"client_id": "other-app"}}`))
	if code != 200 || strings.Contains(string(b), g.f.ClientSecret) {
		t.Fatalf("patch: %d %s", code, b)
	}
	stored, err := g.srv.Store.GetIntegration(context.Background(), 1, 1, g.in.ID)
	if err != nil || stored.Config["client_id"] != "other-app" || stored.Config["client_secret"] != g.f.ClientSecret {
		t.Fatalf("after patch: %+v %v", stored, err)
	}
	bad := map[string]string{
		`{"name": "powerbi", "account_id": 1, "config": {"tenant_id": "t", "client_id": "c"}}`:                                    "config.client_secret",
		`{"name": "powerbi", "account_id": 1, "config": {"tenant_id": "not a tenant", "client_id": "c", "client_secret": "s"}}`:   "config.tenant_id",
		`{"name": "powerbi", "account_id": 1, "config": {"host": "h", "tenant_id": "t", "client_id": "c", "client_secret": "s"}}`: "config.host",
		`{"name": "looker", "account_id": 1, "config": {}}`:                                                                       "name",
	}
	for body, field := range bad {
		code, b := rawCall(t, "POST", g.base()+"integrations/lineage/", g.srv.Token, []byte(body))
		if code != 400 || !strings.Contains(string(b), field) {
			t.Errorf("%s: %d %s (want 400 naming %s)", body, code, b, field)
		}
	}
	if code, b := rawCall(t, "PATCH", url, g.srv.Token, []byte(`{"config": {"token": "x"}}`)); code != 400 || !strings.Contains(string(b), "config.token") {
		t.Errorf("a Tableau field on a Power BI integration: %d %s", code, b)
	}
}

// The collections tree: workspaces at the top, read without a scan (this is
// how a credential is checked), their reports inside, from the scan; a
// selection can watch only what the tenant has.
func TestPowerBICollectionsAndSelection(t *testing.T) {
	g := newPowerBIRig(t)
	c, ctx := g.srv.Client(t), context.Background()
	top, err := c.ListCollections(ctx, 1, g.in.ID, "")
	if err != nil || names(top) != "f:Jaffle Finance,f:Jaffle Models" {
		t.Fatalf("top: %s %v", names(top), err)
	}
	if n := g.emu.ScansStarted(); n != 0 {
		t.Fatalf("listing the top level started %d scans", n)
	}
	inside, err := c.ListCollections(ctx, 1, g.in.ID, wsFinance)
	if err != nil || names(inside) != "d:Customer Cohorts,d:Revenue by Store" {
		t.Fatalf("Jaffle Finance: %s %v", names(inside), err)
	}
	if g.emu.ScansStarted() == 0 {
		t.Fatal("a workspace's reports were listed without a scan")
	}
	_, err = c.UpdateSelections(ctx, 1, g.in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: "no-such-report", Type: dbtcloud.ItemDashboard}}})
	if err == nil || !strings.Contains(err.Error(), "no-such-report") || !strings.Contains(err.Error(), "Power BI tenant") {
		t.Fatalf("unknown report: %v", err)
	}
	if _, err := c.UpdateSelections(ctx, 1, g.in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: reportRevenue, Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	inside, _ = c.ListCollections(ctx, 1, g.in.ID, wsFinance)
	if names(inside) != "d:Customer Cohorts,d:Revenue by Store*" {
		t.Fatalf("after watching Revenue by Store: %s", names(inside))
	}
}

type powerbiExposure struct {
	Name      string   `json:"name"`
	Tool      string   `json:"tool"`
	URL       string   `json:"url"`
	DependsOn []string `json:"depends_on"`
	ReportID  string   `json:"powerbi_report_id"`
	Workspace string   `json:"powerbi_workspace"`
	Datasets  []struct {
		WorkspaceID string `json:"workspace_id"`
		ID          string `json:"id"`
	} `json:"powerbi_datasets"`
}

// Watching a workspace syncs an exposure per report that reads dbt nodes,
// with exactly the nodes its dataset's M reads, even when the dataset lives
// in another workspace.
func TestPowerBIExposureSync(t *testing.T) {
	g := newPowerBIRig(t)
	if _, err := g.srv.Client(t).UpdateSelections(context.Background(), 1, g.in.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: wsFinance, Type: dbtcloud.ItemFolder}}}); err != nil {
		t.Fatal(err)
	}
	code, b := rawCall(t, "POST", g.base()+"exposures/sync/", g.srv.Token, nil)
	if code != 200 {
		t.Fatalf("sync: %d %s", code, b)
	}
	var a struct {
		Data struct {
			Exposures []powerbiExposure `json:"exposures"`
			SyncError *string           `json:"sync_error"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	got := map[string]powerbiExposure{}
	for _, e := range a.Data.Exposures {
		got[e.Name] = e
	}
	want := map[string][]string{
		"revenue_by_store": {"ref('locations')", "ref('orders')"},
		"customer_cohorts": {"ref('customers')"},
	}
	if len(got) != len(want) || a.Data.SyncError != nil {
		t.Fatalf("exposures %v, sync error %v", exposureNamesOf(a.Data.Exposures), a.Data.SyncError)
	}
	for name, deps := range want {
		if e := got[name]; !reflect.DeepEqual(e.DependsOn, deps) || e.Tool != "powerbi" || e.Workspace != "Jaffle Finance" {
			t.Errorf("%s: %+v, want depends_on %q", name, got[name], deps)
		}
	}
	cohorts := got["customer_cohorts"]
	if cohorts.ReportID != reportCohorts || len(cohorts.Datasets) != 1 || cohorts.Datasets[0].WorkspaceID != wsModels || cohorts.Datasets[0].ID != datasetCustomers {
		t.Errorf("customer_cohorts' dataset is in Jaffle Models: %+v", cohorts)
	}
	_, yml := rawCall(t, "GET", g.base()+"exposures/?format=yaml", g.srv.Token, nil)
	for _, want := range []string{"powerbi_report_id: " + reportRevenue, "powerbi_workspace: Jaffle Finance", `Power BI tenant "` + g.f.TenantID + `"`} {
		if !strings.Contains(string(yml), want) {
			t.Errorf("YAML lacks %q:\n%s", want, yml)
		}
	}
}

func exposureNamesOf(list []powerbiExposure) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.Name)
	}
	return out
}

// An active exposure run refreshes the dataset of a candidate report with
// POST /groups/{g}/datasets/{d}/refreshes, in the dataset's own workspace.
func TestPowerBIActiveRunRefreshesDataset(t *testing.T) {
	g := newPowerBIRig(t)
	if _, err := g.srv.Client(t).UpdateSelections(context.Background(), 1, g.in.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: wsFinance, Type: dbtcloud.ItemFolder}}}); err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "POST", g.base()+"exposures/sync/", g.srv.Token, nil); code != 200 {
		t.Fatalf("sync: %d %s", code, b)
	}
	rig := &activeRig{srv: g.srv}
	rig.setVar(t, "DBT_ACTIVE_EXPOSURES", "1")
	a := rig.run(t, modelCustomers+"=success", modelOrders+"=error")
	if len(a.Refreshes) != 1 || a.Refreshes[0].Exposure != "customer_cohorts" || a.Refreshes[0].Action != "refreshed" ||
		a.Refreshes[0].TargetType != "powerbi_dataset" || a.Refreshes[0].TargetID != datasetCustomers {
		t.Fatalf("refreshes: %+v", a.Refreshes)
	}
	rf := g.emu.Refreshes()
	if len(rf) != 1 || rf[0].GroupID != wsModels || rf[0].DatasetID != datasetCustomers {
		t.Fatalf("Power BI was asked to refresh %+v", rf)
	}
	// Within the interval it is skipped with the reason.
	if again := rig.run(t, modelCustomers+"=success"); len(again.Refreshes) != 1 || again.Refreshes[0].Action != "skipped" || len(g.emu.Refreshes()) != 1 {
		t.Fatalf("second run: %+v", again.Refreshes)
	}
}

// The server's trace log shows its Power BI calls with the client secret and
// tokens redacted.
func TestServerLogKeepsPowerBISecrets(t *testing.T) {
	var logs logtest.Buffer
	g := newLoggedPowerBIRig(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: transport.LevelTrace})))
	if _, err := g.srv.Client(t).ListCollections(context.Background(), 1, g.in.ID, wsFinance); err != nil { // a scan
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"admin/workspaces/getInfo", "oauth2/v2.0/token", transport.Redacted} {
		if !strings.Contains(out, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}
	if strings.Contains(out, g.f.ClientSecret) || strings.Contains(out, g.srv.Token) {
		t.Errorf("the server log shows a secret")
	}
	if t.Failed() {
		t.Logf("server log:\n%s", out)
	}
}

// A database made before Power BI integrations opens with its rows intact and
// the new columns added.
func TestStoreAddsPowerBIColumnsToOldDatabase(t *testing.T) {
	path := oldDatabase(t, "",
		`INSERT INTO lineage_integrations VALUES (7, 1, 1, 'tableau', 'tableau.example.com', 'site', 'pat', 'secret', 'now', 'now')`)
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.GetIntegration(context.Background(), 1, 1, 7)
	if err != nil || in.Config["host"] != "tableau.example.com" || in.Config["token"] != "secret" || in.Config["tenant_id"] != "" {
		t.Fatalf("old row: %+v %v", in, err)
	}
}

// A database made by the release before the connector model keeps each
// integration's config in columns of its own; it opens with every value in
// the config, Power BI's secret included, and the old columns as they were.
func TestStoreMovesOldConfigColumnsIntoConfig(t *testing.T) {
	path := oldDatabase(t, `, tenant_id TEXT NOT NULL DEFAULT '', client_id TEXT NOT NULL DEFAULT '', client_secret TEXT NOT NULL DEFAULT ''`,
		`INSERT INTO lineage_integrations VALUES (8, 1, 1, 'powerbi', '', '', '', '', 'now', 'now', 'contoso', 'app', 's3cret')`)
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.GetIntegration(context.Background(), 1, 1, 8)
	if err != nil || in.Config["tenant_id"] != "contoso" || in.Config["client_id"] != "app" || in.Config["client_secret"] != "s3cret" || len(in.Config) != 3 {
		t.Fatalf("old Power BI row: %+v %v", in, err)
	}
	st.Close()
	raw, _ := sql.Open("sqlite", path)
	defer raw.Close()
	var secret string
	if err := raw.QueryRow(`SELECT client_secret FROM lineage_integrations WHERE id = 8`).Scan(&secret); err != nil || secret != "s3cret" {
		t.Fatalf("the old column lost its value: %q %v", secret, err)
	}
}

// oldDatabase writes a database as an earlier release left it: account 1 and
// project 1, and lineage_integrations with one column per Tableau field (plus
// moreColumns), holding the rows inserted.
func oldDatabase(t *testing.T, moreColumns string, inserts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range append([]string{
		`CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL)`,
		`CREATE TABLE projects (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
		`CREATE TABLE lineage_integrations (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, project_id INTEGER NOT NULL, name TEXT NOT NULL,
			host TEXT NOT NULL, site_id TEXT NOT NULL, token_name TEXT NOT NULL, tableau_token TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL` +
			moreColumns + `)`,
		`INSERT INTO accounts VALUES (1, 'a', 'now')`,
		`INSERT INTO projects VALUES (1, 1, 'p', 'now', 'now')`,
	}, inserts...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
