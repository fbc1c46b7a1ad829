package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

func tenant(t *testing.T, enhanced bool) (*emulator.Emulator, *httptest.Server, *emulator.Fixture) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "datahub-scanresult-multi-platform.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &emulator.Fixture{TenantID: "contoso", ClientID: "app", ClientSecret: "s3cret", ScanResult: raw, EnhancedMetadata: &enhanced}
	e, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv, f
}

func client(t *testing.T, srv *httptest.Server, secret string) *powerbi.Client {
	t.Helper()
	c, err := powerbi.New(powerbi.Config{TenantID: "contoso", ClientID: "app", ClientSecret: secret, APIURL: srv.URL, LoginURL: srv.URL,
		PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond,
		Retry: transport.RetryConfig{MaxRetries: 2, WaitMin: 10 * time.Millisecond, WaitMax: 2 * time.Second, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Our client scans the emulated tenant end to end, through a 429, and finds
// the lineage of its report.
func TestClientAgainstEmulator(t *testing.T) {
	e, srv, _ := tenant(t, true)
	e.ScanPolls = 3
	e.Throttle("/getInfo", 1)
	c := client(t, srv, "s3cret")
	ctx := context.Background()
	ids, err := c.ModifiedWorkspaces(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("modified: %v %v", ids, err)
	}
	res, err := c.Scan(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	l := res.ReportLineage(res.Datasets(), res.Workspaces[0].Reports[0])
	if len(l.Tables) == 0 {
		t.Fatalf("no lineage: %v", l.Problems)
	}
}

// With enhanced metadata off the datasets come without tables, and lineage
// says which tenant setting to turn on.
func TestEnhancedMetadataOff(t *testing.T) {
	_, srv, _ := tenant(t, false)
	c := client(t, srv, "s3cret")
	ids, _ := c.ModifiedWorkspaces(context.Background())
	res, err := c.Scan(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	l := res.ReportLineage(res.Datasets(), res.Workspaces[0].Reports[0])
	if len(l.Tables) != 0 || !strings.Contains(strings.Join(l.Problems, ""), "Enhance admin APIs responses with detailed metadata") {
		t.Fatalf("%+v", l)
	}
}

// A wrong secret gets Entra ID's invalid_client, and the secret is not echoed.
func TestWrongSecret(t *testing.T) {
	_, srv, _ := tenant(t, true)
	_, err := client(t, srv, "wrong-value").ModifiedWorkspaces(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || !strings.Contains(err.Error(), "AADSTS7000215") || strings.Contains(err.Error(), "wrong-value") {
		t.Fatalf("got %v", err)
	}
}

// getInfo accepts a form-encoded body as well as JSON, and refreshes are recorded.
func TestFormEncodedGetInfoAndRefresh(t *testing.T) {
	e, srv, _ := tenant(t, true)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s3cret"}, "scope": {powerbi.Scope}}
	resp, err := http.PostForm(srv.URL+"/contoso/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	call := func(method, path, ctype, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/v1.0/myorg/"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	r := call("POST", "admin/workspaces/getInfo?lineage=true", "application/x-www-form-urlencoded", "workspaces=64ED5CAD-7C10-4684-8180-826122881108&workspaces=other")
	if r.StatusCode != 202 || r.Header.Get("Location") == "" {
		t.Fatalf("form getInfo: %d", r.StatusCode)
	}
	r = call("POST", "groups/g1/datasets/d1/refreshes", "application/json", `{"notifyOption":"NoNotification"}`)
	if r.StatusCode != 202 || len(e.Refreshes()) != 1 || e.Refreshes()[0].DatasetID != "d1" {
		t.Fatalf("refresh: %d %+v", r.StatusCode, e.Refreshes())
	}
	if r := call("GET", "admin/workspaces/modified", "", ""); r.StatusCode != 200 {
		t.Fatalf("modified: %d", r.StatusCode)
	}
	if r, err := http.Get(srv.URL + "/contoso/v2.0/.well-known/openid-configuration"); err != nil || r.StatusCode != 200 {
		t.Fatalf("discovery document: %v %v", r, err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1.0/myorg/admin/workspaces/modified", nil)
	req.Header.Set("Authorization", "Bearer forged")
	if r, _ := http.DefaultClient.Do(req); r.StatusCode != 401 {
		t.Fatalf("a forged token: %d", r.StatusCode)
	}
}
