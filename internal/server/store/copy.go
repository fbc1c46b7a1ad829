package store

import (
	"context"
	"fmt"
	"strings"
)

// copiedTables are every table of the schema but schema_migrations (each
// database has its own), parents before children; identity says which have
// an id that the database numbers. A migration that adds a table adds it here.
var copiedTables = []struct {
	name     string
	identity bool
}{
	{"accounts", true}, {"projects", true}, {"api_tokens", false}, {"lineage_integrations", true},
	{"lineage_watches", false}, {"environments", true}, {"env_var_values", true}, {"active_runs", true}, {"run_refreshes", false},
	{"extract_refreshes", false}, {"project_manifests", false}, {"project_catalogs", false}, {"project_exposures", false},
	{"sync_state", false},
}

// CopyTo copies every row of this database into dst, which must be empty,
// in one transaction: all of it or nothing. It is how a SQLite database
// moves to PostgreSQL (dbtexposures-server admin copy).
func (s *Store) CopyTo(ctx context.Context, dst *Store) (map[string]int, error) {
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("the destination already has %d account(s): copy into an empty database, so that nothing stored there is overwritten", n)
	}
	copied := map[string]int{}
	for _, t := range copiedTables {
		if copied[t.name], err = s.copyTable(ctx, tx, t.name); err != nil {
			return nil, fmt.Errorf("copying %s: %w", t.name, err)
		}
		if t.identity && tx.postgres {
			// The next id the database gives must follow the copied ones.
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t.name+`', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM `+t.name+`), false)`); err != nil {
				return nil, err
			}
		}
	}
	return copied, tx.Commit()
}

// copyTable copies one table's rows, column by column name.
func (s *Store) copyTable(ctx context.Context, tx *sqlTx, table string) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	insert := `INSERT INTO ` + table + `(` + strings.Join(cols, ", ") + `) VALUES(` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// CopiedTables names the tables CopyTo copies, in order.
func CopiedTables() []string {
	out := make([]string, len(copiedTables))
	for i, t := range copiedTables {
		out[i] = t.name
	}
	return out
}

// Tables lists a SQLite database's tables, for checks that every table is
// handled (PostgreSQL's are the same schema's).
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
