package provider

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// While one connection's tree is walked slowly, another connection's walk
// goes on; and callers wanting the same connection share one walk.
func TestTreeCacheHoldsNoLockWhileWalking(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 4, TablesPerWorkbook: 1})
	emu, tab := tableautest.NewServer(t, f)
	pf, pbi := demoPowerBITenant(t)
	srv := servertest.New(t, server.WithPowerBI(server.PowerBIConfig{APIURL: pbi.URL, LoginURL: pbi.URL, PollInterval: 5 * time.Millisecond}))
	client := srv.Client(t)
	ctx := context.Background()
	tc, err := client.CreateLineageIntegration(ctx, srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau",
		Config: dbtcloud.IntegrationConfig{Host: &tab.URL, SiteID: &f.Site.ContentURL, TokenName: &f.PersonalAccessToken.Name, Token: &f.PersonalAccessToken.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := client.CreateLineageIntegration(ctx, srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{Name: "powerbi",
		Config: dbtcloud.IntegrationConfig{TenantID: &pf.TenantID, ClientID: &pf.ClientID, ClientSecret: &pf.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	// Tableau's projects answer after 2 s: the Tableau walk is slow.
	emu.Inject(emulator.Fault{PathContains: "/projects", Times: 1, Delay: 2 * time.Second})
	var cache treeCache
	var wg sync.WaitGroup
	slow := make(chan time.Time, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cache.get(ctx, client, srv.ProjectID, tc.ID); err != nil {
				t.Error(err)
			}
			slow <- time.Now()
		}()
	}
	time.Sleep(100 * time.Millisecond) // the Tableau walk is under way
	start := time.Now()
	if _, err := cache.get(ctx, client, srv.ProjectID, pc.ID); err != nil {
		t.Fatal(err)
	}
	fast := time.Now()
	wg.Wait()
	first := <-slow
	if !fast.Before(first) || fast.Sub(start) > time.Second {
		t.Fatalf("the Power BI walk waited for the Tableau one: it took %v", fast.Sub(start))
	}
	if st := emu.Stats(); st.REST > 4 { // version, sign-in, projects, workbooks: once
		t.Fatalf("two callers of one connection walked Tableau twice: %+v", st)
	}
}
