package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// specPath is dbt Cloud's published OpenAPI spec (see testdata/NOTICE.md).
var specPath = filepath.Join("testdata", "dbt-cloud-openapi-v3.yaml")

// contractRecorder validates every exchange against the spec: the request as
// our client sent it, and the response as our server answered.
type contractRecorder struct {
	router   routers.Router
	next     http.Handler
	mu       sync.Mutex
	problems []string
	checked  map[string]int // operationId -> exchanges validated
}

func newContractRecorder(t *testing.T, next http.Handler) *contractRecorder {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("loading %s: %v", specPath, err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contractRecorder{router: router, next: next, checked: map[string]int{}}
}

func (c *contractRecorder) fail(format string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, format)
}

func (c *contractRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	check := r.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(body))
	check.URL.Host, check.Host = "", ""
	route, params, err := c.router.FindRoute(check)
	if err != nil {
		c.fail(r.Method + " " + r.URL.Path + ": not in the spec: " + err.Error())
		c.next.ServeHTTP(w, r)
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Token ") {
			return io.EOF
		}
		return nil
	}}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		c.fail("request " + route.Operation.OperationID + ": " + err.Error())
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	res := rec.Result()
	resBody := rec.Body.Bytes()
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(resBody)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	// Responses are checked for the lineage operations, the contract the provider
	// depends on. The spec marks a project's nested connection/repository/jobs as
	// required objects, which no project without them can satisfy, so List
	// Projects is checked for its request only.
	// Environments are checked for their requests only, for the same reason:
	// the spec requires nested credentials and project objects. The variables
	// by environment and the bulk update are checked both ways; the bulk create
	// answers the object dbt Labs' provider decodes, not the spec's list.
	op := route.Operation.OperationID
	if res.StatusCode < 300 && (strings.Contains(op, "Lineage") || strings.Contains(op, "collections") ||
		op == "Retrieve Projects Environment Variables Environment" || op == "Update Projects Environment Variables Bulk") {
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			c.fail("response " + route.Operation.OperationID + ": " + err.Error())
		}
	}
	c.mu.Lock()
	c.checked[route.Operation.OperationID]++
	c.mu.Unlock()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(resBody)
}

// TestContractEnvironmentVariablesAgainstOpenAPISpec: the calls of
// dbtexposures_active_exposures, as our client sends them and our server answers.
// contractServer is a server on a fresh bootstrapped database whose every
// exchange the recorder checks against the spec, a client of it, and its URL.
func contractServer(t *testing.T) (*contractRecorder, *dbtcloud.Client, string) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Bootstrap(context.Background(), "boot"); err != nil {
		t.Fatal(err)
	}
	rec := newContractRecorder(t, server.New(st, nil))
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	c, err := dbtcloud.New(dbtcloud.Config{HostURL: hs.URL + "/api", AccountID: 1, Token: "boot"})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c, hs.URL
}

func TestContractEnvironmentVariablesAgainstOpenAPISpec(t *testing.T) {
	rec, c, _ := contractServer(t)
	ctx := context.Background()
	env, err := c.GetEnvironment(ctx, 1, 1)
	if err != nil || env.Name != "Production" {
		t.Fatalf("environment: %+v %v", env, err)
	}
	if err := c.CreateEnvVar(ctx, 1, "DBT_ACTIVE_EXPOSURES", map[string]string{dbtcloud.ProjectScope: "0"}); err != nil {
		t.Fatal(err)
	}
	one := "1"
	if err := c.SetEnvVar(ctx, 1, "DBT_ACTIVE_EXPOSURES", map[string]*string{"Production": &one}); err != nil {
		t.Fatal(err)
	}
	vars, err := c.ListEnvVars(ctx, 1)
	if err != nil || vars.Variables["DBT_ACTIVE_EXPOSURES"]["Production"].Value != "1" {
		t.Fatalf("variables: %+v %v", vars, err)
	}
	for _, p := range rec.problems {
		t.Error(p)
	}
	for _, op := range []string{"Retrieve Environment", "Create Projects Environment Variables Bulk", "Update Projects Environment Variables Bulk",
		"Retrieve Projects Environment Variables Environment"} {
		if rec.checked[op] == 0 {
			t.Errorf("operation %q was never validated", op)
		}
	}
}

func TestContractLineageAgainstOpenAPISpec(t *testing.T) {
	rec, c, serverURL := contractServer(t)
	ctx := context.Background()

	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 4})
	_, tab := tableautest.NewServer(t, f)
	host, site, name, tok := tab.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret
	created, err := c.CreateLineageIntegration(ctx, 1, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau",
		Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	top, err := c.ListCollections(ctx, 1, created.ID, "")
	if err != nil || len(top) == 0 {
		t.Fatalf("collections: %v %v", top, err)
	}
	if _, err := c.ListCollections(ctx, 1, created.ID, top[0].Identifier); err != nil {
		t.Fatal(err)
	}
	// The path form of a folder's collections.
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v3/accounts/1/projects/1/integrations/lineage/%d/collections/%s/", serverURL, created.ID, top[0].Identifier), nil)
	req.Header.Set("Authorization", "Token boot")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("path form: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if _, err := c.UpdateSelections(ctx, 1, created.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: top[0].Identifier, Name: top[0].Name, Type: dbtcloud.ItemFolder}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSelections(ctx, 1, created.ID, dbtcloud.SelectionChange{ToRemove: []string{top[0].Identifier}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListLineageIntegrations(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLineageIntegration(ctx, 1, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateLineageIntegration(ctx, 1, created.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{SiteID: ptr("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListProjects(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteLineageIntegration(ctx, 1, created.ID); err != nil {
		t.Fatal(err)
	}

	for _, p := range rec.problems {
		t.Error(p)
	}
	for _, op := range []string{"Create Lineage Integration", "List Lineage Integrations", "Get Lineage Integration", "Update Lineage Integration",
		"Delete Lineage Integration", "List collections from BI tool", "List collections from BI tool_2", "Update Lineage Integration Selections", "List Projects"} {
		if rec.checked[op] == 0 {
			t.Errorf("operation %q was never validated", op)
		}
	}
}
