package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Environment is a row of environments.
type Environment struct {
	ID             int64
	AccountID      int64
	ProjectID      int64
	Name           string
	Type           string // deployment or development
	DeploymentType string // production, staging or "" (general)
	CreatedAt      string
	UpdatedAt      string
}

const environmentCols = `id, account_id, project_id, name, type, COALESCE(deployment_type, ''), created_at, updated_at`

func scanEnvironment(row interface{ Scan(...any) error }) (*Environment, error) {
	var e Environment
	err := row.Scan(&e.ID, &e.AccountID, &e.ProjectID, &e.Name, &e.Type, &e.DeploymentType, &e.CreatedAt, &e.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &e, err
}

func createEnvironment(ctx context.Context, tx *sqlTx, projectID int64, name, deploymentType string) (int64, error) {
	ts := Now()
	var dt any
	if deploymentType != "" {
		dt = deploymentType
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO environments(account_id, project_id, name, type, deployment_type, created_at, updated_at)
		SELECT account_id, id, ?, 'deployment', ?, ?, ? FROM projects WHERE id = ? RETURNING id`, name, dt, ts, ts, projectID).Scan(&id)
	switch {
	case isUnique(err):
		return 0, fmt.Errorf("%w: project %d already has an environment named %q", ErrConflict, projectID, name)
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("%w: project %d", ErrNotFound, projectID)
	}
	return id, err
}

// CreateEnvironment adds a deployment environment to a project.
func (s *Store) CreateEnvironment(ctx context.Context, projectID int64, name, deploymentType string) (*Environment, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	id, err := createEnvironment(ctx, tx, projectID, name, deploymentType)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return scanEnvironment(s.db.QueryRowContext(ctx, `SELECT `+environmentCols+` FROM environments WHERE id = ?`, id))
}

// GetEnvironment reads one environment of a project.
func (s *Store) GetEnvironment(ctx context.Context, accountID, projectID, id int64) (*Environment, error) {
	return scanEnvironment(s.db.QueryRowContext(ctx, `SELECT `+environmentCols+` FROM environments
		WHERE account_id = ? AND project_id = ? AND id = ?`, accountID, projectID, id))
}

// ProjectsEnvironments lists the environments of several projects of an
// account in one query, by project, each project's by ID.
func (s *Store) ProjectsEnvironments(ctx context.Context, accountID int64, projectIDs []int64) (map[int64][]Environment, error) {
	out := make(map[int64][]Environment, len(projectIDs))
	if len(projectIDs) == 0 {
		return out, nil
	}
	args := []any{accountID}
	marks := make([]string, len(projectIDs))
	for i, id := range projectIDs {
		marks[i] = "?"
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+environmentCols+` FROM environments WHERE account_id = ? AND project_id IN (`+
		strings.Join(marks, ",")+`) ORDER BY project_id, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEnvironment(rows)
		if err != nil {
			return nil, err
		}
		out[e.ProjectID] = append(out[e.ProjectID], *e)
	}
	return out, rows.Err()
}

// EnvironmentFilter narrows ListEnvironments; empty fields filter nothing.
type EnvironmentFilter struct {
	Name, Type, DeploymentType string
}

// ListEnvironments pages through a project's environments that match f, by ID.
func (s *Store) ListEnvironments(ctx context.Context, accountID, projectID int64, f EnvironmentFilter, limit, offset int) ([]Environment, int, error) {
	where := `account_id = ? AND project_id = ? AND (? = '' OR name = ?) AND (? = '' OR type = ?) AND (? = '' OR deployment_type = ?)`
	args := []any{accountID, projectID, f.Name, f.Name, f.Type, f.Type, f.DeploymentType, f.DeploymentType}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM environments WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+environmentCols+` FROM environments WHERE `+where+` ORDER BY id LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		e, err := scanEnvironment(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *e)
	}
	return out, total, rows.Err()
}

// EnvVarValue is one value of an environment variable: the project-wide
// default (EnvironmentID 0) or one environment's.
type EnvVarValue struct {
	ID            int64
	Name          string
	EnvironmentID int64
	Value         string
}

// EnvVars lists every value of every variable of a project.
func (s *Store) EnvVars(ctx context.Context, projectID int64) ([]EnvVarValue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, environment_id, value FROM env_var_values WHERE project_id = ? ORDER BY name, environment_id`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EnvVarValue
	for rows.Next() {
		var v EnvVarValue
		if err := rows.Scan(&v.ID, &v.Name, &v.EnvironmentID, &v.Value); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateEnvVar creates a variable with its values by environment (0: the
// project default), all or nothing; a variable of that name must not exist.
func (s *Store) CreateEnvVar(ctx context.Context, projectID int64, name string, values map[int64]string) ([]int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM env_var_values WHERE project_id = ? AND name = ?`, projectID, name).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("%w: the project already has a variable %s", ErrConflict, name)
	}
	var ids []int64
	for env, value := range values {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO env_var_values(project_id, name, environment_id, value) VALUES(?, ?, ?, ?) RETURNING id`,
			projectID, name, env, value).Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, tx.Commit()
}

// SetEnvVar sets values of an existing variable by environment (0: the
// project default); a nil value removes that environment's value. All or nothing.
func (s *Store) SetEnvVar(ctx context.Context, projectID int64, name string, values map[int64]*string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM env_var_values WHERE project_id = ? AND name = ?`, projectID, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: the project has no variable %s", ErrNotFound, name)
	}
	for env, value := range values {
		if value == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM env_var_values WHERE project_id = ? AND name = ? AND environment_id = ?`, projectID, name, env)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO env_var_values(project_id, name, environment_id, value) VALUES(?, ?, ?, ?)
				ON CONFLICT(project_id, name, environment_id) DO UPDATE SET value = excluded.value`, projectID, name, env, *value)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeleteEnvVar removes a variable and all its values.
func (s *Store) DeleteEnvVar(ctx context.Context, projectID int64, name string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM env_var_values WHERE project_id = ? AND name = ?`, projectID, name)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
