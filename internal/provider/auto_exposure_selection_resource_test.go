package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

const selAddr = "dbtexposures_auto_exposure_selection.s"

// selectionEnv is a server and an emulator, with a provider configured for both.
type selectionEnv struct {
	srv *servertest.Server
	emu *emulator.Emulator
	tab *httptest.Server
	f   *emulator.Fixture
	// ended is the emulator's counters when a session was last ended on purpose.
	ended emulator.Stats
}

func newSelectionEnv(t *testing.T) *selectionEnv {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 24, TablesPerWorkbook: 1})
	emu, tab := tableautest.NewServer(t, f)
	// A short TTL so the server sees Tableau changes between steps at once.
	srv := servertest.New(t, server.WithTableauTTL(time.Millisecond))
	return &selectionEnv{srv: srv, emu: emu, tab: tab, f: f}
}

// config selects the Finance/Quarterly folder and the workbooks whose names match re.
func (e *selectionEnv) config(nameRegex string, withSelection bool) string {
	cfg := fmt.Sprintf(`
provider "dbtexposures" {
  host_url    = %q
  account_id  = %d
  token       = %q
  max_retries = 1%s
}

resource "dbtexposures_tableau_connection" "c" {
  project_id = %d
  host       = %q
  site_id    = %q
  token_name = %q
  token      = %q
}

data "dbtexposures_tableau_projects" "all" {}

data "dbtexposures_tableau_workbooks" "picked" {
  project_names = ["Marketing"]
  name_regex    = %q
}
`, e.srv.HostURL, e.srv.AccountID, e.srv.Token, tableauHCL(e.tab, e.f),
		e.srv.ProjectID, e.tab.URL, e.f.Site.ContentURL, e.f.PersonalAccessToken.Name, e.f.PersonalAccessToken.Secret, nameRegex)
	if withSelection {
		cfg += fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [for p in data.dbtexposures_tableau_projects.all.projects : p.id if p.path == "Finance/Quarterly"]
  workbook_ids  = [for w in data.dbtexposures_tableau_workbooks.picked.workbooks : w.id]
}
`, e.srv.ProjectID)
	}
	return cfg
}

// endOneSession has the emulator end the session under the next Metadata API
// read, as another process signing in with the same token does. The provider
// and the server share one token in these tests, as many teams do.
func (e *selectionEnv) endOneSession() {
	e.ended = e.emu.Stats()
	e.emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, EndSession: true})
}

// expectSessionRecovered checks, from the emulator's counters, that a session
// was ended since endOneSession and that a request succeeded after it.
func (e *selectionEnv) expectSessionRecovered(*terraform.State) error {
	st := e.emu.Stats()
	if st.SessionsEnded <= e.ended.SessionsEnded || st.ExpiredAnswers <= e.ended.ExpiredAnswers || st.Recoveries <= e.ended.Recoveries {
		return fmt.Errorf("no session was ended and recovered: before %+v, after %+v", e.ended, st)
	}
	return nil
}

// marketing returns the fixture's Marketing workbooks (id -> name).
func (e *selectionEnv) marketing() map[string]string {
	out := map[string]string{}
	for _, w := range e.f.Workbooks {
		if w.ProjectID == e.f.Projects[3].ID {
			out[w.ID] = w.Name
		}
	}
	return out
}

// watched is what the server holds for the connection in state, as sorted names.
func (e *selectionEnv) watched(t *testing.T, s *terraform.State) []string {
	t.Helper()
	var pid, cid int64
	fmt.Sscanf(s.RootModule().Resources["dbtexposures_tableau_connection.c"].Primary.ID, "%d:%d", &pid, &cid)
	ws, err := e.srv.Store.Watches(context.Background(), cid)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range ws {
		out = append(out, w.Name)
	}
	sort.Strings(out)
	return out
}

func (e *selectionEnv) expectWatched(t *testing.T, want ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		sort.Strings(want)
		if got := e.watched(t, s); strings.Join(got, "|") != strings.Join(want, "|") {
			return fmt.Errorf("server watches %q, want %q", got, want)
		}
		return nil
	}
}

// plannedSelectedNames is a plan check: the planned `selected` of the selection
// must contain (or, with absent, not contain) these names.
type plannedSelectedNames struct {
	names  []string
	absent bool
}

func (c plannedSelectedNames) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != selAddr {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		items, _ := after["selected"].([]any)
		have := map[string]bool{}
		for _, it := range items {
			have[it.(map[string]any)["name"].(string)] = true
		}
		for _, n := range c.names {
			if have[n] == c.absent {
				resp.Error = fmt.Errorf("planned selected %v: name %q present=%v, want %v", have, n, have[n], !c.absent)
			}
		}
		return
	}
	resp.Error = fmt.Errorf("no planned change for %s", selAddr)
}

func TestAccAutoExposureSelection(t *testing.T) {
	e := newSelectionEnv(t)
	mk := e.marketing()
	var names []string
	for _, n := range mk {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 3 {
		t.Fatalf("fixture has %d Marketing workbooks", len(names))
	}
	// Workbook names are "Workbook 000NN" or "Umsatz Übersicht 000NN": select by their number.
	num := func(n string) string { return n[len(n)-5:] }
	first, second := names[0], names[1]
	var deletedID string
	for id, n := range mk {
		if n == second {
			deletedID = id
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // create the connection and select through the data sources
				Config: e.config(num(first)+"$", true),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(selAddr, "folder_ids.#", "1"),
					resource.TestCheckResourceAttr(selAddr, "workbook_ids.#", "1"),
					resource.TestCheckResourceAttr(selAddr, "selected.#", "2"),
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": "Quarterly", "type": "folder"}),
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": first, "type": "dashboard"}),
					e.expectWatched(t, "Quarterly", first),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{ // add a workbook: the plan names it. Meanwhile another sign-in with
				// the shared token ends a session under a Metadata API read.
				PreConfig: e.endOneSession,
				Config:    e.config("("+num(first)+"|"+num(second)+")$", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(selAddr, plancheck.ResourceActionUpdate),
						plannedSelectedNames{names: []string{second, first, "Quarterly"}},
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					e.expectWatched(t, "Quarterly", first, second),
					e.expectSessionRecovered,
				),
			},
			{ // remove one: the plan shows it leaving
				Config: e.config(num(second)+"$", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(selAddr, plancheck.ResourceActionUpdate),
						plannedSelectedNames{names: []string{first}, absent: true},
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: e.expectWatched(t, "Quarterly", second),
			},
			{ // someone watches a workbook in the UI: drift, and apply takes it back out
				PreConfig: func() {
					var cid int64
					list, _ := e.srv.Client(t).ListLineageIntegrations(context.Background(), e.srv.ProjectID)
					cid = list[0].ID
					if _, err := e.srv.Client(t).UpdateSelections(context.Background(), e.srv.ProjectID, cid, dbtcloud.SelectionChange{
						ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: e.f.Projects[0].ID, Name: "Finance", Type: dbtcloud.ItemFolder}}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.config(num(second)+"$", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(selAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: e.expectWatched(t, "Quarterly", second),
			},
			{ // the selected workbook is deleted in Tableau: the plan shows it going
				PreConfig: func() {
					if !e.emu.DeleteWorkbook(deletedID) {
						t.Fatal("workbook not in the emulator")
					}
				},
				Config: e.config(num(second)+"$", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(selAddr, plancheck.ResourceActionUpdate),
						plannedSelectedNames{names: []string{second}, absent: true},
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(selAddr, "workbook_ids.#", "0"),
					e.expectWatched(t, "Quarterly"),
				),
			},
			{ // import round-trips
				ResourceName:      selAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // removing the resource unwatches everything, connection kept
				Config: e.config(num(second)+"$", false),
				Check:  e.expectWatched(t),
			},
		},
	})
}

func TestAccAutoExposureSelection_unknownIDs(t *testing.T) {
	e := newSelectionEnv(t)
	cfg := e.config("x", false) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  workbook_ids  = ["not-a-workbook-luid", %q]
}
`, e.srv.ProjectID, e.f.Projects[0].ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{ // the connection exists first, so the plan can check the IDs
				Config: e.config("x", false),
			},
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Unknown Tableau identifiers.*not-a-workbook-luid.*dbtexposures_tableau_workbooks`),
			},
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)the folder "Finance".*folder_ids`),
			},
		},
	})
}

func TestAccAutoExposureSelection_hardCodedIDDeletedInTableau(t *testing.T) {
	e := newSelectionEnv(t)
	victim := e.f.Workbooks[5]
	cfg := e.config("x", false) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  workbook_ids  = [%q]
}
`, e.srv.ProjectID, victim.ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  e.expectWatched(t, victim.Name),
			},
			{
				PreConfig:   func() { e.emu.DeleteWorkbook(victim.ID) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)deleted in Tableau.*` + regexp.QuoteMeta(victim.Name) + `.*Remove`),
			},
			{ // once the ID is removed from the configuration, the stale watch goes
				Config: e.config("x", false) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
}
`, e.srv.ProjectID),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plannedSelectedNames{names: []string{victim.Name}, absent: true}},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: e.expectWatched(t),
			},
		},
	})
}
