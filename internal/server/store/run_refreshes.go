package store

import (
	"context"
)

// RunRefresh is one refresh of a run, as recorded before it starts: what it
// rebuilds, through which tool, and how far it got.
type RunRefresh struct {
	Seq                              int64
	Tool, Exposure, DashboardID      string
	TargetType, TargetID, TargetName string
	Scope, State, Reason, JobID      string
}

// Refresh states before the refresh ends: planned (not sent), started (sent
// to the tool; its job ID is recorded as soon as the tool answers). An ended
// refresh's state is its action.
const (
	RefreshPlanned = "planned"
	RefreshStarted = "started"
)

// StartRun records a run before any of its refreshes starts, with every
// refresh (planned, or already decided: skipped), in one transaction: a server that dies mid-run leaves a
// running run that another can take over, knowing what was sent.
func (s *Store) StartRun(ctx context.Context, r Run, planned []RunRefresh) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO active_runs(project_id, environment_id, started_at, finished_at, status, refreshes_json,
		unknown_json, invocation_id) VALUES(?, ?, ?, '', 'running', '[]', ?, ?) RETURNING id`, r.ProjectID, r.EnvironmentID, r.StartedAt,
		r.UnknownJSON, r.InvocationID).Scan(&id); err != nil {
		return 0, err
	}
	for _, x := range planned {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_refreshes(run_id, seq, tool, exposure, dashboard_id, target_type, target_id, target_name,
			scope, state, reason) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, x.Seq, x.Tool, x.Exposure, x.DashboardID, x.TargetType, x.TargetID,
			x.TargetName, x.Scope, x.State, x.Reason); err != nil {
			return 0, err
		}
	}
	return id, tx.Commit()
}

// SetRefresh records a refresh's state (and reason), and its job once known.
func (s *Store) SetRefresh(ctx context.Context, runID, seq int64, state, reason, jobID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE run_refreshes SET state = ?, reason = ?, job_id = CASE WHEN ? = '' THEN job_id ELSE ? END
		WHERE run_id = ? AND seq = ?`, state, reason, jobID, jobID, runID, seq)
	return err
}

// RunRefreshes are a run's recorded refreshes, in order.
func (s *Store) RunRefreshes(ctx context.Context, runID int64) ([]RunRefresh, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, tool, exposure, dashboard_id, target_type, target_id, target_name, scope, state, reason, job_id
		FROM run_refreshes WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRefresh
	for rows.Next() {
		var x RunRefresh
		if err := rows.Scan(&x.Seq, &x.Tool, &x.Exposure, &x.DashboardID, &x.TargetType, &x.TargetID, &x.TargetName, &x.Scope, &x.State, &x.Reason, &x.JobID); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// RunningRuns are a project's runs not finished: running on a live server,
// or left by one that died.
func (s *Store) RunningRuns(ctx context.Context, projectID int64) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM active_runs WHERE project_id = ? AND status = 'running' ORDER BY id`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}
