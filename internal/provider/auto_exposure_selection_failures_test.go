package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// literalConfig is a connection whose token comes from variables and a
// selection of literal IDs: no discovery data source reads Tableau directly,
// so only dbt Cloud's view of Tableau is at stake.
func (e *selectionEnv) literalConfig(folders, workbooks []string, withSelection bool) string {
	cfg := providerBlock(e.srv.HostURL, e.srv.AccountID, e.srv.Token) + fmt.Sprintf(`
variable "tableau_pat" {
  type      = string
  sensitive = true
}

variable "pat_version" {
  type = number
}

resource "dbtexposures_tableau_connection" "c" {
  project_id       = %d
  host             = %q
  site_id          = %q
  token_name       = %q
  token_wo         = var.tableau_pat
  token_wo_version = var.pat_version
}
`, e.srv.ProjectID, e.tab.URL, e.f.Site.ContentURL, e.f.PersonalAccessToken.Name)
	if withSelection {
		cfg += fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%s]
  workbook_ids  = [%s]
}
`, e.srv.ProjectID, quoted(folders), quoted(workbooks))
	}
	return cfg
}

func quoted(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

func patVars(secret string, version int) config.Variables {
	return config.Variables{"tableau_pat": config.StringVariable(secret), "pat_version": config.IntegerVariable(version)}
}

// The connection's Tableau token is revoked after a good apply. Plans still
// work (with a warning), the rotation applies in one run, a changed selection
// shows its names as known after apply, and removing the selection succeeds
// while Tableau refuses the token again, leaving nothing watched.
func TestAccAutoExposureSelection_staleCredentialsNeverBlockTheFix(t *testing.T) {
	e := newSelectionEnv(t)
	secret0 := e.f.PersonalAccessToken.Secret
	finance, wb := e.f.Projects[0], e.f.Workbooks[3]
	folders, workbooks := []string{finance.ID}, []string{wb.ID}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: e.literalConfig(folders, workbooks, true), ConfigVariables: patVars(secret0, 1),
				Check: e.expectWatched(t, finance.Name, wb.Name),
			},
			{ // the token is revoked in Tableau: the plan still succeeds, and is empty
				PreConfig: func() { e.emu.RotatePAT("rotated-1") },
				Config:    e.literalConfig(folders, workbooks, true), ConfigVariables: patVars(secret0, 1),
				PlanOnly: true,
			},
			{ // a changed selection plans too, its names known after apply
				Config: e.literalConfig(folders, append(workbooks, e.f.Workbooks[4].ID), true), ConfigVariables: patVars(secret0, 1),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(selAddr, tfjsonpath.New("selected")),
				}},
			},
			{ // the fix: a new token, sent by bumping the version, applies in one run
				Config: e.literalConfig(folders, workbooks, true), ConfigVariables: patVars("rotated-1", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						if got := storedTokenAt(t, e, s); got != "rotated-1" {
							return fmt.Errorf("the server holds token %q after the rotation", got)
						}
						return nil
					},
					e.expectWatched(t, finance.Name, wb.Name),
				),
			},
			{ // revoked again: destroying the selection needs no Tableau and clears it
				PreConfig: func() { e.emu.RotatePAT("rotated-2") },
				Config:    e.literalConfig(nil, nil, false), ConfigVariables: patVars("rotated-1", 2),
				Check: e.expectWatched(t),
			},
		},
	})
}

// storedTokenAt is the Tableau token the server holds for connection c.
func storedTokenAt(t *testing.T, e *selectionEnv, s *terraform.State) string {
	t.Helper()
	var pid, iid int64
	fmt.Sscanf(s.RootModule().Resources["dbtexposures_tableau_connection.c"].Primary.ID, "%d:%d", &pid, &iid)
	in, err := e.srv.Store.GetIntegration(context.Background(), e.srv.AccountID, pid, iid)
	if err != nil {
		t.Fatal(err)
	}
	return in.Config["token"]
}

// selectedDiff checks the planned change of `selected` as a reviewer reads it:
// exactly these names added, these removed, and no item renamed.
type selectedDiff struct{ added, removed []string }

func (c selectedDiff) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	names := func(v any) map[string]string {
		out := map[string]string{}
		m, _ := v.(map[string]any)
		items, _ := m["selected"].([]any)
		for _, it := range items {
			o := it.(map[string]any)
			out[o["identifier"].(string)] = o["name"].(string)
		}
		return out
	}
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != selAddr {
			continue
		}
		before, after := names(rc.Change.Before), names(rc.Change.After)
		var added, removed []string
		for id, n := range after {
			if old, ok := before[id]; !ok {
				added = append(added, n)
			} else if old != n {
				resp.Error = fmt.Errorf("the plan renames %s from %q to %q", id, old, n)
				return
			}
		}
		for id, n := range before {
			if _, ok := after[id]; !ok {
				removed = append(removed, n)
			}
		}
		sort.Strings(added)
		sort.Strings(removed)
		if fmt.Sprint(added) != fmt.Sprint(c.added) || fmt.Sprint(removed) != fmt.Sprint(c.removed) {
			resp.Error = fmt.Errorf("the plan adds %q and removes %q; want %q and %q", added, removed, c.added, c.removed)
		}
		return
	}
	resp.Error = fmt.Errorf("no planned change for %s", selAddr)
}

// Adding a folder whose name sorts first reads as one addition, nothing renamed;
// so does drift made in the UI.
func TestAccAutoExposureSelection_diffShowsAdditionsNotRenames(t *testing.T) {
	e := newSelectionEnv(t)
	secret := e.f.PersonalAccessToken.Secret
	finance, marketing, ventes := e.f.Projects[0], e.f.Projects[3], e.f.Projects[4]
	wbs := []string{e.f.Workbooks[4].ID, e.f.Workbooks[10].ID}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: e.literalConfig([]string{marketing.ID, ventes.ID}, wbs, true), ConfigVariables: patVars(secret, 1)},
			{
				Config: e.literalConfig([]string{finance.ID, marketing.ID, ventes.ID}, wbs, true), ConfigVariables: patVars(secret, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{selectedDiff{added: []string{"Finance"}}},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{ // Finance unwatched in the UI: the plan adds it back, nothing else
				PreConfig: func() {
					list, _ := e.srv.Client(t).ListLineageIntegrations(context.Background(), e.srv.ProjectID)
					if _, err := e.srv.Client(t).UpdateSelections(context.Background(), e.srv.ProjectID, list[0].ID,
						dbtcloud.SelectionChange{ToRemove: []string{finance.ID}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.literalConfig([]string{finance.ID, marketing.ID, ventes.ID}, wbs, true), ConfigVariables: patVars(secret, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{selectedDiff{added: []string{"Finance"}}},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// Two selection resources for one connection fail the plan, naming it.
func TestAccAutoExposureSelection_twoOwnersOfOneConnection(t *testing.T) {
	e := newSelectionEnv(t)
	secret := e.f.PersonalAccessToken.Secret
	cfg := e.literalConfig([]string{e.f.Projects[0].ID}, nil, true) + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "other" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%q]
}
`, e.srv.ProjectID, e.f.Projects[3].ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: e.literalConfig(nil, nil, false), ConfigVariables: patVars(secret, 1)},
			{
				Config: cfg, ConfigVariables: patVars(secret, 1),
				ExpectError: regexp.MustCompile(`(?s)Two selections for one connection.*More than one dbtexposures_auto_exposure_selection manages\s+the\s+Tableau\s+connection\s+of\s+project\s+1,\s+connection\s+1`),
			},
		},
	})
}

// Creating a selection on a connection that already watches other items (from
// the UI or another configuration) fails and gives the import command.
func TestAccAutoExposureSelection_createOverAnExistingSelection(t *testing.T) {
	e := newSelectionEnv(t)
	secret := e.f.PersonalAccessToken.Secret
	marketing := e.f.Projects[3]
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: e.literalConfig(nil, nil, false), ConfigVariables: patVars(secret, 1)},
			{
				PreConfig: func() {
					list, _ := e.srv.Client(t).ListLineageIntegrations(context.Background(), e.srv.ProjectID)
					if _, err := e.srv.Client(t).UpdateSelections(context.Background(), e.srv.ProjectID, list[0].ID, dbtcloud.SelectionChange{
						ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: marketing.ID, Name: marketing.Name, Type: dbtcloud.ItemFolder}}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.literalConfig([]string{e.f.Projects[0].ID}, nil, true), ConfigVariables: patVars(secret, 1),
				ExpectError: regexp.MustCompile(`(?s)The connection already has a selection.*folder\s+"Marketing".*` +
					regexp.QuoteMeta("terraform import dbtexposures_auto_exposure_selection.<name> 1:1")),
			},
			{ // selecting what is already watched too is fine: nothing would be undone
				Config: e.literalConfig([]string{e.f.Projects[0].ID, marketing.ID}, nil, true), ConfigVariables: patVars(secret, 1),
				Check: e.expectWatched(t, "Finance", "Marketing"),
			},
		},
	})
}
