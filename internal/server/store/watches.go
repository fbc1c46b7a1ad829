package store

import (
	"context"
)

// Watch types, as dbt Cloud's collections name them.
const (
	WatchFolder    = "folder"
	WatchDashboard = "dashboard"
)

// Watch is an item of an integration's selection.
type Watch struct {
	Identifier string
	Name       string
	Type       string // WatchFolder or WatchDashboard
}

// Watches returns the integration's selection keyed by identifier.
func (s *Store) Watches(ctx context.Context, integrationID int64) (map[string]Watch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identifier, name, type FROM lineage_watches WHERE integration_id = ?`, integrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Watch{}
	for rows.Next() {
		var w Watch
		if err := rows.Scan(&w.Identifier, &w.Name, &w.Type); err != nil {
			return nil, err
		}
		out[w.Identifier] = w
	}
	return out, rows.Err()
}

// ChangeWatches adds and removes watches in one transaction and reports how many
// actually changed (adding a watched item or removing an unwatched one counts 0).
func (s *Store) ChangeWatches(ctx context.Context, integrationID int64, add []Watch, remove []string) (added, removed int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	ts := Now()
	for _, w := range add {
		res, err := tx.ExecContext(ctx, `INSERT INTO lineage_watches(integration_id, identifier, name, type, created_at) VALUES(?, ?, ?, ?, ?)
			ON CONFLICT(integration_id, identifier) DO NOTHING`, integrationID, w.Identifier, w.Name, w.Type, ts)
		if err != nil {
			return 0, 0, err
		}
		n, _ := res.RowsAffected()
		added += int(n)
	}
	for _, id := range remove {
		res, err := tx.ExecContext(ctx, `DELETE FROM lineage_watches WHERE integration_id = ? AND identifier = ?`, integrationID, id)
		if err != nil {
			return 0, 0, err
		}
		n, _ := res.RowsAffected()
		removed += int(n)
	}
	return added, removed, tx.Commit()
}
