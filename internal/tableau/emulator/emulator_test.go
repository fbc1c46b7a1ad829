package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Tableau-Auth", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func signIn(t *testing.T, base string, f *Fixture) (string, string) {
	t.Helper()
	code, out := do(t, "POST", base+"/api/3.23/auth/signin", "", map[string]any{"credentials": map[string]any{
		"personalAccessTokenName": f.PersonalAccessToken.Name, "personalAccessTokenSecret": f.PersonalAccessToken.Secret,
		"site": map[string]any{"contentUrl": f.Site.ContentURL}}})
	if code != 200 {
		t.Fatalf("sign-in: %d %v", code, out)
	}
	cred := out["credentials"].(map[string]any)
	return cred["token"].(string), cred["site"].(map[string]any)["id"].(string)
}

// serve starts the emulator on loopback until the test ends.
func serve(t *testing.T, f *Fixture) (*Emulator, *httptest.Server) {
	t.Helper()
	e, err := New(f)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func TestWireFormat(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 3, TablesPerWorkbook: 1})
	_, srv := serve(t, f)

	code, out := do(t, "GET", srv.URL+"/api/2.4/serverinfo", "", nil)
	if code != 200 || out["serverInfo"].(map[string]any)["restApiVersion"] != "3.23" {
		t.Fatalf("serverinfo: %d %v", code, out)
	}
	code, out = do(t, "GET", srv.URL+"/api/9.1/serverinfo", "", nil)
	if code != 404 || out["error"].(map[string]any)["code"] != "404003" {
		t.Fatalf("unknown version: %d %v", code, out)
	}
	code, out = do(t, "POST", srv.URL+"/api/3.23/auth/signin", "", map[string]any{"credentials": map[string]any{
		"personalAccessTokenName": "x", "personalAccessTokenSecret": "y", "site": map[string]any{"contentUrl": "acme"}}})
	if code != 401 || out["error"].(map[string]any)["code"] != "401001" {
		t.Fatalf("bad PAT: %d %v", code, out)
	}

	tok, site := signIn(t, srv.URL, f)
	code, out = do(t, "GET", srv.URL+"/api/3.23/sites/"+site+"/projects?pageSize=2&pageNumber=1", tok, nil)
	pg := out["pagination"].(map[string]any)
	if code != 200 || pg["pageSize"] != "2" || pg["totalAvailable"] != "7" || pg["pageNumber"] != "1" {
		t.Fatalf("pagination numbers must be strings: %v", out)
	}
	if n := len(out["projects"].(map[string]any)["project"].([]any)); n != 2 {
		t.Fatalf("page size: %d", n)
	}
	_, out = do(t, "GET", srv.URL+"/api/3.23/sites/"+site+"/workbooks?filter=name:eq:nothing", tok, nil)
	if wb, ok := out["workbooks"].(map[string]any); !ok || len(wb) != 0 {
		t.Fatalf("an empty list must be {}: %v", out)
	}

	// A second sign-in with the same PAT ends the first session.
	tok2, _ := signIn(t, srv.URL, f)
	code, out = do(t, "GET", srv.URL+"/api/3.23/sites/"+site+"/projects", tok, nil)
	if code != 401 || out["error"].(map[string]any)["code"] != "401002" {
		t.Fatalf("old session: %d %v", code, out)
	}

	// Unknown fields are rejected as Tableau rejects them.
	code, out = do(t, "POST", srv.URL+"/api/metadata/graphql", tok2, map[string]any{"query": "{ workbooks { name webpageUrl } }"})
	errs, _ := out["errors"].([]any)
	if code != 200 || len(errs) == 0 || out["data"] != nil || !strings.Contains(errs[0].(map[string]any)["message"].(string), "webpageUrl") {
		t.Fatalf("unknown field: %d %v", code, out)
	}
	// A valid query with aliases, fragments and __typename.
	code, out = do(t, "POST", srv.URL+"/api/metadata/graphql", tok2, map[string]any{
		"query": `query Q($n: Int) { wb: workbooksConnection(first: $n, orderBy: {field: NAME, direction: DESC}) { nodes { __typename ...F } totalCount pageInfo { hasNextPage endCursor } } }
fragment F on Workbook { title: name owner { name } }`,
		"variables": map[string]any{"n": 2}})
	conn := out["data"].(map[string]any)["wb"].(map[string]any)
	nodes := conn["nodes"].([]any)
	if code != 200 || len(nodes) != 2 || conn["totalCount"].(float64) != 3 || conn["pageInfo"].(map[string]any)["hasNextPage"] != true {
		t.Fatalf("query: %v", out)
	}
	first := nodes[0].(map[string]any)
	if first["__typename"] != "Workbook" || first["title"] != "Workbook 00002" {
		t.Fatalf("node: %v", first)
	}
}

func TestNodeLimitGivesPartialDataWithWarning(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 50, TablesPerWorkbook: 2})
	emu, srv := serve(t, f)
	emu.NodeLimit = 40
	tok, _ := signIn(t, srv.URL, f)
	_, out := do(t, "POST", srv.URL+"/api/metadata/graphql", tok, map[string]any{"query": "{ workbooks { name upstreamTables { name } } }"})
	errs := out["errors"].([]any)
	ext := errs[0].(map[string]any)["extensions"].(map[string]any)
	if ext["code"] != "NODE_LIMIT_EXCEEDED" {
		t.Fatalf("errors: %v", errs)
	}
	if n := len(out["data"].(map[string]any)["workbooks"].([]any)); n == 0 || n >= 50 {
		t.Fatalf("want partial data, got %d workbooks", n)
	}
}

func TestFixtureCheck(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 2})
	f.Workbooks[1].ProjectID = "nope"
	if err := f.Check(); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("check: %v", err)
	}
}

// A session ended by another sign-in with the same token is refused alike on
// REST and on the Metadata API, and the counters record the end and the
// recovery that follows.
func TestEndedSessionAnsweredAlikeOnBothAPIs(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 3, TablesPerWorkbook: 1})
	e, srv := serve(t, f)
	old, site := signIn(t, srv.URL, f)
	tok, _ := signIn(t, srv.URL, f) // ends old
	restCode, rest := do(t, "GET", srv.URL+"/api/3.23/sites/"+site+"/projects", old, nil)
	gqlCode, gql := do(t, "POST", srv.URL+"/api/metadata/graphql", old, map[string]any{"query": "{ workbooks { name } }"})
	if restCode != 401 || gqlCode != 401 {
		t.Fatalf("want 401 on both, got REST %d, Metadata API %d", restCode, gqlCode)
	}
	rb, _ := json.Marshal(rest)
	gb, _ := json.Marshal(gql)
	if string(rb) != string(gb) || rest["error"].(map[string]any)["code"] != "401002" {
		t.Fatalf("answers differ:\nREST     %s\nMetadata %s", rb, gb)
	}
	if code, _ := do(t, "POST", srv.URL+"/api/metadata/graphql", tok, map[string]any{"query": "{ workbooks { name } }"}); code != 200 {
		t.Fatalf("new session: %d", code)
	}
	if st := e.Stats(); st.SessionsEnded != 1 || st.ExpiredAnswers != 2 || st.Recoveries != 1 {
		t.Fatalf("counters: %+v", st)
	}
}

// fieldsConnection returns at most 1,000 fields a page whatever "first"
// asks, and says there is more only through pageInfo, as Tableau does.
func TestFieldsConnectionCapsPagesSilently(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 1, TablesPerWorkbook: 1})
	for i := 0; i < 1500; i++ {
		f.Fields = append(f.Fields, FixtureField{ID: luid(9, i), Name: "F", Type: "ColumnField", DatasourceID: f.Workbooks[0].ID})
	}
	_, srv := serve(t, f)
	tok, _ := signIn(t, srv.URL, f)
	_, out := do(t, "POST", srv.URL+"/api/metadata/graphql", tok, map[string]any{
		"query": "{ fieldsConnection(first: 5000) { nodes { id } pageInfo { hasNextPage endCursor } totalCount } }"})
	conn := out["data"].(map[string]any)["fieldsConnection"].(map[string]any)
	if n := len(conn["nodes"].([]any)); n != 1000 || conn["pageInfo"].(map[string]any)["hasNextPage"] != true || out["errors"] != nil {
		t.Fatalf("got %d nodes, pageInfo %v, errors %v; want 1,000, more to come, no error", n, conn["pageInfo"], out["errors"])
	}
}

// TestAnswersKeepTheQueryOrder: a Metadata API answer lists fields in the
// order the query asks for them, and strings that need escaping survive.
func TestAnswersKeepTheQueryOrder(t *testing.T) {
	f := Generate(GenerateOptions{Workbooks: 2, TablesPerWorkbook: 1})
	f.Workbooks[0].Name = "Q1 \"plan\" <draft> & \\ naïve\n"
	_, srv := serve(t, f)
	tok, _ := signIn(t, srv.URL, f)
	body, _ := json.Marshal(map[string]any{"query": `{ workbooksConnection(first: 5) { totalCount nodes { name luid __typename } pageInfo { hasNextPage } } }`})
	req, _ := http.NewRequest("POST", srv.URL+"/api/metadata/graphql", bytes.NewReader(body))
	req.Header.Set("X-Tableau-Auth", tok)
	_, raw := send(t, req)
	order := []string{`{"data":{"workbooksConnection":{"totalCount":2,"nodes":[{"name":`, `"luid":`, `"__typename":"Workbook"}`, `"pageInfo":{"hasNextPage":false}}}}`}
	at := 0
	for _, want := range order {
		i := bytes.Index(raw[at:], []byte(want))
		if i < 0 {
			t.Fatalf("want %s after byte %d of %s", want, at, raw)
		}
		at += i + len(want)
	}
	var out struct {
		Data struct {
			WorkbooksConnection struct{ Nodes []struct{ Name string } }
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range out.Data.WorkbooksConnection.Nodes {
		names[n.Name] = true
	}
	if !names[f.Workbooks[0].Name] {
		t.Fatalf("the escaped name did not survive: %s", raw)
	}
}

// send sends req and reads the whole answer.
func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}
