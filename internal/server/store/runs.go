package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Run is a recorded active exposure run.
type Run struct {
	ID            int64
	ProjectID     int64
	EnvironmentID int64
	StartedAt     string
	FinishedAt    string
	Status        string
	RefreshesJSON string
	UnknownJSON   string
	InvocationID  string // dbt's metadata.invocation_id; "" when it wrote none
}

const runCols = `id, project_id, environment_id, started_at, finished_at, status, refreshes_json, unknown_json, invocation_id`

func scanRun(row interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.ProjectID, &r.EnvironmentID, &r.StartedAt, &r.FinishedAt, &r.Status, &r.RefreshesJSON, &r.UnknownJSON, &r.InvocationID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}

// SaveRun records a run and, in the same transaction, the targets it
// refreshed successfully at the time given, so the interval holds across restarts.
func (s *Store) SaveRun(ctx context.Context, r Run, refreshed []Target, at time.Time) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	id := r.ID
	if id != 0 { // a run StartRun recorded: it ends
		_, err = tx.ExecContext(ctx, `UPDATE active_runs SET finished_at = ?, status = ?, refreshes_json = ?, unknown_json = ? WHERE id = ?`,
			r.FinishedAt, r.Status, r.RefreshesJSON, r.UnknownJSON, id)
	} else {
		err = tx.QueryRowContext(ctx, `INSERT INTO active_runs(project_id, environment_id, started_at, finished_at, status, refreshes_json,
			unknown_json, invocation_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.ProjectID, r.EnvironmentID, r.StartedAt, r.FinishedAt, r.Status,
			r.RefreshesJSON, r.UnknownJSON, r.InvocationID).Scan(&id)
	}
	if err != nil {
		return 0, err
	}
	for _, t := range refreshed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO extract_refreshes(project_id, target_type, target_id, refreshed_at) VALUES(?, ?, ?, ?)
			ON CONFLICT(project_id, target_type, target_id) DO UPDATE SET refreshed_at = excluded.refreshed_at`,
			r.ProjectID, t.Type, t.ID, at.UTC().Format(time.RFC3339Nano)); err != nil {
			return 0, err
		}
	}
	return id, tx.Commit()
}

// Target is an extract refresh target: a data source or a workbook.
type Target struct {
	Type string
	ID   string
}

// LastRefresh is when the target was last refreshed successfully, if ever.
func (s *Store) LastRefresh(ctx context.Context, projectID int64, t Target) (time.Time, bool, error) {
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT refreshed_at FROM extract_refreshes WHERE project_id = ? AND target_type = ? AND target_id = ?`,
		projectID, t.Type, t.ID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	ts, err := time.Parse(time.RFC3339Nano, at)
	return ts, err == nil, err
}

// GetRun reads one run of a project.
func (s *Store) GetRun(ctx context.Context, projectID, id int64) (*Run, error) {
	return scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM active_runs WHERE project_id = ? AND id = ?`, projectID, id))
}

// ListRuns pages through a project's runs, newest first.
func (s *Store) ListRuns(ctx context.Context, projectID int64, limit, offset int) ([]Run, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM active_runs WHERE project_id = ?`, projectID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM active_runs WHERE project_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`, projectID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *r)
	}
	return out, total, rows.Err()
}

// RunByInvocation is the project's recorded run of a dbt invocation, or
// ErrNotFound.
func (s *Store) RunByInvocation(ctx context.Context, projectID int64, invocationID string) (*Run, error) {
	return scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM active_runs WHERE project_id = ? AND invocation_id = ? AND invocation_id <> ''
		ORDER BY id LIMIT 1`, projectID, invocationID))
}
