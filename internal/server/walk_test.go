package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// walkCounter counts collections requests per folder and the most in flight.
type walkCounter struct {
	next     http.Handler
	mu       sync.Mutex
	perID    map[string]int
	inFlight atomic.Int32
	maxIn    atomic.Int32
}

func (w *walkCounter) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "/collections/") {
		n := w.inFlight.Add(1)
		defer w.inFlight.Add(-1)
		for m := w.maxIn.Load(); n > m && !w.maxIn.CompareAndSwap(m, n); m = w.maxIn.Load() {
		}
		w.mu.Lock()
		w.perID[r.URL.Query().Get("collection_id")]++
		w.mu.Unlock()
	}
	w.next.ServeHTTP(rw, r)
}

// countedSite serves the fixture through an emulator and a server whose
// collections requests are counted, with a Tableau integration created.
func countedSite(tb testing.TB, f *emulator.Fixture) (*dbtcloud.Client, *dbtcloud.LineageIntegration, *walkCounter) {
	tb.Helper()
	_, tab := tableautest.NewServer(tb, f)
	base := servertest.New(tb)
	counter := &walkCounter{next: server.New(base.Store, nil), perID: map[string]int{}}
	hs := httptest.NewServer(counter)
	tb.Cleanup(hs.Close)
	c, _ := dbtcloud.New(dbtcloud.Config{HostURL: hs.URL + "/api", AccountID: 1, Token: base.Token})
	host, site, name, tok := tab.URL, f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret
	in, err := c.CreateLineageIntegration(context.Background(), 1, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau",
		Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		tb.Fatal(err)
	}
	return c, in, counter
}

func TestWalkIsOneRequestPerFolderWithBoundedConcurrency(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3000, ExtraProjects: 300})
	c, in, counter := countedSite(t, f)
	items, err := c.WalkCollections(context.Background(), 1, in.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(f.Projects)+len(f.Workbooks) {
		t.Fatalf("walk found %d items, want %d", len(items), len(f.Projects)+len(f.Workbooks))
	}
	if len(counter.perID) != len(f.Projects)+1 {
		t.Fatalf("%d folders requested, want every folder and the top: %d", len(counter.perID), len(f.Projects)+1)
	}
	for id, n := range counter.perID {
		if n != 1 {
			t.Fatalf("folder %q requested %d times", id, n)
		}
	}
	// The bound is the contract; how parallel a loaded machine gets is the
	// benchmark's max-in-flight metric.
	if m := counter.maxIn.Load(); m > 4 {
		t.Fatalf("max in flight %d, want at most 4", m)
	}
}

// BenchmarkReadSelection2000Projects20000Workbooks walks a large site's tree
// through the server, as the selection resource's Read does.
func BenchmarkReadSelection2000Projects20000Workbooks(b *testing.B) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 20000, ExtraProjects: 1993})
	c, in, counter := countedSite(b, f)
	if _, err := c.ListCollections(context.Background(), 1, in.ID, ""); err != nil { // warm the server's Tableau cache
		b.Fatal(err)
	}
	counter.perID = map[string]int{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		items, err := c.WalkCollections(context.Background(), 1, in.ID, dbtcloud.DefaultWalkConcurrency)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) != 22000 {
			b.Fatalf("%d items", len(items))
		}
	}
	b.StopTimer()
	total := 0
	for _, n := range counter.perID {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "collections-requests/op")
	b.ReportMetric(float64(counter.maxIn.Load()), "max-in-flight")
}
