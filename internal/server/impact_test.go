package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// withoutColumn is the manifest with one documented column of a node removed.
func withoutColumn(t *testing.T, manifest []byte, node, column string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["nodes"].(map[string]any)[node].(map[string]any)["columns"].(map[string]any), column)
	b, _ := json.Marshal(m)
	return b
}

type impactAnswer struct {
	Data impact.Result `json:"data"`
}

func postImpact(t *testing.T, url, token string, body []byte) impact.Result {
	t.Helper()
	code, b := rawCall(t, "POST", url, token, body)
	var a impactAnswer
	if err := json.Unmarshal(b, &a); code != 200 || err != nil {
		t.Fatalf("impact: %d %s", code, b)
	}
	return a.Data
}

// POST …/impact/ compares a pull request's manifest (alone, or with its
// catalog) with the stored manifest and catalog, over the last sync's
// dashboards, in JSON or as the comment; bad input is a 400 that names the
// problem, and nothing is stored.
func TestImpactEndpoint(t *testing.T) {
	srv, base, manifest := demoProject(t, false)
	pr := withoutColumn(t, manifest, "model.jaffle_shop.orders", "order_total")
	if code, b := rawCall(t, "POST", base+"impact/", srv.Token, pr); code != 409 || !strings.Contains(string(b), "no manifest to compare with") {
		t.Fatalf("before any manifest: %d %s", code, b)
	}
	if code, b := rawCall(t, "PUT", base+"manifest/", srv.Token, manifest); code != 200 {
		t.Fatalf("manifest: %d %s", code, b)
	}
	rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)

	for range 2 { // the second answer is the first: nothing was stored
		res := postImpact(t, base+"impact/", srv.Token, pr)
		if res.Summary.Breaking != 1 || res.Impacts[0].Name != "Revenue Overview" ||
			strings.Join(res.Impacts[0].Columns, ",") != "model.jaffle_shop.orders.order_total: removed" {
			t.Fatalf("impact of the manifest alone: %+v", res)
		}
	}
	checkImpactWithCatalogs(t, srv, base, manifest)
	code, b := rawCall(t, "POST", base+"impact/?format=markdown", srv.Token, pr)
	if md := string(b); code != 200 || !strings.HasPrefix(md, impact.CommentMarker) || !strings.Contains(md, "Revenue Overview") {
		t.Fatalf("markdown: %d %s", code, b)
	}
	for body, want := range map[string]string{
		"{":                          "Invalid impact request: the body is not valid JSON",
		"[]":                         "the body is not a JSON object",
		`{"meta": {}}`:               "no nodes or sources",
		`{"catalog": {"nodes": {}}}`: "a catalog but no manifest",
		`{"manifest": {"nodes": {}}, "extra": 1}`:                            `unknown field \"extra\"`,
		`{"manifest": {"nodes": {"model.p.a": {"resource_type": "model"}}}}`: "",
	} {
		code, b := rawCall(t, "POST", base+"impact/", srv.Token, []byte(body))
		if (want == "") != (code == 200) || (want != "" && (code != 400 || !strings.Contains(string(b), want))) {
			t.Fatalf("body %s: %d %s, want %q", body, code, b, want)
		}
	}
}

// With both catalogs, a retyped column breaks the dashboard that uses it.
func checkImpactWithCatalogs(t *testing.T, srv *servertest.Server, base string, manifest []byte) {
	t.Helper()
	catalog := func(orderTotal string) string {
		return `{"metadata": {}, "sources": {}, "nodes": {"model.jaffle_shop.orders": {"unique_id": "model.jaffle_shop.orders", "columns": {
		  "ORDER_ID": {"type": "TEXT", "index": 1, "name": "ORDER_ID"}, "ORDER_TOTAL": {"type": "` + orderTotal + `", "index": 2, "name": "ORDER_TOTAL"}}}}}`
	}
	if code, b := rawCall(t, "PUT", base+"catalog/", srv.Token, []byte(catalog("NUMBER"))); code != 200 {
		t.Fatalf("catalog: %d %s", code, b)
	}
	body := `{"manifest": ` + string(manifest) + `, "catalog": ` + catalog("TEXT") + `}`
	res := postImpact(t, base+"impact/", srv.Token, []byte(body))
	if res.Summary.Breaking != 1 || strings.Join(res.Impacts[0].Columns, ",") != "model.jaffle_shop.orders.order_total: retyped from NUMBER to TEXT" {
		t.Fatalf("impact with catalogs: %+v", res)
	}
}
