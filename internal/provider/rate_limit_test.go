package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// recordingProxy notes when each request reaches dbt Cloud (our server), and
// answers the nth collections request with a 429 and Retry-After: 1.
type recordingProxy struct {
	mu      sync.Mutex
	times   []time.Time
	n429    int
	limited time.Time
}

func (p *recordingProxy) start(t *testing.T, srv *servertest.Server) string {
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.times = append(p.times, time.Now())
		limit := strings.Contains(r.URL.Path, "/collections/") && len(p.times) == p.n429
		if limit {
			p.limited = time.Now()
		}
		p.mu.Unlock()
		if limit {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	return ps.URL + "/api"
}

// A plan over 2,000 folders keeps to max_requests_per_minute, and a 429 makes
// every request of the provider wait its Retry-After.
func TestAccRateLimit_planOver2000Folders(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 100, TablesPerWorkbook: 1, ExtraProjects: 2000})
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t, server.WithTableauTTL(time.Hour))
	rec := &recordingProxy{n429: 300}
	hostURL := rec.start(t, srv)
	const perMinute = 24000 // 400 a second, so that the walk takes five seconds, not two minutes
	connection := fmt.Sprintf(`
provider "dbtexposures" {
  host_url                = %q
  account_id              = %d
  token                   = %q
  max_requests_per_minute = %d
}
`, hostURL, srv.AccountID, srv.Token, perMinute) + connectionHCL(srv.ProjectID, tab.URL, f, f.PersonalAccessToken.Secret)
	selection := connection + fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%q]
}
`, srv.ProjectID, f.Projects[0].ID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: connection},
			{ // the reviewer's plan: the connection refreshed, the 2,001-folder tree walked
				PreConfig: func() { rec.mu.Lock(); rec.times = nil; rec.mu.Unlock() },
				Config:    selection, PlanOnly: true, ExpectNonEmptyPlan: true,
			},
			{
				Config: connection, PlanOnly: true,
				PreConfig: func() {
					rec.mu.Lock()
					defer rec.mu.Unlock()
					if err := checkRate(rec.times, perMinute, rec.limited); err != nil {
						t.Fatal(err)
					}
				},
			},
		},
	})
}

// deliveryJitter is how much later than its neighbours a request the
// throttle let go may reach dbt Cloud (the times are taken on arrival): on a
// loaded machine a request held up in scheduling lands beside later ones.
const deliveryJitter = 50 * time.Millisecond

// checkRate: no second holds more than the rate's share (over a second and the
// delivery jitter) plus the burst, and once the 429 was answered no request
// came for about its Retry-After.
func checkRate(times []time.Time, perMinute int, limited time.Time) error {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	if len(times) < 2000 {
		return fmt.Errorf("only %d requests reached dbt Cloud; the plan did not walk 2,000 folders", len(times))
	}
	maxPerSecond := int(float64(perMinute)/60*(time.Second+deliveryJitter).Seconds()) + 10
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		if j-i > maxPerSecond {
			return fmt.Errorf("%d requests within one second; the limit allows %d", j-i, maxPerSecond)
		}
	}
	if limited.IsZero() {
		return fmt.Errorf("the 429 was never sent")
	}
	for _, at := range times {
		if d := at.Sub(limited); d > 100*time.Millisecond && d < 900*time.Millisecond {
			return fmt.Errorf("a request came %v after the 429; every request must wait its Retry-After", d)
		}
	}
	return nil
}

func (p *recordingProxy) collections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.times)
}

// A plan reads each folder of the tree once, however many steps need it; with
// -refresh=false and nothing changed, it reads none: its one request is the
// check of the token when the provider is configured.
func TestAccCollectionsWalkedOncePerPlanAndNotWithoutRefresh(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 30, TablesPerWorkbook: 1, ExtraProjects: 20})
	_, tab := tableautest.NewServer(t, f)
	srv := servertest.New(t, server.WithTableauTTL(time.Hour))
	var counting recordingProxy
	counting.n429 = -1
	hostURL := counting.start(t, srv)
	w := newCLIWorkspace(t, requiredProviders+providerBlock(hostURL, srv.AccountID, srv.Token)+
		connectionHCL(srv.ProjectID, tab.URL, f, f.PersonalAccessToken.Secret)+fmt.Sprintf(`
resource "dbtexposures_auto_exposure_selection" "s" {
  project_id    = %d
  connection_id = dbtexposures_tableau_connection.c.integration_id
  folder_ids    = [%q]
}
`, srv.ProjectID, f.Projects[0].ID))
	w.mustRun("apply", "-auto-approve", "-input=false", "-no-color")

	folders := len(f.Projects)
	counting.mu.Lock()
	counting.times = nil
	counting.mu.Unlock()
	if out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color", "-refresh=false"); code != 0 {
		t.Fatalf("plan -refresh=false exited %d:\n%s", code, out)
	}
	if n := counting.collections(); n != 1 {
		t.Fatalf("plan -refresh=false with nothing changed sent %d requests; it needs the token check alone", n)
	}
	if out, code := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, out)
	}
	// The refresh reads the connection (for itself, and for the selection to
	// learn its tool), checks it (the top of its tree) and reads the tree
	// once: the top and each folder. The token check came before, once per plan.
	if n := counting.collections(); n != 1+1+2+1+1+folders {
		t.Fatalf("a plan sent %d requests; the two token checks, the connection twice, its check and the %d-folder tree once take %d", n, folders, 6+folders)
	}
}

// Every dbt Cloud client of the process for one account and rate shares one
// throttle, whichever resource or run configured it.
func TestThrottleSharedPerAccountInTheProcess(t *testing.T) {
	a, b := sharedThrottle("https://cloud.getdbt.com/api", 7, 1000), sharedThrottle("https://cloud.getdbt.com/api", 7, 1000)
	if a != b {
		t.Fatal("two clients of one account got different throttles")
	}
	if sharedThrottle("https://cloud.getdbt.com/api", 8, 1000) == a || a.PerMinute() != 1000 {
		t.Fatal("another account must have its own throttle")
	}
}

// Two provider blocks for one account with different rates share one
// throttle, which keeps to the lower rate, whichever was configured first.
func TestThrottleKeyedByAccountLowestRateWins(t *testing.T) {
	const host = "https://emea.dbt.com/api"
	a := sharedThrottle(host, 42, 3000)
	b := sharedThrottle(host, 42, 600)
	if a != b {
		t.Fatal("one account got two throttles because the rates differ")
	}
	if c := sharedThrottle(host, 42, 0); c != a || a.PerMinute() != 600 {
		t.Fatalf("want one throttle at 600 a minute, got %d", a.PerMinute())
	}
	if sharedThrottle(host, 42, 5000); a.PerMinute() != 600 {
		t.Fatalf("a higher rate raised the throttle to %d", a.PerMinute())
	}
}
