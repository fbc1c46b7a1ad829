package tableau_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// Two processes sharing one PAT end each other's sessions: each sign-in ends
// the other's session, in the middle of its paged reads. Both must finish,
// with everything read.
func TestSharedTokenReadsRecoverFromEndedSessions(t *testing.T) {
	// 1,100 workbooks: two REST pages of 1,000; Metadata API pages of 150.
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 1100, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	emu.Latency = time.Millisecond
	pageSmall := func(c *tableau.Config) { c.PageSize = 150 }
	clients := []*tableau.Client{client(t, srv, f, pageSmall), client(t, srv, f, pageSmall)}

	const rounds = 2
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := readEverything(c, len(f.Workbooks)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := emu.Stats()
	// Two clients, one session each to begin with: every further sign-in ended
	// the other's session, and every refusal was followed by a success.
	if st.SessionsEnded == 0 || st.ExpiredAnswers == 0 || st.Recoveries == 0 || st.SignIns <= 2 {
		t.Fatalf("sessions were not ended and recovered: %+v", st)
	}
	if st.SessionsEnded != st.SignIns-1 {
		t.Errorf("each sign-in but the first should end the live session: %+v", st)
	}
	t.Logf("emulator: %+v", st)
}

// readEverything pages through REST workbooks, then the Metadata API, and
// checks that nothing was lost on the way.
func readEverything(c *tableau.Client, want int) error {
	ctx := context.Background()
	rest, err := c.ListWorkbooksREST(ctx, "")
	if err != nil {
		return err
	}
	site, err := c.Discover(ctx)
	if err != nil {
		return err
	}
	if len(rest) != want || len(site.Workbooks) != want {
		return fmt.Errorf("a read came back short: %d REST and %d Metadata API workbooks, want %d", len(rest), len(site.Workbooks), want)
	}
	return nil
}

// When Tableau ends the session under one request every time, the client
// gives up after its bounded sign-ins and says what usually causes it.
func TestSessionEndedTooOftenNamesTheCause(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.SessionRetries = 3 })
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 100, EndSession: true})
	_, err := c.Discover(context.Background())
	var se *tableau.SessionEndedError
	if !errors.As(err, &se) || se.Times != 4 {
		t.Fatalf("want a SessionEndedError after 4 ended sessions, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"ended the session 4 times in a row",
		"another process signing in with the same personal access token",
		"give each use its own token",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if st := emu.Stats(); st.SignIns != 4 || st.SessionsEnded != 4 || st.Recoveries != 0 {
		t.Errorf("want 1 sign-in then 3 more, each session ended: %+v", st)
	}
}

// A session ended in the middle of a REST walk and of a Metadata API walk is
// signed in again and the walk goes on from where it was.
func TestSessionEndedMidReadIsRecovered(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 2100, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 500 })
	// Sign in first; the faults then end the session under the next requests.
	ctx := context.Background()
	if _, err := c.ListProjects(ctx); err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{PathContains: "/workbooks", Times: 2, EndSession: true})
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, EndSession: true})
	rest, err := c.ListWorkbooksREST(ctx, "")
	if err != nil || len(rest) != 2100 {
		t.Fatalf("REST: %d workbooks, %v", len(rest), err)
	}
	site, err := c.Discover(ctx)
	if err != nil || len(site.Workbooks) != 2100 {
		t.Fatalf("Metadata API: %v", err)
	}
	st := emu.Stats()
	// REST: refused twice in a row, then recovered; Metadata API: refused once, recovered.
	if st.SessionsEnded != 3 || st.ExpiredAnswers != 3 || st.Recoveries != 2 || st.SignIns != 4 {
		t.Fatalf("stats: %+v", st)
	}
}

// The Metadata API's 401 need not carry REST's 401002 body: any 401 there
// means the session ended.
func TestMetadataAPI401WithAnyBodyIsAnEndedSession(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/metadata/graphql" && refused.CompareAndSwap(false, true) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("<html><body>401 Unauthorized</body></html>"))
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	site, err := client(t, srv, f).Discover(context.Background())
	if err != nil || len(site.Workbooks) != 5 {
		t.Fatalf("discover: %v", err)
	}
	if st := emu.Stats(); st.SignIns != 2 {
		t.Fatalf("want a second sign-in after the 401: %+v", st)
	}
}

// Signing out of a session that has already ended is not an error.
func TestSignOutOfEndedSessionIsNotAnError(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f)
	if _, err := c.ListProjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	emu.ExpireSessions()
	if err := c.SignOut(context.Background()); err != nil {
		t.Fatalf("sign-out of an ended session: %v", err)
	}
	if st := emu.Stats(); st.SignOuts != 0 || st.Requests != 4 {
		t.Fatalf("want probe, sign-in, projects and one sign-out request: %+v", st)
	}
}

// The waits between sign-ins end with the context.
func TestSessionRetryWaitsHonourTheContext(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.SessionRetries = 50 })
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1000, EndSession: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Discover(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the context's error, got %v", err)
	}
	// 50 retries with waits growing to 2 s would take far longer.
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("returned %v after the deadline", d)
	}
}

// A wait for RATE_EXCEEDED that the context ends returns the context's error
// at once, and nothing more is sent.
func TestThrottleWaitEndsWithTheContext(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 5, TablesPerWorkbook: 1})
	emu, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	var graphql atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/metadata/graphql" {
			graphql.Add(1)
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := client(t, srv, f)
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 100, GraphQLCode: "RATE_EXCEEDED"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for graphql.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel() // during the wait after the first throttled answer (at least 1 s)
	}()
	start := time.Now()
	_, err = c.Discover(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the context's error, got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v", d)
	}
	time.Sleep(50 * time.Millisecond)
	if n := graphql.Load(); n != 1 {
		t.Fatalf("sent %d Metadata API requests; want the throttled one only", n)
	}
	// The client attempted nothing after the wait: every attempt it counts
	// reached the emulator (version probe, sign-in, projects, the query).
	if got, served := c.Requests(), int64(emu.Stats().Requests); got != served {
		t.Fatalf("the client attempted %d requests, the emulator saw %d", got, served)
	}
}
