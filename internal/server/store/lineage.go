package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Integration is a stored lineage integration: its tool's name and config,
// secrets included, as the tool's connector defines them.
type Integration struct {
	ID        int64
	AccountID int64
	ProjectID int64
	Name      string
	Config    map[string]string
	CreatedAt string
	UpdatedAt string
}

// ErrConflict means a unique rule would break (one integration per tool per project).
var ErrConflict = errors.New("conflict")

const integrationCols = `id, account_id, project_id, name, config, created_at, updated_at`

func scanIntegration(row interface{ Scan(...any) error }) (*Integration, error) {
	var i Integration
	var cfg string
	err := row.Scan(&i.ID, &i.AccountID, &i.ProjectID, &i.Name, &cfg, &i.CreatedAt, &i.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &i.Config); err != nil {
		return nil, fmt.Errorf("integration %d has an unreadable config: %w", i.ID, err)
	}
	return &i, nil
}

// CreateIntegration inserts in and returns it with its ID and timestamps.
func (s *Store) CreateIntegration(ctx context.Context, in Integration) (*Integration, error) {
	ts := Now()
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO lineage_integrations(account_id, project_id, name, host, site_id, token_name, tableau_token,
		config, created_at, updated_at) VALUES(?, ?, ?, '', '', '', '', ?, ?, ?) RETURNING id`,
		in.AccountID, in.ProjectID, in.Name, string(cfg), ts, ts).Scan(&id)
	if isUnique(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, err
	}
	return s.GetIntegration(ctx, in.AccountID, in.ProjectID, id)
}

// GetIntegration reads one integration of the account's project.
func (s *Store) GetIntegration(ctx context.Context, accountID, projectID, id int64) (*Integration, error) {
	return scanIntegration(s.db.QueryRowContext(ctx, `SELECT `+integrationCols+` FROM lineage_integrations WHERE id = ? AND account_id = ? AND project_id = ?`, id, accountID, projectID))
}

// ListIntegrations pages through a project's integrations.
func (s *Store) ListIntegrations(ctx context.Context, accountID, projectID int64, limit, offset int) ([]Integration, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM lineage_integrations WHERE account_id = ? AND project_id = ?`, accountID, projectID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+integrationCols+` FROM lineage_integrations WHERE account_id = ? AND project_id = ? ORDER BY id LIMIT ? OFFSET ?`, accountID, projectID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Integration
	for rows.Next() {
		i, err := scanIntegration(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *i)
	}
	return out, total, rows.Err()
}

// UpdateIntegration sets the config fields in patch, in one transaction, and
// returns the new row; fields not in patch keep their values.
func (s *Store) UpdateIntegration(ctx context.Context, accountID, projectID, id int64, patch map[string]string) (*Integration, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationCols+` FROM lineage_integrations WHERE id = ? AND account_id = ? AND project_id = ?`, id, accountID, projectID))
	if err != nil {
		return nil, err
	}
	if cur.Config == nil {
		cur.Config = map[string]string{}
	}
	for k, v := range patch {
		cur.Config[k] = v
	}
	cfg, err := json.Marshal(cur.Config)
	if err != nil {
		return nil, err
	}
	cur.UpdatedAt = Now()
	if _, err := tx.ExecContext(ctx, `UPDATE lineage_integrations SET config = ?, updated_at = ? WHERE id = ?`, string(cfg), cur.UpdatedAt, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing update: %w", err)
	}
	return cur, nil
}

// DeleteIntegration removes an integration; ErrNotFound if it was not there.
func (s *Store) DeleteIntegration(ctx context.Context, accountID, projectID, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM lineage_integrations WHERE id = ? AND account_id = ? AND project_id = ?`, id, accountID, projectID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
