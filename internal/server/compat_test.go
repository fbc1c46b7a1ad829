package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// TestCompatWithOtherClients replays the wire shapes of a client written to dbt
// Cloud's API by someone else (dbt Labs' official provider's lineage calls):
// every config field with Go's omitempty (so an empty site_id is absent), the
// whole object including id sent back on PATCH, and "Bearer" authorization.
func TestCompatWithOtherClients(t *testing.T) {
	srv := servertest.New(t)
	base := srv.HostURL + "/v3/accounts/1/projects/1/integrations/lineage/"

	// Create for Tableau Server's default site: site_id "" is omitted by omitempty.
	code, env, raw := call(t, "POST", base, srv.Token,
		`{"account_id":1,"project_id":1,"name":"tableau","config":{"host":"tableau.example.com","token_name":"n","token":"t"}}`)
	if code != 200 {
		t.Fatalf("create: %d %s", code, raw)
	}
	data := env["data"].(map[string]any)
	id := int64(data["id"].(float64))
	if cfg := data["config"].(map[string]any); cfg["site_id"] != "" {
		t.Fatalf("site_id should default to the default site: %v", cfg)
	}

	// Update the way a read-modify-write client does: the object back, with id.
	body, _ := json.Marshal(map[string]any{"id": id, "account_id": 1, "project_id": 1, "name": "tableau",
		"config": map[string]any{"host": "tableau.example.com", "site_id": "finance", "token_name": "n2"}})
	code, env, raw = call(t, "PATCH", fmt.Sprintf("%s%d/", base, id), srv.Token, string(body))
	if code != 200 {
		t.Fatalf("patch: %d %s", code, raw)
	}
	cfg := env["data"].(map[string]any)["config"].(map[string]any)
	if cfg["site_id"] != "finance" || cfg["token_name"] != "n2" {
		t.Fatalf("patch result: %v", cfg)
	}
	stored, _ := srv.Store.GetIntegration(t.Context(), 1, 1, id)
	if stored.Config["token"] != "t" {
		t.Fatal("a PATCH without a token must keep the stored token")
	}

	// Bearer is accepted like Token; the response decodes as the spec's envelope.
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s%d/", base, id), nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bearer GET: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var got struct {
		Data struct {
			ID     int64             `json:"id"`
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
		} `json:"data"`
		Status struct {
			IsSuccess bool `json:"is_success"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || !got.Status.IsSuccess || got.Data.ID != id || got.Data.Config["host"] != "tableau.example.com" {
		t.Fatalf("decoded %+v %v", got, err)
	}

	// A PATCH naming another integration's id is refused, not applied elsewhere.
	code, env, _ = call(t, "PATCH", fmt.Sprintf("%s%d/", base, id), srv.Token, fmt.Sprintf(`{"id":%d,"config":{"site_id":"x"}}`, id+1))
	if code != 400 || userMessage(env) == "" {
		t.Fatalf("mismatched id: %d %v", code, env)
	}
}
