package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// takeOver finishes the project's runs whose server stopped mid-run. The
// caller holds the project's run lock, which the server running a run holds
// until it ends (on PostgreSQL a session lock, so it ends when its server's
// connection does): every run still marked running is orphaned. A refresh
// never sent is sent now; one sent whose outcome was not recorded is
// reported unknown, with its job to check, and never sent again.
func (s *Server) takeOver(ctx context.Context, accountID, pid int64) error {
	runs, err := s.store.RunningRuns(ctx, pid)
	if err != nil {
		return err
	}
	for i := range runs {
		if err := s.finishOrphan(ctx, accountID, pid, &runs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) finishOrphan(ctx context.Context, accountID, pid int64, run *store.Run) error {
	recs, err := s.store.RunRefreshes(ctx, run.ID)
	if err != nil {
		return err
	}
	var rs []refreshJSON
	for _, x := range recs {
		if r, ok := orphanRefresh(x); ok {
			rs = append(rs, r)
		}
	}
	s.log.Warn("taking over an active exposure run whose server stopped", "project_id", pid, "run_id", run.ID, "refreshes", len(rs))
	if err := s.refreshPlanned(ctx, accountID, pid, run.ID, rs); err != nil {
		return err
	}
	env, err := s.store.GetEnvironment(ctx, accountID, pid, run.EnvironmentID)
	if err != nil {
		return err
	}
	out := &runJSON{ID: run.ID, EnvironmentID: run.EnvironmentID, InvocationID: run.InvocationID, StartedAt: run.StartedAt,
		FinishedAt: time.Now().UTC().Format(time.RFC3339Nano), Status: "success", Refreshes: rs}
	_ = json.Unmarshal([]byte(run.UnknownJSON), &out.UnknownUniqueIDs)
	return s.finishRun(ctx, pid, env, out, rs)
}

// orphanRefresh is a recorded refresh of an orphaned run, ready to finish:
// planned ones are to be sent, sent ones are unknown. A tool this server no
// longer serves has none.
func orphanRefresh(x store.RunRefresh) (refreshJSON, bool) {
	c, ok := bi.Lookup(x.Tool)
	if !ok {
		return refreshJSON{}, false
	}
	r := refreshJSON{Exposure: x.Exposure, TargetType: x.TargetType, TargetID: x.TargetID, TargetName: x.TargetName, tool: c.Tool(),
		dashboardID: x.DashboardID, scope: x.Scope, jobID: x.JobID, seq: x.Seq}
	switch x.State {
	case store.RefreshPlanned:
	case store.RefreshStarted:
		r.Action = actionUnknown
		r.Reason = fmt.Sprintf("the server running this run stopped after sending the refresh; its outcome is unknown: check %s job %s", c.Tool().Label, x.JobID)
		if x.JobID == "" {
			r.Reason = fmt.Sprintf("the server running this run stopped while sending the refresh; its outcome is unknown: check %s's recent jobs", c.Tool().Label)
		}
	default:
		r.Action, r.Reason = x.State, x.Reason
	}
	return r, true
}

// takeOverOrphans finishes, on the schedule, the runs of projects no server
// is running a run of: those whose server stopped.
func (s *Server) takeOverOrphans(ctx context.Context, projects [][2]int64) {
	for _, p := range projects {
		release, ok, err := s.store.TryLock(ctx, store.LockRun, p[1])
		if err != nil || !ok {
			continue
		}
		if err := s.takeOver(ctx, p[0], p[1]); err != nil {
			s.log.Warn("taking over active exposure runs", "project_id", p[1], "error", err.Error())
		}
		release()
	}
}
