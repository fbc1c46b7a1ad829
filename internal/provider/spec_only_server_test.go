package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// specOnlyServer answers the lineage endpoints with exactly the fields dbt
// Cloud's published LineageIntegration schema promises (no config), plus an
// unknown field, as a server we did not write might. It is deliberately not
// internal/server: the provider must not depend on our server's extras.
func specOnlyServer(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	// Integration 42 exists from the start, as the selection tests' connection.
	items := map[int64]map[string]any{42: {"id": 42, "account_id": 9, "project_id": 5, "name": "tableau",
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "state": 1}}
	next := int64(100)
	envelope := func(w http.ResponseWriter, code int, data any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "status": map[string]any{"code": code, "is_success": code < 300}, "extra": map[string]any{}})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		const prefix = "/api/v3/accounts/9/projects/5/integrations/lineage/"
		if r.Header.Get("Authorization") != "Token spec-token" || !strings.HasPrefix(r.URL.Path, prefix) {
			envelope(w, http.StatusNotFound, nil)
			return
		}
		rest := strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/")
		now := time.Now().UTC().Format(time.RFC3339Nano)
		if strings.HasSuffix(rest, "/collections") || strings.Contains(rest, "/collections/") {
			specCollections(w, r, envelope)
			return
		}
		if strings.HasSuffix(rest, "/selections") {
			specSelections(w, r)
			return
		}
		switch {
		case rest == "" && r.Method == http.MethodPost:
			next++
			items[next] = map[string]any{"id": next, "account_id": 9, "project_id": 5, "name": "tableau",
				"created_at": now, "updated_at": now, "state": 1}
			envelope(w, http.StatusOK, items[next])
		case rest != "":
			id, _ := strconv.ParseInt(rest, 10, 64)
			it, ok := items[id]
			if !ok {
				envelope(w, http.StatusNotFound, nil)
				return
			}
			switch r.Method {
			case http.MethodGet:
				envelope(w, http.StatusOK, it)
			case http.MethodPatch:
				it["updated_at"] = now
				envelope(w, http.StatusOK, it)
			case http.MethodDelete:
				delete(items, id)
				w.WriteHeader(http.StatusNoContent)
			}
		default:
			envelope(w, http.StatusMethodNotAllowed, nil)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAccTableauConnection_specOnlyServer(t *testing.T) {
	srv := specOnlyServer(t)
	cfg := func(site string) string {
		return providerBlock(srv.URL+"/api", 9, "spec-token") + fmt.Sprintf(`
resource "dbtexposures_tableau_connection" "test" {
  project_id = 5
  host       = "10az.online.tableau.com"
  site_id    = %q
  token_name = "dbt"
  token      = "secret"
}`, site)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg("acme"),
				Check:  resource.TestCheckResourceAttr(connAddr, "id", "5:101"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: cfg("acme-2"),
				Check:  resource.TestCheckResourceAttr(connAddr, "site_id", "acme-2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// The spec-only BI tree: two top folders, one with two dashboards. watching is
// the only state, as in dbt Cloud, where the selection is the watched items.
var specTree = map[string][]dbtcloud.WatchSelectionItem{
	"":      {{Identifier: "f-fin", Name: "Finance", Type: dbtcloud.ItemFolder}, {Identifier: "f-mkt", Name: "Marketing", Type: dbtcloud.ItemFolder}},
	"f-fin": {{Identifier: "d-rev", Name: "Revenue", Type: dbtcloud.ItemDashboard}, {Identifier: "d-cost", Name: "Costs", Type: dbtcloud.ItemDashboard}},
}

var specWatching = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

func specCollections(w http.ResponseWriter, r *http.Request, envelope func(http.ResponseWriter, int, any)) {
	folder := r.URL.Query().Get("collection_id")
	specWatching.Lock()
	defer specWatching.Unlock()
	items := []dbtcloud.WatchSelectionItem{}
	for _, it := range specTree[folder] {
		it.Watching = specWatching.m[it.Identifier]
		items = append(items, it)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{map[string]any{"collections": items}},
		"extra": map[string]any{"pagination": map[string]any{"count": len(items), "total_count": len(items)}}})
}

// specSelections answers exactly GetLineageIntegrationWatchSelectionResponse: no envelope.
func specSelections(w http.ResponseWriter, r *http.Request) {
	var body dbtcloud.SelectionChange
	_ = json.NewDecoder(r.Body).Decode(&body)
	specWatching.Lock()
	defer specWatching.Unlock()
	added, removed := 0, 0
	for _, a := range body.ToAdd {
		if !specWatching.m[a.Identifier] {
			specWatching.m[a.Identifier] = true
			added++
		}
	}
	for _, id := range body.ToRemove {
		if specWatching.m[id] {
			delete(specWatching.m, id)
			removed++
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]int{"added": added, "removed": removed})
}

func TestAccAutoExposureSelection_specOnlyServer(t *testing.T) {
	srv := specOnlyServer(t)
	cfg := func(workbooks string) string {
		return providerBlock(srv.URL+"/api", 9, "spec-token") + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = 5
  connection_id = 42
  folder_ids    = ["f-mkt"]
  workbook_ids  = [%s]
}`, workbooks)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(`"d-rev"`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": "Marketing", "type": "folder"}),
					resource.TestCheckTypeSetElemNestedAttrs(selAddr, "selected.*", map[string]string{"name": "Revenue", "type": "dashboard"}),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				Config: cfg(`"d-cost"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plannedSelectedNames{names: []string{"Costs"}}, plannedSelectedNames{names: []string{"Revenue"}, absent: true}},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					specWatching.Lock()
					defer specWatching.Unlock()
					if !specWatching.m["d-cost"] || specWatching.m["d-rev"] || !specWatching.m["f-mkt"] {
						return fmt.Errorf("server watches %v", specWatching.m)
					}
					return nil
				},
			},
			{ResourceName: selAddr, ImportState: true, ImportStateId: "5:42", ImportStateVerify: true},
		},
		CheckDestroy: func(*terraform.State) error {
			specWatching.Lock()
			defer specWatching.Unlock()
			if len(specWatching.m) != 0 {
				return fmt.Errorf("still watched after destroy: %v", specWatching.m)
			}
			return nil
		},
	})
}
