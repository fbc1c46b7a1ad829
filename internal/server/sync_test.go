package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

func rawCall(t testing.TB, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type syncAnswer struct {
	Data struct {
		SyncedAt    *string `json:"synced_at"`
		AttemptedAt *string `json:"attempted_at"`
		SyncError   *string `json:"sync_error"`
		Exposures   []struct {
			Name      string   `json:"name"`
			DependsOn []string `json:"depends_on"`
		} `json:"exposures"`
		Unmatched []struct {
			Table string `json:"table"`
		} `json:"unmatched_tables"`
	} `json:"data"`
}

func decodeSync(t testing.TB, b []byte) syncAnswer {
	t.Helper()
	var a syncAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return a
}

func exposureNames(a syncAnswer) string {
	var n []string
	for _, e := range a.Data.Exposures {
		n = append(n, e.Name)
	}
	return strings.Join(n, ",")
}

func TestExposureSync(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	in := withTableau(t, srv, tab, f)
	c := srv.Client(t)
	ctx := context.Background()
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)

	// A bad manifest is refused; a real one is stored.
	if code, b := rawCall(t, "PUT", base+"manifest/", srv.Token, []byte(`{"not": "a manifest"}`)); code != 400 || !strings.Contains(string(b), "manifest") {
		t.Fatalf("bad manifest: %d %s", code, b)
	}
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "PUT", base+"manifest/", srv.Token, manifest); code != 200 || !strings.Contains(string(b), `"schema_version":12`) {
		t.Fatalf("manifest: %d %s", code, b)
	}

	// Watch the Finance folder (three workbooks, one a level down) and Customer 360.
	const finance, customer360 = "00000003-0000-4000-8000-000000000002", "00000004-0000-4000-8000-000000000003"
	if _, err := c.UpdateSelections(ctx, 1, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{
		{Identifier: finance, Name: "Finance", Type: dbtcloud.ItemFolder}, {Identifier: customer360, Name: "Customer 360", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	_, b := rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)
	first := decodeSync(t, b)
	if got := exposureNames(first); got != "customer_360,quarterly_board_pack,raw_orders_audit,revenue_overview" || first.Data.SyncError != nil {
		t.Fatalf("exposures: %s (error %v)", got, first.Data.SyncError)
	}
	if deps := first.Data.Exposures[0].DependsOn; strings.Join(deps, ",") != "ref('customers'),ref('orders')" {
		t.Fatalf("customer_360 depends on %v", deps)
	}
	code, yml := rawCall(t, "GET", base+"exposures/?format=yaml", srv.Token, nil)
	if code != 200 || !strings.Contains(string(yml), "version: 2") || !strings.Contains(string(yml), "- name: revenue_overview") {
		t.Fatalf("yaml: %d %s", code, yml)
	}

	// A failed sync records its error and keeps the previous exposures.
	bad := "wrong-secret"
	if _, err := c.UpdateLineageIntegration(ctx, 1, in.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{Token: &bad}}); err != nil {
		t.Fatal(err)
	}
	_, b = rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil)
	failed := decodeSync(t, b)
	if failed.Data.SyncError == nil || !strings.Contains(*failed.Data.SyncError, "401001") {
		t.Fatalf("sync error: %v", failed.Data.SyncError)
	}
	// The exposures stay, and the last success predates the failed attempt (a
	// background sync of the upload may have succeeded since the first answer).
	if exposureNames(failed) != exposureNames(first) || failed.Data.SyncedAt == nil || *failed.Data.SyncedAt >= *failed.Data.AttemptedAt {
		t.Fatalf("a failed sync lost the previous exposures: %s", b)
	}

	// A selection change syncs in the background.
	good := f.PersonalAccessToken.Secret
	if _, err := c.UpdateLineageIntegration(ctx, 1, in.ID, dbtcloud.PatchLineageIntegrationRequest{Config: &dbtcloud.IntegrationConfig{Token: &good}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSelections(ctx, 1, in.ID, dbtcloud.SelectionChange{ToRemove: []string{customer360}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, b = rawCall(t, "GET", base+"exposures/", srv.Token, nil)
		a := decodeSync(t, b)
		if exposureNames(a) == "quarterly_board_pack,raw_orders_audit,revenue_overview" && a.Data.SyncError == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the selection change was not synced: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
