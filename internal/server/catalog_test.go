package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// columnsAnswer is what the exposures endpoint says of one exposure's columns.
type columnsAnswer struct {
	Data struct {
		Exposures []struct {
			Name              string              `json:"name"`
			ReferencedColumns map[string][]string `json:"referenced_columns"`
			UnmatchedColumns  []struct {
				Node, Column string
			} `json:"unmatched_columns"`
		} `json:"exposures"`
	} `json:"data"`
}

func revenueColumns(t *testing.T, b []byte) (refs map[string][]string, unmatched string) {
	t.Helper()
	var a columnsAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	for _, e := range a.Data.Exposures {
		if e.Name == "revenue_overview" {
			var u []string
			for _, c := range e.UnmatchedColumns {
				u = append(u, c.Node+"."+c.Column)
			}
			return e.ReferencedColumns, strings.Join(u, ",")
		}
	}
	t.Fatalf("no revenue_overview: %s", b)
	return nil, ""
}

// demoProject is project 1 of a server watching Revenue Overview on the
// demo's Tableau site, with the demo's manifest uploaded when upload is set:
// the server, the project's API base URL and the manifest.
func demoProject(t *testing.T, upload bool) (*servertest.Server, string, []byte) {
	t.Helper()
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	in := withTableau(t, srv, tab, f)
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if upload {
		if code, b := rawCall(t, "PUT", base+"manifest/", srv.Token, manifest); code != 200 {
			t.Fatalf("manifest: %d %s", code, b)
		}
	}
	if _, err := srv.Client(t).UpdateSelections(context.Background(), 1, in.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: revenueOverview, Name: "Revenue Overview", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	return srv, base, manifest
}

// A sync records the columns each dashboard uses and those its nodes lack;
// an uploaded catalog's columns win over the documented ones. A bad catalog
// is refused with the problem named, and the stored one is kept.
func TestCatalogUploadAndColumnsInSync(t *testing.T) {
	srv, base, manifest := demoProject(t, true)
	_, b := rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)
	refs, unmatched := revenueColumns(t, b)
	if strings.Join(refs["model.jaffle_shop.orders"], ",") != "customer_id,discount_amount,order_cost,order_total,ordered_at" ||
		unmatched != "model.jaffle_shop.orders.discount_amount" {
		t.Fatalf("columns from the documented ones: %v, unmatched %q", refs, unmatched)
	}

	for body, want := range map[string]string{
		"{":              "Invalid catalog: catalog is not valid JSON",
		`{"meta": {}}`:   "is it dbt docs generate's catalog.json",
		string(manifest): "not dbt docs generate's catalog.json",
	} {
		if code, b := rawCall(t, "PUT", base+"catalog/", srv.Token, []byte(body)); code != 400 || !strings.Contains(string(b), want) {
			t.Fatalf("bad catalog: %d %s, want 400 with %q", code, b, want)
		}
	}
	catalog := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "sources": {}, "nodes": {
	  "model.jaffle_shop.orders": {"unique_id": "model.jaffle_shop.orders", "columns": {
	    "ORDER_ID": {"type": "TEXT", "index": 1, "name": "ORDER_ID"}, "CUSTOMER_ID": {"type": "TEXT", "index": 2, "name": "CUSTOMER_ID"},
	    "ORDER_TOTAL": {"type": "NUMBER", "index": 3, "name": "ORDER_TOTAL"}, "ORDERED_AT": {"type": "DATE", "index": 4, "name": "ORDERED_AT"},
	    "DISCOUNT_AMOUNT": {"type": "NUMBER", "index": 5, "name": "DISCOUNT_AMOUNT"}}}}}`
	if code, b := rawCall(t, "PUT", base+"catalog/", srv.Token, []byte(catalog)); code != 200 || !strings.Contains(string(b), `"nodes":1`) {
		t.Fatalf("catalog: %d %s", code, b)
	}
	_, b = rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)
	// The warehouse has discount_amount but not order_cost.
	if _, unmatched = revenueColumns(t, b); unmatched != "model.jaffle_shop.orders.order_cost" {
		t.Fatalf("columns with the catalog: unmatched %q", unmatched)
	}
	if code, b := rawCall(t, "PUT", base+"catalog/", srv.Token, []byte("[]")); code != 400 {
		t.Fatalf("bad catalog after a good one: %d %s", code, b)
	}
	_, b = rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)
	if _, unmatched = revenueColumns(t, b); unmatched != "model.jaffle_shop.orders.order_cost" {
		t.Fatalf("a refused catalog replaced the stored one: unmatched %q", unmatched)
	}
}
