// Package store is dbtexposures-server's persistence: accounts, tokens (hashed),
// lineage integrations, watches, manifests and synced exposures in one SQLite
// file. It knows nothing of HTTP; internal/server answers requests over it.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite: no cgo toolchain needed
)

// ErrNotFound means the object does not exist within the caller's account.
var ErrNotFound = errors.New("not found")

// Store is the server's persistence: one SQLite file in WAL mode (the
// default), or a PostgreSQL database that several replicas share. Every
// acknowledged write is committed before we answer (SQLite with
// synchronous=FULL).
type Store struct {
	db       *sqlDB
	close    []func() error
	lockFile *os.File // SQLite: held while a server serves the file
	path     string   // SQLite: the file
	locks    localLocks
	heldMu   sync.Mutex
	held     map[*sql.Conn]bool // PostgreSQL: the connections of locks held
}

// Open opens the database dsn names, creating it if needed, and applies the
// migrations it lacks: postgres:// or postgresql:// URLs are PostgreSQL;
// sqlite:PATH or a bare path is SQLite.
func Open(dsn string) (*Store, error) {
	if IsPostgres(dsn) {
		return openPostgres(dsn)
	}
	return openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
}

// IsPostgres says whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openSQLite(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	// Immediate transactions take the write lock up front, so two writers queue on
	// busy_timeout instead of failing with SQLITE_BUSY on lock upgrade.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	s := &Store{db: &sqlDB{DB: db}, close: []func() error{db.Close}, path: path}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.releaseHeld()
	var errs []error
	for _, c := range s.close {
		errs = append(errs, c())
	}
	if s.lockFile != nil {
		errs = append(errs, s.lockFile.Close())
	}
	return errors.Join(errs...)
}

const schema = `
CREATE TABLE IF NOT EXISTS accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
	token_sha256 TEXT PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	created_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lineage_integrations (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts(id),
	project_id    INTEGER NOT NULL REFERENCES projects(id),
	name          TEXT NOT NULL,
	host          TEXT NOT NULL,
	site_id       TEXT NOT NULL,
	token_name    TEXT NOT NULL,
	tableau_token TEXT NOT NULL, -- needed to call Tableau; never returned by the API
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	tenant_id     TEXT NOT NULL DEFAULT '', -- Power BI
	client_id     TEXT NOT NULL DEFAULT '', -- Power BI
	client_secret TEXT NOT NULL DEFAULT '', -- Power BI; needed to scan it, never returned by the API
	config        TEXT NOT NULL DEFAULT ''  -- the tool's config as JSON, secrets included; the columns above are older databases'
);
CREATE UNIQUE INDEX IF NOT EXISTS lineage_one_per_type ON lineage_integrations(project_id, name);
CREATE TABLE IF NOT EXISTS lineage_watches (
	integration_id INTEGER NOT NULL REFERENCES lineage_integrations(id) ON DELETE CASCADE,
	identifier     TEXT NOT NULL, -- the BI tool's ID of a folder (Tableau project, Power BI workspace) or dashboard
	name           TEXT NOT NULL,
	type           TEXT NOT NULL CHECK (type IN ('folder', 'dashboard')),
	created_at     TEXT NOT NULL,
	PRIMARY KEY (integration_id, identifier)
);
CREATE TABLE IF NOT EXISTS environments (
	id              INTEGER PRIMARY KEY,
	account_id      INTEGER NOT NULL REFERENCES accounts(id),
	project_id      INTEGER NOT NULL REFERENCES projects(id),
	name            TEXT NOT NULL,
	type            TEXT NOT NULL DEFAULT 'deployment',
	deployment_type TEXT,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS env_var_values (
	id             INTEGER PRIMARY KEY,
	project_id     INTEGER NOT NULL REFERENCES projects(id),
	name           TEXT NOT NULL,
	environment_id INTEGER NOT NULL, -- 0: the project-wide default
	value          TEXT NOT NULL,
	UNIQUE (project_id, name, environment_id)
);
CREATE TABLE IF NOT EXISTS active_runs (
	id             INTEGER PRIMARY KEY,
	project_id     INTEGER NOT NULL REFERENCES projects(id),
	environment_id INTEGER NOT NULL,
	started_at     TEXT NOT NULL,
	finished_at    TEXT NOT NULL,
	status         TEXT NOT NULL,
	refreshes_json TEXT NOT NULL, -- the run's refreshes, as the API answers them
	unknown_json   TEXT NOT NULL  -- unique IDs of the run results the manifest does not know
);
CREATE TABLE IF NOT EXISTS extract_refreshes (
	project_id   INTEGER NOT NULL REFERENCES projects(id),
	target_type  TEXT NOT NULL, -- datasource or workbook
	target_id    TEXT NOT NULL,
	refreshed_at TEXT NOT NULL, -- the last successful refresh
	PRIMARY KEY (project_id, target_type, target_id)
);
CREATE TABLE IF NOT EXISTS project_manifests (
	project_id  INTEGER PRIMARY KEY REFERENCES projects(id),
	manifest    BLOB NOT NULL,
	uploaded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_catalogs (
	project_id  INTEGER PRIMARY KEY REFERENCES projects(id),
	catalog     BLOB NOT NULL,
	uploaded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_exposures (
	project_id     INTEGER PRIMARY KEY REFERENCES projects(id),
	exposures_json TEXT NOT NULL DEFAULT '[]', -- from the last successful sync
	unmatched_json TEXT NOT NULL DEFAULT '[]',
	yaml           TEXT NOT NULL DEFAULT '',
	synced_at      TEXT NOT NULL DEFAULT '',   -- last successful sync
	attempted_at   TEXT NOT NULL DEFAULT '',   -- last attempt, successful or not
	error          TEXT NOT NULL DEFAULT ''    -- the last attempt's error, '' when it succeeded
);
`

// Now is the time as the API shows it (RFC 3339, microseconds, UTC).
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// HashToken is how API tokens are stored: they are random, so SHA-256 suffices.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken makes a random API token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "dbtx_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Bootstrap creates account 1 with project 1, usable with token, when the
// database has no account yet. It reports whether it did.
func (s *Store) Bootstrap(ctx context.Context, token string) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, projectID, err := createAccount(ctx, tx, "Default account", "Default project", HashToken(token))
	if err != nil {
		return false, err
	}
	if _, err := createEnvironment(ctx, tx, projectID, "Production", "production"); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Account is a row of accounts.
type Account struct {
	ID        int64
	Name      string
	CreatedAt string
}

// Project is a row of projects.
type Project struct {
	ID        int64
	AccountID int64
	Name      string
	CreatedAt string
	UpdatedAt string
}

// CreateAccount makes an account with one project and a new API token.
func (s *Store) CreateAccount(ctx context.Context, name string) (accountID, projectID int64, token string, err error) {
	token, err = NewToken()
	if err != nil {
		return 0, 0, "", err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, "", err
	}
	defer tx.Rollback()
	accountID, projectID, err = createAccount(ctx, tx, name, "Default project", HashToken(token))
	if err != nil {
		return 0, 0, "", err
	}
	return accountID, projectID, token, tx.Commit()
}

func createAccount(ctx context.Context, tx *sqlTx, name, projectName, tokenHash string) (int64, int64, error) {
	ts := Now()
	var accountID, projectID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO accounts(name, created_at) VALUES(?, ?) RETURNING id`, name, ts).Scan(&accountID); err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO projects(account_id, name, created_at, updated_at) VALUES(?, ?, ?, ?) RETURNING id`,
		accountID, projectName, ts, ts).Scan(&projectID); err != nil {
		return 0, 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens(token_sha256, account_id, created_at) VALUES(?, ?, ?)`, tokenHash, accountID, ts); err != nil {
		return 0, 0, err
	}
	return accountID, projectID, nil
}

// AccountForToken returns the account an API token belongs to.
func (s *Store) AccountForToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id FROM api_tokens WHERE token_sha256 = ?`, HashToken(token)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// GetAccount reads one account.
func (s *Store) GetAccount(ctx context.Context, id int64) (*Account, error) {
	var a Account
	err := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM accounts WHERE id = ?`, id).Scan(&a.ID, &a.Name, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &a, err
}

// ListProjects pages through an account's projects ordered by id.
func (s *Store) ListProjects(ctx context.Context, accountID int64, limit, offset int) ([]Project, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE account_id = ?`, accountID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, account_id, name, created_at, updated_at FROM projects WHERE account_id = ? ORDER BY id LIMIT ? OFFSET ?`, accountID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// ProjectExists reports whether the project belongs to the account.
func (s *Store) ProjectExists(ctx context.Context, accountID, projectID int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE id = ? AND account_id = ?`, projectID, accountID).Scan(&n)
	return n > 0, err
}

// Stats are the database pool's statistics, for metrics.
func (s *Store) Stats() sql.DBStats { return s.db.DB.Stats() }
