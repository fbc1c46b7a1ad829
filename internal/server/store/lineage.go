package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Integration is a stored lineage integration, secrets included: Tableau's
// fields for a "tableau" one, Power BI's for a "powerbi" one.
type Integration struct {
	ID           int64
	AccountID    int64
	ProjectID    int64
	Name         string
	Host         string
	SiteID       string
	TokenName    string
	TableauToken string
	TenantID     string
	ClientID     string
	ClientSecret string
	CreatedAt    string
	UpdatedAt    string
}

// ErrConflict means a unique rule would break (one integration per tool per project).
var ErrConflict = errors.New("conflict")

const integrationCols = `id, account_id, project_id, name, host, site_id, token_name, tableau_token, tenant_id, client_id, client_secret, created_at, updated_at`

func scanIntegration(row interface{ Scan(...any) error }) (*Integration, error) {
	var i Integration
	err := row.Scan(&i.ID, &i.AccountID, &i.ProjectID, &i.Name, &i.Host, &i.SiteID, &i.TokenName, &i.TableauToken, &i.TenantID, &i.ClientID, &i.ClientSecret, &i.CreatedAt, &i.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &i, err
}

// CreateIntegration inserts in and returns it with its ID and timestamps.
func (s *Store) CreateIntegration(ctx context.Context, in Integration) (*Integration, error) {
	ts := Now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO lineage_integrations(account_id, project_id, name, host, site_id, token_name, tableau_token,
		tenant_id, client_id, client_secret, created_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.AccountID, in.ProjectID, in.Name, in.Host, in.SiteID, in.TokenName, in.TableauToken, in.TenantID, in.ClientID, in.ClientSecret, ts, ts)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, ErrConflict
		}
		return nil, err
	}
	id, _ := res.LastInsertId()
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

// IntegrationPatch holds the fields a PATCH changes; nil leaves a field alone.
type IntegrationPatch struct {
	Host, SiteID, TokenName, TableauToken *string // Tableau
	TenantID, ClientID, ClientSecret      *string // Power BI
}

// UpdateIntegration applies p in one transaction and returns the new row.
func (s *Store) UpdateIntegration(ctx context.Context, accountID, projectID, id int64, p IntegrationPatch) (*Integration, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := scanIntegration(tx.QueryRowContext(ctx, `SELECT `+integrationCols+` FROM lineage_integrations WHERE id = ? AND account_id = ? AND project_id = ?`, id, accountID, projectID))
	if err != nil {
		return nil, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cur.Host, p.Host)
	set(&cur.SiteID, p.SiteID)
	set(&cur.TokenName, p.TokenName)
	set(&cur.TableauToken, p.TableauToken)
	set(&cur.TenantID, p.TenantID)
	set(&cur.ClientID, p.ClientID)
	set(&cur.ClientSecret, p.ClientSecret)
	cur.UpdatedAt = Now()
	if _, err := tx.ExecContext(ctx, `UPDATE lineage_integrations SET host = ?, site_id = ?, token_name = ?, tableau_token = ?,
		tenant_id = ?, client_id = ?, client_secret = ?, updated_at = ? WHERE id = ?`,
		cur.Host, cur.SiteID, cur.TokenName, cur.TableauToken, cur.TenantID, cur.ClientID, cur.ClientSecret, cur.UpdatedAt, id); err != nil {
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
