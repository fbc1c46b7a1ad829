package tableau_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

func client(t testing.TB, srv *httptest.Server, f *emulator.Fixture, mod ...func(*tableau.Config)) *tableau.Client {
	t.Helper()
	cfg := tableau.Config{Host: srv.URL, Site: f.Site.ContentURL, TokenName: f.PersonalAccessToken.Name, TokenSecret: f.PersonalAccessToken.Secret,
		Retry: transport.RetryConfig{MaxRetries: 3, WaitMin: 5 * time.Millisecond, WaitMax: 50 * time.Millisecond, Timeout: 10 * time.Second}}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := tableau.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDiscoverPagesAndIsLean(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 260, TablesPerWorkbook: 3})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 100 })
	site, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Workbooks) != 260 || len(site.Projects) != 7 {
		t.Fatalf("got %d workbooks, %d projects", len(site.Workbooks), len(site.Projects))
	}
	st := emu.Stats()
	// version probe + sign-in + 1 projects page + 1 custom SQL page + 3 workbook pages
	if st.SignIns != 1 || st.GraphQL != 4 || st.Requests != 7 {
		t.Fatalf("requests: %+v", st)
	}
	if c.Requests() != int64(st.Requests) {
		t.Fatalf("client counted %d requests, emulator %d", c.Requests(), st.Requests)
	}
	// Paths, ordering, nulls, unicode and custom SQL came through.
	paths := map[string]bool{}
	for _, p := range site.Projects {
		paths[p.Path] = true
	}
	for _, want := range []string{"Finance/Quarterly/Board Packs", "Marketing/EMEA", "Ventes Été", "Empty Project"} {
		if !paths[want] {
			t.Errorf("missing project path %q in %v", want, paths)
		}
	}
	byID := map[string]tableau.Workbook{}
	for i, w := range site.Workbooks {
		byID[w.ID] = w
		if i > 0 {
			prev := site.Workbooks[i-1]
			if prev.ProjectPath > w.ProjectPath || (prev.ProjectPath == w.ProjectPath && prev.Name > w.Name) {
				t.Fatalf("not sorted at %d: %q/%q after %q/%q", i, w.ProjectPath, w.Name, prev.ProjectPath, prev.Name)
			}
		}
	}
	w0, w1, w4 := byID[f.Workbooks[0].ID], byID[f.Workbooks[1].ID], byID[f.Workbooks[4].ID]
	if len(w0.UpstreamTables) != 0 || w0.UpstreamTables == nil {
		t.Errorf("workbook without tables: %+v", w0.UpstreamTables)
	}
	if len(w1.CustomSQL) != 1 || !strings.Contains(w1.CustomSQL[0].Query, "ANALYTICS.ORDERS") {
		t.Errorf("custom SQL: %+v", w1.CustomSQL)
	}
	if len(w4.UpstreamTables) != 2 {
		t.Errorf("the null table item must be skipped: %+v", w4.UpstreamTables)
	}
	if w1.OwnerName != "Zoë Ångström" || w1.ProjectPath != "Finance/Quarterly" || !strings.HasSuffix(w1.URL, "/#/site/acme/workbooks/1001") {
		t.Errorf("workbook 1: %+v", w1)
	}
	tb := w1.UpstreamTables[0]
	if tb.Database != "WAREHOUSE" || tb.Schema != "Analytics" || !strings.HasPrefix(tb.FullName, "[Analytics].[") || tb.ConnectionType != "snowflake" {
		t.Errorf("table: %+v", tb)
	}
}

func TestRESTPagingAcrossThreePages(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 2500})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	wbs, err := c.ListWorkbooksREST(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(wbs) != 2500 {
		t.Fatalf("got %d", len(wbs))
	}
	seen := map[string]bool{}
	for _, w := range wbs {
		if seen[w.ID] {
			t.Fatalf("duplicate %s", w.ID)
		}
		seen[w.ID] = true
	}
	if st := emu.Stats(); st.REST != 5 { // probe + sign-in + 3 pages of 1000
		t.Fatalf("REST requests: %+v", st)
	}
	fin, err := c.ListWorkbooksREST(context.Background(), "projectName:eq:Finance")
	if err != nil || len(fin) == 0 {
		t.Fatalf("filtered: %d %v", len(fin), err)
	}
	for _, w := range fin {
		if w.ProjectName != "Finance" {
			t.Fatalf("filter leaked %q", w.ProjectName)
		}
	}
}

func TestSignsInAgainAfter401002(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	emu.ExpireSessions()
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatalf("after the session expired: %v", err)
	}
	if st := emu.Stats(); st.SignIns != 2 || st.ExpiredAnswers != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestOneSessionUnderConcurrentReads(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 50, TablesPerWorkbook: 2})
	emu, srv := tableautest.NewServer(t, f)
	emu.SignInDelay = 50 * time.Millisecond // concurrent sign-ins would overlap and end each other
	c := client(t, srv, f)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.ListProjects(context.Background())
			} else {
				_, err = c.Discover(context.Background())
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := emu.Stats(); st.SignIns != 1 || st.ExpiredAnswers != 0 {
		t.Fatalf("want exactly one sign-in and no ended sessions: %+v", st)
	}
}

func TestRetries429WithRetryAfterAnd5xx(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	emu.Inject(emulator.Fault{PathContains: "/projects", Times: 1, Status: 429, RetryAfter: "1"})
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 2, Status: 503})
	start := time.Now()
	site, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatalf("Retry-After: 1 was not honoured (took %v)", time.Since(start))
	}
	if len(site.Workbooks) != 5 {
		t.Fatalf("workbooks: %d", len(site.Workbooks))
	}
}

func TestRateExceededInsideGraphQLIsRetried(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, GraphQLCode: "RATE_EXCEEDED"})
	if _, err := c.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNodeLimitHalvesThePageSize(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 400, TablesPerWorkbook: 5})
	emu, srv := tableautest.NewServer(t, f)
	emu.NodeLimit = 1500 // about 100 workbooks of 13 nodes
	c := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 400 })
	site, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Workbooks) != 400 {
		t.Fatalf("got %d workbooks: a truncated page was used", len(site.Workbooks))
	}
	for _, w := range site.Workbooks {
		if len(w.UpstreamTables) == 0 && w.ID != f.Workbooks[0].ID {
			t.Fatalf("workbook %s lost its tables", w.Name)
		}
	}
}

func TestPartialDataErrorsFail(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, GraphQLCode: "INTERNAL_ERROR", Partial: true})
	_, err := c.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "partial data") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("want an error naming the host and the partial data, got %v", err)
	}
}

func TestTimeLimitIsTreatedLikeNodeLimit(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 20, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 20 })
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 2, GraphQLCode: "TIME_LIMIT_EXCEEDED", Partial: true})
	site, err := c.Discover(context.Background())
	if err != nil || len(site.Workbooks) != 20 {
		t.Fatalf("%v %d", err, len(site.Workbooks))
	}
}

func TestUnknownAPIVersion(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 1})
	_, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.APIVersion = "9.99" })
	_, err := c.ListProjects(context.Background())
	var te *tableau.Error
	if !errors.As(err, &te) || te.Code != "404003" || !strings.Contains(err.Error(), "version") {
		t.Fatalf("want 404003 with a hint about the version, got %v", err)
	}
}

func TestBadTokenNamesHostAndWhatToCheck(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 1})
	_, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.TokenSecret = "wrong-secret" })
	_, err := c.ListProjects(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401001") || !strings.Contains(err.Error(), strings.TrimPrefix(srv.URL, "http://")) ||
		!strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error: %v", err)
	}
}

func TestSignInRedirectIsFollowed(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3})
	emu, pod := tableautest.NewServer(t, f)
	front := httptest.NewServer(emu)
	defer front.Close()
	emu.RedirectSignInTo = pod.URL
	c := client(t, front, f)
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Host() != strings.TrimPrefix(pod.URL, "http://") {
		t.Fatalf("later calls should go to the pod, host is %s", c.Host())
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := emu.Stats(); st.SignOuts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3})
	emu, srv := tableautest.NewServer(t, f)
	emu.Inject(emulator.Fault{Times: 100, Status: 429, RetryAfter: "30"})
	c := client(t, srv, f)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListProjects(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

// The embedded schema is Tableau's, unchanged: its checksum is the one its
// NOTICE records for the upstream file.
func TestEmbeddedSchemaMatchesReference(t *testing.T) {
	notice, err := os.ReadFile(filepath.Join("emulator", "schema", "NOTICE.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile("SHA-256,?\\s+`([0-9a-f]{64})`").FindSubmatch(notice)
	if want == nil {
		t.Fatal("emulator/schema/NOTICE.md records no SHA-256 of the upstream schema")
	}
	got := sha256.Sum256([]byte(emulator.SchemaSDL()))
	if hex.EncodeToString(got[:]) != string(want[1]) {
		t.Fatal("emulator/schema/tableau-metadata.graphql differs from the upstream schema its NOTICE.md names; copy it again unchanged")
	}
}

func ExampleBaseURL() {
	for _, h := range []string{"10az.online.tableau.com", "http://127.0.0.1:8485"} {
		u, _ := tableau.BaseURL(h)
		fmt.Println(u)
	}
	// Output:
	// https://10az.online.tableau.com
	// http://127.0.0.1:8485
}
