package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// withTableau creates an integration on srv that reads the emulator's site.
func withTableau(t testing.TB, srv *servertest.Server, tab *httptest.Server, f *emulator.Fixture) *dbtcloud.LineageIntegration {
	t.Helper()
	host, site, name, tok := tab.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func names(items []dbtcloud.WatchSelectionItem) string {
	var out []string
	for _, it := range items {
		w := ""
		if it.Watching {
			w = "*"
		}
		out = append(out, string(it.Type)[:1]+":"+it.Name+w)
	}
	return strings.Join(out, ",")
}

func TestCollectionsAndSelections(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 12, TablesPerWorkbook: 1})
	emu, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	in := withTableau(t, srv, tab, f)
	c := srv.Client(t)
	ctx := context.Background()
	finance, quarterly := f.Projects[0].ID, f.Projects[1].ID

	top, err := c.ListCollections(ctx, srv.ProjectID, in.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(top); got != "f:Empty Project,f:Finance,f:Marketing,f:Ventes Été" {
		t.Fatalf("top level: %s", got)
	}
	kids, err := c.ListCollections(ctx, srv.ProjectID, in.ID, finance)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(names(kids), "f:Quarterly,d:") {
		t.Fatalf("Finance children: %s", names(kids))
	}
	// The path form answers the same as ?collection_id=.
	code, env, _ := call(t, "GET", fmt.Sprintf("%s/v3/accounts/1/projects/1/integrations/lineage/%d/collections/%s/", srv.HostURL, in.ID, finance), srv.Token, "")
	if code != 200 || len(env["data"].([]any)[0].(map[string]any)["collections"].([]any)) != len(kids) {
		t.Fatalf("path form: %d %v", code, env)
	}
	if _, err := c.ListCollections(ctx, srv.ProjectID, in.ID, "no-such-folder"); !dbtcloud.IsNotFound(err) {
		t.Fatalf("unknown folder: %v", err)
	}

	// Watch a folder and a workbook.
	wb := kids[1]
	res, err := c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{
		{Identifier: quarterly, Name: "Quarterly", Type: dbtcloud.ItemFolder}, {Identifier: wb.Identifier, Name: wb.Name, Type: dbtcloud.ItemDashboard}}})
	if err != nil || res.Added != 2 || res.Removed != 0 {
		t.Fatalf("add: %+v %v", res, err)
	}
	kids, _ = c.ListCollections(ctx, srv.ProjectID, in.ID, finance)
	if !strings.HasPrefix(names(kids), "f:Quarterly*,d:"+wb.Name+"*") {
		t.Fatalf("watching flags: %s", names(kids))
	}
	// Adding again changes nothing.
	if res, _ := c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: quarterly, Name: "Quarterly", Type: dbtcloud.ItemFolder}}}); res.Added != 0 {
		t.Fatalf("re-add counted: %+v", res)
	}

	// Unknown identifiers are listed and nothing changes.
	_, err = c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{
		ToAdd:    []dbtcloud.WatchSelectionItem{{Identifier: "ghost-1", Name: "x", Type: dbtcloud.ItemDashboard}, {Identifier: "ghost-2", Name: "y", Type: dbtcloud.ItemFolder}},
		ToRemove: []string{quarterly}})
	if err == nil || !strings.Contains(err.Error(), "ghost-1, ghost-2") {
		t.Fatalf("unknown ids: %v", err)
	}
	if w, _ := srv.Store.Watches(ctx, in.ID); len(w) != 2 {
		t.Fatalf("a refused request changed the selection: %v", w)
	}
	// A folder sent as a dashboard is refused.
	if _, err := c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: finance, Name: "Finance", Type: dbtcloud.ItemDashboard}}}); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Fatalf("mistyped: %v", err)
	}

	// A workbook deleted in Tableau can still be unwatched.
	emu.DeleteWorkbook(wb.Identifier)
	res, err = c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToRemove: []string{wb.Identifier}})
	if err != nil || res.Removed != 1 {
		t.Fatalf("remove deleted: %+v %v", res, err)
	}

	// Deleting the integration removes its selection.
	if err := c.DeleteLineageIntegration(ctx, srv.ProjectID, in.ID); err != nil {
		t.Fatal(err)
	}
	if w, _ := srv.Store.Watches(ctx, in.ID); len(w) != 0 {
		t.Fatalf("watches outlived their integration: %v", w)
	}
}

func TestCollectionsAreCachedAndRefreshedOnSelection(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5})
	emu, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t, server.WithTableauTTL(time.Hour))
	in := withTableau(t, srv, tab, f)
	c := srv.Client(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := c.ListCollections(ctx, srv.ProjectID, in.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	// probe + sign-in + projects + workbooks: once for five plans' worth of reads.
	if st := emu.Stats(); st.REST != 4 || st.SignIns != 1 {
		t.Fatalf("cache: %+v", st)
	}
	if _, err := c.UpdateSelections(ctx, srv.ProjectID, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: f.Projects[0].ID, Name: "Finance", Type: dbtcloud.ItemFolder}}}); err != nil {
		t.Fatal(err)
	}
	if st := emu.Stats(); st.REST != 6 || st.SignIns != 1 {
		t.Fatalf("a selection change must re-read Tableau with the same session: %+v", st)
	}
}

func TestTableauFailuresAreClear(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 2})
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t)
	c := srv.Client(t)
	ctx := context.Background()

	bad := *f
	bad.PersonalAccessToken.Secret = "wrong"
	in := withTableau(t, srv, tab, &bad)
	_, err := c.ListCollections(ctx, srv.ProjectID, in.ID, "")
	var apiErr *dbtcloud.APIError
	host := strings.TrimPrefix(tab.URL, "http://")
	if !errorsAs(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.UserMessage, host) || !strings.Contains(apiErr.UserMessage, "401001") || strings.Contains(apiErr.UserMessage, "wrong") {
		t.Fatalf("bad token: %v", err)
	}
	_ = c.DeleteLineageIntegration(ctx, srv.ProjectID, in.ID)

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	h, s, n, tok := deadURL, "acme", "pat", "x"
	in2, err := c.CreateLineageIntegration(ctx, srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &h, SiteID: &s, TokenName: &n, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListCollections(ctx, srv.ProjectID, in2.ID, "")
	if !errorsAs(err, &apiErr) || apiErr.StatusCode != 502 || !strings.Contains(apiErr.UserMessage, strings.TrimPrefix(deadURL, "http://")) {
		t.Fatalf("unreachable: %v", err)
	}
}

func errorsAs(err error, target **dbtcloud.APIError) bool { return errors.As(err, target) }
