package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// eachStore runs f on a new SQLite database and on a new PostgreSQL one:
// the store's conformance suite is every test that calls it.
func eachStore(t *testing.T, f func(t *testing.T, s *store.Store)) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") },
		"postgres": func(t *testing.T) string { return pgtest.DSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := store.Open(dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s)
		})
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestAccountsProjectsAndTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if created, err := s.Bootstrap(ctx, "boot"); err != nil || !created {
			t.Fatalf("bootstrap: %v %v", created, err)
		}
		if created, _ := s.Bootstrap(ctx, "again"); created {
			t.Fatal("a second bootstrap created another account")
		}
		acct, pid, tok, err := s.CreateAccount(ctx, "Analytics")
		if err != nil || acct != 2 || pid != 2 || !strings.HasPrefix(tok, "dbtx_") {
			t.Fatalf("account: %d %d %q %v", acct, pid, tok, err)
		}
		if got := must[int64](t)(s.AccountForToken(ctx, tok)); got != acct {
			t.Fatalf("token's account %d", got)
		}
		if _, err := s.AccountForToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if a := must[*store.Account](t)(s.GetAccount(ctx, acct)); a.Name != "Analytics" {
			t.Fatalf("account %+v", a)
		}
		projects, total, err := s.ListProjects(ctx, acct, 10, 0)
		if err != nil || total != 1 || projects[0].ID != pid {
			t.Fatalf("projects %+v %d %v", projects, total, err)
		}
		if ok, _ := s.ProjectExists(ctx, 1, pid); ok {
			t.Fatal("another account's project exists for account 1")
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
	})
}

func TestIntegrationsAndWatches(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		must[bool](t)(s.Bootstrap(ctx, "boot"))
		in := must[*store.Integration](t)(s.CreateIntegration(ctx, store.Integration{AccountID: 1, ProjectID: 1, Name: "tableau",
			Config: map[string]string{"host": "h", "token": "secret"}}))
		if _, err := s.CreateIntegration(ctx, store.Integration{AccountID: 1, ProjectID: 1, Name: "tableau"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second tableau integration: %v", err)
		}
		up := must[*store.Integration](t)(s.UpdateIntegration(ctx, 1, 1, in.ID, map[string]string{"host": "h2"}))
		if up.Config["host"] != "h2" || up.Config["token"] != "secret" {
			t.Fatalf("updated config %v", up.Config)
		}
		added, removed, err := s.ChangeWatches(ctx, in.ID, []store.Watch{{Identifier: "p1", Name: "Finance", Type: "folder"},
			{Identifier: "w1", Name: "Revenue", Type: "dashboard"}}, nil)
		if err != nil || added != 2 || removed != 0 {
			t.Fatalf("watches: %d %d %v", added, removed, err)
		}
		if _, removed, _ = s.ChangeWatches(ctx, in.ID, nil, []string{"w1"}); removed != 1 {
			t.Fatalf("removed %d", removed)
		}
		if w := must[map[string]store.Watch](t)(s.Watches(ctx, in.ID)); len(w) != 1 || w["p1"].Name != "Finance" {
			t.Fatalf("watches %v", w)
		}
		list, total, err := s.ListIntegrations(ctx, 1, 1, 10, 0)
		if err != nil || total != 1 || list[0].ID != in.ID {
			t.Fatalf("list %+v %d %v", list, total, err)
		}
		if err := s.DeleteIntegration(ctx, 1, 1, in.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetIntegration(ctx, 1, 1, in.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted integration: %v", err)
		}
	})
}

func TestEnvironmentsAndVariables(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		must[bool](t)(s.Bootstrap(ctx, "boot"))
		env := must[*store.Environment](t)(s.CreateEnvironment(ctx, 1, "Staging", "staging"))
		if _, err := s.CreateEnvironment(ctx, 1, "Staging", ""); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second Staging: %v", err)
		}
		if _, err := s.CreateEnvironment(ctx, 99, "X", ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an environment of no project: %v", err)
		}
		list, total, err := s.ListEnvironments(ctx, 1, 1, store.EnvironmentFilter{DeploymentType: "staging"}, 10, 0)
		if err != nil || total != 1 || list[0].ID != env.ID {
			t.Fatalf("filtered environments %+v %d %v", list, total, err)
		}
		ids := must[[]int64](t)(s.CreateEnvVar(ctx, 1, "DBT_ACTIVE_EXPOSURES", map[int64]string{0: "1"}))
		if len(ids) != 1 {
			t.Fatalf("ids %v", ids)
		}
		v := "0"
		if err := s.SetEnvVar(ctx, 1, "DBT_ACTIVE_EXPOSURES", map[int64]*string{env.ID: &v}); err != nil {
			t.Fatal(err)
		}
		if vars := must[[]store.EnvVarValue](t)(s.EnvVars(ctx, 1)); len(vars) != 2 {
			t.Fatalf("variables %+v", vars)
		}
		if n := must[int64](t)(s.DeleteEnvVar(ctx, 1, "DBT_ACTIVE_EXPOSURES")); n != 2 {
			t.Fatalf("deleted %d values", n)
		}
	})
}

func TestArtifactsSyncsAndRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		must[bool](t)(s.Bootstrap(ctx, "boot"))
		blob := []byte{0, 1, 2, 0xff, '{'}
		must[string](t)(s.PutManifest(ctx, 1, blob))
		must[string](t)(s.PutManifest(ctx, 1, append(blob, 7)))
		if got := must[[]byte](t)(s.Manifest(ctx, 1)); string(got) != string(append(blob, 7)) {
			t.Fatalf("manifest %v", got)
		}
		if _, err := s.Catalog(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no catalog: %v", err)
		}
		if pairs := must[[][2]int64](t)(s.ProjectsWithManifest(ctx)); len(pairs) != 1 || pairs[0] != [2]int64{1, 1} {
			t.Fatalf("projects with a manifest %v", pairs)
		}
		if err := s.SaveSync(ctx, 1, store.ExposureRecord{ExposuresJSON: `[{"name":"a"}]`, UnmatchedJSON: "[]", YAML: "y", SyncedAt: "t1", AttemptedAt: "t1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSyncError(ctx, 1, "Tableau is down"); err != nil {
			t.Fatal(err)
		}
		rec := must[*store.ExposureRecord](t)(s.Exposures(ctx, 1, true))
		if rec.ExposuresJSON != `[{"name":"a"}]` || rec.Error != "Tableau is down" || rec.YAML != "y" {
			t.Fatalf("a failed sync lost the last exposures or its error: %+v", rec)
		}
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		id := must[int64](t)(s.SaveRun(ctx, store.Run{ProjectID: 1, EnvironmentID: 1, StartedAt: "s", FinishedAt: "f", Status: "success",
			RefreshesJSON: "[]", UnknownJSON: "[]"}, []store.Target{{Type: "datasource", ID: "d1"}}, at))
		if r := must[*store.Run](t)(s.GetRun(ctx, 1, id)); r.Status != "success" {
			t.Fatalf("run %+v", r)
		}
		last, ok, err := s.LastRefresh(ctx, 1, store.Target{Type: "datasource", ID: "d1"})
		if err != nil || !ok || !last.Equal(at) {
			t.Fatalf("last refresh %v %v %v", last, ok, err)
		}
		if runs, total, _ := s.ListRuns(ctx, 1, 10, 0); total != 1 || runs[0].ID != id {
			t.Fatalf("runs %+v %d", runs, total)
		}
	})
}

// A database the last release wrote migrates in place, and keeps every row.
func TestSQLiteOfTheLastReleaseMigratesInPlace(t *testing.T) {
	path := releaseFixture(t)
	for range 2 { // the second open finds nothing to migrate
		s, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("after the migration: %v", err)
		}
		if acct, err := s.AccountForToken(ctx, "fixture-token"); err != nil || acct != 1 {
			t.Fatalf("the bootstrap token: %d %v", acct, err)
		}
		list, _, err := s.ListIntegrations(ctx, 1, 1, 10, 0)
		if err != nil || len(list) != 1 || list[0].Config["token"] != "fixture-secret" {
			t.Fatalf("integrations %+v %v", list, err)
		}
		if w, _ := s.Watches(ctx, list[0].ID); w["p-finance"].Name != "Finance" {
			t.Fatalf("watches %v", w)
		}
		if vars, _ := s.EnvVars(ctx, 1); len(vars) != 2 {
			t.Fatalf("variables %+v", vars)
		}
		if rec, err := s.Exposures(ctx, 1, true); err != nil || rec.ExposuresJSON != `[{"name":"revenue"}]` {
			t.Fatalf("the last sync %+v %v", rec, err)
		}
		if _, ok, _ := s.LastRefresh(ctx, 1, store.Target{Type: "datasource", ID: "ds-orders"}); !ok {
			t.Fatal("the refresh history was lost")
		}
		s.Close()
	}
}

// One server per SQLite file: a second LockForServing is refused until the
// first store closes. PostgreSQL takes several.
func TestOneServerPerSQLiteFile(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "one.db")
	first, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.LockForServing(); err != nil {
		t.Fatal(err)
	}
	second, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.LockForServing(); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("a second server: %v", err)
	}
	first.Close()
	if err := second.LockForServing(); err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	a, b := twoServers(t, pgtest.DSN(t))
	if err := a.LockForServing(); err != nil {
		t.Fatal(err)
	}
	if err := b.LockForServing(); err != nil {
		t.Fatalf("a second server on PostgreSQL: %v", err)
	}
}

// The last release's SQLite file copies to PostgreSQL whole; the copy goes
// on numbering after the copied rows; and a second copy into the now
// non-empty database is refused, with nothing changed.
func TestCopySQLiteToPostgreSQL(t *testing.T) {
	path := releaseFixture(t)
	src, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := store.Open(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ctx := context.Background()
	copied, err := src.CopyTo(ctx, dst)
	if err != nil || copied["accounts"] != 1 || copied["lineage_watches"] != 1 || copied["env_var_values"] != 2 || copied["active_runs"] != 1 {
		t.Fatalf("copied %v, %v", copied, err)
	}
	if acct, err := dst.AccountForToken(ctx, "fixture-token"); err != nil || acct != 1 {
		t.Fatalf("the token in the copy: %d %v", acct, err)
	}
	if list, _, _ := dst.ListIntegrations(ctx, 1, 1, 10, 0); len(list) != 1 || list[0].Config["token"] != "fixture-secret" {
		t.Fatalf("integrations in the copy: %+v", list)
	}
	if m, err := dst.Manifest(ctx, 1); err != nil || !strings.HasPrefix(string(m), `{"dbtexposures_manifest"`) {
		t.Fatalf("the manifest in the copy: %.40s %v", m, err)
	}
	acct, pid, _, err := dst.CreateAccount(ctx, "After the copy")
	if err != nil || acct != 2 || pid != 2 {
		t.Fatalf("an account created after the copy: %d %d %v", acct, pid, err)
	}
	if _, err := src.CopyTo(ctx, dst); err == nil || !strings.Contains(err.Error(), "already has 2 account(s)") {
		t.Fatalf("a copy into a database with data: %v", err)
	}
}

// releaseFixture is a copy of the SQLite file the last release wrote.
func releaseFixture(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "made-by-5a566d4.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// twoServers are two stores on one database, as two replicas have: on
// PostgreSQL each has its own pool and sessions.
func twoServers(t *testing.T, dsn string) (*store.Store, *store.Store) {
	t.Helper()
	a, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A lock is held by one replica at a time; another waits for it; and a
// replica that goes away releases what it held.
func TestLocksAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	a, b := twoServers(t, pgtest.DSN(t))
	release, ok, err := a.TryLock(ctx, store.LockSync, 42)
	if err != nil || !ok {
		t.Fatalf("the first lock: %v %v", ok, err)
	}
	if _, ok, _ := b.TryLock(ctx, store.LockSync, 42); ok {
		t.Fatal("two replicas hold one lock")
	}
	if r, ok, _ := b.TryLock(ctx, store.LockHeavy, 42); !ok {
		t.Fatal("another class's lock of the same key is taken")
	} else {
		r()
	}
	got := make(chan func(), 1)
	go func() {
		r, err := b.Lock(ctx, store.LockSync, 42)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("Lock did not wait for the holder")
	default:
	}
	release()
	(<-got)()
	// A replica that goes away: its connections end, and so do its locks.
	if _, ok, err := a.TryLock(ctx, store.LockSync, 7); !ok || err != nil {
		t.Fatalf("lock 7: %v %v", ok, err)
	}
	a.Close()
	if r, ok, _ := b.TryLock(ctx, store.LockSync, 7); !ok {
		t.Fatal("a closed replica's lock outlived it")
	} else {
		r()
	}
}

// Sync requests are numbered for every replica, and a scheduled sync is
// claimed once per period whichever replica asks.
func TestSyncRequestsAndSchedule(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		must[bool](t)(s.Bootstrap(ctx, "boot"))
		for want := int64(1); want <= 2; want++ {
			if n := must[int64](t)(s.RequestSync(ctx, 1)); n != want {
				t.Fatalf("request %d numbered %d", want, n)
			}
		}
		if err := s.SyncDone(ctx, 1, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncDone(ctx, 1, 1); err != nil { // late, older: ignored
			t.Fatal(err)
		}
		if req, done, err := s.SyncState(ctx, 1); err != nil || req != 2 || done != 2 {
			t.Fatalf("state %d %d %v", req, done, err)
		}
		now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		claims := 0
		for tick := range 10 { // two replicas asking every 10 minutes for 50 minutes, hourly schedule
			at := now.Add(time.Duration(tick/2) * 10 * time.Minute)
			if ok := must[bool](t)(s.ClaimScheduled(ctx, 1, 30*time.Minute, at)); ok {
				claims++
			}
		}
		if claims != 1 { // due at 00:30 (first seen at 00:00), next at 01:00
			t.Fatalf("%d claims in 50 minutes of a 30-minute schedule first seen at its start", claims)
		}
	})
}

// Servers starting at once on a new database migrate it once, in turn.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := store.Open(dsn)
			if err == nil {
				err = s.Ready(context.Background())
				s.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a server starting beside others: %v", err)
		}
	}
}

// A server's sessions are kept alive with short keepalives, so that the
// locks of a server whose host stops answering end within seconds.
func TestSessionsKeepAliveShortly(t *testing.T) {
	s, err := store.Open(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if idle := s.Setting(context.Background(), "tcp_keepalives_idle"); idle != "10" {
		t.Fatalf("tcp_keepalives_idle = %q", idle)
	}
}

// Every table of the schema but schema_migrations is copied by CopyTo.
func TestCopyCoversEveryTable(t *testing.T) {
	src, err := store.Open(filepath.Join(t.TempDir(), "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	copied := store.CopiedTables()
	for _, name := range tables {
		if name != "schema_migrations" && !slices.Contains(copied, name) {
			t.Errorf("table %s is not copied by admin copy", name)
		}
	}
}
