// Package servertest runs a real dbtexposures-server over a temporary SQLite
// database for tests, the way net/http/httptest runs a handler.
package servertest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Server is a running dbtexposures-server with one bootstrapped account.
type Server struct {
	*httptest.Server
	API       *server.Server
	Store     *store.Store
	HostURL   string // base URL including /api, as the provider's host_url
	Token     string
	AccountID int64
	ProjectID int64
	DBPath    string
	stop      func()
}

// New starts a server on a fresh database; it is stopped when the test ends.
func New(t testing.TB, opts ...server.Option) *Server {
	t.Helper()
	return NewLogged(t, nil, opts...)
}

// NewLogged is New with the server logging to log.
func NewLogged(t testing.TB, log *slog.Logger, opts ...server.Option) *Server {
	t.Helper()
	if os.Getenv(DatabaseEnv) == "postgres" {
		return NewOn(t, pgtest.DSN(t), log, opts...)
	}
	return NewOn(t, filepath.Join(t.TempDir(), "dbtexposures.db"), log, opts...)
}

// DatabaseEnv set to "postgres" runs the servers of New on PostgreSQL (a
// throwaway cluster) instead of SQLite: make test runs the server's tests on both.
const DatabaseEnv = "DBTEXPOSURES_TEST_DB"

// NewOn starts a server on the database dsn names (a SQLite path or a
// postgres:// URL), bootstrapped; it is stopped when the test ends.
func NewOn(t testing.TB, dsn string, log *slog.Logger, opts ...server.Option) *Server {
	t.Helper()
	path := dsn
	db, err := store.Open(path)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	const token = "test-bootstrap-token"
	if _, err := db.Bootstrap(context.Background(), token); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return serve(t, db, path, log, opts)
}

// noDNS resolves no host name, so that a test server never reaches the
// internet: BI tools named by host (10az.online.tableau.com) are unreachable,
// emulators (named by loopback address) are not.
var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("test server: host names are not resolved, BI tools are reached by loopback address")
}}

func serve(t testing.TB, db *store.Store, path string, log *slog.Logger, opts []server.Option) *Server {
	const token = "test-bootstrap-token"
	opts = append([]server.Option{server.WithEgress((&server.Egress{}).ResolveWith(noDNS))}, opts...)
	api := server.New(db, log, opts...)
	hs := httptest.NewServer(api)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			api.Close() // background syncs end before the database closes
			db.Close()
		})
	}
	t.Cleanup(stop)
	return &Server{Server: hs, API: api, Store: db, HostURL: hs.URL + "/api", Token: token, AccountID: 1, ProjectID: 1, DBPath: path, stop: stop}
}

// Restart stops the server and starts a new one over the same database, as a
// process restart does; the new one has a new URL.
func (s *Server) Restart(t testing.TB, opts ...server.Option) *Server {
	t.Helper()
	s.stop()
	db, err := store.Open(s.DBPath)
	if err != nil {
		t.Fatalf("reopening store: %v", err)
	}
	return serve(t, db, s.DBPath, nil, opts)
}

// FastRetry keeps tests of failures quick while still exercising retries.
var FastRetry = transport.RetryConfig{MaxRetries: 2, WaitMin: 10 * time.Millisecond, WaitMax: 100 * time.Millisecond, Timeout: 30 * time.Second}

// Client returns a dbt Cloud client for the bootstrapped account.
func (s *Server) Client(t testing.TB) *dbtcloud.Client {
	t.Helper()
	c, err := dbtcloud.New(dbtcloud.Config{HostURL: s.HostURL, AccountID: s.AccountID, Token: s.Token, Retry: FastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
