package store

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// migration is one versioned change of the schema, applied once, in order.
type migration struct {
	version int
	name    string
	apply   func(ctx context.Context, tx *sqlTx) error
}

// migrations are every version of the schema. Append; never edit one that
// has shipped.
var migrations = []migration{
	{1, "every table; the columns and configs of SQLite databases made before versioned migrations", baseline},
	{2, "sync_state: sync requests and schedules that every replica sees", execute(`CREATE TABLE sync_state (
	project_id INTEGER PRIMARY KEY REFERENCES projects(id),
	requested  INTEGER NOT NULL, -- the last sync request's number
	done       INTEGER NOT NULL, -- the last request a finished sync covered
	due_at     TEXT NOT NULL     -- when the scheduled sync is next due ('' before the first claim)
)`)},
	{3, "active_runs.invocation_id: a dbt run posted twice is one run", execute(`ALTER TABLE active_runs ADD COLUMN invocation_id TEXT NOT NULL DEFAULT ''`)},
	{4, "run_refreshes: each refresh of a run, recorded before it starts", execute(`CREATE TABLE run_refreshes (
	run_id       INTEGER NOT NULL REFERENCES active_runs(id),
	seq          INTEGER NOT NULL,
	tool         TEXT NOT NULL,
	exposure     TEXT NOT NULL,
	dashboard_id TEXT NOT NULL,
	target_type  TEXT NOT NULL,
	target_id    TEXT NOT NULL,
	target_name  TEXT NOT NULL,
	scope        TEXT NOT NULL,
	state        TEXT NOT NULL, -- planned, started (sent to the tool), or how it ended: refreshed, skipped, failed, unknown
	reason       TEXT NOT NULL DEFAULT '',
	job_id       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, seq)
)`)},
}

// execute is a migration of one statement, written for SQLite and put in
// PostgreSQL's types.
func execute(ddl string) func(ctx context.Context, tx *sqlTx) error {
	return func(ctx context.Context, tx *sqlTx) error {
		stmt := ddl
		if tx.postgres {
			stmt = postgresSchema(ddl)
		}
		_, err := tx.ExecContext(ctx, stmt)
		return err
	}
}

// migrationLock is the advisory lock PostgreSQL replicas take to migrate one at a time.
const migrationLock = 7269696

// migrate applies the migrations the database lacks, in one transaction
// that replicas starting at once take in turn (SQLite's immediate write
// lock, PostgreSQL's advisory lock).
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if tx.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	applied, err := appliedVersion(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range migrations[applied:] {
		if err := m.apply(ctx, tx); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)`, m.version, m.name, Now()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func appliedVersion(ctx context.Context, tx *sqlTx) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err == nil && v > len(migrations) {
		err = fmt.Errorf("the database is at schema version %d, newer than this server (%d): run the newer dbtexposures-server", v, len(migrations))
	}
	return v, err
}

// Ready says whether the database answers and has every migration applied.
func (s *Store) Ready(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return err
	}
	if v != len(migrations) {
		return fmt.Errorf("schema version %d, want %d", v, len(migrations))
	}
	return nil
}

// baseline creates every table, and brings SQLite databases made before
// versioned migrations up to it.
func baseline(ctx context.Context, tx *sqlTx) error {
	ddl := schema
	if tx.postgres {
		ddl = postgresSchema(schema)
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return err
	}
	if tx.postgres {
		return nil // no PostgreSQL database predates versioned migrations
	}
	// Databases made before Power BI integrations lack their columns, and
	// those made before the connector model lack config.
	if err := addColumns(ctx, tx, "lineage_integrations", map[string]string{
		"tenant_id": "TEXT NOT NULL DEFAULT ''", "client_id": "TEXT NOT NULL DEFAULT ''", "client_secret": "TEXT NOT NULL DEFAULT ''",
		"config": "TEXT NOT NULL DEFAULT ''",
	}); err != nil {
		return err
	}
	return moveConfigs(ctx, tx)
}

var (
	identityColumn = regexp.MustCompile(`(?m)^(\s+id\s+)INTEGER PRIMARY KEY`)
	integerType    = regexp.MustCompile(`\bINTEGER\b`)
)

// postgresSchema is the SQLite schema in PostgreSQL's types: IDs are
// identities, integers 64-bit, blobs bytea.
func postgresSchema(ddl string) string {
	ddl = identityColumn.ReplaceAllString(ddl, "${1}BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	ddl = integerType.ReplaceAllString(ddl, "BIGINT")
	return strings.ReplaceAll(ddl, " BLOB ", " BYTEA ")
}

// moveConfigs copies the config of integrations stored by older versions, one
// column per field, into the config column. The old columns are kept as they
// were, so nothing stored is lost.
func moveConfigs(ctx context.Context, tx *sqlTx) error {
	_, err := tx.ExecContext(ctx, `UPDATE lineage_integrations SET config = CASE name
		WHEN 'powerbi' THEN json_object('tenant_id', tenant_id, 'client_id', client_id, 'client_secret', client_secret)
		ELSE json_object('host', host, 'site_id', site_id, 'token_name', token_name, 'token', tableau_token) END
		WHERE config = ''`)
	if err != nil {
		return fmt.Errorf("moving integration configs into one column: %w", err)
	}
	return nil
}

// addColumns adds the columns a SQLite table lacks, keeping its rows.
func addColumns(ctx context.Context, tx *sqlTx, table string, cols map[string]string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(cols)) {
		if !have[name] {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s ADD COLUMN %s %s`, table, name, cols[name])); err != nil {
				return fmt.Errorf("adding column %s.%s: %w", table, name, err)
			}
		}
	}
	return nil
}
