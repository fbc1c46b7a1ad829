package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

func ptr(s string) *string { return &s }

func tableauReq(token string) dbtcloud.CreateLineageIntegrationRequest {
	return dbtcloud.CreateLineageIntegrationRequest{Name: "tableau", Config: dbtcloud.IntegrationConfig{
		Host: ptr("10az.online.tableau.com"), SiteID: ptr("acme"), TokenName: ptr("dbt"), Token: ptr(token)}}
}

// call sends a raw request and decodes the envelope.
func call(t *testing.T, method, url, token, body string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env map[string]any
	_ = json.Unmarshal(raw, &env)
	return resp.StatusCode, env, string(raw)
}

func userMessage(env map[string]any) string {
	st, _ := env["status"].(map[string]any)
	s, _ := st["user_message"].(string)
	return s
}

func TestLineageLifecycle(t *testing.T) {
	srv := servertest.New(t)
	c := srv.Client(t)
	ctx := context.Background()

	created, err := c.CreateLineageIntegration(ctx, 1, tableauReq("PAT-SECRET-1"))
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.AccountID != 1 || created.ProjectID != 1 || created.Name != "tableau" || created.CreatedAt == "" {
		t.Fatalf("created: %+v", created)
	}
	if created.Config == nil || *created.Config.Host != "10az.online.tableau.com" || created.Config.Token != nil {
		t.Fatalf("config must come back without the token: %+v", created.Config)
	}

	list, err := c.ListLineageIntegrations(ctx, 1)
	if err != nil || len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("list: %+v %v", list, err)
	}

	got, err := c.GetLineageIntegration(ctx, 1, created.ID)
	if err != nil || got.UpdatedAt != created.UpdatedAt {
		t.Fatalf("get: %+v %v", got, err)
	}

	// A partial PATCH changes only what it names.
	patched, err := c.UpdateLineageIntegration(ctx, 1, created.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{SiteID: ptr("acme-2")}})
	if err != nil {
		t.Fatal(err)
	}
	if *patched.Config.SiteID != "acme-2" || *patched.Config.Host != "10az.online.tableau.com" || *patched.Config.TokenName != "dbt" {
		t.Fatalf("patch: %+v", patched.Config)
	}
	if patched.UpdatedAt == created.UpdatedAt || patched.CreatedAt != created.CreatedAt {
		t.Fatalf("timestamps: created %s/%s patched %s/%s", created.CreatedAt, created.UpdatedAt, patched.CreatedAt, patched.UpdatedAt)
	}
	// The token is stored (the server needs it for Tableau) but never returned.
	stored, err := srv.Store.GetIntegration(ctx, 1, 1, created.ID)
	if err != nil || stored.Config["token"] != "PAT-SECRET-1" {
		t.Fatalf("stored token: %v %v", stored, err)
	}
	_, _, raw := call(t, "GET", fmt.Sprintf("%s/v3/accounts/1/projects/1/integrations/lineage/%d/", srv.HostURL, created.ID), srv.Token, "")
	if strings.Contains(raw, "PAT-SECRET-1") {
		t.Fatal("token returned by GET")
	}
	if _, err := c.UpdateLineageIntegration(ctx, 1, created.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{Token: ptr("PAT-SECRET-2")}}); err != nil {
		t.Fatal(err)
	}
	if stored, _ = srv.Store.GetIntegration(ctx, 1, 1, created.ID); stored.Config["token"] != "PAT-SECRET-2" || stored.Config["site_id"] != "acme-2" {
		t.Fatalf("token rotation: %+v", stored)
	}

	code, _, _ := call(t, "DELETE", fmt.Sprintf("%s/v3/accounts/1/projects/1/integrations/lineage/%d/", srv.HostURL, created.ID), srv.Token, "")
	if code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if _, err := c.GetLineageIntegration(ctx, 1, created.ID); !dbtcloud.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	if err := c.DeleteLineageIntegration(ctx, 1, created.ID); !dbtcloud.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestAuthAndIsolation(t *testing.T) {
	srv := servertest.New(t)
	ctx := context.Background()
	other, otherProject, otherToken, err := srv.Store.CreateAccount(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	mine, err := c.CreateLineageIntegration(ctx, 1, tableauReq("x"))
	if err != nil {
		t.Fatal(err)
	}
	base := srv.HostURL + "/v3/accounts"
	mineURL := fmt.Sprintf("%s/1/projects/1/integrations/lineage/%d/", base, mine.ID)

	cases := []struct {
		name, method, url, token string
		want                     int
	}{
		{"no token", "GET", mineURL, "", 401},
		{"wrong token", "GET", mineURL, "nope", 401},
		{"other account's token on my account", "GET", mineURL, otherToken, 403},
		{"my token on other account", "GET", fmt.Sprintf("%s/%d/projects/%d/integrations/lineage/", base, other, otherProject), srv.Token, 403},
		{"other account's project through my account", "GET", fmt.Sprintf("%s/1/projects/%d/integrations/lineage/", base, otherProject), srv.Token, 404},
		{"unknown integration", "GET", fmt.Sprintf("%s/1/projects/1/integrations/lineage/999/", base), srv.Token, 404},
		{"non-numeric id", "GET", fmt.Sprintf("%s/1/projects/1/integrations/lineage/abc/", base), srv.Token, 404},
		{"unknown endpoint", "GET", srv.HostURL + "/v3/nothing/", srv.Token, 404},
		{"delete mine with other token", "DELETE", mineURL, otherToken, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, env, raw := call(t, tc.method, tc.url, tc.token, "")
			if code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, raw)
			}
			if userMessage(env) == "" {
				t.Fatalf("error without a user_message: %s", raw)
			}
			if strings.Contains(raw, "10az.online.tableau.com") {
				t.Fatalf("leaked data: %s", raw)
			}
		})
	}
	// Bearer works like Token.
	req, _ := http.NewRequest("GET", mineURL, nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Bearer: %v %v", resp, err)
	}
	resp.Body.Close()
	// The integration survived the other account's delete attempt.
	if _, err := c.GetLineageIntegration(ctx, 1, mine.ID); err != nil {
		t.Fatal(err)
	}
}

func TestBadBodiesNameTheField(t *testing.T) {
	srv := servertest.New(t)
	url := srv.HostURL + "/v3/accounts/1/projects/1/integrations/lineage/"
	cases := []struct{ body, field string }{
		{``, "body is empty"},
		{`[1]`, "JSON object"},
		{`{"account_id":1,"config":{"host":"h","site_id":"s","token_name":"n","token":"t"}}`, `"name"`},
		{`{"name":"looker","account_id":1,"config":{}}`, `"name"`},
		{`{"name":"tableau","config":{"host":"h","site_id":"s","token_name":"n","token":"t"}}`, `"account_id"`},
		{`{"name":"tableau","account_id":2,"config":{"host":"h","site_id":"s","token_name":"n","token":"t"}}`, `"account_id"`},
		{`{"name":"tableau","account_id":1,"project_id":9,"config":{"host":"h","site_id":"s","token_name":"n","token":"t"}}`, `"project_id"`},
		{`{"name":"tableau","account_id":1}`, `"config"`},
		{`{"name":"tableau","account_id":1,"config":{"site_id":"s","token_name":"n","token":"t"}}`, `"config.host"`},
		{`{"name":"tableau","account_id":1,"config":{"host":"h","site_id":7,"token_name":"n","token":"t"}}`, `"config.site_id"`},
		{`{"id":3,"name":"tableau","account_id":1,"config":{"host":"h","site_id":"s","token_name":"n","token":"t"}}`, `"id"`},
		{`{"name":"tableau","account_id":1,"config":{"host":"h","site_id":"s","token":"t"}}`, `"config.token_name"`},
		{`{"name":"tableau","account_id":1,"config":{"host":"h","site_id":"s","token_name":"n"}}`, `"config.token"`},
		{`{"name":"tableau","account_id":1,"config":{"host":5,"site_id":"s","token_name":"n","token":"t"}}`, `"config.host"`},
		{`{"name":"tableau","account_id":1,"config":{"host":"h","site_id":"s","token_name":"n","token":"t","extra":1}}`, `"config.extra"`},
		{`{"name":"tableau","account_id":1,"surprise":true,"config":{}}`, `"surprise"`},
		{`{"name":"tableau","account_id":"one","config":{}}`, `"account_id"`},
	}
	for _, tc := range cases {
		code, env, raw := call(t, "POST", url, srv.Token, tc.body)
		if code != 400 || !strings.Contains(userMessage(env), tc.field) {
			t.Errorf("body %s: got %d %s; want 400 naming %s", tc.body, code, raw, tc.field)
		}
	}
	// Nothing was stored by the bad requests.
	if list, _, _ := srv.Store.ListIntegrations(context.Background(), 1, 1, 100, 0); len(list) != 0 {
		t.Fatalf("bad requests stored %d integrations", len(list))
	}
	// Oversized bodies are refused.
	huge := `{"name":"tableau","account_id":1,"config":{"host":"` + strings.Repeat("a", server.MaxBodyBytes) + `"}}`
	if code, _, _ := call(t, "POST", url, srv.Token, huge); code != 400 && code != 413 {
		t.Fatalf("huge body: %d", code)
	}
	// A second Tableau integration in the same project is refused, the first kept.
	c := srv.Client(t)
	first, err := c.CreateLineageIntegration(context.Background(), 1, tableauReq("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLineageIntegration(context.Background(), 1, tableauReq("b")); err == nil || !strings.Contains(err.Error(), "already has") {
		t.Fatalf("duplicate: %v", err)
	}
	// A bad PATCH changes nothing.
	patchURL := fmt.Sprintf("%s%d/", url, first.ID)
	if code, env, _ := call(t, "PATCH", patchURL, srv.Token, `{"config":{"host":""}}`); code != 400 || !strings.Contains(userMessage(env), "config.host") {
		t.Fatalf("empty host patch: %d %v", code, env)
	}
	if code, env, _ := call(t, "PATCH", patchURL, srv.Token, `{"name":"powerbi"}`); code != 400 || !strings.Contains(userMessage(env), "name") {
		t.Fatalf("name patch: %d %v", code, env)
	}
	got, _ := c.GetLineageIntegration(context.Background(), 1, first.ID)
	if *got.Config.Host != "10az.online.tableau.com" || got.UpdatedAt != first.UpdatedAt {
		t.Fatalf("bad PATCH changed data: %+v", got)
	}
}

func TestPersistsAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	ctx := context.Background()
	start := func() (*store.Store, *httptest.Server, *dbtcloud.Client) {
		st, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Bootstrap(ctx, "boot"); err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(server.New(st, nil))
		c, _ := dbtcloud.New(dbtcloud.Config{HostURL: hs.URL + "/api", AccountID: 1, Token: "boot"})
		return st, hs, c
	}
	st, hs, c := start()
	created, err := c.CreateLineageIntegration(ctx, 1, tableauReq("tok"))
	if err != nil {
		t.Fatal(err)
	}
	hs.Close()
	st.Close()

	st, hs, c = start() // bootstrap again on a non-empty database must not add anything
	defer func() { hs.Close(); st.Close() }()
	got, err := c.GetLineageIntegration(ctx, 1, created.ID)
	if err != nil || *got.Config.SiteID != "acme" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	accts, err := c.ListAccounts(ctx)
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts after restart: %+v %v", accts, err)
	}
}

func TestConcurrentRequestsAreSafe(t *testing.T) {
	srv := servertest.New(t)
	ctx := context.Background()
	// Ten accounts, each creating and patching its own integration at once.
	type acct struct {
		c   *dbtcloud.Client
		pid int64
	}
	var accts []acct
	for i := 0; i < 10; i++ {
		a, p, tok, err := srv.Store.CreateAccount(ctx, fmt.Sprintf("a%d", i))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := dbtcloud.New(dbtcloud.Config{HostURL: srv.HostURL, AccountID: a, Token: tok})
		accts = append(accts, acct{c, p})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, a := range accts {
		wg.Add(1)
		go func(a acct) {
			defer wg.Done()
			in, err := a.c.CreateLineageIntegration(ctx, a.pid, tableauReq("t"))
			if err != nil {
				errs <- err
				return
			}
			for j := 0; j < 5; j++ {
				if _, err := a.c.UpdateLineageIntegration(ctx, a.pid, in.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{SiteID: ptr(fmt.Sprint(j))}}); err != nil {
					errs <- err
				}
			}
		}(a)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, a := range accts {
		list, err := a.c.ListLineageIntegrations(ctx, a.pid)
		if err != nil || len(list) != 1 || *list[0].Config.SiteID != "4" {
			t.Fatalf("account state: %+v %v", list, err)
		}
	}
}

func TestListPaginationParams(t *testing.T) {
	srv := servertest.New(t)
	code, env, _ := call(t, "GET", srv.HostURL+"/v3/accounts/1/projects/?limit=500", srv.Token, "")
	if code != 400 || !strings.Contains(userMessage(env), "limit") {
		t.Fatalf("limit=500: %d %v", code, env)
	}
	code, env, _ = call(t, "GET", srv.HostURL+"/v3/accounts/1/projects/?limit=1&offset=0", srv.Token, "")
	extra := env["extra"].(map[string]any)["pagination"].(map[string]any)
	if code != 200 || extra["count"].(float64) != 1 || extra["total_count"].(float64) != 1 {
		t.Fatalf("projects page: %d %v", code, env)
	}
}
