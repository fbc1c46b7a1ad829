package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// The environment variables dbt Cloud reads to run active exposures.
const (
	envActiveExposures = dbtcloud.EnvActiveExposures
	envBuildAfter      = dbtcloud.EnvActiveExposuresBuildAfter
	defaultBuildAfter  = dbtcloud.DefaultBuildAfterMinutes
)

// Defaults for running refreshes: how long a run waits for Tableau's jobs, and
// how often it asks about them.
const (
	DefaultRefreshTimeout = 5 * time.Minute
	defaultRefreshPoll    = time.Second
)

// Refresh actions, as the run answers them.
const (
	actionRefreshed = "refreshed"
	actionSkipped   = "skipped"
	actionFailed    = "failed"
	// actionUnknown is a refresh sent by a server that stopped before it
	// learned the outcome: never sent again, its job is named to check.
	actionUnknown = "unknown"
)

// refreshJSON is one target of a run and what became of it. The dashboard's
// ID, the job's ID and the target's scope go under the tool's keys
// (workbook_id and tableau_job_id; powerbi_report_id, powerbi_request_id and
// powerbi_workspace_id).
type refreshJSON struct {
	Exposure    string `json:"exposure"`
	TargetType  string `json:"target_type"`
	TargetID    string `json:"target_id"`
	TargetName  string `json:"target_name"`
	Action      string `json:"action"`
	Reason      string `json:"reason"`
	tool        bi.Tool
	dashboardID string
	scope       string // where the tool addresses the target (a Power BI workspace)
	jobID       string // the job polled: Tableau's job or Power BI's request
	seq         int64  // its place in the run, as recorded (store.RunRefresh)
}

// target is what the refresh rebuilds, as the tool's client takes it.
func (r *refreshJSON) target() bi.Target {
	return bi.Target{Type: r.TargetType, ID: r.TargetID, Name: r.TargetName, Scope: r.scope}
}

func (r refreshJSON) MarshalJSON() ([]byte, error) {
	type plain refreshJSON
	fields := []bi.Field{{Key: r.tool.DashboardKey, Value: r.dashboardID}, {Key: r.tool.JobKey, Value: r.jobID}}
	if r.tool.ScopeKey != "" {
		fields = append(fields, bi.Field{Key: r.tool.ScopeKey, Value: r.scope})
	}
	return withFields(plain(r), fields)
}

// activeSettings are an environment's active-exposure variables, with the
// project's defaults where the environment sets none.
type activeSettings struct {
	enabled    bool
	buildAfter int // minutes
}

func (s *Server) activeSettings(ctx context.Context, pid, envID int64) (activeSettings, error) {
	values, err := s.store.EnvVars(ctx, pid)
	if err != nil {
		return activeSettings{}, err
	}
	pick := func(name string) (string, bool) {
		var project string
		var found bool
		for _, v := range values {
			if v.Name != name {
				continue
			}
			if v.EnvironmentID == envID {
				return v.Value, true
			}
			if v.EnvironmentID == 0 {
				project, found = v.Value, true
			}
		}
		return project, found
	}
	set := activeSettings{buildAfter: defaultBuildAfter}
	if v, ok := pick(envActiveExposures); ok {
		set.enabled = v == "1"
	}
	if v, ok := pick(envBuildAfter); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			set.buildAfter = n
		}
	}
	return set, nil
}

// planRefreshes lists the targets of the candidates (exposures with a node that
// built successfully), each once, with the skips already decided.
func (s *Server) planRefreshes(ctx context.Context, pid int64, exps []exposureJSON, succeeded map[string]bool, set activeSettings, now time.Time) ([]refreshJSON, error) {
	var out []refreshJSON
	first := map[store.Target]string{} // target -> the exposure that refreshes it
	for _, e := range exps {
		if !anyIn(e.DependsOnIDs, succeeded) {
			continue
		}
		for _, r := range targets(e) {
			t := store.Target{Type: r.TargetType, ID: r.TargetID}
			if !set.enabled {
				r.Reason = fmt.Sprintf("disabled: %s is not 1 for this environment (nor as the project default)", envActiveExposures)
				out = append(out, r)
				continue
			}
			if by, dup := first[t]; dup {
				r.Reason = fmt.Sprintf("refreshed once per run: listed already for exposure %s", by)
				out = append(out, r)
				continue
			}
			first[t] = e.Name
			reason, err := s.skipReason(ctx, pid, t, set.buildAfter, now)
			if err != nil {
				return nil, err
			}
			if reason == "" {
				r.Action = ""
			}
			r.Reason = reason
			out = append(out, r)
		}
	}
	return out, nil
}

// skipReason says why an enabled target is not refreshed now, or "" when it is.
func (s *Server) skipReason(ctx context.Context, pid int64, t store.Target, buildAfter int, now time.Time) (string, error) {
	last, ok, err := s.store.LastRefresh(ctx, pid, t)
	if err != nil || !ok {
		return "", err
	}
	if age := now.Sub(last); age < time.Duration(buildAfter)*time.Minute {
		return fmt.Sprintf("refreshed successfully at %s, less than %s=%d minutes ago",
			last.UTC().Format(time.RFC3339), envBuildAfter, buildAfter), nil
	}
	return "", nil
}

// targets are what refreshing an exposure's dashboard takes: a Tableau
// workbook's extracts, a Power BI report's dataset. Each starts skipped.
func targets(e exposureJSON) []refreshJSON {
	conn, ok := bi.Lookup(e.Tool)
	if !ok {
		return nil // a tool this server no longer serves
	}
	var out []refreshJSON
	for _, t := range e.RefreshTargets {
		out = append(out, refreshJSON{Exposure: e.Name, TargetType: t.Type, TargetID: t.ID, TargetName: t.Name, Action: actionSkipped,
			tool: conn.Tool(), dashboardID: e.DashboardID, scope: t.Scope})
	}
	return out
}

func anyIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

// runRefreshes starts every planned refresh (Action "") of one tool, then
// polls their jobs until all finish, the timeout passes or the run's request
// ends. One failure does not stop the others.
func (s *Server) runRefreshes(ctx context.Context, runID int64, tool bi.Tool, c bi.Client, rs []*refreshJSON) {
	pending := map[*refreshJSON]bool{}
	for _, r := range rs {
		// The intent is recorded before the refresh is sent: a server taking
		// over this run if this one dies never sends it again blindly.
		if err := s.store.SetRefresh(ctx, runID, r.seq, store.RefreshStarted, "", ""); err != nil {
			r.Action, r.Reason = actionFailed, "not sent: recording it first failed: "+err.Error()
			continue
		}
		job, err := c.StartRefresh(ctx, r.target())
		if err != nil {
			r.Action, r.Reason = actionFailed, tool.Label+" refused the refresh: "+err.Error()
			continue
		}
		r.jobID = job
		if err := s.store.SetRefresh(context.WithoutCancel(ctx), runID, r.seq, store.RefreshStarted, "", job); err != nil {
			s.log.Warn("recording a refresh's job", "run_id", runID, "job_id", job, "error", err.Error())
		}
		pending[r] = true
	}
	deadline := time.Now().Add(s.refreshTimeout)
	for len(pending) > 0 {
		s.pollRefreshes(ctx, tool, c, pending)
		if len(pending) == 0 || !s.waitPoll(ctx, deadline) {
			break
		}
	}
	for r := range pending {
		r.Action = actionFailed
		if ctx.Err() != nil {
			r.Reason = fmt.Sprintf("the run's request ended before %s job %s finished; the job's outcome is unknown: check it in %s%s",
				tool.Label, r.jobID, tool.Label, suffix(r.Reason))
			continue
		}
		r.Reason = fmt.Sprintf("%s job %s did not finish within %s (--refresh-timeout)%s", tool.Label, r.jobID, s.refreshTimeout, suffix(r.Reason))
	}
}

// pollRefreshes asks once about each pending job and settles those that ended.
func (s *Server) pollRefreshes(ctx context.Context, tool bi.Tool, c bi.Client, pending map[*refreshJSON]bool) {
	for r := range pending {
		done, failure, err := c.RefreshStatus(ctx, r.target(), r.jobID)
		if err != nil {
			r.Reason = "reading the " + tool.Label + " job failed: " + err.Error() // kept if it never recovers
			continue
		}
		if !done {
			continue
		}
		delete(pending, r)
		r.Action, r.Reason = actionRefreshed, ""
		if failure != "" {
			r.Action, r.Reason = actionFailed, failure
		}
	}
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// waitPoll waits one poll interval; false when the deadline or ctx comes first.
func (s *Server) waitPoll(ctx context.Context, deadline time.Time) bool {
	d := s.refreshPoll
	if left := time.Until(deadline); left < d {
		d = left
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return time.Now().Before(deadline)
	}
}
