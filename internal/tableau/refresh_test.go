package tableau_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// extractSite is a generated site whose first workbooks use published data
// sources, with and without extracts, and the second has embedded extracts.
func extractSite() *emulator.Fixture {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 4, TablesPerWorkbook: 1})
	f.Datasources = []emulator.FixtureDatasource{
		{ID: "ds-orders", Name: "Orders (extract)", ProjectID: f.Projects[0].ID, HasExtracts: true},
		{ID: "ds-live", Name: "Customers (live)", ProjectID: f.Projects[0].ID},
	}
	f.Workbooks[0].UpstreamDatasources = []string{"ds-orders", "ds-live"}
	f.Workbooks[1].EmbeddedExtracts = true
	return f
}

// Refreshes start jobs that are polled until they finish, successfully or
// with Tableau's message; a target without extracts is refused.
func TestRefreshExtractsAndPollJobs(t *testing.T) {
	f := extractSite()
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	ctx := context.Background()
	poll := func(j *tableau.Job) *tableau.Job {
		t.Helper()
		for i := 0; i < 10 && !j.Done(); i++ {
			var err error
			if j, err = c.GetJob(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
		return j
	}
	j, err := c.RefreshExtract(ctx, tableau.ExtractDatasource, "ds-orders")
	if err != nil || j.Type != "RefreshExtract" || j.Done() {
		t.Fatalf("refresh: %+v %v", j, err)
	}
	if j = poll(j); !j.Succeeded() || j.Outcome() != "succeeded" {
		t.Fatalf("job: %+v", j)
	}
	emu.FailRefreshes(f.Workbooks[1].ID, "the warehouse refused the extract's credentials")
	j, err = c.RefreshExtract(ctx, tableau.ExtractWorkbook, f.Workbooks[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if j = poll(j); j.Succeeded() || j.Outcome() != "failed: the warehouse refused the extract's credentials" {
		t.Fatalf("failed job: %+v %s", j, j.Outcome())
	}
	if _, err := c.RefreshExtract(ctx, tableau.ExtractDatasource, "ds-live"); err == nil || !strings.Contains(err.Error(), "has no extract to refresh") {
		t.Fatalf("a live data source: %v", err)
	}
	if n := len(emu.Refreshes()); n != 2 {
		t.Fatalf("%d refresh jobs started, want 2", n)
	}
}

// A 429 on a refresh is waited out and the refresh sent again, once: Tableau
// did not start it. Any other failure is not resent.
func TestRefreshHonours429AndIsNotResentOtherwise(t *testing.T) {
	f := extractSite()
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	emu.Inject(emulator.Fault{PathContains: "/refresh", Times: 1, Status: 429, RetryAfter: "0"})
	if _, err := c.RefreshExtract(context.Background(), tableau.ExtractDatasource, "ds-orders"); err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{PathContains: "/refresh", Times: 1, Status: 502})
	if _, err := c.RefreshExtract(context.Background(), tableau.ExtractDatasource, "ds-orders"); err == nil {
		t.Fatal("a 502 on a refresh must be reported, not resent")
	}
	if n := len(emu.Refreshes()); n != 1 {
		t.Fatalf("%d refresh jobs started; the 429 one once, the 502 one never reached the emulator's job list", n)
	}
}
