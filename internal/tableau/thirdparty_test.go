package tableau_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tableau-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAgainstRecordedTableauAnswers runs discovery against a server that is not
// our emulator: it answers with the shapes of TABLEAU-WIRE.md and with real
// recorded Metadata API answers — a time-limit error carrying partial data, a
// permission-mode warning, and Tableau's own long base64 cursors.
func TestAgainstRecordedTableauAnswers(t *testing.T) {
	timeLimit := sample(t, "metadata_query_error.json")
	warning := sample(t, "metadata_permission_mode_switched_warning.json")
	realCursor := sample(t, "metadata_paged_1.json")["data"].(map[string]any)["publishedDatasourcesConnection"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"].(string)

	var gql atomic.Int32
	var firsts []float64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.4/serverinfo", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"serverInfo": map[string]any{"productVersion": map[string]any{"value": "2024.2.0", "build": "20242.24"}, "restApiVersion": "3.23"}})
	})
	mux.HandleFunc("POST /api/3.23/auth/signin", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"credentials": map[string]any{"site": map[string]any{"id": "site-luid", "contentUrl": "mysite"}, "user": map[string]any{"id": "u"}, "token": "sess", "estimatedTimeToExpiration": "100:00:00"}})
	})
	mux.HandleFunc("GET /api/3.23/sites/site-luid/projects", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pageNumber") != "1" {
			_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"pageNumber": "2", "pageSize": "1000", "totalAvailable": "1"}, "projects": map[string]any{}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"pageNumber": "1", "pageSize": "1000", "totalAvailable": "1"},
			"projects": map[string]any{"project": []any{map[string]any{"id": "p1", "name": "Finance", "description": "", "contentPermissions": "LockedToProject", "topLevelProject": true}}}})
	})
	mux.HandleFunc("POST /api/metadata/graphql", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Tableau-Auth") != "sess" {
			w.WriteHeader(401)
			return
		}
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if strings.Contains(req.Query, "customSQLTablesConnection") {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"customSQLTablesConnection": map[string]any{"nodes": []any{}, "pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "totalCount": 0}}})
			return
		}
		firsts = append(firsts, req.Variables["first"].(float64))
		switch gql.Add(1) {
		case 1: // Tableau stopped at its time limit, with partial data beside the error
			_ = json.NewEncoder(w).Encode(timeLimit)
		case 2: // a page with a warning: data is good, the warning only logged
			page := map[string]any{"data": map[string]any{"workbooksConnection": map[string]any{
				"nodes": []any{map[string]any{"luid": "w1", "name": "Revenue", "vizportalUrlId": "7", "projectLuid": "p1", "projectName": "Finance",
					"updatedAt": "2024-05-01T00:00:00Z", "owner": map[string]any{"username": "ada", "name": "Ada", "email": "ada@x"}, "tags": []any{},
					"upstreamTables": []any{nil, map[string]any{"luid": "t1", "name": "ORDERS", "schema": "PUBLIC", "fullName": "[PUBLIC].[ORDERS]", "connectionType": "snowflake", "database": map[string]any{"name": "ANALYTICS", "connectionType": "snowflake"}}}}},
				"pageInfo": map[string]any{"hasNextPage": true, "endCursor": realCursor}, "totalCount": 2}}}
			page["errors"] = warning["errors"]
			_ = json.NewEncoder(w).Encode(page)
		default:
			if req.Variables["after"] != realCursor {
				t.Errorf("after = %v, want the cursor Tableau gave", req.Variables["after"])
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"workbooksConnection": map[string]any{
				"nodes":    []any{map[string]any{"luid": "w2", "name": "Costs", "vizportalUrlId": "8", "projectLuid": "p1", "projectName": "Finance", "updatedAt": "2024-05-02T00:00:00Z", "owner": map[string]any{"username": "bob"}, "tags": []any{map[string]any{"name": "kpi"}}, "upstreamTables": []any{}}},
				"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}, "totalCount": 2}}})
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := tableau.New(tableau.Config{Host: srv.URL, Site: "mysite", TokenName: "pat", TokenSecret: "s", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	site, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Workbooks) != 2 || site.Workbooks[0].Name != "Costs" || site.Workbooks[1].UpstreamTables[0].FullName != "[PUBLIC].[ORDERS]" {
		t.Fatalf("workbooks: %+v", site.Workbooks)
	}
	if site.Workbooks[0].OwnerName != "bob" || site.Workbooks[1].URL != srv.URL+"/#/site/mysite/workbooks/7" {
		t.Fatalf("owner fallback or URL: %+v", site.Workbooks)
	}
	if len(firsts) < 2 || firsts[1] != firsts[0]/2 {
		t.Fatalf("the time-limit answer must halve the page: firsts = %v", firsts)
	}
}
