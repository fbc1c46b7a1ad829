package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// The environment variables dbt Cloud reads to run active exposures.
const (
	envActiveExposures = "DBT_ACTIVE_EXPOSURES"
	envBuildAfter      = "DBT_ACTIVE_EXPOSURES_BUILD_AFTER"
	// defaultBuildAfter is dbt Cloud's default interval, in minutes.
	defaultBuildAfter = 1440
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
)

// refreshJSON is one target of a run and what became of it.
type refreshJSON struct {
	Exposure     string `json:"exposure"`
	WorkbookID   string `json:"workbook_id"`
	TargetType   string `json:"target_type"`
	TargetID     string `json:"target_id"`
	TargetName   string `json:"target_name"`
	Action       string `json:"action"`
	Reason       string `json:"reason"`
	TableauJobID string `json:"tableau_job_id"`
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
		for _, x := range e.Extracts {
			r := refreshJSON{Exposure: e.Name, WorkbookID: e.WorkbookID, TargetType: x.Type, TargetID: x.ID, TargetName: x.Name, Action: actionSkipped}
			t := store.Target{Type: x.Type, ID: x.ID}
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

func anyIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

// runRefreshes starts every planned refresh (Action ""), then polls their jobs
// until all finish or the timeout passes. One failure does not stop the others.
func (s *Server) runRefreshes(ctx context.Context, c *tableau.Client, rs []refreshJSON) {
	pending := map[int]bool{}
	for i := range rs {
		if rs[i].Action != "" {
			continue
		}
		job, err := c.RefreshExtract(ctx, rs[i].TargetType, rs[i].TargetID)
		if err != nil {
			rs[i].Action, rs[i].Reason = actionFailed, "Tableau refused the refresh: "+err.Error()
			continue
		}
		rs[i].TableauJobID = job.ID
		pending[i] = true
	}
	deadline := time.Now().Add(s.refreshTimeout)
	for len(pending) > 0 {
		for i := range pending {
			job, err := c.GetJob(ctx, rs[i].TableauJobID)
			if err != nil {
				rs[i].Reason = "reading the Tableau job failed: " + err.Error() // kept if it never recovers
				continue
			}
			if !job.Done() {
				continue
			}
			delete(pending, i)
			rs[i].Action, rs[i].Reason = actionRefreshed, ""
			if !job.Succeeded() {
				rs[i].Action, rs[i].Reason = actionFailed, "Tableau job "+job.Outcome()
			}
		}
		if len(pending) == 0 || !s.waitPoll(ctx, deadline) {
			break
		}
	}
	for i := range pending {
		rs[i].Action = actionFailed
		rs[i].Reason = fmt.Sprintf("Tableau job %s did not finish within %s (--refresh-timeout)%s", rs[i].TableauJobID, s.refreshTimeout, suffix(rs[i].Reason))
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
