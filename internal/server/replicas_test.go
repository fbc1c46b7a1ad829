package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// replicas are two servers on one PostgreSQL database, each with its own
// pool and sessions, watching Revenue Overview on the demo site; the
// syncs the setup started have ended.
func replicas(t *testing.T) (a, b *servertest.Server) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, b = servertest.NewOn(t, dsn, nil), servertest.NewOn(t, dsn, nil)
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tab := tableautest.NewServer(t, f)
	in := withTableau(t, a, tab, f)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := rawCall(t, "PUT", projectURL(a)+"manifest/", a.Token, manifest); code != 200 {
		t.Fatalf("manifest: %d %s", code, body)
	}
	if _, err := a.Client(t).UpdateSelections(context.Background(), 1, in.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: revenueOverview, Name: "Revenue Overview", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if req, done, _ := a.Store.SyncState(context.Background(), 1); req > 0 && done >= req {
			return a, b
		}
		if time.Now().After(deadline) {
			t.Fatal("the setup's syncs did not end")
		}
	}
}

func projectURL(s *servertest.Server) string {
	return fmt.Sprintf("%s/v3/accounts/1/projects/1/", s.HostURL)
}

var syncCount = regexp.MustCompile(`(?m)^dbtexposures_sync_duration_seconds_count\{outcome="\w+"\} (\d+)$`)

// syncs is how many syncs the servers ran, from their metrics.
func syncs(t *testing.T, servers ...*servertest.Server) int {
	t.Helper()
	n := 0
	for _, s := range servers {
		_, body := get(t, s.URL+"/metrics")
		for _, m := range syncCount.FindAllStringSubmatch(body, -1) {
			v, _ := strconv.Atoi(m[1])
			n += v
		}
	}
	return n
}

// The same project synced on two replicas at once is synced once: the
// second finds the first's sync, which started after both requests, covering
// its own, and answers its result.
func TestConcurrentSyncsOnTwoReplicasRunOnce(t *testing.T) {
	a, b := replicas(t)
	before := syncs(t, a, b)
	// Both requests are recorded while the project's sync lock is held, as
	// when they arrive together; then both replicas go for it.
	hold, err := store.Open(a.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	release, err := hold.Lock(context.Background(), store.LockSync, 1)
	if err != nil {
		t.Fatal(err)
	}
	requested, _, _ := a.Store.SyncState(context.Background(), 1)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, s := range []*servertest.Server{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = rawCall(t, "POST", projectURL(s)+"exposures/sync/", s.Token, nil)
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if now, _, _ := a.Store.SyncState(context.Background(), 1); now == requested+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the two sync requests were not recorded")
		}
	}
	release()
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("answers %v", codes)
	}
	if ran := syncs(t, a, b) - before; ran != 1 {
		t.Fatalf("two concurrent syncs of one project on two replicas ran %d times", ran)
	}
}

// Two replicas running the schedule fire each due sync once.
func TestScheduleFiresOnceAcrossReplicas(t *testing.T) {
	a, b := replicas(t)
	before := syncs(t, a, b)
	const interval = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range []*servertest.Server{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); s.API.Run(ctx, interval) }()
	}
	time.Sleep(2 * time.Second)
	cancel()
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // a sync started by the last claim ends
	periods := int(time.Since(start) / interval)
	if ran := syncs(t, a, b) - before; ran < 2 || ran > periods {
		t.Fatalf("%d scheduled syncs on two replicas in %d periods: want one per due period at most", ran, periods)
	}
}

// One dbt run posted to two replicas at once is one run: each target is
// refreshed once, and both answers are that run, the second as recorded.
func TestOneRunPostedToTwoReplicas(t *testing.T) {
	t.Setenv(servertest.DatabaseEnv, "postgres")
	g := newActiveRig(t, true)
	b := servertest.NewOn(t, g.srv.DBPath, nil, g.opts...)
	body := []byte(`{"environment_id": 1, "run_results": ` +
		strings.Replace(results(modelCustomers+"=success", modelOrders+"=success"), `"metadata": {`, `"metadata": {"invocation_id": "inv-1", `, 1) + `}`)
	var wg sync.WaitGroup
	codes, ids := make([]int, 2), make([]int64, 2)
	for i, s := range []*servertest.Server{g.srv, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, raw := rawCall(t, "POST", projectURL(s)+"active-exposures/runs/", s.Token, body)
			var a struct{ Data struct{ ID int64 } }
			_ = json.Unmarshal(raw, &a)
			codes[i], ids[i] = code, a.Data.ID
		}()
	}
	wg.Wait()
	slices.Sort(codes)
	if codes[0] != 200 || codes[1] != 201 || ids[0] != ids[1] || ids[0] == 0 {
		t.Fatalf("answers %v, run IDs %v: want one 201 and one 200 of the same run", codes, ids)
	}
	seen := map[string]int{}
	for _, j := range g.emu.Refreshes() {
		if seen[j.TargetType+":"+j.TargetName]++; seen[j.TargetType+":"+j.TargetName] > 1 {
			t.Fatalf("%s %s refreshed twice: %s", j.TargetType, j.TargetName, refreshedTargets(g.emu))
		}
	}
	if len(seen) == 0 {
		t.Fatal("nothing was refreshed")
	}
}

// A run whose server stopped mid-run (as kill -9 leaves it: running, one
// refresh sent with its job, one not yet sent) is taken over by the next
// server to hold the project's run lock: the one sent is reported unknown
// with its job and never sent again; the one not sent is sent; the run ends.
func TestOrphanedRunIsTakenOver(t *testing.T) {
	t.Setenv(servertest.DatabaseEnv, "postgres")
	g := newActiveRig(t, true)
	ctx := context.Background()
	runID, err := g.srv.Store.StartRun(ctx, store.Run{ProjectID: 1, EnvironmentID: 1, StartedAt: store.Now(), UnknownJSON: "[]",
		InvocationID: "inv-dead"}, []store.RunRefresh{
		{Seq: 0, Tool: "tableau", Exposure: "customer_360", DashboardID: customer360, TargetType: "workbook", TargetID: customer360,
			TargetName: "Customer 360", State: store.RefreshPlanned},
		{Seq: 1, Tool: "tableau", Exposure: "quarterly_board_pack", DashboardID: boardPack, TargetType: "datasource", TargetID: dsOrders,
			TargetName: "Orders (extract)", State: store.RefreshPlanned},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Store.SetRefresh(ctx, runID, 1, store.RefreshStarted, "", "job-sent-before-the-crash"); err != nil {
		t.Fatal(err)
	}
	// Another server on the database, with its own sessions, takes it over on its schedule.
	b := servertest.NewOn(t, g.srv.DBPath, nil, g.opts...)
	runCtx, cancel := context.WithCancel(ctx)
	go b.API.Run(runCtx, 50*time.Millisecond)
	var run *store.Run
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if run, err = b.Store.GetRun(ctx, 1, runID); err == nil && run.Status != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned run was not taken over: %+v %v", run, err)
		}
	}
	cancel()
	if run.Status != "unknown" || !strings.Contains(run.RefreshesJSON, `"action":"unknown"`) ||
		!strings.Contains(run.RefreshesJSON, "job-sent-before-the-crash") {
		t.Fatalf("the taken-over run: %+v", run)
	}
	if got := refreshedTargets(g.emu); got != "workbook:Customer 360" {
		t.Fatalf("refreshes sent by the takeover: %q; want only the one never sent", got)
	}
}
