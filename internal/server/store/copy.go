package store

import (
	"context"
	"fmt"
	"strings"
)

// copiedTables are every table of the schema, parents before children;
// identity says which have an id that the database numbers.
var copiedTables = []struct {
	name     string
	identity bool
}{
	{"accounts", true}, {"projects", true}, {"api_tokens", false}, {"lineage_integrations", true},
	{"lineage_watches", false}, {"environments", true}, {"env_var_values", true}, {"active_runs", true},
	{"extract_refreshes", false}, {"project_manifests", false}, {"project_catalogs", false}, {"project_exposures", false},
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
