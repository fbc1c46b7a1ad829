package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"os"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// The demo site, its data sources set here so that tests state what they rely
// on: Revenue Overview and Customer 360
// share the "Orders" extract; Customer 360 also has embedded extracts, and so
// does Quarterly Board Pack; "Customers (live)" has no extract.
const (
	revenueOverview = "00000004-0000-4000-8000-000000000001"
	boardPack       = "00000004-0000-4000-8000-000000000002"
	customer360     = "00000004-0000-4000-8000-000000000003"
	dsOrders        = "00000009-0000-4000-8000-000000000001"
	dsLive          = "00000009-0000-4000-8000-000000000002"
)

type activeRig struct {
	srv  *servertest.Server
	emu  *emulator.Emulator
	tab  *httptest.Server
	opts []server.Option
}

func (g *activeRig) base() string {
	return fmt.Sprintf("%s/v3/accounts/1/projects/1/", g.srv.HostURL)
}

func activeSite(t *testing.T) *emulator.Fixture {
	t.Helper()
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.Datasources = []emulator.FixtureDatasource{
		{ID: dsOrders, Name: "Orders", ProjectID: f.Projects[0].ID, HasExtracts: true},
		{ID: dsLive, Name: "Customers (live)", ProjectID: f.Projects[0].ID},
	}
	for i := range f.Workbooks {
		switch f.Workbooks[i].ID {
		case revenueOverview:
			f.Workbooks[i].UpstreamDatasources = []string{dsOrders, dsLive}
		case customer360:
			f.Workbooks[i].UpstreamDatasources = []string{dsOrders}
			f.Workbooks[i].EmbeddedExtracts = true
		case boardPack:
			f.Workbooks[i].UpstreamDatasources = nil
			f.Workbooks[i].EmbeddedExtracts = true
		}
	}
	return f
}

// newActiveRig is a server with the demo manifest synced against the site
// (Finance and Customer 360 watched), and active exposures on for Production
// when enabled.
func newActiveRig(t *testing.T, enabled bool, opts ...server.Option) *activeRig {
	t.Helper()
	f := activeSite(t)
	emu, tab := tableautest.NewServer(t, f)
	opts = append([]server.Option{server.WithRefreshPoll(5 * time.Millisecond)}, opts...)
	g := &activeRig{srv: servertest.New(t, opts...), emu: emu, tab: tab, opts: opts}
	in := withTableau(t, g.srv, tab, f)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "PUT", g.base()+"manifest/", g.srv.Token, manifest); code != 200 {
		t.Fatalf("manifest: %d %s", code, b)
	}
	if _, err := g.srv.Client(t).UpdateSelections(context.Background(), 1, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{
		{Identifier: f.Projects[1].ID, Name: "Finance", Type: dbtcloud.ItemFolder}, {Identifier: customer360, Name: "Customer 360", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	if _, b := rawCall(t, "POST", g.base()+"exposures/sync/", g.srv.Token, nil); !strings.Contains(string(b), `"customer_360"`) {
		t.Fatalf("sync: %s", b)
	}
	if enabled {
		g.setVar(t, "DBT_ACTIVE_EXPOSURES", "1")
	}
	return g
}

// setVar sets a variable's Production value (project default "0"), creating it when needed.
func (g *activeRig) setVar(t *testing.T, name, value string) {
	t.Helper()
	body := fmt.Sprintf(`{"env_var": {"new_name": %q, "project": "0", "Production": %q}}`, name, value)
	if code, _ := rawCall(t, "POST", g.base()+"environment-variables/bulk/", g.srv.Token, []byte(body)); code == 200 {
		return
	}
	body = fmt.Sprintf(`{"env_vars": {"name": %q, "Production": %q}}`, name, value)
	if code, b := rawCall(t, "PUT", g.base()+"environment-variables/bulk/", g.srv.Token, []byte(body)); code != 200 {
		t.Fatalf("setting %s: %d %s", name, code, b)
	}
}

type runAnswer struct {
	ID            int64  `json:"id"`
	EnvironmentID int64  `json:"environment_id"`
	Status        string `json:"status"`
	StartedAt     string `json:"started_at"`
	Refreshes     []struct {
		Exposure     string `json:"exposure"`
		WorkbookID   string `json:"workbook_id"`
		TargetType   string `json:"target_type"`
		TargetID     string `json:"target_id"`
		TargetName   string `json:"target_name"`
		Action       string `json:"action"`
		Reason       string `json:"reason"`
		TableauJobID string `json:"tableau_job_id"`
	} `json:"refreshes"`
	Unknown []string `json:"unknown_unique_ids"`
}

// results is a run_results.json: "id=status" pairs.
func results(pairs ...string) string {
	var items []string
	for _, p := range pairs {
		id, status, _ := strings.Cut(p, "=")
		items = append(items, fmt.Sprintf(`{"unique_id": %q, "status": %q, "execution_time": 0.1}`, id, status))
	}
	return `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "elapsed_time": 1, "results": [` + strings.Join(items, ",") + `]}`
}

func (g *activeRig) run(t *testing.T, pairs ...string) runAnswer {
	t.Helper()
	code, b := rawCall(t, "POST", g.base()+"active-exposures/runs/", g.srv.Token, []byte(`{"environment_id": 1, "run_results": `+results(pairs...)+`}`))
	if code != 201 {
		t.Fatalf("run: %d %s", code, b)
	}
	var a struct{ Data runAnswer }
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a.Data
}

// rows renders refreshes as "exposure type:name action" lines, sorted.
func rows(a runAnswer) string {
	var out []string
	for _, r := range a.Refreshes {
		out = append(out, fmt.Sprintf("%s %s:%s %s", r.Exposure, r.TargetType, r.TargetName, r.Action))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func refreshedTargets(e *emulator.Emulator) string {
	var out []string
	for _, j := range e.Refreshes() {
		out = append(out, j.TargetType+":"+j.TargetName)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

const (
	modelCustomers  = "model.jaffle_shop.customers"
	modelOrders     = "model.jaffle_shop.orders"
	modelOrderItems = "model.jaffle_shop.order_items"
	modelSupplies   = "model.jaffle_shop.supplies" // only Supply Chain, which is not watched
)

// An exposure is a candidate when a node it depends on built successfully;
// errors, skips and nodes nothing depends on refresh nothing.
func TestActiveRunCandidates(t *testing.T) {
	g := newActiveRig(t, true)
	a := g.run(t, modelCustomers+"=success", modelOrders+"=error", modelOrderItems+"=skipped", modelSupplies+"=success")
	for _, r := range a.Refreshes {
		if r.Exposure != "customer_360" {
			t.Errorf("%s is no candidate (only customers built), yet listed: %+v", r.Exposure, r)
		}
	}
	if len(a.Refreshes) == 0 || a.Status != "success" {
		t.Fatalf("customer_360 depends on customers, which built: %+v", a)
	}
	if none := g.run(t, modelOrders+"=error"); len(none.Refreshes) != 0 {
		t.Fatalf("nothing built, yet: %s", rows(none))
	}
}

// A published data source with extracts is refreshed as a data source, the
// workbook's embedded extracts as the workbook; a live data source is not.
func TestActiveRunDatasourceAndWorkbookTargets(t *testing.T) {
	g := newActiveRig(t, true)
	a := g.run(t, modelCustomers+"=success")
	want := "customer_360 datasource:Orders refreshed\ncustomer_360 workbook:Customer 360 refreshed"
	if got := rows(a); got != want {
		t.Fatalf("refreshes:\n%s\nwant:\n%s", got, want)
	}
	if got := refreshedTargets(g.emu); got != "datasource:Orders,workbook:Customer 360" {
		t.Fatalf("Tableau refreshed %s", got)
	}
	for _, r := range a.Refreshes {
		if r.TableauJobID == "" || r.WorkbookID != customer360 {
			t.Fatalf("refresh without its job or workbook: %+v", r)
		}
	}
	if strings.Contains(refreshedTargets(g.emu), dsLive) {
		t.Fatal("a live data source was refreshed")
	}
}

// A target two candidates share is refreshed once, and listed once more as skipped.
func TestActiveRunRefreshesEachTargetOnce(t *testing.T) {
	g := newActiveRig(t, true)
	a := g.run(t, modelOrders+"=success")
	var orders int
	for _, j := range g.emu.Refreshes() {
		if j.TargetID == dsOrders {
			orders++
		}
	}
	if orders != 1 {
		t.Fatalf("the shared Orders extract was refreshed %d times", orders)
	}
	var refreshed, skipped int
	for _, r := range a.Refreshes {
		if r.TargetID != dsOrders {
			continue
		}
		switch r.Action {
		case "refreshed":
			refreshed++
		case "skipped":
			skipped++
			if !strings.Contains(r.Reason, "once per run") {
				t.Errorf("skip reason: %q", r.Reason)
			}
		}
	}
	if refreshed != 1 || skipped < 1 {
		t.Fatalf("Orders rows: %s", rows(a))
	}
}

// A target refreshed less than DBT_ACTIVE_EXPOSURES_BUILD_AFTER minutes ago
// is skipped, also after the server restarts; with 0 it is refreshed again.
func TestActiveRunIntervalSurvivesRestart(t *testing.T) {
	g := newActiveRig(t, true)
	first := g.run(t, modelCustomers+"=success")
	if !strings.Contains(rows(first), "refreshed") {
		t.Fatalf("first run: %s", rows(first))
	}
	g.srv = g.srv.Restart(t, g.opts...)
	second := g.run(t, modelCustomers+"=success")
	for _, r := range second.Refreshes {
		if r.Action != "skipped" || !strings.Contains(r.Reason, "DBT_ACTIVE_EXPOSURES_BUILD_AFTER=1440") {
			t.Fatalf("after a restart, within the interval: %+v", r)
		}
	}
	if n := len(g.emu.Refreshes()); n != 2 {
		t.Fatalf("Tableau saw %d refreshes, want the first run's 2", n)
	}
	g.setVar(t, "DBT_ACTIVE_EXPOSURES_BUILD_AFTER", "0")
	if third := g.run(t, modelCustomers+"=success"); strings.Contains(rows(third), "skipped") {
		t.Fatalf("with a 0-minute interval: %s", rows(third))
	}

	// The runs are kept, newest first, and each can be read again.
	code, b := rawCall(t, "GET", g.base()+"active-exposures/runs/?limit=2", g.srv.Token, nil)
	var list struct {
		Data  []runAnswer
		Extra struct {
			Pagination struct {
				TotalCount int `json:"total_count"`
			}
		}
	}
	if err := json.Unmarshal(b, &list); err != nil || code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	if len(list.Data) != 2 || list.Data[0].ID <= list.Data[1].ID || list.Extra.Pagination.TotalCount != 3 {
		t.Fatalf("runs page: %s", b)
	}
	code, b = rawCall(t, "GET", fmt.Sprintf("%sactive-exposures/runs/%d/", g.base(), first.ID), g.srv.Token, nil)
	if code != 200 || !strings.Contains(string(b), first.Refreshes[0].TableauJobID) {
		t.Fatalf("first run again: %d %s", code, b)
	}
}

// Without DBT_ACTIVE_EXPOSURES=1 for the environment every candidate is
// skipped as disabled, even when the project default is 1.
func TestActiveRunDisabled(t *testing.T) {
	g := newActiveRig(t, false)
	a := g.run(t, modelOrders+"=success")
	if len(a.Refreshes) == 0 {
		t.Fatal("no candidates listed")
	}
	for _, r := range a.Refreshes {
		if r.Action != "skipped" || !strings.Contains(r.Reason, "disabled") {
			t.Fatalf("not set: %+v", r)
		}
	}
	body := `{"env_var": {"new_name": "DBT_ACTIVE_EXPOSURES", "project": "1", "Production": "0"}}`
	if code, b := rawCall(t, "POST", g.base()+"environment-variables/bulk/", g.srv.Token, []byte(body)); code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	for _, r := range g.run(t, modelOrders+"=success").Refreshes {
		if r.Action != "skipped" || !strings.Contains(r.Reason, "disabled") {
			t.Fatalf("Production says 0: %+v", r)
		}
	}
	if n := len(g.emu.Refreshes()); n != 0 {
		t.Fatalf("Tableau saw %d refreshes", n)
	}
}

// A failed Tableau job is recorded with Tableau's message; the others go on.
func TestActiveRunFailedJob(t *testing.T) {
	g := newActiveRig(t, true)
	g.emu.FailRefreshes(dsOrders, "Unable to connect to the warehouse: credentials expired")
	a := g.run(t, modelCustomers+"=success")
	if got := rows(a); got != "customer_360 datasource:Orders failed\ncustomer_360 workbook:Customer 360 refreshed" || a.Status != "failed" {
		t.Fatalf("status %s:\n%s", a.Status, got)
	}
	for _, r := range a.Refreshes {
		if r.Action == "failed" && !strings.Contains(r.Reason, "credentials expired") {
			t.Fatalf("reason lacks Tableau's message: %q", r.Reason)
		}
	}
	// A failed refresh does not count for the interval: the next run tries again.
	if again := g.run(t, modelCustomers+"=success"); !strings.Contains(rows(again), "datasource:Orders failed") {
		t.Fatalf("retry: %s", rows(again))
	}
}

// A job that does not finish within --refresh-timeout fails the target, naming the job.
func TestActiveRunJobTimeout(t *testing.T) {
	g := newActiveRig(t, true, server.WithRefreshTimeout(150*time.Millisecond))
	g.emu.JobPolls = 1 << 20
	start := time.Now()
	a := g.run(t, modelCustomers+"=success")
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("the run waited %s", waited)
	}
	for _, r := range a.Refreshes {
		if r.Action != "failed" || !strings.Contains(r.Reason, "did not finish within 150ms") || !strings.Contains(r.Reason, r.TableauJobID) {
			t.Fatalf("timed out: %+v", r)
		}
	}
}

// A 429 from Tableau is waited out (Retry-After) and the refresh goes ahead once.
func TestActiveRunHonours429(t *testing.T) {
	g := newActiveRig(t, true)
	g.emu.Inject(emulator.Fault{PathContains: "/refresh", Times: 1, Status: 429, RetryAfter: "1"})
	start := time.Now()
	a := g.run(t, modelCustomers+"=success")
	if got := rows(a); strings.Contains(got, "failed") || strings.Count(got, "refreshed") != 2 {
		t.Fatalf("after a 429:\n%s", got)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("Retry-After: 1 not honoured (run took %s)", waited)
	}
	if n := len(g.emu.Refreshes()); n != 2 {
		t.Fatalf("Tableau started %d refreshes, want 2", n)
	}
}

// Run results naming nodes the manifest does not know are listed, not refused.
func TestActiveRunUnknownUniqueIDs(t *testing.T) {
	g := newActiveRig(t, true)
	a := g.run(t, "model.jaffle_shop.gone=success", modelCustomers+"=success", "model.other.thing=error")
	if strings.Join(a.Unknown, ",") != "model.jaffle_shop.gone,model.other.thing" {
		t.Fatalf("unknown: %v", a.Unknown)
	}
	if len(a.Refreshes) != 2 {
		t.Fatalf("the known node still counts: %s", rows(a))
	}
}

// Malformed requests get a 400 naming the field, and nothing is recorded.
func TestActiveRunMalformed(t *testing.T) {
	g := newActiveRig(t, true)
	v3 := strings.Replace(results(modelOrders+"=success"), "v6.json", "v3.json", 1)
	for _, c := range []struct{ body, field string }{
		{``, "empty"},
		{`[]`, "JSON object"},
		{`{"run_results": ` + results() + `}`, `"environment_id"`},
		{`{"environment_id": "one", "run_results": ` + results() + `}`, `"environment_id"`},
		{`{"environment_id": 99, "run_results": ` + results() + `}`, `"environment_id"`},
		{`{"environment_id": 1}`, `"run_results"`},
		{`{"environment_id": 1, "run_results": 7}`, `"run_results"`},
		{`{"environment_id": 1, "run_results": {"results": []}}`, `"run_results.metadata.dbt_schema_version"`},
		{`{"environment_id": 1, "run_results": ` + v3 + `}`, `"run_results.metadata.dbt_schema_version"`},
		{`{"environment_id": 1, "run_results": {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}}}`, `"run_results.results"`},
		{`{"environment_id": 1, "run_results": {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": [{"unique_id": "model.a.b", "status": "success"}, {"status": "success"}]}}`, `"run_results.results[1].unique_id"`},
		{`{"environment_id": 1, "run_results": {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": [{"unique_id": "model.a.b"}]}}`, `"run_results.results[0].status"`},
		{`{"environment_id": 1, "run_results": ` + results() + `, "extra": 1}`, `"extra"`},
	} {
		code, b := rawCall(t, "POST", g.base()+"active-exposures/runs/", g.srv.Token, []byte(c.body))
		if code != 400 || !strings.Contains(string(b), strings.ReplaceAll(c.field, `"`, `\"`)) {
			t.Errorf("%s: %d %s (want 400 naming %s)", c.body, code, b, c.field)
		}
	}
	big := strings.Repeat(" ", server.MaxRunResultsBytes+1)
	if code, _ := rawCall(t, "POST", g.base()+"active-exposures/runs/", g.srv.Token, []byte(`{"environment_id": 1,`+big+`"run_results": {}}`)); code != 400 && code != 413 {
		t.Errorf("an oversized body: %d", code)
	}
	if _, b := rawCall(t, "GET", g.base()+"active-exposures/runs/", g.srv.Token, nil); !strings.Contains(string(b), `"total_count":0`) {
		t.Fatalf("a refused run was recorded: %s", b)
	}
	if n := len(g.emu.Refreshes()); n != 0 {
		t.Fatalf("a refused run refreshed %d targets", n)
	}
}

// A client that goes away while the run waits for its jobs is not reported as
// a --refresh-timeout: the run is recorded with the jobs' outcome unknown.
func TestActiveRunClientGoneIsNotATimeout(t *testing.T) {
	g := newActiveRig(t, true, server.WithRefreshTimeout(time.Hour))
	g.emu.JobPolls = 1 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", g.base()+"active-exposures/runs/",
		strings.NewReader(`{"environment_id": 1, "run_results": `+results(modelCustomers+"=success")+`}`))
	req.Header.Set("Authorization", "Token "+g.srv.Token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the run answered %d before the client went away", resp.StatusCode)
	}
	var list struct{ Data []runAnswer }
	for deadline := time.Now().Add(10 * time.Second); len(list.Data) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run was not recorded")
		}
		_, b := rawCall(t, "GET", g.base()+"active-exposures/runs/", g.srv.Token, nil)
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range list.Data[0].Refreshes {
		if r.Action != "failed" || strings.Contains(r.Reason, "--refresh-timeout") || !strings.Contains(r.Reason, "request ended before Tableau job "+r.TableauJobID) {
			t.Fatalf("a client that went away: %+v", r)
		}
	}
}

// Every JSON answer under /api/ comes in dbt Cloud's envelope, with the
// answer's own HTTP status in it: successes, the run endpoints and errors alike.
func TestEveryJSONAnswerHasTheEnvelope(t *testing.T) {
	g := newActiveRig(t, true)
	run := g.run(t, modelCustomers+"=success")
	api := g.srv.HostURL
	calls := []struct{ method, url, body string }{
		{"GET", api + "/v2/accounts/", ""},
		{"GET", api + "/v3/accounts/1/projects/", ""},
		{"GET", g.base() + "integrations/lineage/", ""},
		{"GET", g.base() + "integrations/lineage/1/", ""},
		{"GET", g.base() + "integrations/lineage/1/collections/", ""},
		{"POST", g.base() + "integrations/lineage/1/selections", `{"to_add": [], "to_remove": []}`},
		{"GET", g.base() + "environments/", ""},
		{"GET", g.base() + "environments/1/", ""},
		{"GET", g.base() + "environment-variables/environment/", ""},
		{"GET", g.base() + "exposures/", ""},
		{"POST", g.base() + "exposures/sync/", ""},
		{"POST", g.base() + "active-exposures/runs/", `{"environment_id": 1, "run_results": ` + results(modelCustomers+"=success") + `}`},
		{"GET", g.base() + "active-exposures/runs/", ""},
		{"GET", fmt.Sprintf("%sactive-exposures/runs/%d/", g.base(), run.ID), ""},
		{"GET", g.base() + "active-exposures/runs/999/", ""},
		{"GET", api + "/v3/accounts/1/projects/2/exposures/", ""},
		{"POST", g.base() + "active-exposures/runs/", `{"run_results": {}}`},
	}
	for _, c := range calls {
		code, b := rawCall(t, c.method, c.url, g.srv.Token, []byte(c.body))
		var env struct {
			Status *struct {
				Code      int  `json:"code"`
				IsSuccess bool `json:"is_success"`
			} `json:"status"`
		}
		if err := json.Unmarshal(b, &env); err != nil || env.Status == nil || env.Status.Code != code || env.Status.IsSuccess != (code < 300) {
			t.Errorf("%s %s: %d without the envelope: %.200s", c.method, strings.TrimPrefix(c.url, api), code, b)
		}
	}
}

// A dbt run posted again (CI retried) is the run already recorded: the
// answer is that run, and nothing is refreshed again.
func TestActiveRunPostedTwiceIsOneRun(t *testing.T) {
	g := newActiveRig(t, true)
	body := []byte(`{"environment_id": 1, "run_results": ` +
		strings.Replace(results(modelCustomers+"=success"), `"metadata": {`, `"metadata": {"invocation_id": "inv-retry", `, 1) + `}`)
	code1, first := rawCall(t, "POST", g.base()+"active-exposures/runs/", g.srv.Token, body)
	refreshed := refreshedTargets(g.emu)
	code2, second := rawCall(t, "POST", g.base()+"active-exposures/runs/", g.srv.Token, body)
	if code1 != 201 || code2 != 200 || refreshedTargets(g.emu) != refreshed || refreshed == "" {
		t.Fatalf("first %d, second %d; refreshed %q then %q", code1, code2, refreshed, refreshedTargets(g.emu))
	}
	var a, b struct{ Data runAnswer }
	_ = json.Unmarshal(first, &a)
	_ = json.Unmarshal(second, &b)
	if a.Data.ID == 0 || a.Data.ID != b.Data.ID || rows(a.Data) != rows(b.Data) {
		t.Fatalf("the second answer is not the first run:\n%s\n%s", first, second)
	}
}
